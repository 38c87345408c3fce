// One libpcap source on its own thread: open (files, stdin, live), filter, read loop, timer-driven window closing, hand-off to the queue.
//
// Design (see docs/capture.md for the user-facing version):
// - One Source per file or interface: its own pcap handle, std::thread and Engine. Once a handle is open,
//   files and interfaces go through the same handle_packet() path; only the loop that waits for packets differs.
// - Live loops use a non-blocking handle and poll() on its selectable fd plus an eventfd, with a timeout that ends
//   at the next window boundary (or tick_ns), so a silent link still closes windows (engine.advance(now)) and
//   stop() is noticed at once; while packets flow, drains are spaced by a short nap (see run_live).
// - Series indexes are per engine; the Source maps them to one global numbering so JS sees one namespace.
// - Batches go to the owning Capture's queue (capture.cc), which decides what waits and what is dropped.
// - netns: live handles can be opened inside a named network namespace while the process stays in its own
//   (run_in_netns, netns.cc); a handle keeps capturing in the namespace it was activated in.
#include "source.h"

#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "netns.h"

namespace tcpcast {

namespace {

// A window close is flushed to JS at once for live and paced sources (latency); a fast file read groups
// many closes per batch so the JS thread gets few, large calls.
constexpr size_t kFileBatchWindows = 1024;
constexpr size_t kBatchPackets = 8192;
constexpr int64_t kStatsRefreshNs = 100 * NS_PER_MS;
constexpr size_t kPcapFileHeaderBytes = 24;
constexpr size_t kPcapRecordHeaderBytes = 16;
constexpr size_t kFileBufferBytes = 256 * 1024;
// Live: after a drain that found packets, let packets gather this long before the next drain (see run_live).
constexpr int64_t kLiveCoalesceNs = 1 * NS_PER_MS;
// Live: a wait never runs past the next window boundary by more than this, so windows close on time.
constexpr int64_t kWindowEndSlackNs = 200 * NS_PER_US;

int64_t realtime_ns() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * NS_PER_S + ts.tv_nsec;
}

int64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * NS_PER_S + ts.tv_nsec;
}

std::string basename_of(const std::string& path) {
  if (path == "-") return "stdin";
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Source::Source(Capture* owner, const CaptureOptions& options, std::string name, bool live)
    : owner_(owner), options_(options), name_(std::move(name)), live_(live), engine_(options.engine) {
  pending_.reset(new Batch);
  if (options.engine.per_packet && options.packets_fd >= 0) tsv_.reset(new PacketTsvWriter(options.packets_fd));
  stats_.source = name_;
  stats_.live = live_;
}

Source::~Source() {
  if (handle_) pcap_close(handle_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

CaptureError Source::open() {
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return {"ERR_CAPTURE", std::string("eventfd: ") + strerror(errno)};
  if (live_) return options_.netns.empty() ? open_live() : run_in_netns(options_.netns, [this] { return open_live(); });
  // stdin may not have its header yet: reading it here would block the caller, so its thread opens it.
  if (name_ == "-") return {};
  return open_file();
}

void Source::stop() {
  // Only live loops can sit inside pcap_dispatch; file loops check stopping() per record. (A stdin handle is
  // created by its own thread, so it must not be read here.)
  if (live_ && handle_) pcap_breakloop(handle_);
  uint64_t one = 1;
  if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
    // The eventfd counter cannot overflow from a handful of writes; the poll timeout is the fallback anyway.
  }
}

void Source::join() {
  if (thread_.joinable()) thread_.join();
}

void Source::snapshot(Counters* counters, PcapStats* pcap) {
  std::lock_guard<std::mutex> lock(stats_mu_);
  *counters = counters_;
  *pcap = stats_;
}

CaptureError Source::open_file() {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  FILE* fp = fopen(name_.c_str(), "rb");
  if (!fp) return {"ERR_PCAP_OPEN", name_ + ": " + strerror(errno)};
  // Error messages name the record's offset, taken with ftell() before each record. glibc's ftell costs an
  // lseek() syscall per call until the stream's position is known, and only a seek makes it known: so a
  // regular file is seeked to 0 first (then ftell is arithmetic on the buffer), and read in large blocks
  // (the default 4 KiB buffer meant one read() per few packets). Pipes (FIFOs) are left as they are.
  struct stat st;
  if (fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode)) {
    file_buffer_.reset(new char[kFileBufferBytes]);
    setvbuf(fp, file_buffer_.get(), _IOFBF, kFileBufferBytes);
    fseek(fp, 0, SEEK_SET);
  }
  handle_ = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!handle_) {
    fclose(fp);
    return {"ERR_FILE_CORRUPT", name_ + ": not a readable pcap/pcapng file at offset 0: " + errbuf};
  }
  return after_open();
}

