// Decapsulation tests on crafted frames: every tunnel the parser follows (VXLAN, Geneve, GRE and its
// variants, ERSPAN, IP-in-IP, MPLS, PPPoE), the tunnel identity in the flow key and the series name,
// offload-sized lengths, the depth limit, unknown encapsulations, --no-decap, and truncation of tunnel
// frames at every byte offset (exact-size heap copies, so ASan and valgrind see any read past caplen).
#include <cstdlib>
#include <string>

#include "../engine.h"
#include "../packet.h"
#include "harness.h"

using namespace tcpcast;
using tt::Bytes;
using tt::Seg;

namespace {

ParseResult parse(int link, const Bytes& frame, PacketView* v, size_t caplen = SIZE_MAX,
                  const DecapConfig* cfg = nullptr) {
  if (caplen > frame.size()) caplen = frame.size();
  uint8_t* copy = static_cast<uint8_t*>(std::malloc(caplen ? caplen : 1));
  if (caplen) std::memcpy(copy, frame.data(), caplen);
  ParseResult r = parse_packet(link, copy, static_cast<uint32_t>(caplen), static_cast<uint32_t>(frame.size()), 7,
                               v, cfg);
  std::free(copy);
  return r;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes be16(uint16_t x) { return {uint8_t(x >> 8), uint8_t(x)}; }
Bytes be32(uint32_t x) { return {uint8_t(x >> 24), uint8_t(x >> 16), uint8_t(x >> 8), uint8_t(x)}; }

Seg inner_seg() {
  Seg s;
  s.seq = 1000;
  s.ack = 2000;
  s.flags = TCP_ACK | TCP_PSH;
  s.payload = 100;
  s.options = tt::opt_ts(1, 2);
  return s;
}

// Outer IPv4 between 192.0.2.1 and 192.0.2.2 (forward) carrying payload as protocol proto.
Bytes outer4(const Bytes& payload, uint8_t proto, bool forward = true) {
  Seg o;
  uint8_t a[4] = {192, 0, 2, 1}, b[4] = {192, 0, 2, 2};
  std::memcpy(o.src, forward ? a : b, 4);
  std::memcpy(o.dst, forward ? b : a, 4);
  return tt::ether(tt::ipv4(o, payload, proto), 0x0800);
}

Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload) {
  Bytes u = cat(cat(cat(be16(sport), be16(dport)), be16(uint16_t(8 + payload.size()))), be16(0));
  return cat(u, payload);
}

Bytes vxlan_frame(const Seg& inner, uint32_t vni, uint16_t port = 4789, bool forward = true) {
  Bytes hdr = cat({0x08, 0, 0, 0}, be32(vni << 8));
  return outer4(udp(40000, port, cat(hdr, tt::eth_frame(inner))), 17, forward);
}

Bytes gre_frame(const Seg& inner, uint16_t flags, const Bytes& fields, uint16_t proto, const Bytes& body) {
  (void)inner;
  return outer4(cat(cat(cat(be16(flags), be16(proto)), fields), body), 47);
}

void check_inner(const PacketView& v, const Seg& s) {
  CHECK_EQ(v.ip_version, s.ip_version);
  CHECK(std::memcmp(v.src, s.src, s.ip_version == 4 ? 4 : 16) == 0);
  CHECK_EQ(v.sport, s.sport);
  CHECK_EQ(v.dport, s.dport);
  CHECK_EQ(v.seq, s.seq);
  CHECK_EQ(v.tcp_len, s.payload);
}

}  // namespace

