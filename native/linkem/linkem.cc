// tcpcast-linkem: a mahimahi-compatible, trace-driven link emulator that forwards Ethernet frames between two interfaces with AF_PACKET.
//
// Design
// ------
// The lab puts this program in its own network namespace between two veths: side A faces the sender, side B the
// receiver. Frames A->B cross the "down" link, frames B->A the "up" link. Each link is
//
//   droptail queue  ->  trace-driven server  ->  fixed propagation delay  ->  out of the other interface
//
// Trace semantics follow mahimahi's LinkQueue (mm-link): each line of a trace is a millisecond timestamp, one
// delivery opportunity of OPPORTUNITY_BYTES; repeated timestamps are several opportunities in that millisecond;
// the trace loops at its end (the loop period is the last timestamp). An opportunity is spent whether or not a
// packet is waiting (capacity unused is lost), a packet may only use opportunities at or after its arrival,
// bytes left over in an opportunity go to the next queued packet, and a packet larger than what is left keeps its
// remaining bytes for the next opportunity. mahimahi counts IP packets (its TUN device carries no link header),
// so we count each frame's bytes after the 14-byte Ethernet header: an MTU-sized frame needs exactly one
// opportunity, as the traces intend. A direction without a trace is unconstrained (only the delay applies).
//
// Time
// ----
// One thread, CLOCK_MONOTONIC nanoseconds. The loop emulates the links up to "now" (burning opportunities,
// moving departed packets into the delay line), sends what is due, then sleeps in ppoll() until the next frame
// arrives or the next event (a due delay-line packet or an opportunity while packets wait) — hrtimer precision,
// no busy polling by default, because the lab shares two cores with the TCP endpoints. --spin-us trades a core
// for less lateness. Under normal scheduling, wakeups on this machine run ~25 ms late, so the lab runs us under
// SCHED_FIFO (chrt -f 50); we also lock memory so a page fault never delays a frame.
//
// What is measured
// ----------------
// Per direction: frames arrived/delivered/dropped (packets and bytes), opportunities offered and unused,
// queueing delay (departure from the link minus arrival, mahimahi's "delay" in its log) and lateness (when a
// frame actually left minus when the schedule said it should: departure + propagation delay). Lateness is the
// emulator's own error; it is reported so every dataset says how faithful its link was. Socket-level drops
// (PACKET_STATISTICS) are reported too: a frame the kernel dropped before we saw it never reached the link.
// Statistics are JSON, written to --stats FILE (and stdout) on exit, and on SIGUSR1.
//
// Optional --log-down FILE writes mahimahi's mm-link log for the down link ("ms + bytes" arrival, "ms d bytes"
// droptail drop of that arrival, "ms # bytes" opportunity, "ms - bytes delay_ms" departure; ms since start), so
// mm-throughput-graph-style analyses work unchanged and the queue's occupancy can be rebuilt from the log.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <string>
#include <vector>

