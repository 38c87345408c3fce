// Parser tests on crafted frames: every link type, VLAN stacks, IP options and extension headers, fragments,
// TCP options, bad lengths, and truncation at every byte offset (heap copies of exact size, so ASan and
// valgrind see any read past caplen).
#include <cstdlib>

#include "../packet.h"
#include "harness.h"

using namespace tcpcast;
using tt::Bytes;
using tt::Seg;

namespace {

// Parses from an exact-size heap copy of the first caplen bytes.
ParseResult parse(int link, const Bytes& frame, PacketView* v, size_t caplen = SIZE_MAX, size_t wirelen = SIZE_MAX) {
  if (caplen > frame.size()) caplen = frame.size();
  if (wirelen == SIZE_MAX) wirelen = frame.size();
  uint8_t* copy = static_cast<uint8_t*>(std::malloc(caplen ? caplen : 1));
  if (caplen) std::memcpy(copy, frame.data(), caplen);
  ParseResult r = parse_packet(link, copy, static_cast<uint32_t>(caplen), static_cast<uint32_t>(wirelen), 7, v);
  std::free(copy);
  return r;
}

Seg data_seg() {
  Seg s;
  s.seq = 0x01020304;
  s.ack = 0x0a0b0c0d;
  s.flags = 0x18;
  s.window = 512;
  s.payload = 100;
  s.options = tt::opt_ts(111, 222);
  return s;
}

void check_fields(const PacketView& v, const Seg& s) {
  CHECK_EQ(v.ip_version, s.ip_version);
  CHECK(std::memcmp(v.src, s.src, s.ip_version == 4 ? 4 : 16) == 0);
  CHECK(std::memcmp(v.dst, s.dst, s.ip_version == 4 ? 4 : 16) == 0);
  CHECK_EQ(v.sport, s.sport);
  CHECK_EQ(v.dport, s.dport);
  CHECK_EQ(v.seq, s.seq);
  CHECK_EQ(v.ack, s.ack);
  CHECK_EQ(v.flags, s.flags);
  CHECK_EQ(v.window, s.window);
  CHECK_EQ(v.tcp_len, s.payload);
}

Bytes with_prefix(const Bytes& prefix, const Bytes& rest) {
  Bytes b = prefix;
  b.insert(b.end(), rest.begin(), rest.end());
  return b;
}

Bytes sll(const Bytes& l3, uint16_t proto) {
  Bytes h(16, 0);
  tt::put16(h, 14, proto);
  return with_prefix(h, l3);
}

Bytes sll2(const Bytes& l3, uint16_t proto, uint32_t ifindex) {
  Bytes h(20, 0);
  tt::put16(h, 0, proto);
  tt::put32(h, 4, ifindex);
  return with_prefix(h, l3);
}

Bytes af_header(uint32_t af, bool big_endian) {
  Bytes h(4, 0);
  if (big_endian) tt::put32(h, 0, af);
  else for (int i = 0; i < 4; i++) h[i] = static_cast<uint8_t>(af >> (8 * i));
  return with_prefix(h, {});
}

}  // namespace

TEST(packet_every_link_type_v4_and_v6) {
  for (int ver : {4, 6}) {
    Seg s = ver == 4 ? data_seg() : tt::v6(data_seg());
    Bytes ip = tt::ip_packet(s);
    uint16_t et = ver == 4 ? 0x0800 : 0x86dd;
    struct Case {
      int link;
      Bytes frame;
    } cases[] = {
        {LINK_EN10MB, tt::ether(ip, et)},
        {LINK_LINUX_SLL, sll(ip, et)},
        {LINK_LINUX_SLL2, sll2(ip, et, 9)},
        {LINK_RAW_12, ip},
        {LINK_RAW_14, ip},
        {LINK_RAW, ip},
        {ver == 4 ? LINK_IPV4 : LINK_IPV6, ip},
    };
    for (auto& c : cases) {
      PacketView v;
      CHECK(parse(c.link, c.frame, &v) == ParseResult::ok);
      check_fields(v, s);
      CHECK_EQ(v.ifindex, c.link == LINK_LINUX_SLL2 ? 9 : -1);
      CHECK_EQ(v.ts_ns, 7);
    }
    // LINKTYPE_IPV4 carrying IPv6 (and the reverse) is not a valid packet.
    PacketView v;
    CHECK(parse(ver == 4 ? LINK_IPV6 : LINK_IPV4, ip, &v) == ParseResult::malformed);
  }
}

