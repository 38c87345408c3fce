// Window tests on a crafted packet sequence: every WindowRecord feature, series creation and the top-K bound,
// silent windows, the silent-gap cap and the end of idle connection series.
#include <cmath>
#include <map>

#include "../engine.h"
#include "../packet.h"
#include "../window.h"
#include "harness.h"

using namespace tcpcast;
using tt::Seg;

namespace {

constexpr int64_t W = 100 * NS_PER_MS;
constexpr int64_t T0 = 1700000000 * NS_PER_S;  // a multiple of W

void feed(Engine& e, const Seg& s, int64_t ts_ns, uint32_t iface = 0) {
  tt::Bytes f = tt::eth_frame(s);
  e.process(LINK_EN10MB, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), ts_ns, iface,
            nullptr);
}

Seg data(uint16_t sport, uint32_t seq, uint32_t len) {
  Seg s;
  s.sport = sport;
  s.seq = seq;
  s.ack = 1;
  s.payload = len;
  return s;
}

Seg ack_of(uint16_t sport, uint32_t ack) {
  Seg s = tt::reversed(data(sport, 0, 0));
  s.seq = 1;
  s.ack = ack;
  return s;
}

struct Collected {
  std::vector<WindowRecord> windows;
  std::map<uint32_t, SeriesInfo> series;
  void take(Engine& e) {
    std::vector<WindowRecord> w;
    e.take_windows(&w);
    windows.insert(windows.end(), w.begin(), w.end());
    std::vector<SeriesInfo> s;
    e.take_new_series(&s);
    for (auto& i : s) series[i.index] = i;
  }
  std::vector<WindowRecord> of(const std::string& key) const {
    std::vector<WindowRecord> out;
    for (auto& w : windows) {
      auto it = series.find(w.series);
      if (it != series.end() && it->second.key == key) out.push_back(w);
    }
    return out;
  }
};

}  // namespace