namespace {

constexpr int64_t NS_PER_US = 1000;
constexpr int64_t NS_PER_MS = 1000 * NS_PER_US;
constexpr int64_t NS_PER_S = 1000 * NS_PER_MS;
constexpr int64_t OPPORTUNITY_BYTES = 1500;
constexpr int ETHERNET_HEADER_BYTES = 14;
constexpr size_t MAX_FRAME_BYTES = 65536;
// Frames read per socket per loop turn: bounds how long a burst can hold off a due departure.
constexpr int MAX_READS_PER_TURN = 64;

volatile sig_atomic_t g_stop = 0;
volatile sig_atomic_t g_dump = 0;

void on_stop(int) { g_stop = 1; }
void on_dump(int) { g_dump = 1; }

int64_t now_ns(clockid_t clock = CLOCK_MONOTONIC) {
  timespec ts;
  clock_gettime(clock, &ts);
  return int64_t(ts.tv_sec) * NS_PER_S + ts.tv_nsec;
}

[[noreturn]] void die(const std::string &msg) {
  fprintf(stderr, "tcpcast-linkem: %s\n", msg.c_str());
  exit(2);
}

// Log-linear histogram of non-negative microsecond values (~1.6% relative error, 0..2^40 us): percentiles for
// runs of any length in constant memory.
class Histogram {
 public:
  static constexpr int SUB_BITS = 6;
  static constexpr int SUB = 1 << SUB_BITS;
  Histogram() : counts_(SUB * 2 + 40 * SUB, 0) {}
  void add(int64_t value_us) {
    if (value_us < 0) value_us = 0;
    counts_[index(uint64_t(value_us))]++;
    total_++;
    max_us_ = std::max(max_us_, value_us);
  }
  uint64_t total() const { return total_; }
  int64_t max_us() const { return max_us_; }
  double percentile_us(double p) const {
    if (total_ == 0) return 0;
    uint64_t rank = uint64_t(std::ceil(p / 100.0 * double(total_)));
    if (rank == 0) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); i++) {
      seen += counts_[i];
      if (seen >= rank) return std::min(double(max_us_), value_of(i));
    }
    return double(max_us_);
  }

 private:
  static size_t index(uint64_t v) {
    if (v < uint64_t(2 * SUB)) return size_t(v);
    int exponent = 63 - __builtin_clzll(v) - SUB_BITS;  // v >> exponent lies in [SUB, 2*SUB)
    uint64_t sub = (v >> exponent) - SUB;
    return size_t(2 * SUB + (exponent - 1) * SUB + int(sub));
  }
  // The upper edge of bucket i, so percentiles never understate.
  static double value_of(size_t i) {
    if (i < size_t(2 * SUB)) return double(i);
    size_t k = i - 2 * SUB;
    int exponent = int(k / SUB) + 1;
    uint64_t sub = k % SUB + SUB;
    return double(((sub + 1) << exponent) - 1);
  }
  std::vector<uint64_t> counts_;
  uint64_t total_ = 0;
  int64_t max_us_ = 0;
};

struct Frame {
  std::vector<uint8_t> bytes;
  int64_t arrival_ns = 0;
  int64_t link_bytes_left = 0;  // bytes still to be served by opportunities
  int64_t departure_ns = 0;     // when the link finished serving it
  int64_t send_at_ns = 0;       // departure + propagation delay
};

struct Trace {
  std::string path;
  std::vector<int64_t> ms;  // nondecreasing; ms.back() is the loop period
};

Trace load_trace(const std::string &path) {
  Trace trace;
  trace.path = path;
  FILE *f = fopen(path.c_str(), "r");
  if (!f) die(path + ": " + strerror(errno));
  char line[128];
  while (fgets(line, sizeof line, f)) {
    char *end = nullptr;
    long long v = strtoll(line, &end, 10);
    if (end == line) {
      if (line[0] == '\n' || line[0] == '\r') die(path + ": invalid empty line");
      die(path + ": not a number: " + line);
    }
    if (v < 0) die(path + ": negative timestamp");
    if (!trace.ms.empty() && v < trace.ms.back()) die(path + ": timestamps must be nondecreasing");
    trace.ms.push_back(v);
  }
  fclose(f);
  if (trace.ms.empty()) die(path + ": no timestamps");
  if (trace.ms.back() == 0) die(path + ": trace must last a nonzero time");
  return trace;
}

struct DirectionStats {
  uint64_t arrived_packets = 0, arrived_bytes = 0;
  uint64_t delivered_packets = 0, delivered_bytes = 0;
  uint64_t dropped_packets = 0, dropped_bytes = 0;
  uint64_t opportunities = 0, unused_opportunities = 0;
  uint64_t send_errors = 0;
  Histogram queue_delay_us;
  Histogram lateness_us;
};

class Link {
 public:
  Link(const char *name, const Trace *trace, int64_t delay_ns, int64_t queue_packets, int64_t queue_bytes,
       int64_t start_ns, int64_t offset_ms, FILE *log)
      : name_(name), trace_(trace), delay_ns_(delay_ns), queue_packets_(queue_packets), queue_bytes_(queue_bytes),
        log_(log), start_ns_(start_ns) {
    if (trace_) {
      int64_t period_ms = trace_->ms.back();
      int64_t offset = offset_ms % period_ms;
      // Start mid-trace: the first opportunity at or after the offset, with time zero of the trace shifted back.
      next_ = size_t(std::lower_bound(trace_->ms.begin(), trace_->ms.end(), offset) - trace_->ms.begin());
      base_ns_ = start_ns - offset * NS_PER_MS;
      if (next_ == trace_->ms.size()) {
        next_ = 0;
        base_ns_ += period_ms * NS_PER_MS;
      }
    }
    if (log_) fprintf(log_, "# tcpcast-linkem %s link [%s] base timestamp (monotonic ns): %lld\n", name_,
                      trace_ ? trace_->path.c_str() : "unconstrained", (long long)start_ns_);
  }