TEST(decap_vxlan_both_default_ports_and_vni) {
  Seg s = inner_seg();
  for (uint16_t port : {uint16_t(4789), uint16_t(8472)}) {
    PacketView v;
    CHECK(parse(LINK_EN10MB, vxlan_frame(s, 42, port), &v) == ParseResult::ok);
    check_inner(v, s);
    CHECK_EQ(v.tunnel.type, uint8_t(TunnelType::vxlan));
    CHECK_EQ(v.tunnel.id, 42u);
    CHECK_EQ(v.decap_layers, 1);
    CHECK(tunnel_label(v.tunnel) == "vni=42/");
  }
  // A configured list replaces the defaults.
  DecapConfig cfg;
  cfg.vxlan_port_count = 1;
  cfg.vxlan_ports[0] = 9999;
  PacketView v;
  CHECK(parse(LINK_EN10MB, vxlan_frame(s, 42, 4789), &v, SIZE_MAX, &cfg) == ParseResult::not_tcp);
  CHECK(parse(LINK_EN10MB, vxlan_frame(s, 42, 9999), &v, SIZE_MAX, &cfg) == ParseResult::ok);
  // --no-decap: today's behaviour, a UDP packet.
  DecapConfig off;
  off.enabled = false;
  CHECK(parse(LINK_EN10MB, vxlan_frame(s, 42), &v, SIZE_MAX, &off) == ParseResult::not_tcp);
}

TEST(decap_geneve_with_options_ethernet_and_ip) {
  Seg s = inner_seg();
  Bytes opt = {0x01, 0x02, 0x80, 0x01, 0xaa, 0xbb, 0xcc, 0xdd};
  Bytes hdr = cat(cat({0x02, 0x00}, be16(0x6558)), be32(7u << 8));
  PacketView v;
  CHECK(parse(LINK_EN10MB, outer4(udp(5000, 6081, cat(cat(hdr, opt), tt::eth_frame(s))), 17), &v) == ParseResult::ok);
  check_inner(v, s);
  CHECK_EQ(v.tunnel.type, uint8_t(TunnelType::geneve));
  CHECK_EQ(v.tunnel.id, 7u);
  Seg s6 = tt::v6(inner_seg());
  Bytes hdr6 = cat(cat({0x02, 0x00}, be16(0x86dd)), be32(8u << 8));
  CHECK(parse(LINK_EN10MB, outer4(udp(5000, 6081, cat(cat(hdr6, opt), tt::ip_packet(s6))), 17), &v) == ParseResult::ok);
  check_inner(v, s6);
  CHECK_EQ(v.tunnel.id, 8u);
  // A protocol Geneve carries that we do not decode is counted, not silently "not TCP".
  Bytes odd = cat(cat({0x00, 0x00}, be16(0x1234)), be32(9u << 8));
  CHECK(parse(LINK_EN10MB, outer4(udp(5000, 6081, cat(odd, tt::ip_packet(s))), 17), &v) ==
        ParseResult::unknown_encap);
}

TEST(decap_gre_key_seq_checksum_wccp_erspan) {
  Seg s = inner_seg();
  Bytes ip = tt::ip_packet(s);
  PacketView v;
  // Key + sequence.
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x3000, cat(be32(5), be32(1)), 0x0800, ip), &v) == ParseResult::ok);
  check_inner(v, s);
  CHECK_EQ(v.tunnel.type, uint8_t(TunnelType::gre));
  CHECK_EQ(v.tunnel.id, 5u);
  CHECK(tunnel_label(v.tunnel) == "gre=5/");
  // Checksum, no key: identified by the outer addresses, the same in both directions.
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x8000, be32(0), 0x0800, ip), &v) == ParseResult::ok);
  CHECK_EQ(v.tunnel.outer_version, 4);
  CHECK(tunnel_label(v.tunnel) == "gre=192.0.2.1-192.0.2.2/");
  // Transparent Ethernet bridging.
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x2000, be32(9), 0x6558, tt::eth_frame(s)), &v) == ParseResult::ok);
  check_inner(v, s);
  // WCCP v1 (IPv4 right after GRE) and v2 (4-byte redirect header).
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0, {}, 0x883e, ip), &v) == ParseResult::ok);
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0, {}, 0x883e, cat({0, 0, 0, 0}, ip)), &v) == ParseResult::ok);
  check_inner(v, s);
  // ERSPAN I (no sequence), II (8-byte header), III (12, + 8 with the O flag).
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0, {}, 0x88be, tt::eth_frame(s)), &v) == ParseResult::ok);
  Bytes e2 = {0x10, 0x05, 0x00, 17, 0, 0, 0, 0};
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x1000, be32(1), 0x88be, cat(e2, tt::eth_frame(s))), &v) == ParseResult::ok);
  CHECK_EQ(v.tunnel.type, uint8_t(TunnelType::erspan));
  CHECK_EQ(v.tunnel.id, 17u);
  Bytes e3 = {0x20, 0x00, 0x00, 18, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x1000, be32(1), 0x22eb, cat(e3, tt::eth_frame(s))), &v) == ParseResult::ok);
  CHECK_EQ(v.tunnel.id, 18u);
  check_inner(v, s);
  // PPTP's GRE version 1 and unknown protocols are counted as unknown encapsulations.
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0x2001, be32(0), 0x880b, ip), &v) == ParseResult::unknown_encap);
  CHECK(parse(LINK_EN10MB, gre_frame(s, 0, {}, 0x1234, ip), &v) == ParseResult::unknown_encap);
}