TEST(packet_null_and_loop_families_both_byte_orders) {
  Seg s4 = data_seg();
  Seg s6 = tt::v6(data_seg());
  for (int link : {LINK_NULL, LINK_LOOP}) {
    for (bool be : {false, true}) {
      PacketView v;
      CHECK(parse(link, with_prefix(af_header(2, be), tt::ip_packet(s4)), &v) == ParseResult::ok);
      check_fields(v, s4);
      for (uint32_t af : {24u, 28u, 30u}) {
        CHECK(parse(link, with_prefix(af_header(af, be), tt::ip_packet(s6)), &v) == ParseResult::ok);
        check_fields(v, s6);
      }
      CHECK(parse(link, with_prefix(af_header(7, be), tt::ip_packet(s4)), &v) == ParseResult::not_ip);
    }
  }
}

TEST(packet_vlan_qinq_any_depth) {
  Seg s = data_seg();
  std::vector<std::vector<uint16_t>> stacks = {
      {0x8100}, {0x88a8, 0x8100}, {0x9100, 0x8100}, {0x88a8, 0x8100, 0x8100, 0x8100}};
  for (auto& tags : stacks) {
    PacketView v;
    CHECK(parse(LINK_EN10MB, tt::ether(tt::ip_packet(s), 0x0800, tags), &v) == ParseResult::ok);
    check_fields(v, s);
    Seg s6 = tt::v6(s);
    CHECK(parse(LINK_EN10MB, tt::ether(tt::ip_packet(s6), 0x86dd, tags), &v) == ParseResult::ok);
    check_fields(v, s6);
  }
  // Tags inside SLL / SLL2 (not stripped by the kernel on some drivers).
  PacketView v;
  Bytes tagged = tt::ether(tt::ip_packet(s), 0x0800, {0x8100});
  Bytes after_type(tagged.begin() + 14, tagged.end());  // TCI + inner type + IP
  CHECK(parse(LINK_LINUX_SLL, sll(after_type, 0x8100), &v) == ParseResult::ok);
  CHECK(parse(LINK_LINUX_SLL2, sll2(after_type, 0x8100, 3), &v) == ParseResult::ok);
  check_fields(v, s);
}

TEST(packet_non_ip_and_non_tcp) {
  PacketView v;
  Seg s = data_seg();
  CHECK(parse(LINK_EN10MB, tt::ether(Bytes(28, 0), 0x0806), &v) == ParseResult::not_ip);  // ARP
  CHECK(parse(LINK_EN10MB, tt::ether(Bytes(46, 0), 0x0040), &v) == ParseResult::not_ip);  // 802.3 length
  CHECK(parse(LINK_EN10MB, tt::ether(tt::ipv4(s, Bytes(8, 0), 17), 0x0800), &v) == ParseResult::not_tcp);
  CHECK(parse(LINK_EN10MB, tt::ether(tt::ipv6(tt::v6(s), Bytes(8, 0), 58), 0x86dd), &v) == ParseResult::not_tcp);
  CHECK(parse(LINK_RAW, Bytes(40, 0x20), &v) == ParseResult::not_ip);  // version 2
  CHECK(parse(9999, tt::ip_packet(s), &v) == ParseResult::unsupported_link);
  CHECK(parse(LINK_EN10MB, tt::ether(tt::ip_packet(s), 0x86dd), &v) == ParseResult::malformed);  // v4 in v6 type
}

TEST(packet_ipv4_options_and_fragments) {
  Seg s = data_seg();
  PacketView v;
  Bytes opts = {1, 1, 1, 0, 7, 7, 0, 0};  // NOPs + EOL + junk: 8 option bytes, IHL 7
  CHECK(parse(LINK_RAW, tt::ipv4(s, tt::tcp_header(s), 6, opts), &v) == ParseResult::ok);
  check_fields(v, s);
  CHECK(parse(LINK_RAW, tt::ipv4(s, tt::tcp_header(s), 6, {}, 0x2000), &v) == ParseResult::fragment);  // MF
  CHECK(parse(LINK_RAW, tt::ipv4(s, tt::tcp_header(s), 6, {}, 0x0010), &v) == ParseResult::fragment);  // offset
  CHECK(parse(LINK_RAW, tt::ipv4(s, tt::tcp_header(s), 6, {}, 0x4000), &v) == ParseResult::ok);        // DF only
}

