// Plain structs shared by the parser, flow table, windows and the binding; times are integer nanoseconds until output.
#pragma once

#include <cstdint>

namespace tcpcast {

constexpr int64_t NS_PER_US = 1000;
constexpr int64_t NS_PER_MS = 1000 * NS_PER_US;
constexpr int64_t NS_PER_S = 1000 * NS_PER_MS;

// Per TCP packet, what `tcpcast packets` prints (mirrors tshark's fields). -1 means "tshark prints nothing".
struct PacketRecord {
  uint64_t frame_number;     // 1-based, counts every frame handed to the engine (as tshark's frame.number)
  int64_t ts_ns;
  uint32_t stream;           // tcp.stream: 0-based, in order of first appearance
  uint8_t ip_version;        // 4 or 6
  uint8_t src[16];           // IPv4 uses the first 4 bytes
  uint8_t dst[16];
  uint16_t sport;
  uint16_t dport;
  uint32_t tcp_len;          // tcp.len: payload bytes from the IP lengths, not caplen
  int64_t ack_rtt_ns;        // tcp.analysis.ack_rtt, or -1
  int64_t bytes_in_flight;   // tcp.analysis.bytes_in_flight, or -1
  int64_t ts_rtt_ns;         // RTT from TSval/TSecr (pping), or -1
  uint8_t retransmission;    // 1 when the segment is a retransmission
};

// One closed window of one series. Column order of the first nine is the model's feature order.
struct WindowRecord {
  uint32_t series;           // SeriesInfo.index
  int64_t window_end_ns;     // exclusive end; start = end - window_ns
  double size;               // TCP payload bytes, both directions
  double delay;              // mean ack RTT in ms; carried forward when the window has no sample
  double bif;                // bytes in flight at window end
  double iat_mean;           // packet inter-arrival time mean, ms
  double iat_std;            // packet inter-arrival time population std, ms
  double throughput_mbps;    // size * 8 / window seconds / 1e6
  double delay_gradient;     // delay - previous window's delay
  double bif_gradient;       // bif - previous window's bif
  double is_silent;          // 1 when no packet fell in the window
  double packets;
  double retransmits;
  double min_rtt;            // min ack RTT sample in the window, ms; 0 when none
};
constexpr int WINDOW_VALUE_COLUMNS = 12;  // size .. min_rtt, in the order above

// What was seen and what was skipped: first-class output, not debug noise.
struct Counters {
  uint64_t frames = 0;
  uint64_t tcp_packets = 0;
  uint64_t not_ip = 0;
  uint64_t not_tcp = 0;
  uint64_t fragments = 0;
  uint64_t truncated = 0;
  uint64_t malformed = 0;
  uint64_t unsupported_link = 0;
  uint64_t flows_created = 0;
  uint64_t flows_evicted_idle = 0;
  uint64_t flows_evicted_half_open = 0;  // never carried data: timed out early, or gave way when the table was full
  uint64_t flows_table_full = 0;     // packets of flows not tracked because the table was full
  uint64_t flows_active = 0;
  uint64_t retransmissions = 0;
  uint64_t ack_rtt_samples = 0;
  uint64_t ts_rtt_samples = 0;
  uint64_t windows_emitted = 0;
  uint64_t iface_series_full = 0;    // packets of interfaces beyond the per-interface series bound (no "all" series)
  uint64_t flows_port_reused = 0;    // connections replaced by a new one on the same 5-tuple (SYN with a new ISN)
};

}  // namespace tcpcast
