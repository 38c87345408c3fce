// Integer, fixed-point and address formatting without printf for `tcpcast packets`; byte-identical to the JS formatter it replaces (tested against it).
#include "packet_tsv.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcpcast {

namespace {

char* put_u64(uint64_t v, char* out) {
  char tmp[20];
  int n = 0;
  do {
    tmp[n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) *out++ = tmp[--n];
  return out;
}

// ns as seconds with exactly 9 decimals (ns >= 0).
char* put_fixed9(int64_t ns, char* out) {
  uint64_t whole = uint64_t(ns / NS_PER_S), frac = uint64_t(ns % NS_PER_S);
  out = put_u64(whole, out);
  *out++ = '.';
  for (int i = 8; i >= 0; i--) {
    out[i] = char('0' + frac % 10);
    frac /= 10;
  }
  return out + 9;
}

char* put_hex16(unsigned g, char* out) {
  static const char digits[] = "0123456789abcdef";
  bool started = false;
  for (int shift = 12; shift >= 0; shift -= 4) {
    unsigned d = (g >> shift) & 0xf;
    if (d || started || shift == 0) {
      *out++ = digits[d];
      started = true;
    }
  }
  return out;
}

char* put_ipv4(const uint8_t* a, char* out) {
  for (int i = 0; i < 4; i++) {
    if (i) *out++ = '.';
    out = put_u64(a[i], out);
  }
  return out;
}

}  // namespace

char* format_ipv6(const uint8_t* a, char* out) {
  unsigned g[8];
  for (int i = 0; i < 8; i++) g[i] = (unsigned(a[2 * i]) << 8) | a[2 * i + 1];
  if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff) {
    std::memcpy(out, "::ffff:", 7);
    return put_ipv4(a + 12, out + 7);
  }
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i]) {
      i++;
      continue;
    }
    int j = i;
    while (j < 8 && !g[j]) j++;
    if (j - i > best_len && j - i >= 2) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  for (int i = 0; i < 8; i++) {
    if (i == best_start) {
      *out++ = ':';
      *out++ = ':';
      i += best_len - 1;
      continue;
    }
    if (i && i != best_start + best_len) *out++ = ':';
    out = put_hex16(g[i], out);
  }
  return out;
}

bool PacketTsvWriter::write(const PacketRecord& r) {
  if (errno_) return false;
  if (kBufferBytes - used_ < kMaxRowBytes && !flush()) return false;
  char* o = buffer_ + used_;
  o = put_u64(r.frame_number, o);
  *o++ = '\t';
  o = put_fixed9(r.ts_ns, o);
  *o++ = '\t';
  o = put_u64(r.stream, o);
  *o++ = '\t';
  o = r.ip_version == 4 ? put_ipv4(r.src, o) : format_ipv6(r.src, o);
  *o++ = '\t';
  o = put_u64(r.sport, o);
  *o++ = '\t';
  o = r.ip_version == 4 ? put_ipv4(r.dst, o) : format_ipv6(r.dst, o);
  *o++ = '\t';
  o = put_u64(r.dport, o);
  *o++ = '\t';
  o = put_u64(r.tcp_len, o);
  *o++ = '\t';
  if (r.ack_rtt_ns >= 0) o = put_fixed9(r.ack_rtt_ns, o);
  *o++ = '\t';
  if (r.bytes_in_flight >= 0) o = put_u64(uint64_t(r.bytes_in_flight), o);
  *o++ = '\n';
  used_ = size_t(o - buffer_);
  return true;
}

bool PacketTsvWriter::flush() {
  size_t done = 0;
  while (done < used_ && !errno_) {
    ssize_t n = ::write(fd_, buffer_ + done, used_ - done);
    if (n >= 0) {
      done += size_t(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p = {fd_, POLLOUT, 0};
      poll(&p, 1, -1);
    } else if (errno != EINTR) {
      errno_ = errno;
    }
  }
  used_ = 0;
  return !errno_;
}

std::string PacketTsvWriter::error() const {
  if (!errno_ || errno_ == EPIPE) return "";
  return std::string("writing packets: ") + strerror(errno_);
}

}  // namespace tcpcast
