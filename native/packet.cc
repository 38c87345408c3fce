// Frame parser: link header -> VLAN tags -> IPv4/IPv6 (+ extension headers) -> TCP header and options.
//
// Lengths: the TCP payload length comes from the IP header (total length / payload length), never from
// caplen or the frame length, so snaplen-truncated packets and Ethernet frames padded to 60 bytes give
// the same tcp_len as tshark. An IP length that claims more bytes than the wire carried, or fewer
// than its own headers, is malformed. Every read is bounds-checked against caplen: a header that is cut
// by the snaplen makes the packet "truncated" (the TCP header including options must be present).
#include "packet.h"

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

// l3 = offset of the IP header; avail_wire = wire bytes from l3 on (bounds the IP length claims).
ParseResult parse_ipv4(const uint8_t* data, uint32_t caplen, uint32_t l3, uint32_t avail_wire, PacketView* v) {
  if (l3 > caplen || caplen - l3 < 20) return ParseResult::truncated;
  const uint8_t* ip = data + l3;
  if ((ip[0] >> 4) != 4) return ParseResult::malformed;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ihl < 20) return ParseResult::malformed;
  uint32_t total = rd16(ip + 2);
  if (total < ihl || total > avail_wire) return ParseResult::malformed;
  if (caplen - l3 < ihl) return ParseResult::truncated;
  if (ip[9] != IPPROTO_TCP_) return ParseResult::not_tcp;
  uint16_t frag = rd16(ip + 6);
  if ((frag & 0x2000) || (frag & 0x1fff)) return ParseResult::fragment;
  v->ip_version = 4;
  std::memset(v->src, 0, sizeof v->src);
  std::memset(v->dst, 0, sizeof v->dst);
  std::memcpy(v->src, ip + 12, 4);
  std::memcpy(v->dst, ip + 16, 4);
  return parse_tcp(data, caplen, l3 + ihl, total - ihl, v);
}

ParseResult parse_ipv6(const uint8_t* data, uint32_t caplen, uint32_t l3, uint32_t avail_wire, PacketView* v) {
  if (l3 > caplen || caplen - l3 < 40) return ParseResult::truncated;
  const uint8_t* ip = data + l3;
  if ((ip[0] >> 4) != 6) return ParseResult::malformed;
  uint32_t payload = rd16(ip + 4);
  // Jumbograms (payload length 0 + hop-by-hop option) are not supported: treated as malformed.
  if (payload == 0 || 40 + payload > avail_wire) return ParseResult::malformed;
  v->ip_version = 6;
  std::memcpy(v->src, ip + 8, 16);
  std::memcpy(v->dst, ip + 24, 16);
  uint8_t next = ip[6];
  uint32_t off = l3 + 40;       // start of the current extension header
  uint32_t remaining = payload; // IP payload bytes from off on
  bool fragment = false;
  for (int depth = 0; depth < 16; depth++) {
    switch (next) {
      case IPPROTO_TCP_:
        if (fragment) return ParseResult::fragment;
        return parse_tcp(data, caplen, off, remaining, v);
      case 0:    // hop-by-hop
      case 43:   // routing
      case 60:   // destination options
      case 44:   // fragment
      case 51: { // authentication header
        if (remaining < 8) return ParseResult::malformed;
        if (caplen < off || caplen - off < 8) return ParseResult::truncated;
        const uint8_t* h = data + off;
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
        // 59 (no next header), ESP (payload unreadable), UDP, ICMPv6, ...
        return fragment ? ParseResult::fragment : ParseResult::not_tcp;
    }
  }
  return ParseResult::malformed;  // absurd extension header chain
}

ParseResult parse_ip_by_version(const uint8_t* data, uint32_t caplen, uint32_t l3, uint32_t wirelen,
                                PacketView* v) {
  if (caplen <= l3) return ParseResult::truncated;
  int ver = data[l3] >> 4;
  if (ver == 4) return parse_ipv4(data, caplen, l3, wirelen - l3, v);
  if (ver == 6) return parse_ipv6(data, caplen, l3, wirelen - l3, v);
  return ParseResult::not_ip;
}

// Ethertype dispatch after any VLAN tags; off points at the 2-byte type field.
ParseResult parse_ethertype(const uint8_t* data, uint32_t caplen, uint32_t wirelen, uint32_t off, PacketView* v) {
  for (;;) {
    if (caplen < off + 2) return ParseResult::truncated;
    uint16_t type = rd16(data + off);
    if (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD) {
      off += 4;  // TCI + next type
      continue;
    }
    uint32_t l3 = off + 2;
    if (wirelen < l3) return ParseResult::truncated;
    if (type == ETH_IPV4) return parse_ipv4(data, caplen, l3, wirelen - l3, v);
    if (type == ETH_IPV6) return parse_ipv6(data, caplen, l3, wirelen - l3, v);
    return ParseResult::not_ip;
  }
}

}  // namespace

ParseResult parse_packet(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
                         PacketView* v) {
  if (wirelen < caplen) wirelen = caplen;
  v->ts_ns = ts_ns;
  v->caplen = caplen;
  v->wirelen = wirelen;
  v->ifindex = -1;
  if (data == nullptr) caplen = 0;
  switch (linktype) {
    case LINK_EN10MB:
      if (caplen < 14) return ParseResult::truncated;
      return parse_ethertype(data, caplen, wirelen, 12, v);
    case LINK_LINUX_SLL:
      if (caplen < 16) return ParseResult::truncated;
      return parse_ethertype(data, caplen, wirelen, 14, v);
    case LINK_LINUX_SLL2:
      if (caplen < 20) return ParseResult::truncated;
      v->ifindex = static_cast<int32_t>(rd32(data + 4));
      {
        // The protocol field comes first in SLL2; VLAN tags (if not stripped) follow the 20-byte header.
        uint16_t type = rd16(data);
        if (type == ETH_VLAN || type == ETH_QINQ || type == ETH_QINQ_OLD)
          return parse_ethertype(data, caplen, wirelen, 22, v);
        if (type == ETH_IPV4) return parse_ipv4(data, caplen, 20, wirelen - 20, v);
        if (type == ETH_IPV6) return parse_ipv6(data, caplen, 20, wirelen - 20, v);
        return ParseResult::not_ip;
      }
    case LINK_RAW_12:
    case LINK_RAW_14:
    case LINK_RAW:
      return parse_ip_by_version(data, caplen, 0, wirelen, v);
    case LINK_IPV4:
      if (caplen == 0) return ParseResult::truncated;
      return parse_ipv4(data, caplen, 0, wirelen, v);
    case LINK_IPV6:
      if (caplen == 0) return ParseResult::truncated;
      return parse_ipv6(data, caplen, 0, wirelen, v);
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
      if (ver == 4) return parse_ipv4(data, caplen, 4, wirelen - 4, v);
      if (ver == 6) return parse_ipv6(data, caplen, 4, wirelen - 4, v);
      return ParseResult::not_ip;
    }
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
  }
  return "?";
}

}  // namespace tcpcast