TEST(decap_ip_in_ip_all_four_and_tunnel_direction) {
  Seg s4 = inner_seg();
  Seg s6 = tt::v6(inner_seg());
  PacketView v;
  std::string fwd_label;
  for (const Seg& s : {s4, s6}) {
    Bytes ip = tt::ip_packet(s);
    CHECK(parse(LINK_EN10MB, outer4(ip, s.ip_version == 4 ? 4 : 41), &v) == ParseResult::ok);
    check_inner(v, s);
    CHECK_EQ(v.tunnel.type, uint8_t(TunnelType::ipip));
    fwd_label = tunnel_label(v.tunnel);
    CHECK(parse(LINK_EN10MB, outer4(ip, s.ip_version == 4 ? 4 : 41, false), &v) == ParseResult::ok);
    CHECK(tunnel_label(v.tunnel) == fwd_label);  // both directions: one identity
    Seg o = tt::v6(Seg());
    CHECK(parse(LINK_EN10MB, tt::ether(tt::ipv6(o, ip, s.ip_version == 4 ? 4 : 41), 0x86dd), &v) == ParseResult::ok);
    check_inner(v, s);
    CHECK_EQ(v.tunnel.outer_version, 6);
  }
  CHECK(fwd_label == "ipip=192.0.2.1-192.0.2.2/");
}

TEST(decap_mpls_pppoe_and_link_types) {
  Seg s = inner_seg();
  Seg s6 = tt::v6(inner_seg());
  Bytes stack = cat(be32(100u << 12 | 64), be32(200u << 12 | 0x100 | 64));
  PacketView v;
  CHECK(parse(LINK_EN10MB, tt::ether(cat(stack, tt::ip_packet(s)), 0x8847), &v) == ParseResult::ok);
  check_inner(v, s);
  CHECK_EQ(v.tunnel.type, 0);  // labels are per hop: no identity
  CHECK(parse(LINK_MPLS, cat(stack, tt::ip_packet(s6)), &v) == ParseResult::ok);
  check_inner(v, s6);
  // Control word / pseudowire: not decoded, counted.
  CHECK(parse(LINK_EN10MB, tt::ether(cat(stack, cat({0, 0, 0, 0}, tt::eth_frame(s))), 0x8847), &v) ==
        ParseResult::unknown_encap);
  Bytes ip = tt::ip_packet(s);
  Bytes ppp = cat(be16(0x0021), ip);
  Bytes pppoe = cat(cat({0x11, 0x00}, cat(be16(0x1234), be16(uint16_t(ppp.size())))), ppp);
  CHECK(parse(LINK_EN10MB, tt::ether(pppoe, 0x8864), &v) == ParseResult::ok);
  check_inner(v, s);
  CHECK(tunnel_label(v.tunnel) == "pppoe=4660/");
  CHECK(parse(LINK_PPP_ETHER, pppoe, &v) == ParseResult::ok);
  Bytes lcp = cat(cat({0x11, 0x00}, cat(be16(1), be16(6))), cat(be16(0xc021), {1, 1, 0, 4}));
  CHECK(parse(LINK_EN10MB, tt::ether(lcp, 0x8864), &v) == ParseResult::not_ip);
  Bytes gr(40, 0);
  CHECK(parse(LINK_IPOIB, cat(cat(gr, cat(be16(0x0800), be16(0))), ip), &v) == ParseResult::ok);
  check_inner(v, s);
  CHECK(parse(LINK_PPP, cat({0xff, 0x03}, ppp), &v) == ParseResult::ok);
  CHECK(parse(LINK_PPP, cat({0x21}, ip), &v) == ParseResult::ok);  // compressed protocol field
  CHECK(parse(LINK_C_HDLC, cat(cat({0x0f, 0x00}, be16(0x86dd)), tt::ip_packet(s6)), &v) == ParseResult::ok);
  check_inner(v, s6);
  CHECK(parse(LINK_ARCNET_LINUX, cat({1, 2, 0, 0, 0xd4, 0, 0, 0}, ip), &v) == ParseResult::ok);
  check_inner(v, s);
  Bytes nflog = {2, 0, 0, 0, 8, 0, 1, 0, 8, 0, 3, 0};
  Bytes tlv = cat({uint8_t(4 + ip.size()), uint8_t((4 + ip.size()) >> 8), 9, 0}, ip);
  CHECK(parse(LINK_NFLOG, cat(nflog, tlv), &v) == ParseResult::ok);
  check_inner(v, s);
}

