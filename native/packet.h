// Link/tunnel/IP/TCP parsing of one captured frame into a PacketView: pure C++, never reads past caplen (fuzzed).
#pragma once

#include <cstdint>
#include <string>

namespace tcpcast {

// Link types as pcap_datalink() / pcap file headers report them (DLT_* and LINKTYPE_* values).
constexpr int LINK_NULL = 0;          // BSD loopback: 4-byte address family in host byte order
constexpr int LINK_EN10MB = 1;        // Ethernet
constexpr int LINK_RAW_12 = 12;       // DLT_RAW on most platforms
constexpr int LINK_RAW_14 = 14;       // DLT_RAW on OpenBSD
constexpr int LINK_RAW = 101;         // LINKTYPE_RAW in files
constexpr int LINK_LOOP = 108;        // OpenBSD loopback: address family in network byte order
constexpr int LINK_LINUX_SLL = 113;   // Linux cooked v1
constexpr int LINK_IPV4 = 228;
constexpr int LINK_IPV6 = 229;
constexpr int LINK_LINUX_SLL2 = 276;  // Linux cooked v2 (`-i any` on libpcap >= 1.10): carries the ifindex
constexpr int LINK_ARCNET = 7;        // ARCNET (BSD): src, dst, protocol id
constexpr int LINK_PPP = 9;           // PPP, optional ff03 address/control, then the PPP protocol
constexpr int LINK_PPP_HDLC = 50;     // PPP in HDLC-like framing (DLT_PPP_SERIAL)
constexpr int LINK_PPP_ETHER = 51;    // PPPoE session header without the Ethernet header
constexpr int LINK_C_HDLC = 104;      // Cisco HDLC: address, control, Ethertype
constexpr int LINK_ARCNET_LINUX = 129;
constexpr int LINK_MPLS = 219;        // a bare MPLS label stack
constexpr int LINK_NFLOG = 239;       // Linux NFLOG: family + TLVs, the packet in NFULA_PAYLOAD
constexpr int LINK_IPOIB = 242;       // IP over InfiniBand (RFC 4391): 40-byte GRH, then type + reserved

// Why a frame was not a TCP packet we analysed. unknown_encap and depth_limit are tunnels we recognised but
// did not follow (a GRE/Geneve protocol or MPLS payload we do not decode; more nested layers than the limit).
enum class ParseResult : uint8_t {
  ok, not_ip, not_tcp, fragment, truncated, malformed, unsupported_link, unknown_encap, depth_limit
};

// Decapsulation settings (from the capture options); the defaults are what `run` and `packets` use.
constexpr int MAX_VXLAN_PORTS = 8;
// Tunnel layers (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP, MPLS stack, PPPoE) followed before giving up (counted).
constexpr int MAX_DECAP_DEPTH = 4;
struct DecapConfig {
  bool enabled = true;                                      // false: today's behaviour, tunnels are "not TCP"
  uint8_t vxlan_port_count = 2;
  uint16_t vxlan_ports[MAX_VXLAN_PORTS] = {4789, 8472};     // IANA, and the Linux kernel's default
  uint16_t geneve_port = 6081;
};

// Which tunnel the TCP connection was found in: part of the flow key, so two tenants with the same inner
// 4-tuple are two connections. Keyed tunnels (VXLAN/Geneve VNI, GRE key, ERSPAN session, PPPoE session) are
// identified by type + id alone (a tenant's connection stays one flow whichever VTEPs carry it); unkeyed
// ones (IP-in-IP, GRE without key) by the outer address pair, in canonical order (both directions agree).
// Nested tunnels: the innermost layer with an identity wins. MPLS labels are per hop and per direction, so
// an MPLS stack adds no identity.
enum class TunnelType : uint8_t { none = 0, vxlan, geneve, gre, erspan, ipip, pppoe };
struct TunnelId {
  uint8_t type;          // TunnelType
  uint8_t outer_version; // 4 or 6 for unkeyed tunnels, else 0
  uint32_t id;           // VNI / key / session id; 0 for unkeyed tunnels
  uint8_t outer_a[16];   // unkeyed tunnels: the smaller outer address, else zero
  uint8_t outer_b[16];
};
const char* tunnel_type_name(TunnelType t);
// The series-key prefix naming a tunnel: "" (none), "vni=42/", "gre=7/", "ipip=192.0.2.1-192.0.2.2/"...
std::string tunnel_label(const TunnelId& t);

constexpr uint16_t TCP_FIN = 0x01;
constexpr uint16_t TCP_SYN = 0x02;
constexpr uint16_t TCP_RST = 0x04;
constexpr uint16_t TCP_PSH = 0x08;
constexpr uint16_t TCP_ACK = 0x10;

constexpr int MAX_SACK_BLOCKS = 4;  // 40 option bytes hold at most four (RFC 2018)

// Everything the flow table needs from one TCP segment; addresses are raw network-order bytes.
struct PacketView {
  int64_t ts_ns;
  uint32_t caplen;
  uint32_t wirelen;
  int32_t ifindex;           // from SLL2, else -1
  TunnelId tunnel;           // all zero when the TCP packet was not inside a tunnel
  uint8_t decap_layers;      // tunnel layers removed to reach the TCP packet (0: none)
  uint8_t ip_version;        // 4 or 6
  uint8_t src[16];           // IPv4 uses the first 4 bytes, the rest are zero
  uint8_t dst[16];
  uint16_t sport;
  uint16_t dport;
  uint32_t seq;
  uint32_t ack;
  uint16_t flags;            // TCP flag bits (low 9 bits of the offset/flags word)
  uint16_t window;           // raw, unscaled
  uint8_t tcp_hlen;          // bytes, including options
  uint32_t tcp_len;          // payload bytes from the IP length (not caplen)
  // Options; absent ones are marked by has_ts / sack_count 0 / mss 0 / wscale -1.
  bool has_ts;
  bool options_malformed;    // option walk stopped early (the fixed fields are still valid)
  uint32_t tsval;
  uint32_t tsecr;
  uint8_t sack_count;
  uint32_t sack_left[MAX_SACK_BLOCKS];
  uint32_t sack_right[MAX_SACK_BLOCKS];
  uint16_t mss;
  int8_t wscale;
};

// Parses one frame. On ok, *view is complete; on any other result its contents are unspecified.
// caplen bytes of data are readable; wirelen is the original length (a wirelen below caplen is raised to caplen).
// decap == nullptr means the defaults (DecapConfig{}).
ParseResult parse_packet(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
                         PacketView* view, const DecapConfig* decap = nullptr);

const char* parse_result_name(ParseResult r);

}  // namespace tcpcast