CaptureError Source::open_stdin() {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  handle_ = pcap_open_offline_with_tstamp_precision("-", PCAP_TSTAMP_PRECISION_NANO, errbuf);
  if (!handle_) return {"ERR_FILE_CORRUPT", "stdin: not a readable pcap/pcapng stream at offset 0: " + std::string(errbuf)};
  return after_open();
}

CaptureError Source::open_live() {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  // Errors name the namespace too: "eth0" alone would send the user looking in the wrong place.
  const std::string where = options_.netns.empty() ? name_ : name_ + " (network namespace " + options_.netns + ")";
  handle_ = pcap_create(name_.c_str(), errbuf);
  if (!handle_) return {"ERR_PCAP_OPEN", where + ": " + errbuf};
  pcap_set_snaplen(handle_, options_.snaplen);
  pcap_set_promisc(handle_, options_.promisc ? 1 : 0);
  pcap_set_immediate_mode(handle_, 1);
  pcap_set_buffer_size(handle_, options_.buffer_kib * 1024);
  // Nanosecond kernel stamps when the platform has them; otherwise micro, scaled in handle_packet().
  pcap_set_tstamp_precision(handle_, PCAP_TSTAMP_PRECISION_NANO);
  int rc = pcap_activate(handle_);
  if (rc < 0) {
    std::string code = "ERR_PCAP_OPEN";
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE) code = "ERR_NO_SUCH_DEVICE";
    if (rc == PCAP_ERROR_PERM_DENIED || rc == PCAP_ERROR_PROMISC_PERM_DENIED) code = "ERR_PERMISSION";
    std::string status = pcap_statustostr(rc), detail = pcap_geterr(handle_);
    return {code, where + ": " + status + (detail.empty() || detail == status ? "" : " (" + detail + ")")};
  }
  if (rc > 0) {
    // Warnings (e.g. promiscuous mode not supported) do not stop the capture; JS logs them.
    std::string detail = pcap_geterr(handle_);
    warning_ = where + ": " + pcap_statustostr(rc) + (detail.empty() ? "" : " (" + detail + ")");
  }
  if (name_ == "any") {
    // SLL2 carries the ifindex, so "-i any" still yields one "all" series per interface.
    pcap_set_datalink(handle_, DLT_LINUX_SLL2);
    // if_indextoname asks the namespace of the calling thread; the capture thread is in ours, so the names are
    // taken now, from inside the namespace. An interface created there later is shown as "if<index>".
    if (!options_.netns.empty()) cache_iface_names();
  }
  if (pcap_setnonblock(handle_, 1, errbuf) < 0) return {"ERR_PCAP_OPEN", where + ": " + errbuf};
  return after_open();
}

