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
  CHECK_EQ(c.flows_created - c.flows_evicted_idle - c.flows_port_reused, c.flows_active);
  CHECK(c.flows_table_full > 0);   // the burst overflowed the table
  CHECK(c.flows_evicted_idle > 0); // the slow half recycled slots
  CHECK(c.windows_emitted > 0);
}