TEST(window_features_on_crafted_sequence) {
  EngineConfig cfg;
  cfg.window_ns = W;
  cfg.top_k = 1;
  Engine e(cfg);
  Collected c;
  // Window 0 [T0, T0+100ms): two data segments of connection A and their ACKs.
  feed(e, data(40000, 1001, 1000), T0 + 10 * NS_PER_MS);
  feed(e, data(40000, 2001, 500), T0 + 30 * NS_PER_MS);
  feed(e, ack_of(40000, 2001), T0 + 40 * NS_PER_MS);  // RTT 30 ms (1st segment)
  feed(e, ack_of(40000, 2501), T0 + 70 * NS_PER_MS);  // RTT 40 ms (2nd segment)
  // Window 1: nothing. Window 2: A sends 2000 bytes, connection B 100 bytes.
  feed(e, data(40000, 2501, 2000), T0 + 250 * NS_PER_MS);
  feed(e, data(40001, 1, 100), T0 + 260 * NS_PER_MS);
  e.finish();
  c.take(e);

  CHECK_EQ(c.series.size(), 2u);  // "all" + A (top_k = 1 keeps B out)
  auto all = c.of("all");
  auto a = c.of("10.0.0.2:5201-10.0.0.1:40000");
  auto b = c.of("10.0.0.2:5201-10.0.0.1:40001");
  CHECK_EQ(all.size(), 3u);
  CHECK_EQ(a.size(), 2u);  // promoted when window 0 closed
  CHECK_EQ(b.size(), 0u);
  if (all.size() != 3 || a.size() != 2) return;

  const WindowRecord& w0 = all[0];
  CHECK_EQ(w0.window_end_ns, T0 + W);
  CHECK_NEAR(w0.size, 1500, 0);
  CHECK_NEAR(w0.packets, 4, 0);
  CHECK_NEAR(w0.throughput_mbps, 1500 * 8 / 0.1 / 1e6, 1e-12);
  CHECK_NEAR(w0.delay, (30 + 40) / 2.0, 1e-9);
  CHECK_NEAR(w0.min_rtt, 30, 1e-9);
  CHECK_NEAR(w0.iat_mean, (20 + 10 + 30) / 3.0, 1e-9);
  double m = 20;
  CHECK_NEAR(w0.iat_std, std::sqrt(((20 - m) * (20 - m) + (10 - m) * (10 - m) + (30 - m) * (30 - m)) / 3), 1e-9);
  CHECK_NEAR(w0.bif, 0, 0);  // A reported 1000 then 1500, but the ACK at 70 ms acknowledged everything
  CHECK_NEAR(w0.is_silent, 0, 0);
  CHECK_NEAR(w0.delay_gradient, 0, 0);  // first window of the series
  CHECK_NEAR(w0.retransmits, 0, 0);
  // The server's first ACK (2001) is its baseline; the second moves it by 500. The client's ack=1 never moves.
  CHECK_NEAR(w0.acked_bytes, 500, 0);

  const WindowRecord& w1 = all[1];
  CHECK_EQ(w1.window_end_ns, T0 + 2 * W);
  CHECK_NEAR(w1.is_silent, 1, 0);
  CHECK_NEAR(w1.size, 0, 0);
  CHECK_NEAR(w1.delay, w0.delay, 0);  // carried forward
  CHECK_NEAR(w1.delay_gradient, 0, 0);
  CHECK_NEAR(w1.bif, 0, 0);
  CHECK_NEAR(w1.iat_mean, 0, 0);
  CHECK_NEAR(w1.min_rtt, 0, 0);

  const WindowRecord& w2 = all[2];
  CHECK_EQ(w2.window_end_ns, T0 + 3 * W);
  CHECK_NEAR(w2.size, 2100, 0);
  CHECK_NEAR(w2.iat_mean, 10, 1e-9);
  CHECK_NEAR(w2.iat_std, 0, 1e-9);
  CHECK_NEAR(w2.bif, 2000 + 100, 0);  // A's and B's unacknowledged data
  CHECK_NEAR(w2.bif_gradient, 2100 - 0, 0);
  CHECK_NEAR(w2.delay, w0.delay, 0);

  CHECK_EQ(a[0].window_end_ns, T0 + 2 * W);
  CHECK_NEAR(a[0].is_silent, 1, 0);
  CHECK_NEAR(a[0].bif, 0, 0);
  CHECK_EQ(a[1].window_end_ns, T0 + 3 * W);
  CHECK_NEAR(a[1].size, 2000, 0);
  CHECK_NEAR(a[1].packets, 1, 0);
  CHECK_NEAR(a[1].iat_mean, 0, 0);  // one packet
  CHECK_NEAR(a[1].bif, 2000, 0);
  CHECK_NEAR(a[1].bif_gradient, 2000, 0);
  CHECK_EQ(e.counters().windows_emitted, c.windows.size());
}

// acked_bytes: cumulative-ACK advance per direction, modulo 2^32; duplicate and older ACKs add nothing.
TEST(window_acked_bytes_counts_cumulative_ack_advance) {
  EngineConfig cfg;
  cfg.window_ns = W;
  cfg.top_k = 1;
  Engine e(cfg);
  Collected c;
  const uint32_t base = 0xffffff00u;  // the ACKs wrap past 2^32
  feed(e, data(40000, base, 100), T0 + 1 * NS_PER_MS);
  feed(e, ack_of(40000, base), T0 + 2 * NS_PER_MS);          // the server's first ACK: baseline, 0
  feed(e, ack_of(40000, base + 100), T0 + 3 * NS_PER_MS);    // +100
  feed(e, ack_of(40000, base + 100), T0 + 4 * NS_PER_MS);    // duplicate: 0
  feed(e, data(40000, base + 100, 1000), T0 + 5 * NS_PER_MS);
  feed(e, ack_of(40000, base + 50), T0 + 6 * NS_PER_MS);     // older than the highest: 0
  feed(e, ack_of(40000, base + 1100), T0 + 7 * NS_PER_MS);   // +1000, across 2^32
  feed(e, data(40000, base + 1100, 10), T0 + 150 * NS_PER_MS);
  feed(e, ack_of(40000, base + 1110), T0 + 160 * NS_PER_MS);  // next window: +10
  Seg syn = data(40000, 0, 0);
  syn.flags = TCP_SYN;  // no ACK flag: its ack field is not an acknowledgement
  syn.ack = 77777;
  syn.sport = 40002;
  feed(e, syn, T0 + 170 * NS_PER_MS);
  e.finish();
  c.take(e);
  auto all = c.of("all");
  CHECK_EQ(all.size(), 2u);
  if (all.size() != 2) return;
  CHECK_NEAR(all[0].acked_bytes, 1100, 0);
  CHECK_NEAR(all[1].acked_bytes, 10, 0);
  auto a = c.of("10.0.0.2:5201-10.0.0.1:40000");
  CHECK_EQ(a.size(), 1u);
  if (a.size() == 1) CHECK_NEAR(a[0].acked_bytes, 10, 0);
}