TEST(packet_ipv6_extension_headers) {
  Seg s = tt::v6(data_seg());
  Bytes tcp = tt::tcp_header(s);
  Bytes opt8 = {0, 1, 4, 0, 0, 0, 0};  // hdr ext len 0 + PadN: 8 bytes with the next-header byte
  Bytes routing = {0, 0, 0, 0, 0, 0, 0};
  Bytes ah = {4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};  // (4+2)*4 = 24 bytes
  PacketView v;
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{0, opt8}, {43, routing}, {60, opt8}}), &v) == ParseResult::ok);
  check_fields(v, s);
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{51, ah}}), &v) == ParseResult::ok);
  check_fields(v, s);
  // Fragment header: first fragment (M=1), a later one (offset != 0), and an atomic fragment (neither).
  Bytes first = {0, 0, 1, 0, 0, 0, 1};
  Bytes later = {0, 0, 0x10, 0, 0, 0, 1};
  Bytes atomic = {0, 0, 0, 0, 0, 0, 1};
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{44, first}}), &v) == ParseResult::fragment);
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{44, later}}), &v) == ParseResult::fragment);
  CHECK(parse(LINK_RAW, tt::ipv6(s, Bytes(16, 0), 17, {{44, later}}), &v) == ParseResult::fragment);
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{44, atomic}}), &v) == ParseResult::ok);
  CHECK(parse(LINK_RAW, tt::ipv6(s, Bytes(8, 0), 59), &v) == ParseResult::not_tcp);
  // An extension header longer than the payload.
  Bytes huge = {200, 0, 0, 0, 0, 0, 0};
  CHECK(parse(LINK_RAW, tt::ipv6(s, tcp, 6, {{60, huge}}), &v) == ParseResult::malformed);
}

TEST(packet_tcp_options) {
  Seg s = data_seg();
  Bytes o = {2, 4, 0x05, 0xb4, 3, 3, 7, 1};  // MSS 1460, WS 7, NOP
  Bytes ts = tt::opt_ts(0xdeadbeef, 0x01020304);
  o.insert(o.end(), ts.begin(), ts.end());
  s.options = o;
  PacketView v;
  CHECK(parse(LINK_RAW, tt::ip_packet(s), &v) == ParseResult::ok);
  CHECK_EQ(v.mss, 1460);
  CHECK_EQ(v.wscale, 7);
  CHECK(v.has_ts);
  CHECK_EQ(v.tsval, 0xdeadbeefu);
  CHECK_EQ(v.tsecr, 0x01020304u);
  CHECK_EQ(v.sack_count, 0);
  CHECK(!v.options_malformed);
  for (size_t n = 1; n <= 4; n++) {
    std::vector<std::pair<uint32_t, uint32_t>> blocks;
    for (size_t i = 0; i < n; i++) blocks.push_back({1000u * (i + 1), 1000u * (i + 1) + 500});
    s.options = tt::opt_sack(blocks);
    CHECK(parse(LINK_RAW, tt::ip_packet(s), &v) == ParseResult::ok);
    CHECK_EQ(v.sack_count, n);
    CHECK_EQ(v.sack_left[n - 1], blocks[n - 1].first);
    CHECK_EQ(v.sack_right[n - 1], blocks[n - 1].second);
    CHECK(!v.has_ts);
  }
  s.options = {8, 0, 1, 1};  // option length 0: the walk stops, the segment is still TCP
  CHECK(parse(LINK_RAW, tt::ip_packet(s), &v) == ParseResult::ok);
  CHECK(v.options_malformed);
  check_fields(v, s);
  s.options = {8, 40, 1, 1};  // runs past the header
  CHECK(parse(LINK_RAW, tt::ip_packet(s), &v) == ParseResult::ok);
  CHECK(v.options_malformed);
}