CaptureError Source::after_open() {
  linktype_ = pcap_datalink(handle_);
  nano_ = pcap_get_tstamp_precision(handle_) == PCAP_TSTAMP_PRECISION_NANO;
  if (!live_) {
    FILE* fp = pcap_file(handle_);
    long pos = fp ? ftell(fp) : -1;
    // ftell fails on pipes; then only classic pcap offsets can be computed (header + records).
    offset_known_ = pos >= 0;
    computed_offset_ = pos >= 0 ? pos : long(kPcapFileHeaderBytes);
  }
  if (!options_.bpf.empty()) {
    bpf_program program;
    if (pcap_compile(handle_, &program, options_.bpf.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      return {"ERR_BPF", "invalid filter '" + options_.bpf + "': " + pcap_geterr(handle_)};
    }
    int rc = pcap_setfilter(handle_, &program);
    pcap_freecode(&program);
    if (rc < 0) return {"ERR_BPF", "cannot apply filter '" + options_.bpf + "': " + pcap_geterr(handle_)};
  }
  return {};
}

void Source::run() {
  if (!handle_) {
    CaptureError err = open_stdin();
    if (!err.ok()) {
      pending_->error = err;
      owner_->push(std::move(pending_), live_);
      owner_->source_done();
      return;
    }
  }
  pending_->warning = warning_;  // delivered with the first batch; not fatal
  CaptureError err = live_ ? run_live() : run_file();
  if (tsv_) {
    tsv_->flush();
    if (err.ok() && !tsv_->error().empty()) err = {"ERR_OUTPUT", tsv_->error()};
  }
  engine_.finish();
  collect();
  refresh_stats(true);
  if (!err.ok()) pending_->error = err;
  owner_->push(std::move(pending_), live_);
  owner_->source_done();
}

CaptureError Source::run_file() {
  FILE* fp = pcap_file(handle_);
  int64_t first_ts_ns = -1, first_wall_ns = 0;
  uint64_t records = 0;
  while (!owner_->stopping()) {
    long pos = offset_known_ && fp ? ftell(fp) : -1;
    long offset = pos >= 0 ? pos : computed_offset_;
    pcap_pkthdr* hdr;
    const u_char* data;
    int rc = pcap_next_ex(handle_, &hdr, &data);
    if (rc == PCAP_ERROR_BREAK) break;  // end of file (or breakloop)
    if (rc < 0) {
      std::string msg = pcap_geterr(handle_);
      // On a pipe ftell fails; the computed offset is exact for classic pcap, which is what pipes usually carry.
      std::string where = "at offset " + std::to_string(offset);
      bool truncated = msg.find("truncated") != std::string::npos;
      return {truncated ? "ERR_FILE_TRUNCATED" : "ERR_FILE_CORRUPT",
              basename_or_path() + ": " + (truncated ? "truncated record " : "corrupt record ") + where + " (after " +
                  std::to_string(records) + " good records): " + msg};
    }
    if (rc == 0) continue;
    records++;
    computed_offset_ += long(kPcapRecordHeaderBytes + hdr->caplen);
    int64_t ts_ns = stamp_ns(hdr);
    if (options_.speed > 0) {
      if (first_ts_ns < 0) {
        first_ts_ns = ts_ns;
        first_wall_ns = monotonic_ns();
      }
      pace(first_ts_ns, first_wall_ns, ts_ns);
    }
    handle_packet(hdr, data, ts_ns);
    if (flush_each_window()) {
      if (!pending_->windows.empty() || pending_->packets.size() >= kBatchPackets) flush();
    } else if (pending_->windows.size() >= kFileBatchWindows || pending_->packets.size() >= kBatchPackets) {
      flush();
    }
  }
  return {};
}

void Source::pace(int64_t first_ts_ns, int64_t first_wall_ns, int64_t ts_ns) {
  int64_t due_wall_ns = first_wall_ns + int64_t(double(ts_ns - first_ts_ns) / options_.speed);
  for (;;) {
    if (owner_->stopping()) return;
    int64_t now = monotonic_ns();
    if (now >= due_wall_ns) return;
    int64_t nap = std::min(due_wall_ns - now, options_.tick_ns);
    std::this_thread::sleep_for(std::chrono::nanoseconds(nap));
    int64_t replay_now = first_ts_ns + int64_t(double(monotonic_ns() - first_wall_ns) * options_.speed);
    engine_.advance(std::min(replay_now, ts_ns));
    collect();
    if (!pending_->windows.empty()) flush();
  }
}

// Why a coalescing nap and not one wake-up per packet: in immediate mode (TPACKET_V2) every frame is visible in
// the ring at once and wakes a thread sleeping in poll() on the handle, so at 100 kpps the thread was woken
// ~100,000 times a second for one packet each (5.5 us of CPU per packet, 30x tcpdump -w). After a drain that
// found packets, the thread now naps on the eventfd alone (stop() still wakes it) for kLiveCoalesceNs and then
// drains everything that arrived meanwhile in one go; an idle link costs nothing extra (poll() on the handle
// wakes on the first packet). Immediate mode is kept (rather than TPACKET_V3 blocks with a retire timeout)
// because it keeps the completeness rule below exact: a V3 block is handed over only when it is retired, up to
// two timer periods after its first packet, so "complete up to now" would become "complete up to now minus a
// kernel timer's guess". The naps are short against a window (1 ms vs 50 ms), and every wait ends at the next
// window boundary (plus kWindowEndSlackNs), so a window is closed within about a millisecond of its end.
CaptureError Source::run_live() {
  int fd = pcap_get_selectable_fd(handle_);
  const int64_t window_ns = options_.engine.window_ns > 0 ? options_.engine.window_ns : 50 * NS_PER_MS;
  bool busy = false;  // the last drain found packets: nap, let more accumulate
  while (!owner_->stopping()) {
    int64_t now = realtime_ns();
    int64_t until_boundary = (now / window_ns + 1) * window_ns - now + kWindowEndSlackNs;
    int64_t wait_ns = std::min(busy ? kLiveCoalesceNs : options_.tick_ns, until_boundary);
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
    timespec timeout = {time_t(wait_ns / NS_PER_S), long(wait_ns % NS_PER_S)};
    int prc = ppoll(fds, busy || fd < 0 ? 1 : 2, &timeout, nullptr);
    if (prc < 0 && errno != EINTR) return {"ERR_CAPTURE", name_ + ": poll: " + strerror(errno)};
    // Anything stamped before this instant is already in the ring, so windows ending by then are complete.
    int64_t drained_at_ns = realtime_ns();
    int drained = 0;
    for (;;) {
      int n = pcap_dispatch(handle_, 4096, &Source::on_packet, reinterpret_cast<u_char*>(this));
      if (n == PCAP_ERROR_BREAK) return {};
      if (n < 0) return {"ERR_CAPTURE", name_ + ": " + pcap_geterr(handle_)};
      drained += n;
      if (n < 4096) break;
      if (pending_->packets.size() >= kBatchPackets) flush();
    }
    busy = drained > 0;
    engine_.advance(drained_at_ns);
    collect();
    if (!pending_->windows.empty() || !pending_->packets.empty() || !pending_->new_series.empty() ||
        !pending_->ended_series.empty())
      flush();
    refresh_stats(false);
  }
  // A clean stop at time T: windows that ended before T are complete (closed normally); finish() then closes
  // the one T falls in as the final partial window.
  engine_.advance(realtime_ns());
  return {};
}

void Source::on_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* data) {
  Source* self = reinterpret_cast<Source*>(user);
  self->handle_packet(hdr, data, self->stamp_ns(hdr));
}