TEST(decap_offload_lengths_from_the_frame) {
  Seg s = inner_seg();
  s.payload = 3000;
  PacketView v;
  Bytes ip = tt::ip_packet(s);
  tt::put16(ip, 2, 0);  // IPv4 total length 0 (TSO / BIG TCP)
  CHECK(parse(LINK_EN10MB, tt::ether(ip, 0x0800), &v) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, 3000u);
  // The same inside VXLAN: the inner length comes from the outer UDP payload.
  Bytes hdr = cat({0x08, 0, 0, 0}, be32(1u << 8));
  CHECK(parse(LINK_EN10MB, outer4(udp(1, 4789, cat(hdr, tt::ether(ip, 0x0800))), 17), &v) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, 3000u);
  // IPv6 jumbogram: payload length 0 and a hop-by-hop jumbo option with the real length.
  Seg s6 = tt::v6(s);
  Bytes tcp = tt::tcp_header(s6);
  Bytes jumbo = {0xc2, 4};
  Bytes len = be32(uint32_t(8 + tcp.size()));
  jumbo.insert(jumbo.end(), len.begin(), len.end());
  Bytes p6 = tt::ipv6(s6, tcp, 6, {{0, cat({0}, jumbo)}});
  tt::put16(p6, 4, 0);
  CHECK(parse(LINK_RAW, p6, &v) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, 3000u);
  // A jumbo length beyond the frame is malformed.
  Bytes bad = p6;
  tt::put32(bad, 40 + 4, uint32_t(9 + tcp.size()));
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
}

TEST(decap_depth_limit) {
  Seg s = inner_seg();
  Bytes pkt = tt::ip_packet(s);
  Seg o;
  // IP-in-IP nested MAX_DECAP_DEPTH times is followed; once more is the depth limit.
  for (int depth = 1; depth <= MAX_DECAP_DEPTH + 1; depth++) {
    pkt = tt::ipv4(o, pkt, 4);
    PacketView v;
    ParseResult r = parse(LINK_RAW, pkt, &v);
    if (depth <= MAX_DECAP_DEPTH) {
      CHECK(r == ParseResult::ok);
      CHECK_EQ(v.decap_layers, depth);
    } else {
      CHECK(r == ParseResult::depth_limit);
    }
  }
  // A label stack deeper than 16.
  Bytes stack;
  for (int i = 0; i < 17; i++) stack = cat(stack, be32(uint32_t(i) << 12 | (i == 16 ? 0x100 : 0)));
  PacketView v;
  CHECK(parse(LINK_MPLS, cat(stack, tt::ip_packet(s)), &v) == ParseResult::depth_limit);
}

