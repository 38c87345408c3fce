// Flow flood: millions of distinct 5-tuples against a small table. The table must stay bounded, the counters
// must add up, and windows keep flowing. FLOOD_FLOWS overrides the count (valgrind runs a smaller flood).
#include <cstdlib>

#include "../engine.h"
#include "../packet.h"
#include "harness.h"

using namespace tcpcast;

TEST(flood_distinct_tuples_bounded_table) {
  const char* env = std::getenv("FLOOD_FLOWS");
  const uint64_t flows = env ? std::strtoull(env, nullptr, 10) : 2000000;
  EngineConfig cfg;
  cfg.max_flows = 1024;
  cfg.idle_timeout_ns = NS_PER_S;
  cfg.window_ns = 10 * NS_PER_MS;
  Engine e(cfg);
  tt::Seg s;
  s.payload = 10;
  tt::Bytes frame = tt::eth_frame(s);
  std::vector<WindowRecord> windows;
  int64_t ts = 1700000000 * NS_PER_S;
  uint64_t max_active = 0;
  for (uint64_t i = 0; i < flows; i++) {
    // Rewrite source address and port in place: every packet is a new connection.
    frame[14 + 12 + 1] = static_cast<uint8_t>(i >> 16);
    frame[14 + 12 + 2] = static_cast<uint8_t>(i >> 8);
    frame[14 + 12 + 3] = static_cast<uint8_t>(i);
    frame[14 + 20 + 0] = static_cast<uint8_t>(i >> 24);
    frame[14 + 20 + 1] = static_cast<uint8_t>(i >> 32);
    // First half: a burst (1 us apart, the table fills); second half: 2 ms apart, so idle flows are evicted.
    ts += i < flows / 2 ? NS_PER_US : 2 * NS_PER_MS;
    e.process(LINK_EN10MB, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()), ts,
              0, nullptr);
    if ((i & 4095) == 0) {
      e.take_windows(&windows);
      if (e.counters().flows_active > max_active) max_active = e.counters().flows_active;
    }
  }
  e.finish();
  e.take_windows(&windows);
  const Counters& c = e.counters();
  CHECK(max_active <= cfg.max_flows);
  CHECK(c.flows_active <= cfg.max_flows);
  CHECK_EQ(c.tcp_packets, flows);
  CHECK_EQ(c.flows_created + c.flows_table_full, flows);
  CHECK_EQ(c.flows_created - c.flows_evicted_idle - c.flows_evicted_half_open - c.flows_port_reused, c.flows_active);
  CHECK(c.flows_table_full > 0);   // the burst overflowed the table
  CHECK(c.flows_evicted_idle > 0); // the slow half recycled slots
  CHECK(c.windows_emitted > 0);
}

// A SYN flood larger than the table, then one real connection: the connection must get a slot at once (the oldest
// half-open entry gives way) and, as the only one carrying data, a series of its own in the next window.
TEST(flood_syn_then_real_flow_gets_series) {
  EngineConfig cfg;  // the defaults: 65536 flows, 60 s idle, 5 s half-open, top 20
  Engine e(cfg);
  tt::Seg syn;
  syn.flags = TCP_SYN;
  syn.src[0] = 192;
  syn.src[1] = 168;
  tt::Bytes frame = tt::eth_frame(syn);
  int64_t ts = 1700000000 * NS_PER_S;
  const uint64_t syns = 70000;
  for (uint64_t i = 0; i < syns; i++) {
    frame[14 + 12 + 2] = static_cast<uint8_t>(i >> 8);
    frame[14 + 12 + 3] = static_cast<uint8_t>(i);
    frame[14 + 20 + 0] = static_cast<uint8_t>(i >> 16);
    ts += 10 * NS_PER_US;
    e.process(LINK_EN10MB, frame.data(), static_cast<uint32_t>(frame.size()), static_cast<uint32_t>(frame.size()), ts,
              0, nullptr);
  }
  std::vector<WindowRecord> windows;
  std::vector<SeriesInfo> series;
  e.take_windows(&windows);
  e.take_new_series(&series);
  CHECK_EQ(series.size(), 1u);  // only "all": no series for connections that never carried data
  // The real connection (10.0.0.1:40000 -> 10.0.0.2:5201): handshake, then 1 s of data every ms.
  tt::Seg c2s;
  tt::Seg s2c = tt::reversed(c2s);
  auto send = [&](tt::Seg s, int64_t t) {
    tt::Bytes f = tt::eth_frame(s);
    e.process(LINK_EN10MB, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), t, 0, nullptr);
  };
  tt::Seg s = c2s;
  s.flags = TCP_SYN;
  s.seq = 1000;
  send(s, ts += NS_PER_US);
  tt::Seg sa = s2c;
  sa.flags = TCP_SYN | TCP_ACK;
  sa.seq = 5000;
  sa.ack = 1001;
  send(sa, ts += NS_PER_US);
  uint32_t seq = 1001;
  for (int i = 0; i < 1000; i++) {
    tt::Seg d = c2s;
    d.flags = TCP_ACK | TCP_PSH;
    d.seq = seq;
    d.ack = 5001;
    d.payload = 1000;
    send(d, ts += NS_PER_MS);
    seq += 1000;
    tt::Seg a = s2c;
    a.seq = 5001;
    a.ack = seq;
    send(a, ts + 100 * NS_PER_US);
  }
  e.finish();
  e.take_windows(&windows);
  std::vector<SeriesInfo> more;
  e.take_new_series(&more);
  const Counters& c = e.counters();
  CHECK_EQ(c.flows_table_full, 0u);
  CHECK(c.flows_evicted_half_open >= syns - cfg.max_flows);
  CHECK_EQ(more.size(), 1u);
  uint32_t index = UINT32_MAX;
  for (const SeriesInfo& x : more) {
    if (x.key == "10.0.0.2:5201-10.0.0.1:40000") index = x.index;
  }
  CHECK(index != UINT32_MAX);
  double bytes = 0;
  for (const WindowRecord& w : windows) {
    if (w.series == index) bytes += w.size;
  }
  CHECK(bytes > 900000);  // all but the first window's data (the series starts at the first close after it began)
}