int64_t Source::stamp_ns(const pcap_pkthdr* hdr) const {
  return int64_t(hdr->ts.tv_sec) * NS_PER_S + int64_t(hdr->ts.tv_usec) * (nano_ ? 1 : NS_PER_US);
}

void Source::handle_packet(const pcap_pkthdr* hdr, const u_char* data, int64_t ts_ns) {
  // One source is one interface (id 0); SLL2 frames carry their ifindex, which the engine reads from the parse.
  const uint32_t iface = 0;
  PacketRecord record;
  uint64_t emitted_before = engine_.counters().windows_emitted;
  bool have = engine_.process(linktype_, data, hdr->caplen, hdr->len, ts_ns, iface,
                              options_.engine.per_packet ? &record : nullptr);
  if (engine_.counters().windows_emitted != emitted_before) collect();
  if (have && options_.engine.per_packet) {
    if (!tsv_) {
      pending_->packets.push_back(record);
    } else if (!tsv_->write(record)) {
      owner_->stop();  // the reader is gone (or the disk is full): nothing more can be delivered
    }
  }
}

void Source::cache_iface_names() {
  struct if_nameindex* all = if_nameindex();
  if (!all) return;
  for (struct if_nameindex* i = all; i->if_index != 0 && i->if_name; i++) iface_names_[i->if_index] = i->if_name;
  if_freenameindex(all);
}

std::string Source::iface_name(uint32_t iface) {
  if (linktype_ != DLT_LINUX_SLL2) return live_ ? name_ : basename_of(name_);
  auto it = iface_names_.find(iface);
  if (it != iface_names_.end()) return it->second;
  char buf[IF_NAMESIZE + 1] = "";
  // In another namespace our if_indextoname would answer for the wrong interfaces (or none): cache only.
  bool ask = live_ && options_.netns.empty();
  std::string name = ask && if_indextoname(iface, buf) ? std::string(buf) : "if" + std::to_string(iface);
  iface_names_[iface] = name;
  return name;
}

void Source::collect_series() {
  engine_.take_new_series(&tmp_series_);
  for (const SeriesInfo& s : tmp_series_) {
    uint32_t global = owner_->global_series_index();
    series_map_[s.index] = global;
    pending_->new_series.push_back({global, iface_name(s.iface), s.key});
  }
  tmp_series_.clear();
}

void Source::collect() {
  collect_series();
  engine_.take_windows(&tmp_windows_);
  for (WindowRecord w : tmp_windows_) {
    auto it = series_map_.find(w.series);
    w.series = it != series_map_.end() ? it->second : UINT32_MAX;
    pending_->windows.push_back(w);
  }
  tmp_windows_.clear();
  // Ended series come after their last window (same close or earlier); their mapping goes with them, so the
  // map holds live series only, however many connections come and go.
  engine_.take_ended_series(&tmp_ended_);
  for (SeriesEnd e : tmp_ended_) {
    auto it = series_map_.find(e.index);
    if (it == series_map_.end()) continue;
    pending_->ended_series.push_back(SeriesEnd{it->second, e.reason});
    series_map_.erase(it);
  }
  tmp_ended_.clear();
}

void Source::flush() {
  refresh_stats(true);
  owner_->push(std::move(pending_), live_);
  pending_.reset(new Batch);
}

void Source::refresh_stats(bool force) {
  int64_t now = monotonic_ns();
  if (!force && now - last_stats_ns_ < kStatsRefreshNs) return;
  last_stats_ns_ = now;
  pcap_stat ps;
  bool have_ps = live_ && handle_ && pcap_stats(handle_, &ps) == 0;
  std::lock_guard<std::mutex> lock(stats_mu_);
  counters_ = engine_.counters();
  if (have_ps) {
    stats_.received = ps.ps_recv;
    stats_.dropped = ps.ps_drop;
    stats_.if_dropped = ps.ps_ifdrop;
  } else if (!live_) {
    stats_.received = counters_.frames;
  }
}

}  // namespace tcpcast
