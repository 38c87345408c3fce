// Plain structs shared by the parser, flow table, windows and the binding; times are integer nanoseconds until output.
#pragma once

#include <cstddef>
#include <cstdint>

#include "schema.h"

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

// One closed window of one series. The value fields come from TCPCAST_WINDOW_COLUMNS (schema.h), in its order,
// contiguous doubles (addon.cc copies them as one block).
struct WindowRecord {
  uint32_t series;           // SeriesInfo.index
  int64_t window_end_ns;     // exclusive end; start = end - window_ns
#define TCPCAST_X(name, unit, description) double name;
  TCPCAST_WINDOW_COLUMNS(TCPCAST_X)
#undef TCPCAST_X
};
#define TCPCAST_X(name, unit, description) +1
constexpr int WINDOW_VALUE_COLUMNS = 0 TCPCAST_WINDOW_COLUMNS(TCPCAST_X);
#undef TCPCAST_X
// The values start right after window_end_ns and have no padding between them: one block of doubles.
constexpr size_t WINDOW_VALUES_OFFSET = offsetof(WindowRecord, window_end_ns) + sizeof(int64_t);
static_assert(sizeof(WindowRecord) == WINDOW_VALUES_OFFSET + WINDOW_VALUE_COLUMNS * sizeof(double),
              "WindowRecord values must be one contiguous block of doubles");
inline const double* window_values(const WindowRecord& w) {
  return reinterpret_cast<const double*>(reinterpret_cast<const char*>(&w) + WINDOW_VALUES_OFFSET);
}

// What was seen and what was skipped: first-class output, not debug noise (pping's rule). Fields from
// TCPCAST_COUNTERS (schema.h).
struct Counters {
#define TCPCAST_X(name, description) uint64_t name = 0;
  TCPCAST_COUNTERS(TCPCAST_X)
#undef TCPCAST_X
};
#define TCPCAST_X(name, description) +1
constexpr int COUNTER_COUNT = 0 TCPCAST_COUNTERS(TCPCAST_X);
#undef TCPCAST_X

// Why a series ended (TCPCAST_SERIES_END_REASONS in schema.h).
enum class SeriesEndReason : uint8_t {
#define TCPCAST_X(name, description) name,
  TCPCAST_SERIES_END_REASONS(TCPCAST_X)
#undef TCPCAST_X
};

// A series that ended: its last window was emitted before, it emits no more, and its index is never reused.
struct SeriesEnd {
  uint32_t index;            // SeriesInfo.index
  SeriesEndReason reason;
};

}  // namespace tcpcast