  const char *name() const { return name_; }
  const Trace *trace() const { return trace_; }
  DirectionStats &stats() { return stats_; }

  void arrive(const uint8_t *data, size_t len, int64_t now) {
    rationalize(now);
    int64_t ip_bytes = int64_t(len) > ETHERNET_HEADER_BYTES ? int64_t(len) - ETHERNET_HEADER_BYTES : int64_t(len);
    stats_.arrived_packets++;
    stats_.arrived_bytes += uint64_t(ip_bytes);
    log_line(now, '+', ip_bytes, -1);
    bool full = (queue_packets_ > 0 && int64_t(queue_.size()) >= queue_packets_) ||
                (queue_bytes_ > 0 && queued_bytes_ + ip_bytes > queue_bytes_);
    if (full) {
      log_line(now, 'd', ip_bytes, -1);
      stats_.dropped_packets++;
      stats_.dropped_bytes += uint64_t(ip_bytes);
      return;
    }
    Frame f;
    f.bytes.assign(data, data + len);
    f.arrival_ns = now;
    f.link_bytes_left = ip_bytes;
    if (!trace_) {
      f.departure_ns = now;
      f.send_at_ns = now + delay_ns_;
      stats_.queue_delay_us.add(0);
      in_flight_.push_back(std::move(f));
      return;
    }
    queued_bytes_ += ip_bytes;
    queue_.push_back(std::move(f));
  }

  // Serves every opportunity up to now (mahimahi's rationalize): departed frames enter the delay line.
  void rationalize(int64_t now) {
    if (!trace_) return;
    while (next_opportunity_ns() <= now) {
      const int64_t t = next_opportunity_ns();
      use_opportunity();
      stats_.opportunities++;
      log_line(t, '#', OPPORTUNITY_BYTES, -1);
      int64_t left = OPPORTUNITY_BYTES;
      bool used = false;
      while (left > 0 && !queue_.empty() && queue_.front().arrival_ns <= t) {
        Frame &f = queue_.front();
        used = true;
        int64_t served = std::min(left, f.link_bytes_left);
        f.link_bytes_left -= served;
        left -= served;
        if (f.link_bytes_left > 0) break;  // a partly served frame keeps its place for the next opportunity
        int64_t ip_bytes = int64_t(f.bytes.size()) - ETHERNET_HEADER_BYTES;
        queued_bytes_ -= ip_bytes;
        f.departure_ns = t;
        f.send_at_ns = t + delay_ns_;
        stats_.queue_delay_us.add((t - f.arrival_ns) / NS_PER_US);
        log_line(t, '-', ip_bytes, (t - f.arrival_ns) / NS_PER_MS);
        in_flight_.push_back(std::move(f));
        queue_.pop_front();
      }
      if (!used) stats_.unused_opportunities++;
    }
  }

  // Sends every frame whose time has come; returns the earliest future event, or INT64_MAX.
  template <typename Send>
  int64_t flush(int64_t now, Send &&send) {
    while (!in_flight_.empty() && in_flight_.front().send_at_ns <= now) {
      Frame &f = in_flight_.front();
      int64_t sent_ns = now_ns();
      if (send(f.bytes.data(), f.bytes.size())) {
        stats_.delivered_packets++;
        stats_.delivered_bytes += f.bytes.size() - ETHERNET_HEADER_BYTES;
        stats_.lateness_us.add((sent_ns - f.send_at_ns) / NS_PER_US);
      } else {
        stats_.send_errors++;
      }
      in_flight_.pop_front();
    }
    int64_t next = INT64_MAX;
    if (!in_flight_.empty()) next = in_flight_.front().send_at_ns;
    if (trace_ && !queue_.empty()) next = std::min(next, next_opportunity_ns());
    return next;
  }

  size_t queued_packets() const { return queue_.size(); }

 private:
  int64_t next_opportunity_ns() const { return base_ns_ + trace_->ms[next_] * NS_PER_MS; }
  void use_opportunity() {
    next_++;
    if (next_ == trace_->ms.size()) {
      next_ = 0;
      base_ns_ += trace_->ms.back() * NS_PER_MS;
    }
  }
  void log_line(int64_t t, char kind, int64_t bytes, int64_t delay_ms) {
    if (!log_) return;
    long long ms = (long long)((t - start_ns_) / NS_PER_MS);
    if (delay_ms >= 0)
      fprintf(log_, "%lld %c %lld %lld\n", ms, kind, (long long)bytes, (long long)delay_ms);
    else
      fprintf(log_, "%lld %c %lld\n", ms, kind, (long long)bytes);
  }

