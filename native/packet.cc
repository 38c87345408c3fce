// Frame parser: link header -> VLAN tags -> tunnels -> IPv4/IPv6 (+ extension headers) -> TCP header and options.
//
// Lengths: the TCP payload length comes from the IP header (total length / payload length), never from
// caplen or the frame length, so snaplen-truncated packets and Ethernet frames padded to 60 bytes give
// the same tcp_len as tshark. An IP length that claims more bytes than the wire carried, or fewer
// than its own headers, is malformed. Every read is bounds-checked against caplen: a header that is cut
// by the snaplen makes the packet "truncated" (the TCP header including options must be present).
//
// Tunnels (docs/capture.md lists them): each layer is parsed with `end`, the offset where the enclosing
// layer's bytes end on the wire (an outer IP/UDP length), so an inner length can never claim more than its
// tunnel carried. Lengths of 0 (TSO/GSO/BIG TCP) take `end`, as Wireshark does. The layers are bounded
// (MAX_DECAP_DEPTH) and recorded in the view: the tunnel identity joins the flow key, so tenants sharing an
// inner 4-tuple stay apart. Recursion depth is bounded by the same limit, so a crafted frame cannot nest
// without end.
#include "packet.h"

#include <arpa/inet.h>

#include <cstring>

namespace tcpcast {

namespace {

inline uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t rd32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

constexpr uint16_t ETH_IPV4 = 0x0800;
constexpr uint16_t ETH_IPV6 = 0x86dd;
constexpr uint16_t ETH_VLAN = 0x8100;
constexpr uint16_t ETH_QINQ = 0x88a8;
constexpr uint16_t ETH_QINQ_OLD = 0x9100;
constexpr uint8_t IPPROTO_TCP_ = 6;

// BSD address families for IPv6 differ per OS (24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS, 10 Linux).
inline int family_to_ip_version(uint32_t af) {
  if (af == 2) return 4;
  if (af == 24 || af == 28 || af == 30 || af == 10) return 6;
  return 0;
}

// Walks the TCP options; malformed options stop the walk but do not reject the segment (tshark does the same).
void parse_tcp_options(const uint8_t* p, uint32_t len, PacketView* v) {
  uint32_t i = 0;
  while (i < len) {
    uint8_t kind = p[i];
    if (kind == 0) return;
    if (kind == 1) {
      i++;
      continue;
    }
    if (i + 1 >= len) {
      v->options_malformed = true;
      return;
    }
    uint8_t olen = p[i + 1];
    if (olen < 2 || i + olen > len) {
      v->options_malformed = true;
      return;
    }
    const uint8_t* o = p + i;
    switch (kind) {
      case 2:
        if (olen == 4) v->mss = rd16(o + 2);
        break;
      case 3:
        if (olen == 3) v->wscale = static_cast<int8_t>(o[2] > 14 ? 14 : o[2]);
        break;
      case 5: {
        uint32_t blocks = (olen - 2) / 8;
        if (blocks > MAX_SACK_BLOCKS) blocks = MAX_SACK_BLOCKS;
        for (uint32_t b = 0; b < blocks; b++) {
          v->sack_left[b] = rd32(o + 2 + 8 * b);
          v->sack_right[b] = rd32(o + 6 + 8 * b);
        }
        v->sack_count = static_cast<uint8_t>(blocks);
        break;
      }
      case 8:
        if (olen == 10) {
          v->has_ts = true;
          v->tsval = rd32(o + 2);
          v->tsecr = rd32(o + 6);
        }
        break;
      default:
        break;
    }
    i += olen;
  }
}

// TCP at data[off], with ip_payload_len bytes of IP payload (from the IP header).
ParseResult parse_tcp(const uint8_t* data, uint32_t caplen, uint32_t off, uint32_t ip_payload_len, PacketView* v) {
  if (ip_payload_len < 20) return ParseResult::malformed;
  if (caplen < off || caplen - off < 20) return ParseResult::truncated;
  const uint8_t* t = data + off;
  uint32_t hlen = (t[12] >> 4) * 4u;
  if (hlen < 20 || hlen > ip_payload_len) return ParseResult::malformed;
  if (caplen - off < hlen) return ParseResult::truncated;
  v->sport = rd16(t);
  v->dport = rd16(t + 2);
  v->seq = rd32(t + 4);
  v->ack = rd32(t + 8);
  v->flags = static_cast<uint16_t>(rd16(t + 12) & 0x01ff);
  v->window = rd16(t + 14);
  v->tcp_hlen = static_cast<uint8_t>(hlen);
  v->tcp_len = ip_payload_len - hlen;
  v->has_ts = false;
  v->options_malformed = false;
  v->tsval = v->tsecr = 0;
  v->sack_count = 0;
  v->mss = 0;
  v->wscale = -1;
  if (hlen > 20) parse_tcp_options(t + 20, hlen - 20, v);
  return ParseResult::ok;
}

// The parse of one frame: the frame, the decapsulation settings, the view being filled, and the last IP
// header seen (the outer addresses of an unkeyed tunnel found under it).
struct Ctx {
  const uint8_t* data;
  uint32_t caplen;
  const DecapConfig* cfg;
  PacketView* v;
  int layers;                 // tunnel layers removed so far
  uint8_t ip_version;         // of the last IP header parsed (0: none yet)
  const uint8_t* ip_src;
  const uint8_t* ip_dst;
};

ParseResult parse_ip(Ctx& c, uint32_t l3, uint32_t end);
ParseResult parse_ethernet(Ctx& c, uint32_t off, uint32_t end);
ParseResult parse_ethertype(Ctx& c, uint16_t type, uint32_t off, uint32_t end);

// Entering a tunnel layer: bounded, so a frame of nested headers cannot recurse without limit.
inline bool enter_layer(Ctx& c) {
  if (c.layers >= MAX_DECAP_DEPTH) return false;
  c.layers++;
  c.v->decap_layers = static_cast<uint8_t>(c.layers);
  return true;
}

inline void set_keyed_tunnel(Ctx& c, TunnelType t, uint32_t id) {
  TunnelId& k = c.v->tunnel;
  std::memset(&k, 0, sizeof k);
  k.type = static_cast<uint8_t>(t);
  k.id = id;
}

// Unkeyed tunnel: identified by the outer (last seen) IP addresses, smaller first.
inline void set_unkeyed_tunnel(Ctx& c, TunnelType t) {
  TunnelId& k = c.v->tunnel;
  std::memset(&k, 0, sizeof k);
  k.type = static_cast<uint8_t>(t);
  if (c.ip_version == 0) return;
  k.outer_version = c.ip_version;
  uint32_t n = c.ip_version == 4 ? 4 : 16;
  bool src_first = std::memcmp(c.ip_src, c.ip_dst, n) <= 0;
  std::memcpy(k.outer_a, src_first ? c.ip_src : c.ip_dst, n);
  std::memcpy(k.outer_b, src_first ? c.ip_dst : c.ip_src, n);
}

inline bool is_vxlan_port(const DecapConfig* cfg, uint16_t port) {
  for (int i = 0; i < cfg->vxlan_port_count && i < MAX_VXLAN_PORTS; i++) {
    if (cfg->vxlan_ports[i] == port) return true;
  }
  return false;
}

// UDP at off, end = end of the IP payload (wire). Only the tunnel ports are followed.
ParseResult parse_udp(Ctx& c, uint32_t off, uint32_t end) {
  // Until the ports say "tunnel", this is any UDP packet: a short or cut one is "not TCP", as before.
  if (end - off < 8 || c.caplen < off + 8) return ParseResult::not_tcp;
  const uint8_t* u = c.data + off;
  uint16_t sport = rd16(u), dport = rd16(u + 2);
  // Wireshark tries the lower port first; a tunnel port is the destination (or, on replies of some
  // implementations, both), so destination first, then source.
  bool vxlan = is_vxlan_port(c.cfg, dport) || is_vxlan_port(c.cfg, sport);
  bool geneve = !vxlan && (dport == c.cfg->geneve_port || sport == c.cfg->geneve_port);
  if (!vxlan && !geneve) return ParseResult::not_tcp;
  uint32_t ulen = rd16(u + 4);
  // Length 0: a UDP GSO super-packet, as IP total length 0: the length is what the IP layer gave.
  if (ulen == 0) ulen = end - off;
  if (ulen < 8 || ulen > end - off) return ParseResult::malformed;
  uint32_t p = off + 8, pend = off + ulen;
  if (!enter_layer(c)) return ParseResult::depth_limit;
  if (pend - p < 8) return ParseResult::malformed;
  if (c.caplen < p + 8) return ParseResult::truncated;
  const uint8_t* h = c.data + p;
  uint32_t vni = rd32(h + 4) >> 8;
  if (vxlan) {
    set_keyed_tunnel(c, TunnelType::vxlan, vni);
    return parse_ethernet(c, p + 8, pend);
  }
  // Geneve: version(2) option length(6, in 4-byte words) | flags | protocol type | VNI(24) reserved(8) | options.
  uint32_t hlen = 8 + (h[0] & 0x3f) * 4u;
  if (pend - p < hlen) return ParseResult::malformed;
  set_keyed_tunnel(c, TunnelType::geneve, vni);
  uint16_t proto = rd16(h + 2);
  if (proto == 0x6558) return parse_ethernet(c, p + hlen, pend);
  if (proto == ETH_IPV4 || proto == ETH_IPV6 || proto == 0x8847 || proto == 0x8848) {
    return parse_ethertype(c, proto, p + hlen, pend);
  }
  return proto == 0x0806 ? ParseResult::not_ip : ParseResult::unknown_encap;
}

// GRE (RFC 2784/2890) at off; WCCP redirect and ERSPAN I/II/III over it.
ParseResult parse_gre(Ctx& c, uint32_t off, uint32_t end) {
  if (end - off < 4) return ParseResult::malformed;
  if (c.caplen < off + 4) return ParseResult::truncated;
  if (!enter_layer(c)) return ParseResult::depth_limit;
  const uint8_t* g = c.data + off;
  uint16_t flags = rd16(g);
  uint16_t proto = rd16(g + 2);
  // Version 1 (PPTP's enhanced GRE, PPP inside) and source routing (R) are not decoded.
  if ((flags & 0x7) != 0 || (flags & 0x4000)) return ParseResult::unknown_encap;
  uint32_t hlen = 4;
  if (flags & 0x8000) hlen += 4;  // checksum + reserved
  bool keyed = (flags & 0x2000) != 0;
  bool sequenced = (flags & 0x1000) != 0;
  uint32_t key_off = hlen;
  if (keyed) hlen += 4;
  if (sequenced) hlen += 4;
  if (end - off < hlen) return ParseResult::malformed;
  if (c.caplen < off + hlen) return ParseResult::truncated;
  if (keyed) set_keyed_tunnel(c, TunnelType::gre, rd32(g + key_off));
  else set_unkeyed_tunnel(c, TunnelType::gre);
  uint32_t p = off + hlen;
  switch (proto) {
    case 0x6558:  // transparent Ethernet bridging (NVGRE, gretap)
      return parse_ethernet(c, p, end);
    case 0x883e:  // WCCP: version 2 adds a 4-byte redirect header; Wireshark tells them apart by the IPv4 nibble
      if (end - p < 1) return ParseResult::malformed;
      if (c.caplen <= p) return ParseResult::truncated;
      if ((c.data[p] >> 4) != 4) p += 4;
      if (p > end) return ParseResult::malformed;
      return parse_ip(c, p, end);
    case 0x88be: {  // ERSPAN: type I without a sequence number (no header), type II with one (8-byte header)
      if (!sequenced) {
        set_keyed_tunnel(c, TunnelType::erspan, 0);
        return parse_ethernet(c, p, end);
      }
      if (end - p < 8) return ParseResult::malformed;
      if (c.caplen < p + 8) return ParseResult::truncated;
      set_keyed_tunnel(c, TunnelType::erspan, rd16(c.data + p + 2) & 0x3ff);
      return parse_ethernet(c, p + 8, end);
    }
    case 0x22eb: {  // ERSPAN III: 12-byte header, + 8 bytes of platform sub-header when O is set; frame type
      if (end - p < 12) return ParseResult::malformed;
      if (c.caplen < p + 12) return ParseResult::truncated;
      const uint8_t* e = c.data + p;
      set_keyed_tunnel(c, TunnelType::erspan, rd16(e + 2) & 0x3ff);
      uint32_t elen = (e[11] & 0x01) ? 20 : 12;
      if (end - p < elen) return ParseResult::malformed;
      uint8_t frame_type = (e[10] >> 2) & 0x1f;  // bits: sgt(16) p(1) ft(5) hw id(6) d(1) gra(2) o(1)
      if (frame_type == 0) return parse_ethernet(c, p + elen, end);
      if (frame_type == 2) return parse_ip(c, p + elen, end);
      return ParseResult::unknown_encap;
    }
    case 0x0806:  // ARP, RARP: not IP, as on Ethernet
    case 0x8035:
      return ParseResult::not_ip;
    default:
      if (proto == ETH_IPV4 || proto == ETH_IPV6 || proto == 0x8847 || proto == 0x8848) {
        return parse_ethertype(c, proto, p, end);
      }
      return ParseResult::unknown_encap;
  }
}

// MPLS label stack at off; the payload after the bottom label is IP if its first nibble says so.
ParseResult parse_mpls(Ctx& c, uint32_t off, uint32_t end) {
  if (!enter_layer(c)) return ParseResult::depth_limit;
  for (int labels = 0;; labels++) {
    if (labels >= 16) return ParseResult::depth_limit;  // a stack deeper than any real network uses
    if (end - off < 4) return ParseResult::malformed;
    if (c.caplen < off + 4) return ParseResult::truncated;
    bool bottom = (c.data[off + 2] & 0x01) != 0;
    off += 4;
    if (bottom) break;
  }
  if (end - off < 1) return ParseResult::malformed;
  if (c.caplen <= off) return ParseResult::truncated;
  int nibble = c.data[off] >> 4;
  if (nibble == 4 || nibble == 6) return parse_ip(c, off, end);
  // A pseudowire (control word 0, Ethernet...) or anything else: not decoded.
  return ParseResult::unknown_encap;
}

// The PPP protocol field at off (2 bytes, or 1 when compressed: an odd first byte).
ParseResult parse_ppp_protocol(Ctx& c, uint32_t off, uint32_t end) {
  if (end - off < 1) return ParseResult::malformed;
  if (c.caplen <= off) return ParseResult::truncated;
  uint16_t proto;
  if (c.data[off] & 0x01) {
    proto = c.data[off];
    off += 1;
  } else {
    if (end - off < 2) return ParseResult::malformed;
    if (c.caplen < off + 2) return ParseResult::truncated;
    proto = rd16(c.data + off);
    off += 2;
  }
  if (proto == 0x0021 || proto == 0x0057) return parse_ip(c, off, end);
  if (proto == 0x0281 || proto == 0x0283) return parse_mpls(c, off, end);
  if (proto >= 0x8000) return ParseResult::not_ip;  // LCP, IPCP, IPV6CP, authentication...
  return ParseResult::unknown_encap;               // compressed TCP/IP (VJ), multilink...: not decoded
}

// PPPoE session (RFC 2516) at off: ver/type, code, session id, length, then PPP.
ParseResult parse_pppoe(Ctx& c, uint32_t off, uint32_t end) {
  if (end - off < 6) return ParseResult::malformed;
  if (c.caplen < off + 6) return ParseResult::truncated;
  if (!enter_layer(c)) return ParseResult::depth_limit;
  const uint8_t* h = c.data + off;
  if (h[0] != 0x11 || h[1] != 0) return ParseResult::malformed;
  set_keyed_tunnel(c, TunnelType::pppoe, rd16(h + 2));
  uint32_t len = rd16(h + 4);
  // The PPPoE length trims Ethernet padding; a length beyond the frame is taken as the frame (Wireshark warns).
  uint32_t pend = len <= end - off - 6 ? off + 6 + len : end;
  return parse_ppp_protocol(c, off + 6, pend);
}

// The IP payload of protocol `proto` at off..end. fragment: the IP header said this is a fragment.
ParseResult dispatch_ip_payload(Ctx& c, uint8_t proto, uint32_t off, uint32_t end, bool fragment) {
  if (proto == IPPROTO_TCP_) {
    if (fragment) return ParseResult::fragment;
    return parse_tcp(c.data, c.caplen, off, end - off, c.v);
  }
  if (!c.cfg->enabled) return ParseResult::not_tcp;
  switch (proto) {
    case 4:    // IPv4 in IP
    case 41:   // IPv6 in IP
      if (fragment) return ParseResult::fragment;
      if (!enter_layer(c)) return ParseResult::depth_limit;
      set_unkeyed_tunnel(c, TunnelType::ipip);
      return parse_ip(c, off, end);
    case 47:
      if (fragment) return ParseResult::fragment;
      return parse_gre(c, off, end);
    case 137:  // MPLS in IP (RFC 4023)
      if (fragment) return ParseResult::fragment;
      return parse_mpls(c, off, end);
    case 17:
      // A fragment's UDP header (if any) says nothing about the rest: not followed, counted as before.
      if (fragment) return ParseResult::not_tcp;
      return parse_udp(c, off, end);
    default:
      return ParseResult::not_tcp;
  }
}

// Whether dispatch_ip_payload follows this IP protocol (TCP, or a tunnel when decapsulating).
inline bool followed_protocol(const Ctx& c, uint8_t proto) {
  if (proto == IPPROTO_TCP_) return true;
  return c.cfg->enabled && (proto == 4 || proto == 41 || proto == 47 || proto == 137);
}

// l3 = offset of the IPv4 header; end = where the enclosing layer's bytes end on the wire.
ParseResult parse_ipv4(Ctx& c, uint32_t l3, uint32_t end) {
  if (l3 > c.caplen || c.caplen - l3 < 20) return ParseResult::truncated;
  if (l3 > end) return ParseResult::malformed;
  const uint8_t* ip = c.data + l3;
  if ((ip[0] >> 4) != 4) return ParseResult::malformed;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20) return ParseResult::malformed;
  uint32_t total = rd16(ip + 2);
  // Total length 0: a TSO/GSO or BIG TCP super-packet; Wireshark (ip.tso_support, on by default) then takes
  // the length from the frame, and so do we.
  if (total == 0) total = end - l3;
  if (total < ihl || total > end - l3) return ParseResult::malformed;
  if (c.caplen - l3 < ihl) return ParseResult::truncated;
  uint8_t proto = ip[9];
  uint16_t frag = rd16(ip + 6);
  bool fragment = (frag & 0x2000) || (frag & 0x1fff);
  if (proto == IPPROTO_TCP_ && !fragment) {
    c.v->ip_version = 4;
    std::memset(c.v->src, 0, sizeof c.v->src);
    std::memset(c.v->dst, 0, sizeof c.v->dst);
    std::memcpy(c.v->src, ip + 12, 4);
    std::memcpy(c.v->dst, ip + 16, 4);
  }
  c.ip_version = 4;
  c.ip_src = ip + 12;
  c.ip_dst = ip + 16;
  return dispatch_ip_payload(c, proto, l3 + ihl, l3 + total, fragment);
}

// The jumbo payload length (RFC 2675) from a hop-by-hop header at off of hlen bytes, or 0 when there is none.
uint32_t jumbo_length(const uint8_t* data, uint32_t caplen, uint32_t off, uint32_t hlen) {
  if (caplen < off + hlen) return 0;
  for (uint32_t i = 2; i < hlen;) {
    uint8_t type = data[off + i];
    if (type == 0) {  // Pad1
      i++;
      continue;
    }
    if (i + 2 > hlen) return 0;
    uint32_t olen = data[off + i + 1];
    if (i + 2 + olen > hlen) return 0;
    if (type == 0xc2 && olen == 4) return rd32(data + off + i + 2);
    i += 2 + olen;
  }
  return 0;
}

ParseResult parse_ipv6(Ctx& c, uint32_t l3, uint32_t end) {
  if (l3 > c.caplen || c.caplen - l3 < 40) return ParseResult::truncated;
  const uint8_t* ip = c.data + l3;
  if ((ip[0] >> 4) != 6) return ParseResult::malformed;
  if (l3 > end || end - l3 < 40) return ParseResult::malformed;
  uint32_t payload = rd16(ip + 4);
  uint8_t next = ip[6];
  if (payload == 0) {
    // A jumbogram carries its length in a hop-by-hop option; BIG TCP's in-kernel jumbograms reach the capture
    // with payload length 0 and (since Linux 6.5) no such option: then the frame gives the length, as for IPv4.
    uint32_t jumbo = 0;
    if (next == 0 && c.caplen >= l3 + 42) {
      jumbo = jumbo_length(c.data, c.caplen, l3 + 40, (c.data[l3 + 41] + 1u) * 8u);
    }
    payload = jumbo ? jumbo : end - l3 - 40;
  }
  if (payload == 0 || payload > end - l3 - 40) return ParseResult::malformed;
  uint32_t off = l3 + 40;       // start of the current extension header
  uint32_t remaining = payload; // IP payload bytes from off on
  bool fragment = false;
  for (int depth = 0; depth < 16; depth++) {
    switch (next) {
      case 0:    // hop-by-hop
      case 43:   // routing
      case 60:   // destination options
      case 44:   // fragment
      case 51: { // authentication header
        if (remaining < 8) return ParseResult::malformed;
        if (c.caplen < off || c.caplen - off < 8) return ParseResult::truncated;
        const uint8_t* h = c.data + off;
        uint32_t len;
        if (next == 44) {
          len = 8;
          uint16_t fo = rd16(h + 2);
          if ((fo & 0xfff8) || (fo & 1)) fragment = true;  // non-zero offset or more fragments
        } else if (next == 51) {
          len = (h[1] + 2u) * 4u;
        } else {
          len = (h[1] + 1u) * 8u;
        }
        if (len > remaining) return ParseResult::malformed;
        next = h[0];
        off += len;
        remaining -= len;
        break;
      }
      default:
        // TCP, a tunnel, or: 59 (no next header), ESP (payload unreadable), UDP, ICMPv6, ...
        if (fragment && !followed_protocol(c, next)) return ParseResult::fragment;
        if (next == IPPROTO_TCP_ && !fragment) {
          c.v->ip_version = 6;
          std::memcpy(c.v->src, ip + 8, 16);
          std::memcpy(c.v->dst, ip + 24, 16);
        }
        c.ip_version = 6;
        c.ip_src = ip + 8;
        c.ip_dst = ip + 24;
        return dispatch_ip_payload(c, next, off, off + remaining, fragment);
    }
  }
  return ParseResult::malformed;  // absurd extension header chain
}

ParseResult parse_ip(Ctx& c, uint32_t l3, uint32_t end) {
  if (l3 > end) return ParseResult::malformed;
  if (c.caplen <= l3) return ParseResult::truncated;
  int ver = c.data[l3] >> 4;
  if (ver == 4) return parse_ipv4(c, l3, end);
  if (ver == 6) return parse_ipv6(c, l3, end);
  return ParseResult::not_ip;
}

// The payload of Ethertype `type` at off (after any VLAN tags, which are followed here).
ParseResult parse_ethertype(Ctx& c, uint16_t type, uint32_t off, uint32_t end) {
  for (;;) {
    if (off > end) return ParseResult::malformed;
    if (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
      if (c.caplen < off + 4) return ParseResult::truncated;
      type = rd16(c.data + off + 2);
      off += 4;  // TCI + next type
      continue;
    }
    if (type == ETH_IPV4) return parse_ipv4(c, off, end);
    if (type == ETH_IPV6) return parse_ipv6(c, off, end);
    if (c.cfg->enabled) {
      if (type == 0x8847 || type == 0x8848) return parse_mpls(c, off, end);
      if (type == 0x8864) return parse_pppoe(c, off, end);
    }
    return ParseResult::not_ip;
  }
}

ParseResult parse_ethernet(Ctx& c, uint32_t off, uint32_t end) {
  if (end < off || end - off < 14) return ParseResult::malformed;
  if (c.caplen < off + 14) return ParseResult::truncated;
  return parse_ethertype(c, rd16(c.data + off + 12), off + 14, end);
}

// NFLOG: family(1) version(1) resource id(2), then TLVs (length and type in host order, 4-byte aligned);
// the packet is the NFULA_PAYLOAD (9) TLV.
ParseResult parse_nflog(Ctx& c, uint32_t end) {
  if (c.caplen < 4) return ParseResult::truncated;
  uint8_t family = c.data[0];
  uint32_t off = 4;
  while (off + 4 <= end) {
    if (c.caplen < off + 4) return ParseResult::truncated;
    uint32_t len = c.data[off] | (c.data[off + 1] << 8);
    uint32_t type = (c.data[off + 2] | (c.data[off + 3] << 8)) & 0x7fff;
    if (len < 4 || len > end - off) return ParseResult::malformed;
    if (type == 9) {
      if (family != 2 && family != 10) return ParseResult::not_ip;
      return parse_ip(c, off + 4, off + len);
    }
    off += (len + 3) & ~3u;
  }
  return ParseResult::not_ip;
}

// ARCNET: the protocol id at off; RFC 1201 ids (IP 0xd4, IPv6 0xc4) have a split flag and sequence number
// (and 4 more bytes in an exception packet, split flag 0xff); RFC 1051 IP (0xf0) has nothing more.
ParseResult parse_arcnet(Ctx& c, uint32_t off, uint32_t end) {
  if (c.caplen < off + 1) return ParseResult::truncated;
  uint8_t id = c.data[off];
  if (id == 0xf0) return parse_ip(c, off + 1, end);
  if (id != 0xd4 && id != 0xc4) return ParseResult::not_ip;
  if (c.caplen < off + 2) return ParseResult::truncated;
  uint32_t l3 = off + 4;
  if (c.data[off + 1] == 0xff) l3 += 4;
  return parse_ip(c, l3, end);
}

}  // namespace