TEST(packet_bad_lengths_are_malformed) {
  Seg s = data_seg();
  PacketView v;
  Bytes p = tt::ip_packet(s);
  Bytes bad = p;
  bad[0] = 0x44;  // IHL 4
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  bad = p;
  tt::put16(bad, 2, static_cast<uint16_t>(p.size() + 1));  // longer than the wire
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  bad = p;
  tt::put16(bad, 2, 19);  // shorter than its header
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  bad = p;
  tt::put16(bad, 2, 20 + 20);  // TCP header (32 bytes with options) longer than the IP payload
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  bad = p;
  bad[20 + 12] = 0x40;  // data offset 4
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  Seg s6 = tt::v6(s);
  Bytes p6 = tt::ip_packet(s6);
  bad = p6;
  tt::put16(bad, 4, static_cast<uint16_t>(p6.size()));  // payload length > wire
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::malformed);
  bad = p6;
  tt::put16(bad, 4, 0);  // payload length 0 without a jumbo option (BIG TCP): the length comes from the frame
  CHECK(parse(LINK_RAW, bad, &v) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, s6.payload);
}

TEST(packet_ethernet_padding_trusts_ip_length) {
  Seg s = data_seg();
  s.payload = 0;
  s.options.clear();
  Bytes f = tt::eth_frame(s);  // 54 bytes
  f.resize(60, 0);            // minimum frame size padding
  PacketView v;
  CHECK(parse(LINK_EN10MB, f, &v) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, 0u);
}

TEST(packet_snaplen_uses_ip_length) {
  Seg s = data_seg();
  s.payload = 1400;
  Bytes f = tt::eth_frame(s);
  PacketView v;
  // Only the headers captured (tcpdump -s 66+12): tcp_len still from the IP header.
  size_t headers = 14 + 20 + 32;
  CHECK(parse(LINK_EN10MB, f, &v, headers, f.size()) == ParseResult::ok);
  CHECK_EQ(v.tcp_len, 1400u);
  CHECK_EQ(v.caplen, headers);
  CHECK_EQ(v.wirelen, f.size());
}

// Cut every frame at every byte offset: the parser must say truncated (headers incomplete) or ok
// (headers complete), never read past caplen, and never claim more.
TEST(packet_truncation_at_every_offset) {
  Seg s = data_seg();
  Seg s6 = tt::v6(data_seg());
  Bytes opt8 = {0, 1, 4, 0, 0, 0, 0};
  struct Case {
    int link;
    Bytes frame;
    size_t headers;  // bytes needed up to the end of the TCP header
  } cases[] = {
      {LINK_EN10MB, tt::eth_frame(s), 14 + 20 + 32},
      {LINK_EN10MB, tt::ether(tt::ip_packet(s), 0x0800, {0x88a8, 0x8100}), 22 + 20 + 32},
      {LINK_EN10MB, tt::eth_frame(s6), 14 + 40 + 32},
      {LINK_RAW, tt::ipv6(s6, tt::tcp_header(s6), 6, {{0, opt8}, {60, opt8}}), 40 + 16 + 32},
      {LINK_RAW, tt::ipv4(s, tt::tcp_header(s), 6, {1, 1, 1, 1}), 24 + 32},
      {LINK_LINUX_SLL, sll(tt::ip_packet(s), 0x0800), 16 + 20 + 32},
      {LINK_LINUX_SLL2, sll2(tt::ip_packet(s6), 0x86dd, 2), 20 + 40 + 32},
      {LINK_NULL, with_prefix(af_header(2, false), tt::ip_packet(s)), 4 + 20 + 32},
      {LINK_IPV4, tt::ip_packet(s), 20 + 32},
      {LINK_IPV6, tt::ip_packet(s6), 40 + 32},
  };
  for (auto& c : cases) {
    for (size_t cut = 0; cut <= c.frame.size(); cut++) {
      PacketView v;
      ParseResult r = parse(c.link, c.frame, &v, cut, c.frame.size());
      if (cut < c.headers) {
        CHECK(r == ParseResult::truncated);
      } else {
        CHECK(r == ParseResult::ok);
        CHECK_EQ(v.tcp_len, 100u);
      }
      // The same cut reported as the whole frame (wirelen == caplen): lengths no longer add up.
      r = parse(c.link, c.frame, &v, cut, cut);
      if (cut < c.frame.size()) CHECK(r != ParseResult::ok);
    }
  }
  PacketView v;
  CHECK(parse_packet(LINK_EN10MB, nullptr, 0, 0, 0, &v) == ParseResult::truncated);
}