  const char *name_;
  const Trace *trace_;
  int64_t delay_ns_;
  int64_t queue_packets_, queue_bytes_;
  FILE *log_;
  int64_t start_ns_;
  int64_t base_ns_ = 0;
  size_t next_ = 0;
  int64_t queued_bytes_ = 0;
  std::deque<Frame> queue_;      // waiting for the link
  std::deque<Frame> in_flight_;  // served, waiting out the propagation delay (FIFO: constant delay)
  DirectionStats stats_;
};

int open_packet_socket(const std::string &ifname) {
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
  if (fd < 0) die(std::string("socket(AF_PACKET): ") + strerror(errno) + " (run as root)");
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0) die(ifname + ": no such interface");
  sockaddr_ll addr{};
  addr.sll_family = AF_PACKET;
  addr.sll_protocol = htons(ETH_P_ALL);
  addr.sll_ifindex = int(ifindex);
  if (bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) < 0) die(ifname + ": bind: " + strerror(errno));
  int one = 1;
  // Our own transmissions on this interface must not come back to us as input.
  if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0)
    die(ifname + ": PACKET_IGNORE_OUTGOING: " + strerror(errno));
  // The qdisc would add its own queue (and its own drops) behind ours.
  if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) < 0)
    die(ifname + ": PACKET_QDISC_BYPASS: " + strerror(errno));
  // Frames are addressed to the far endpoint's MAC, not ours: we are a wire, so take everything.
  packet_mreq mreq{};
  mreq.mr_ifindex = int(ifindex);
  mreq.mr_type = PACKET_MR_PROMISC;
  if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0)
    die(ifname + ": promiscuous mode: " + strerror(errno));
  // A burst at line rate must fit while we are busy with the other side.
  int rcvbuf = 16 << 20;
  setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  int sndbuf = 4 << 20;
  setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf);
  return fd;
}

// Kernel-side drops on a packet socket (the counters reset on each read, so we accumulate).
uint64_t socket_drops(int fd) {
  tpacket_stats st{};
  socklen_t len = sizeof st;
  if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0) return 0;
  return st.tp_drops;
}

void json_histogram(std::string &out, const char *name, const Histogram &h) {
  char buf[512];
  snprintf(buf, sizeof buf,
           "\"%s\":{\"count\":%llu,\"p50\":%.0f,\"p90\":%.0f,\"p99\":%.0f,\"p999\":%.0f,\"max\":%lld}", name,
           (unsigned long long)h.total(), h.percentile_us(50), h.percentile_us(90), h.percentile_us(99),
           h.percentile_us(99.9), (long long)h.max_us());
  out += buf;
}

std::string json_escape(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (uint8_t(c) < 0x20) continue;
    out += c;
  }
  return out;
}

std::string stats_json(Link *links[2], int64_t start_ns, int64_t start_realtime_ns, uint64_t drops[2],
                       bool realtime, int64_t delay_ms) {
  std::string out = "{";
  char buf[512];
  snprintf(buf, sizeof buf,
           "\"elapsed_s\":%.3f,\"start_realtime_ns\":%lld,\"delay_ms\":%lld,\"realtime_priority\":%s,"
           "\"opportunity_bytes\":%lld,",
           double(now_ns() - start_ns) / NS_PER_S, (long long)start_realtime_ns, (long long)delay_ms,
           realtime ? "true" : "false", (long long)OPPORTUNITY_BYTES);
  out += buf;
  for (int i = 0; i < 2; i++) {
    Link &l = *links[i];
    DirectionStats &s = l.stats();
    snprintf(buf, sizeof buf,
             "\"%s\":{\"trace\":%s%s%s,\"arrived_packets\":%llu,\"arrived_bytes\":%llu,\"delivered_packets\":%llu,"
             "\"delivered_bytes\":%llu,\"dropped_packets\":%llu,\"dropped_bytes\":%llu,\"opportunities\":%llu,"
             "\"unused_opportunities\":%llu,\"send_errors\":%llu,\"socket_drops\":%llu,\"queued_packets\":%zu,",
             l.name(), l.trace() ? "\"" : "", l.trace() ? json_escape(l.trace()->path).c_str() : "null",
             l.trace() ? "\"" : "", (unsigned long long)s.arrived_packets, (unsigned long long)s.arrived_bytes,
             (unsigned long long)s.delivered_packets, (unsigned long long)s.delivered_bytes,
             (unsigned long long)s.dropped_packets, (unsigned long long)s.dropped_bytes,
             (unsigned long long)s.opportunities, (unsigned long long)s.unused_opportunities,
             (unsigned long long)s.send_errors, (unsigned long long)drops[i], l.queued_packets());
    out += buf;
    json_histogram(out, "queue_delay_us", s.queue_delay_us);
    out += ",";
    json_histogram(out, "lateness_us", s.lateness_us);
    out += i == 0 ? "}," : "}";
  }
  out += "}\n";
  return out;
}