const char* tunnel_type_name(TunnelType t) {
  switch (t) {
    case TunnelType::none: return "";
    case TunnelType::vxlan: return "vni";
    case TunnelType::geneve: return "geneve";
    case TunnelType::gre: return "gre";
    case TunnelType::erspan: return "erspan";
    case TunnelType::ipip: return "ipip";
    case TunnelType::pppoe: return "pppoe";
  }
  return "?";
}

std::string tunnel_label(const TunnelId& t) {
  if (t.type == 0) return "";
  std::string out = tunnel_type_name(static_cast<TunnelType>(t.type));
  out += "=";
  if (t.outer_version) {
    char a[INET6_ADDRSTRLEN], b[INET6_ADDRSTRLEN];
    int af = t.outer_version == 4 ? AF_INET : AF_INET6;
    inet_ntop(af, t.outer_a, a, sizeof a);
    inet_ntop(af, t.outer_b, b, sizeof b);
    out += std::string(a) + "-" + b;
  } else {
    out += std::to_string(t.id);
  }
  return out + "/";
}

ParseResult parse_packet(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
                         PacketView* v, const DecapConfig* decap) {
  static const DecapConfig kDefaults;
  if (wirelen < caplen) wirelen = caplen;
  v->ts_ns = ts_ns;
  v->caplen = caplen;
  v->wirelen = wirelen;
  v->ifindex = -1;
  std::memset(&v->tunnel, 0, sizeof v->tunnel);
  v->decap_layers = 0;
  if (data == nullptr) caplen = 0;
  Ctx c{data, caplen, decap ? decap : &kDefaults, v, 0, 0, nullptr, nullptr};
  const uint32_t end = wirelen;
  switch (linktype) {
    case LINK_EN10MB:
      if (caplen < 14) return ParseResult::truncated;
      return parse_ethertype(c, rd16(data + 12), 14, end);
    case LINK_LINUX_SLL:
      if (caplen < 16) return ParseResult::truncated;
      return parse_ethertype(c, rd16(data + 14), 16, end);
    case LINK_LINUX_SLL2:
      if (caplen < 20) return ParseResult::truncated;
      v->ifindex = static_cast<int32_t>(rd32(data + 4));
      // The protocol field comes first in SLL2; VLAN tags (if not stripped) follow the 20-byte header.
      return parse_ethertype(c, rd16(data), 20, end);
    case LINK_RAW_12:
    case LINK_RAW_14:
    case LINK_RAW:
      return parse_ip(c, 0, end);
    case LINK_IPV4:
      if (caplen == 0) return ParseResult::truncated;
      return parse_ipv4(c, 0, end);
    case LINK_IPV6:
      if (caplen == 0) return ParseResult::truncated;
      return parse_ipv6(c, 0, end);
    case LINK_NULL:
    case LINK_LOOP: {
      if (caplen < 4) return ParseResult::truncated;
      // The family is in the capturing host's byte order (NULL) or network order (LOOP, but not always):
      // accept either order, the small values cannot be confused.
      uint32_t be = rd32(data);
      uint32_t le = static_cast<uint32_t>(data[0]) | (static_cast<uint32_t>(data[1]) << 8) |
                    (static_cast<uint32_t>(data[2]) << 16) | (static_cast<uint32_t>(data[3]) << 24);
      int ver = family_to_ip_version(be);
      if (ver == 0) ver = family_to_ip_version(le);
      if (ver == 4) return parse_ipv4(c, 4, end);
      if (ver == 6) return parse_ipv6(c, 4, end);
      return ParseResult::not_ip;
    }
    case LINK_IPOIB:
      if (caplen < 44) return ParseResult::truncated;
      return parse_ethertype(c, rd16(data + 40), 44, end);
    case LINK_PPP:
    case LINK_PPP_HDLC: {
      if (caplen < 2) return ParseResult::truncated;
      uint32_t off = (data[0] == 0xff && data[1] == 0x03) ? 2 : 0;
      return parse_ppp_protocol(c, off, end);
    }
    case LINK_PPP_ETHER:
      return parse_pppoe(c, 0, end);
    case LINK_C_HDLC:
      if (caplen < 4) return ParseResult::truncated;
      return parse_ethertype(c, rd16(data + 2), 4, end);
    case LINK_MPLS:
      return parse_mpls(c, 0, end);
    case LINK_NFLOG:
      return parse_nflog(c, end);
    case LINK_ARCNET:
      return parse_arcnet(c, 2, end);
    case LINK_ARCNET_LINUX:
      return parse_arcnet(c, 4, end);
    default:
      return ParseResult::unsupported_link;
  }
}

const char* parse_result_name(ParseResult r) {
  switch (r) {
    case ParseResult::ok: return "ok";
    case ParseResult::not_ip: return "not_ip";
    case ParseResult::not_tcp: return "not_tcp";
    case ParseResult::fragment: return "fragment";
    case ParseResult::truncated: return "truncated";
    case ParseResult::malformed: return "malformed";
    case ParseResult::unsupported_link: return "unsupported_link";
    case ParseResult::unknown_encap: return "unknown_encap";
    case ParseResult::depth_limit: return "depth_limit";
  }
  return "?";
}

}  // namespace tcpcast
