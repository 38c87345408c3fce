// Engine API tests: frame numbering over non-TCP frames, skip counters, the per_packet switch, and the
// window calls before/after traffic.
#include "../engine.h"
#include "../packet.h"
#include "harness.h"

using namespace tcpcast;

TEST(engine_counts_every_frame_and_skip_reason) {
  EngineConfig cfg;
  cfg.per_packet = true;
  Engine e(cfg);
  tt::Seg s;
  tt::Bytes tcp = tt::eth_frame(s);
  tt::Bytes arp = tt::ether(tt::Bytes(28, 0), 0x0806);
  tt::Bytes udp = tt::ether(tt::ipv4(s, tt::Bytes(8, 0), 17), 0x0800);
  tt::Bytes frag = tt::ether(tt::ipv4(s, tt::tcp_header(s), 6, {}, 0x2000), 0x0800);
  PacketRecord r;
  CHECK(!e.process(LINK_EN10MB, arp.data(), static_cast<uint32_t>(arp.size()), static_cast<uint32_t>(arp.size()), 1,
                   0, &r));
  CHECK(!e.process(LINK_EN10MB, udp.data(), static_cast<uint32_t>(udp.size()), static_cast<uint32_t>(udp.size()), 2,
                   0, &r));
  CHECK(!e.process(LINK_EN10MB, frag.data(), static_cast<uint32_t>(frag.size()), static_cast<uint32_t>(frag.size()),
                   3, 0, &r));
  CHECK(!e.process(LINK_EN10MB, tcp.data(), 10, static_cast<uint32_t>(tcp.size()), 4, 0, &r));
  CHECK(!e.process(4242, tcp.data(), static_cast<uint32_t>(tcp.size()), static_cast<uint32_t>(tcp.size()), 5, 0, &r));
  CHECK(e.process(LINK_EN10MB, tcp.data(), static_cast<uint32_t>(tcp.size()), static_cast<uint32_t>(tcp.size()), 6, 0,
                  &r));
  CHECK_EQ(r.frame_number, 6u);  // tshark's frame.number counts every frame
  CHECK_EQ(r.ts_ns, 6);
  const Counters& c = e.counters();
  CHECK_EQ(c.frames, 6u);
  CHECK_EQ(c.not_ip, 1u);
  CHECK_EQ(c.not_tcp, 1u);
  CHECK_EQ(c.fragments, 1u);
  CHECK_EQ(c.truncated, 1u);
  CHECK_EQ(c.unsupported_link, 1u);
  CHECK_EQ(c.tcp_packets, 1u);
  CHECK_EQ(c.malformed, 0u);
}

TEST(engine_per_packet_off_and_window_calls) {
  EngineConfig cfg;  // per_packet off: windows only
  Engine e(cfg);
  std::vector<WindowRecord> w;
  std::vector<SeriesInfo> s;
  e.advance(123 * NS_PER_S);  // nothing yet: no windows, no crash
  e.finish();
  e.take_windows(&w);
  e.take_new_series(&s);
  CHECK(w.empty());
  CHECK(s.empty());
  tt::Seg seg;
  seg.payload = 100;  // a connection that carried data (half-open ones are no series candidates)
  tt::Bytes f = tt::eth_frame(seg);
  PacketRecord r;
  CHECK(!e.process(LINK_EN10MB, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()),
                   100 * NS_PER_S + 1, 3, &r));
  e.advance(100 * NS_PER_S + cfg.window_ns);  // closes the first window exactly at its end
  e.take_windows(&w);
  e.take_new_series(&s);
  CHECK_EQ(w.size(), 1u);   // the "all" window; the connection's series starts with the next window
  CHECK_EQ(s.size(), 2u);   // "all", and the connection promoted when that window closed
  if (s.size() == 2) {
    CHECK(s[0].key == "all");
    CHECK_EQ(s[0].iface, 3u);
    CHECK(s[1].key == "10.0.0.2:5201-10.0.0.1:40000");
    CHECK_EQ(s[1].iface, 3u);
  }
  if (!w.empty()) CHECK_EQ(w[0].window_end_ns, 100 * NS_PER_S + cfg.window_ns);
  e.finish();
  e.finish();  // idempotent
  e.take_windows(&w);
  CHECK_EQ(w.size(), 2u);  // the open (empty) window of both series, once
  for (auto& x : w) CHECK_NEAR(x.is_silent, 1, 0);
}

// "-i any" (SLL2): the interface id is the frame's ifindex, not the caller's, so one capture gives one "all"
// series per interface (the capture no longer re-parses the SLL2 header for it).
TEST(engine_sll2_ifindex_names_the_interface) {
  Engine e(EngineConfig{});
  tt::Seg s;
  tt::Bytes l3 = tt::ip_packet(s);
  tt::Bytes f(20 + l3.size(), 0);
  tt::put16(f, 0, 0x0800);  // protocol
  tt::put32(f, 4, 9);       // ifindex
  tt::copy_in(f.data() + 20, l3);
  e.process(LINK_LINUX_SLL2, f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), NS_PER_S, 0,
            nullptr);
  tt::Bytes eth = tt::eth_frame(s);
  e.process(LINK_EN10MB, eth.data(), static_cast<uint32_t>(eth.size()), static_cast<uint32_t>(eth.size()),
            NS_PER_S + 1, 2, nullptr);
  e.finish();
  std::vector<SeriesInfo> series;
  e.take_new_series(&series);
  CHECK(series.size() >= 2u);
  if (series.size() >= 2) {
    CHECK(series[0].key == "all");
    CHECK_EQ(series[0].iface, 9u);
    CHECK(series[1].key == "all");
    CHECK_EQ(series[1].iface, 2u);  // no ifindex in an Ethernet frame: the caller's id
  }
}