void write_stats(const std::string &path, const std::string &json) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  FILE *f = fopen(tmp.c_str(), "w");
  if (!f) {
    fprintf(stderr, "tcpcast-linkem: %s: %s\n", tmp.c_str(), strerror(errno));
    return;
  }
  fputs(json.c_str(), f);
  fclose(f);
  rename(tmp.c_str(), path.c_str());
}

void usage() {
  fputs(
      "usage: tcpcast-linkem --if-a IF --if-b IF [--down TRACE] [--up TRACE] [--delay-ms MS]\n"
      "                      [--queue-packets N | --queue-bytes N] [--trace-offset-ms MS] [--stats FILE]\n"
      "                      [--log-down FILE] [--duration-s S] [--spin-us US]\n"
      "Forwards frames A->B through the down link and B->A through the up link (mahimahi trace semantics).\n"
      "A direction without a trace is unconstrained. Queue limits apply to each direction; 0 = unlimited.\n"
      "Prints {\"ready\":true} on stdout once both sockets are open; statistics JSON on exit and on SIGUSR1.\n",
      stderr);
}

}  // namespace

int main(int argc, char **argv) {
  std::string if_a, if_b, down_path, up_path, stats_path, log_path;
  int64_t delay_ms = 0, queue_packets = 0, queue_bytes = 0, offset_ms = 0, spin_us = 0;
  double duration_s = 0;
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die(arg + " needs a value");
      return argv[++i];
    };
    auto integer = [&]() -> int64_t {
      std::string v = value();
      char *end = nullptr;
      long long n = strtoll(v.c_str(), &end, 10);
      if (*end || n < 0) die(arg + ": not a non-negative integer: " + v);
      return n;
    };
    if (arg == "--if-a") if_a = value();
    else if (arg == "--if-b") if_b = value();
    else if (arg == "--down") down_path = value();
    else if (arg == "--up") up_path = value();
    else if (arg == "--delay-ms") delay_ms = integer();
    else if (arg == "--queue-packets") queue_packets = integer();
    else if (arg == "--queue-bytes") queue_bytes = integer();
    else if (arg == "--trace-offset-ms") offset_ms = integer();
    else if (arg == "--stats") stats_path = value();
    else if (arg == "--log-down") log_path = value();
    else if (arg == "--duration-s") duration_s = atof(value().c_str());
    else if (arg == "--spin-us") spin_us = integer();
    else if (arg == "-h" || arg == "--help") { usage(); return 0; }
    else { usage(); die("unknown argument " + arg); }
  }
  if (if_a.empty() || if_b.empty()) { usage(); die("--if-a and --if-b are required"); }

  Trace down_trace, up_trace;
  if (!down_path.empty()) down_trace = load_trace(down_path);
  if (!up_path.empty()) up_trace = load_trace(up_path);

  FILE *log = nullptr;
  if (!log_path.empty()) {
    log = fopen(log_path.c_str(), "w");
    if (!log) die(log_path + ": " + strerror(errno));
    setvbuf(log, nullptr, _IOFBF, 1 << 20);
  }

  int fd_a = open_packet_socket(if_a);
  int fd_b = open_packet_socket(if_b);

  bool realtime = sched_getscheduler(0) == SCHED_FIFO || sched_getscheduler(0) == SCHED_RR;
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  mlockall(MCL_CURRENT | MCL_FUTURE);

  // Signals are blocked except inside ppoll, so a signal can never fall between a check and a sleep.
  sigset_t blocked, wait_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  sigaddset(&blocked, SIGUSR1);
  sigprocmask(SIG_BLOCK, &blocked, &wait_mask);
  sigdelset(&wait_mask, SIGINT);
  sigdelset(&wait_mask, SIGTERM);
  sigdelset(&wait_mask, SIGUSR1);
  struct sigaction sa{};
  sa.sa_handler = on_stop;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sa.sa_handler = on_dump;
  sigaction(SIGUSR1, &sa, nullptr);

  const int64_t start_ns = now_ns();
  const int64_t start_realtime_ns = now_ns(CLOCK_REALTIME);
  const int64_t delay_ns = delay_ms * NS_PER_MS;
  Link down("down", down_path.empty() ? nullptr : &down_trace, delay_ns, queue_packets, queue_bytes, start_ns,
            offset_ms, log);
  Link up("up", up_path.empty() ? nullptr : &up_trace, delay_ns, queue_packets, queue_bytes, start_ns, offset_ms,
          nullptr);
  Link *links[2] = {&down, &up};
  int fds_in[2] = {fd_a, fd_b};   // down arrives on A, up on B
  int fds_out[2] = {fd_b, fd_a};  // down leaves on B, up on A
  uint64_t drops[2] = {0, 0};
  const int64_t end_ns = duration_s > 0 ? start_ns + int64_t(duration_s * NS_PER_S) : INT64_MAX;

  printf("{\"ready\":true,\"pid\":%d}\n", getpid());
  fflush(stdout);

  std::vector<uint8_t> buf(MAX_FRAME_BYTES);
  pollfd pfds[2] = {{fd_a, POLLIN, 0}, {fd_b, POLLIN, 0}};
  while (!g_stop) {
    int64_t now = now_ns();
    if (now >= end_ns) break;
    for (int d = 0; d < 2; d++) {
      for (int n = 0; n < MAX_READS_PER_TURN; n++) {
        sockaddr_ll from{};
        socklen_t fromlen = sizeof from;
        ssize_t len = recvfrom(fds_in[d], buf.data(), buf.size(), MSG_TRUNC, reinterpret_cast<sockaddr *>(&from),
                               &fromlen);
        if (len < 0) break;
        if (from.sll_pkttype == PACKET_OUTGOING) continue;  // belt and braces with PACKET_IGNORE_OUTGOING
        if (size_t(len) > buf.size()) continue;              // an offloaded super-frame: offloads must be off
        links[d]->arrive(buf.data(), size_t(len), now_ns());
      }
    }
    int64_t next = end_ns;
    for (int d = 0; d < 2; d++) {
      now = now_ns();
      links[d]->rationalize(now);
      int fd = fds_out[d];
      next = std::min(next, links[d]->flush(now, [fd](const uint8_t *data, size_t len) {
        return send(fd, data, len, 0) == ssize_t(len);
      }));
    }
    if (g_dump) {
      g_dump = 0;
      for (int d = 0; d < 2; d++) drops[d] += socket_drops(fds_in[d]);
      std::string json = stats_json(links, start_ns, start_realtime_ns, drops, realtime, delay_ms);
      write_stats(stats_path, json);
      fputs(json.c_str(), stdout);
      fflush(stdout);
    }
    now = now_ns();
    if (next <= now) continue;
    if (spin_us > 0 && next - now <= spin_us * NS_PER_US) {
      // Close to an event: spin (checking the sockets) rather than trust a timer wakeup.
      pfds[0].revents = pfds[1].revents = 0;
      timespec zero{0, 0};
      ppoll(pfds, 2, &zero, &wait_mask);
      continue;
    }
    int64_t wait_ns = next == INT64_MAX ? -1 : next - now - spin_us * NS_PER_US;
    timespec ts{time_t(wait_ns / NS_PER_S), long(wait_ns % NS_PER_S)};
    ppoll(pfds, 2, wait_ns < 0 ? nullptr : &ts, &wait_mask);
  }
  for (int d = 0; d < 2; d++) drops[d] += socket_drops(fds_in[d]);
  std::string json = stats_json(links, start_ns, start_realtime_ns, drops, realtime, delay_ms);
  write_stats(stats_path, json);
  fputs(json.c_str(), stdout);
  fflush(stdout);
  if (log) fclose(log);
  close(fd_a);
  close(fd_b);
  return 0;
}
