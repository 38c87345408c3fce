// Link/IP/TCP parsing of one captured frame into a PacketView: pure C++, never reads past caplen (fuzzed).
#pragma once

#include <cstdint>

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

enum class ParseResult : uint8_t { ok, not_ip, not_tcp, fragment, truncated, malformed, unsupported_link };

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
ParseResult parse_packet(int linktype, const uint8_t* data, uint32_t caplen, uint32_t wirelen, int64_t ts_ns,
                         PacketView* view);

const char* parse_result_name(ParseResult r);

}  // namespace tcpcast