TEST(window_bif_is_last_value_until_all_acked) {
  EngineConfig cfg;
  cfg.window_ns = W;
  Engine e(cfg);
  feed(e, data(40000, 1001, 1000), T0 + 10 * NS_PER_MS);  // BIF 1000
  feed(e, data(40000, 2001, 1000), T0 + 20 * NS_PER_MS);  // BIF 2000
  feed(e, ack_of(40000, 2001), T0 + 150 * NS_PER_MS);     // window 1: half acknowledged, BIF not re-reported
  feed(e, ack_of(40000, 3001), T0 + 250 * NS_PER_MS);     // window 2: all acknowledged
  e.finish();
  Collected c;
  c.take(e);
  auto all = c.of("all");
  CHECK_EQ(all.size(), 3u);
  if (all.size() != 3) return;
  CHECK_NEAR(all[0].bif, 2000, 0);
  CHECK_NEAR(all[1].bif, 2000, 0);  // tshark's last value: stays until everything is acknowledged
  CHECK_NEAR(all[2].bif, 0, 0);
  CHECK_NEAR(all[2].bif_gradient, -2000, 0);
}

TEST(window_retransmits_and_interfaces) {
  EngineConfig cfg;
  cfg.window_ns = W;
  Engine e(cfg);
  feed(e, data(40000, 1001, 1000), T0 + NS_PER_MS, 0);
  feed(e, data(40000, 1001, 1000), T0 + 2 * NS_PER_MS, 0);  // retransmission
  feed(e, data(40002, 1, 10), T0 + 3 * NS_PER_MS, 7);       // another interface
  e.finish();
  Collected c;
  c.take(e);
  int all_series = 0;
  for (auto& kv : c.series) {
    if (kv.second.key == "all") {
      all_series++;
      CHECK(kv.second.iface == 0 || kv.second.iface == 7);
    }
  }
  CHECK_EQ(all_series, 2);
  double retrans = 0, size = 0;
  for (auto& w : c.windows) {
    if (c.series[w.series].key == "all") {
      retrans += w.retransmits;
      size += w.size;
    }
  }
  CHECK_NEAR(retrans, 1, 0);
  CHECK_NEAR(size, 2010, 0);
}

TEST(window_silent_gap_cap_and_idle_series_end) {
  EngineConfig cfg;
  cfg.window_ns = W;
  Engine e(cfg);
  Collected c;
  feed(e, data(40000, 1001, 1000), T0 + NS_PER_MS);
  e.advance(T0 + 5 * NS_PER_S);  // a live timer: idle link, windows keep coming
  c.take(e);
  CHECK_EQ(c.of("all").size(), static_cast<size_t>(5 * NS_PER_S / W));
  // The connection series starts after window 0 and ends after FLOW_SERIES_IDLE_NS of silence.
  auto flow = c.of("10.0.0.2:5201-10.0.0.1:40000");
  CHECK_EQ(flow.size(), static_cast<size_t>(FLOW_SERIES_IDLE_NS / W));
  // An hour without packets (a file with a pause): at most MAX_SILENT_GAP_NS worth of silent windows.
  int64_t later = T0 + 3600 * NS_PER_S + 5 * NS_PER_MS;
  feed(e, data(40000, 2001, 1000), later);
  e.finish();
  c.take(e);
  auto all = c.of("all");
  size_t expected = 5 * NS_PER_S / W + (MAX_SILENT_GAP_NS / W + 1) + 1;
  CHECK_EQ(all.size(), expected);
  CHECK_EQ(all.back().window_end_ns, (later / W + 1) * W);
  CHECK_NEAR(all.back().size, 1000, 0);
  for (size_t i = 1; i < all.size(); i++) CHECK(all[i].window_end_ns > all[i - 1].window_end_ns);
  CHECK(e.counters().flows_evicted_idle >= 1);
}