TEST(decap_truncation_at_every_offset) {
  Seg s = inner_seg();
  Bytes e2 = {0x10, 0x05, 0x00, 17, 0, 0, 0, 0};
  Bytes frames[] = {
      vxlan_frame(s, 42),
      gre_frame(s, 0xb000, cat(cat(be32(0), be32(5)), be32(1)), 0x0800, tt::ip_packet(s)),
      gre_frame(s, 0x1000, be32(1), 0x88be, cat(e2, tt::eth_frame(s))),
      outer4(tt::ip_packet(tt::v6(s)), 41),
      tt::ether(cat(be32(100u << 12 | 0x100), tt::ip_packet(s)), 0x8847),
  };
  for (const Bytes& f : frames) {
    PacketView v;
    CHECK(parse(LINK_EN10MB, f, &v) == ParseResult::ok);
    size_t headers = f.size() - s.payload;
    for (size_t cut = 0; cut < f.size(); cut++) {
      ParseResult r = parse(LINK_EN10MB, f, &v, cut);
      // A UDP header cut before its ports are read is any UDP packet ("not TCP"); everything else is truncated.
      bool udp_ports_cut = &f == &frames[0] && cut >= 14 + 20 && cut < 14 + 20 + 8;
      if (cut < headers) CHECK(r == (udp_ports_cut ? ParseResult::not_tcp : ParseResult::truncated));
      else CHECK(r == ParseResult::ok);
    }
  }
}

// Two tenants with the same inner 4-tuple are two connections (streams, series), each named by its tunnel.
TEST(decap_tenants_are_separate_flows) {
  EngineConfig cfg;
  cfg.per_packet = true;
  cfg.top_k = 4;
  cfg.window_ns = 10 * NS_PER_MS;
  Engine engine(cfg);
  Seg c = inner_seg();
  c.flags = TCP_SYN;
  c.payload = 0;
  c.options.clear();
  Seg srv = tt::reversed(c);
  srv.flags = TCP_SYN | TCP_ACK;
  srv.seq = 5000;
  srv.ack = c.seq + 1;
  int64_t t = 1700000000 * NS_PER_S;
  PacketRecord r[4];
  uint32_t vnis[2] = {42, 43};
  for (int i = 0; i < 2; i++) {
    Bytes syn = vxlan_frame(c, vnis[i]);
    Bytes synack = vxlan_frame(srv, vnis[i], 4789, false);
    CHECK(engine.process(LINK_EN10MB, syn.data(), uint32_t(syn.size()), uint32_t(syn.size()), t, 0, &r[2 * i]));
    CHECK(engine.process(LINK_EN10MB, synack.data(), uint32_t(synack.size()), uint32_t(synack.size()),
                         t + 1000 * (i + 1), 0, &r[2 * i + 1]));
  }
  CHECK_EQ(r[0].stream, 0u);
  CHECK_EQ(r[1].stream, 0u);
  CHECK_EQ(r[2].stream, 1u);
  CHECK_EQ(r[3].stream, 1u);
  // Each SYN-ACK is the RTT sample of its own tenant's SYN.
  CHECK_EQ(r[1].ack_rtt_ns, 1000);
  CHECK_EQ(r[3].ack_rtt_ns, 2000);
  CHECK_EQ(engine.counters().flows_created, 2u);
  CHECK_EQ(engine.counters().decapsulated, 4u);
  // Series go to connections that carried payload (a handshake alone is half-open): one data segment each.
  for (int i = 0; i < 2; i++) {
    Seg d = inner_seg();
    d.seq = c.seq + 1;
    d.ack = srv.seq + 1;
    Bytes data = vxlan_frame(d, vnis[i]);
    PacketRecord dr;
    CHECK(engine.process(LINK_EN10MB, data.data(), uint32_t(data.size()), uint32_t(data.size()), t + 5000, 0, &dr));
    CHECK_EQ(dr.stream, uint32_t(i));
  }
  engine.advance(t + NS_PER_S);
  engine.finish();
  std::vector<SeriesInfo> series;
  engine.take_new_series(&series);
  int named = 0;
  for (const SeriesInfo& si : series) {
    if (si.key.rfind("vni=42/", 0) == 0 || si.key.rfind("vni=43/", 0) == 0) named++;
  }
  CHECK_EQ(named, 2);
  // Counted reasons for tunnels that were not followed.
  Bytes unknown = gre_frame(c, 0, {}, 0x1234, tt::ip_packet(c));
  engine.process(LINK_EN10MB, unknown.data(), uint32_t(unknown.size()), uint32_t(unknown.size()), t, 0, nullptr);
  CHECK_EQ(engine.counters().unknown_encap, 1u);
}
