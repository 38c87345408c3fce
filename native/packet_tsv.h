// `tcpcast packets` rows formatted in C++ straight into a file descriptor: the same bytes as src/capture/packet-tsv.ts (tshark's -T fields layout), constant memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "types.h"

namespace tcpcast {

// Appends RFC 5952 text of a 16-byte IPv6 address (lowercase hex, no leading zeros, the first longest run of
// two or more zero groups as "::", IPv4-mapped as ::ffff:a.b.c.d); returns the end of what was written.
char* format_ipv6(const uint8_t* a, char* out);

// One row per PacketRecord: frame.number, frame.time_epoch (9 decimals), tcp.stream, ip.src, tcp.srcport, ip.dst,
// tcp.dstport, tcp.len, tcp.analysis.ack_rtt (9 decimals, empty when -1), tcp.analysis.bytes_in_flight (empty when
// -1), tab-separated, "\n"-terminated. Buffered; a non-blocking descriptor (Node's stdout pipe) is waited on with
// poll(), which is fine on a capture thread.
class PacketTsvWriter {
 public:
  explicit PacketTsvWriter(int fd) : fd_(fd) {}
  PacketTsvWriter(const PacketTsvWriter&) = delete;
  PacketTsvWriter& operator=(const PacketTsvWriter&) = delete;

  // False once a write failed (the reader went away: EPIPE, or another error in error()).
  bool write(const PacketRecord& r);
  bool flush();
  bool failed() const { return errno_ != 0; }
  // Empty when nothing failed or the reader closed the pipe (as `tcpcast packets | head` should end quietly).
  std::string error() const;

 private:
  static constexpr size_t kBufferBytes = 256 * 1024;
  static constexpr size_t kMaxRowBytes = 256;
  int fd_;
  int errno_ = 0;
  size_t used_ = 0;
  char buffer_[kBufferBytes];
};

}  // namespace tcpcast