// Every end of a connection series is reported once, after its last window, with why: silence (idle), the flow
// table dropping the connection (evicted), or a new connection on the same 5-tuple (port_reused).
TEST(window_ended_series_are_reported_with_reason) {
  auto run = [](int64_t idle_timeout_ns, bool reuse) {
    EngineConfig cfg;
    cfg.window_ns = W;
    cfg.idle_timeout_ns = idle_timeout_ns;
    Engine e(cfg);
    feed(e, data(40000, 1001, 1000), T0 + NS_PER_MS);
    feed(e, data(40000, 2001, 1000), T0 + 150 * NS_PER_MS);  // the series exists from window 1
    if (reuse) {
      Seg syn = data(40000, 900000, 0);
      syn.flags = TCP_SYN;  // a new ISN on the same 5-tuple
      feed(e, syn, T0 + 250 * NS_PER_MS);
    }
    e.advance(T0 + 5 * NS_PER_S);
    std::vector<WindowRecord> windows;
    std::vector<SeriesInfo> series;
    std::vector<SeriesEnd> ended;
    e.take_windows(&windows);
    e.take_new_series(&series);
    e.take_ended_series(&ended);
    CHECK_EQ(e.counters().series_ended, static_cast<uint64_t>(ended.size()));
    std::vector<SeriesEnd> again;
    e.take_ended_series(&again);
    CHECK(again.empty());
    return ended;
  };
  auto idle = run(60 * NS_PER_S, false);
  CHECK_EQ(idle.size(), 1u);
  if (!idle.empty()) CHECK(idle[0].reason == SeriesEndReason::idle);
  auto evicted = run(NS_PER_S, false);  // evicted after 1 s, before the series' 2 s of silence
  CHECK_EQ(evicted.size(), 1u);
  if (!evicted.empty()) CHECK(evicted[0].reason == SeriesEndReason::evicted);
  auto reused = run(60 * NS_PER_S, true);
  CHECK(!reused.empty());
  if (!reused.empty()) CHECK(reused[0].reason == SeriesEndReason::port_reused);
}

TEST(window_top_k_never_exceeded) {
  EngineConfig cfg;
  cfg.window_ns = W;
  cfg.top_k = 3;
  Engine e(cfg);
  Collected c;
  // 10 connections with different sizes in window 0; the 3 largest get series.
  for (uint16_t i = 0; i < 10; i++) feed(e, data(static_cast<uint16_t>(41000 + i), 1, 100u * (i + 1)), T0 + i);
  for (uint16_t i = 0; i < 10; i++) feed(e, data(static_cast<uint16_t>(41000 + i), 1, 100u * (i + 1)), T0 + W + i);
  e.finish();
  c.take(e);
  CHECK_EQ(c.series.size(), 4u);
  for (uint16_t i = 7; i < 10; i++) {
    std::string key = "10.0.0.2:5201-10.0.0.1:" + std::to_string(41000 + i);
    CHECK_EQ(c.of(key).size(), 1u);
  }
}

TEST(window_interface_series_bounded) {
  EngineConfig cfg;
  cfg.window_ns = W;
  cfg.top_k = 0;
  Engine e(cfg);
  const uint32_t ifaces = MAX_IFACE_SERIES + 36;
  for (uint32_t i = 0; i < ifaces; i++) feed(e, data(40000, 1001 + i, 1), T0 + i, i);
  e.finish();
  Collected c;
  c.take(e);
  CHECK_EQ(c.series.size(), static_cast<size_t>(MAX_IFACE_SERIES));
  CHECK_EQ(c.windows.size(), static_cast<size_t>(MAX_IFACE_SERIES));
  CHECK_EQ(e.counters().iface_series_full, static_cast<uint64_t>(ifaces - MAX_IFACE_SERIES));
}
