// libpcap sources on their own threads: open (files, stdin, live), filter, read loop, timer-driven window closing, bounded hand-off to JS.
//
// Design (see docs/capture.md for the user-facing version):
// - One Source per file or interface: its own pcap handle, std::thread and Engine. Once a handle is open,
//   files and interfaces go through the same handle_packet() path; only the loop that waits for packets differs.
// - Live loops use a non-blocking handle and poll() on its selectable fd plus an eventfd, with a timeout of
//   tick_ns, so a silent link still closes windows (engine.advance(now)) and stop() is noticed at once.
// - Series indexes are per engine; the Source maps them to one global numbering so JS sees one namespace.
// - Backpressure: files wait while the queue is full (they can be re-read at any pace, so nothing is lost);
//   live sources never wait (the kernel ring would overflow instead): the oldest queued batch is dropped and counted.
// - JS is never touched here: the owner (addon.cc) gets a thread-safe notify() when the queue becomes non-empty.
// - netns: live handles can be opened inside a named network namespace while the process stays in its own
//   (run_in_netns below); a handle keeps capturing in the namespace it was activated in.
#include "capture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netpacket/packet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <unordered_map>

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

// Every counter of TCPCAST_COUNTERS (schema.h); flows_active is a gauge, and the sum over sources is right for it too.
void add_counters(Counters* sum, const Counters& c) {
#define TCPCAST_X(name, description) sum->name += c.name;
  TCPCAST_COUNTERS(TCPCAST_X)
#undef TCPCAST_X
}

// Linux network namespaces belong to threads: sockets are created in the namespace of the thread that creates them,
// and a pcap handle keeps capturing in the namespace it was activated in, whichever thread reads it later. So the
// handle is opened on a throwaway thread that setns()-es into /run/netns/NAME, runs fn and ends. Why not setns the
// calling thread there and back: the calling thread is the JS thread, which then never leaves its own namespace,
// not even for the length of a pcap_activate, and there is no "way back" step that could fail and strand it.
CaptureError run_in_netns(const std::string& name, const std::function<CaptureError()>& fn) {
  std::string path = "/run/netns/" + name;
  int target = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int e = errno;
    if (e == ENOENT) return {"ERR_NO_SUCH_NETNS", "network namespace '" + name + "' does not exist (no " + path + "; see ip netns list)"};
    return {e == EACCES || e == EPERM ? "ERR_PERMISSION" : "ERR_PCAP_OPEN", "network namespace '" + name + "': " + path + ": " + strerror(e)};
  }
  CaptureError result;
  std::thread opener([&] {
    if (setns(target, CLONE_NEWNET) < 0) {
      int e = errno;
      if (e == EPERM) {
        result = {"ERR_PERMISSION", "network namespace '" + name + "': entering it needs CAP_SYS_ADMIN (setns: " + strerror(e) + ")"};
      } else if (e == EINVAL) {
        result = {"ERR_NO_SUCH_NETNS", "'" + path + "' is not a network namespace"};
      } else {
        result = {"ERR_PCAP_OPEN", "network namespace '" + name + "': setns: " + strerror(e)};
      }
      return;
    }
    result = fn();
  });
  opener.join();
  close(target);
  return result;
}

}  // namespace

class Source {
 public:
  Source(Capture* owner, const CaptureOptions& options, std::string name, bool live)
      : owner_(owner), options_(options), name_(std::move(name)), live_(live), engine_(options.engine) {
    pending_.reset(new Batch);
    stats_.source = name_;
    stats_.live = live_;
  }

  ~Source() {
    if (handle_) pcap_close(handle_);
    if (wake_fd_ >= 0) close(wake_fd_);
  }

  CaptureError open() {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return {"ERR_CAPTURE", std::string("eventfd: ") + strerror(errno)};
    if (live_) return options_.netns.empty() ? open_live() : run_in_netns(options_.netns, [this] { return open_live(); });
    // stdin may not have its header yet: reading it here would block the caller, so its thread opens it.
    if (name_ == "-") return {};
    return open_file();
  }

  void start() { thread_ = std::thread([this] { run(); }); }

  void stop() {
    // Only live loops can sit inside pcap_dispatch; file loops check stopping() per record. (A stdin handle is
    // created by its own thread, so it must not be read here.)
    if (live_ && handle_) pcap_breakloop(handle_);
    uint64_t one = 1;
    if (wake_fd_ >= 0 && write(wake_fd_, &one, sizeof one) < 0) {
      // The eventfd counter cannot overflow from a handful of writes; the poll timeout is the fallback anyway.
    }
  }

  void join() {
    if (thread_.joinable()) thread_.join();
  }

  void snapshot(Counters* counters, PcapStats* pcap) {
    std::lock_guard<std::mutex> lock(stats_mu_);
    *counters = counters_;
    *pcap = stats_;
  }

  int linktype() const { return linktype_; }

 private:
  CaptureError open_file() {
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

  CaptureError open_stdin() {
    char errbuf[PCAP_ERRBUF_SIZE] = "";
    handle_ = pcap_open_offline_with_tstamp_precision("-", PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (!handle_) return {"ERR_FILE_CORRUPT", "stdin: not a readable pcap/pcapng stream at offset 0: " + std::string(errbuf)};
    return after_open();
  }

  // Runs on the opener thread inside options_.netns when one is given (see run_in_netns).
  CaptureError open_live() {
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

  CaptureError after_open() {
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

  void run() {
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
    engine_.finish();
    collect();
    refresh_stats(true);
    if (!err.ok()) pending_->error = err;
    owner_->push(std::move(pending_), live_);
    owner_->source_done();
  }

  CaptureError run_file() {
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

  // Paced replay, and stdin (a pipe from `tcpdump -U -w -`: data arrives as it happens), hand each window close
  // to JS at once, so output streams; only a fast read of a file groups closes into large batches.
  bool flush_each_window() const { return options_.speed > 0 || name_ == "-"; }

  // Sleeps until the packet is due in replay time; while waiting, idle windows close as they would live.
  void pace(int64_t first_ts_ns, int64_t first_wall_ns, int64_t ts_ns) {
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

  CaptureError run_live() {
    int fd = pcap_get_selectable_fd(handle_);
    int timeout_ms = int(std::max<int64_t>(1, options_.tick_ns / NS_PER_MS));
    while (!owner_->stopping()) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      int prc = poll(fds, fd >= 0 ? 2 : 1, timeout_ms);
      if (prc < 0 && errno != EINTR) return {"ERR_CAPTURE", name_ + ": poll: " + strerror(errno)};
      // Anything stamped before this instant is already in the ring, so windows ending by then are complete.
      int64_t drained_at_ns = realtime_ns();
      for (;;) {
        int n = pcap_dispatch(handle_, 4096, &Source::on_packet, reinterpret_cast<u_char*>(this));
        if (n == PCAP_ERROR_BREAK) return {};
        if (n < 0) return {"ERR_CAPTURE", name_ + ": " + pcap_geterr(handle_)};
        if (n < 4096) break;
        if (pending_->packets.size() >= kBatchPackets) flush();
      }
      engine_.advance(drained_at_ns);
      collect();
      if (!pending_->windows.empty() || !pending_->packets.empty() || !pending_->new_series.empty()) flush();
      refresh_stats(false);
    }
    // A clean stop at time T: windows that ended before T are complete (closed normally); finish() then closes
    // the one T falls in as the final partial window.
    engine_.advance(realtime_ns());
    return {};
  }

  static void on_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* data) {
    Source* self = reinterpret_cast<Source*>(user);
    self->handle_packet(hdr, data, self->stamp_ns(hdr));
  }

  int64_t stamp_ns(const pcap_pkthdr* hdr) const {
    return int64_t(hdr->ts.tv_sec) * NS_PER_S + int64_t(hdr->ts.tv_usec) * (nano_ ? 1 : NS_PER_US);
  }

  void handle_packet(const pcap_pkthdr* hdr, const u_char* data, int64_t ts_ns) {
    // One source is one interface (id 0); SLL2 frames carry their ifindex, which the engine reads from the parse.
    const uint32_t iface = 0;
    PacketRecord record;
    uint64_t emitted_before = engine_.counters().windows_emitted;
    bool have = engine_.process(linktype_, data, hdr->caplen, hdr->len, ts_ns, iface,
                                options_.engine.per_packet ? &record : nullptr);
    if (engine_.counters().windows_emitted != emitted_before) collect();
    if (have && options_.engine.per_packet) pending_->packets.push_back(record);
  }

  void cache_iface_names() {
    struct if_nameindex* all = if_nameindex();
    if (!all) return;
    for (struct if_nameindex* i = all; i->if_index != 0 && i->if_name; i++) iface_names_[i->if_index] = i->if_name;
    if_freenameindex(all);
  }

  std::string iface_name(uint32_t iface) {
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

  void collect_series() {
    engine_.take_new_series(&tmp_series_);
    for (const SeriesInfo& s : tmp_series_) {
      if (s.index >= series_map_.size()) series_map_.resize(s.index + 1, UINT32_MAX);
      uint32_t global = owner_->global_series_index();
      series_map_[s.index] = global;
      pending_->new_series.push_back({global, iface_name(s.iface), s.key});
    }
    tmp_series_.clear();
  }

  // Moves closed windows (and the series they refer to, which the engine creates first) into the pending batch.
  void collect() {
    collect_series();
    engine_.take_windows(&tmp_windows_);
    for (WindowRecord w : tmp_windows_) {
      w.series = w.series < series_map_.size() ? series_map_[w.series] : UINT32_MAX;
      pending_->windows.push_back(w);
    }
    tmp_windows_.clear();
  }

  void flush() {
    refresh_stats(true);
    owner_->push(std::move(pending_), live_);
    pending_.reset(new Batch);
  }

  void refresh_stats(bool force) {
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

  std::string basename_or_path() const { return name_ == "-" ? "stdin" : name_; }

  Capture* owner_;
  const CaptureOptions& options_;
  std::string name_;
  bool live_;
  Engine engine_;
  std::unique_ptr<char[]> file_buffer_;  // stdio buffer of the file handle (~Source closes the handle before members go)
  pcap_t* handle_ = nullptr;
  int linktype_ = -1;
  bool nano_ = true;
  bool offset_known_ = false;
  long computed_offset_ = 0;
  int wake_fd_ = -1;
  std::string warning_;
  std::thread thread_;
  std::unique_ptr<Batch> pending_;
  std::vector<uint32_t> series_map_;
  std::unordered_map<uint32_t, std::string> iface_names_;
  std::vector<WindowRecord> tmp_windows_;
  std::vector<SeriesInfo> tmp_series_;
  int64_t last_stats_ns_ = 0;
  std::mutex stats_mu_;
  Counters counters_;
  PcapStats stats_;
};

Capture::Capture(const CaptureOptions& options, std::function<void()> notify)
    : options_(options), notify_(std::move(notify)) {}

Capture::~Capture() {
  stop();
  join();
}

CaptureError Capture::open() {
  for (const std::string& f : options_.files) sources_.emplace_back(new Source(this, options_, f, false));
  for (const std::string& i : options_.interfaces) sources_.emplace_back(new Source(this, options_, i, true));
  if (sources_.empty()) return {"ERR_INVALID_OPTION", "no capture source given"};
  for (auto& s : sources_) {
    CaptureError err = s->open();
    if (!err.ok()) return err;
  }
  return {};
}

void Capture::start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_) return;
    started_ = true;
    running_ = sources_.size();
  }
  for (auto& s : sources_) s->start();
}

void Capture::stop() {
  stopping_.store(true, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    space_cv_.notify_all();
  }
  for (auto& s : sources_) s->stop();
}

void Capture::join() {
  for (auto& s : sources_) s->join();
}

uint32_t Capture::global_series_index() {
  std::lock_guard<std::mutex> lock(mu_);
  return next_series_++;
}

void Capture::push(std::unique_ptr<Batch> batch, bool live) {
  bool was_empty;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!live) {
      space_cv_.wait(lock, [this] { return queue_.size() < options_.queue_batches || stopping(); });
    } else {
      while (queue_.size() >= options_.queue_batches) {
        // Drop the oldest batch that carries no error; its series definitions move on so later windows stay named.
        auto victim = queue_.begin();
        while (victim != queue_.end() && !(*victim)->error.ok()) ++victim;
        if (victim == queue_.end()) break;
        Batch* heir = std::next(victim) != queue_.end() ? std::next(victim)->get() : batch.get();
        heir->new_series.insert(heir->new_series.begin(), (*victim)->new_series.begin(), (*victim)->new_series.end());
        batches_dropped_++;
        windows_dropped_ += (*victim)->windows.size();
        packets_dropped_ += (*victim)->packets.size();
        queue_.erase(victim);
      }
    }
    was_empty = queue_.empty();
    queue_.push_back(std::move(batch));
  }
  if (was_empty) notify_();
}

void Capture::source_done() {
  bool was_empty = false, ended = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (--running_ == 0 && !end_queued_) {
      end_queued_ = true;
      ended = true;
      std::unique_ptr<Batch> end(new Batch);
      end->end = true;
      was_empty = queue_.empty();
      queue_.push_back(std::move(end));
    }
  }
  if (ended && was_empty) notify_();
}

void Capture::take(std::vector<std::unique_ptr<Batch>>* out, size_t max) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty() && out->size() < max) {
    if (queue_.front()->end) {
      if (end_taken_) break;
      end_taken_ = true;
    }
    out->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  space_cv_.notify_all();
}

CaptureStats Capture::stats() {
  CaptureStats out;
  for (auto& s : sources_) {
    Counters c;
    PcapStats p;
    s->snapshot(&c, &p);
    add_counters(&out.counters, c);
    out.pcap.push_back(p);
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.batches_dropped = batches_dropped_;
  out.windows_dropped = windows_dropped_;
  out.packets_dropped = packets_dropped_;
  out.queue_length = queue_.size();
  return out;
}

std::vector<int> Capture::linktypes() const {
  std::vector<int> out;
  for (auto& s : sources_) out.push_back(s->linktype());
  return out;
}

CaptureError list_devices(std::vector<DeviceInfo>* out) {
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) < 0) return {"ERR_PCAP_OPEN", std::string("cannot list devices: ") + errbuf};
  for (pcap_if_t* d = all; d; d = d->next) {
    DeviceInfo info;
    info.name = d->name;
    if (d->description) info.description = d->description;
    if (d->flags & PCAP_IF_UP) info.flags.push_back("up");
    if (d->flags & PCAP_IF_RUNNING) info.flags.push_back("running");
    if (d->flags & PCAP_IF_LOOPBACK) info.flags.push_back("loopback");
    if (d->flags & PCAP_IF_WIRELESS) info.flags.push_back("wireless");
    switch (d->flags & PCAP_IF_CONNECTION_STATUS) {
      case PCAP_IF_CONNECTION_STATUS_CONNECTED: info.flags.push_back("connected"); break;
      case PCAP_IF_CONNECTION_STATUS_DISCONNECTED: info.flags.push_back("disconnected"); break;
      default: break;
    }
    for (pcap_addr_t* a = d->addresses; a; a = a->next) {
      if (!a->addr) continue;
      auto text = [](const sockaddr* sa) -> std::string {
        if (!sa) return "";
        char buf[INET6_ADDRSTRLEN] = "";
        if (sa->sa_family == AF_INET) {
          inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
        } else if (sa->sa_family == AF_INET6) {
          inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
        } else if (sa->sa_family == AF_PACKET) {
          const sockaddr_ll* ll = reinterpret_cast<const sockaddr_ll*>(sa);
          std::string mac;
          for (int i = 0; i < ll->sll_halen && i < 8; i++) {
            char hex[4];
            snprintf(hex, sizeof hex, i ? ":%02x" : "%02x", ll->sll_addr[i]);
            mac += hex;
          }
          return mac;
        }
        return buf;
      };
      DeviceAddress addr;
      int family = a->addr->sa_family;
      addr.family = family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : family == AF_PACKET ? "packet" : std::to_string(family);
      addr.addr = text(a->addr);
      addr.netmask = text(a->netmask);
      addr.broadcast = text(a->broadaddr);
      info.addresses.push_back(addr);
    }
    out->push_back(info);
  }
  pcap_freealldevs(all);
  return {};
}

CaptureError drop_privileges(const std::string& user) {
  passwd pw_storage;
  passwd* pw = nullptr;
  std::vector<char> buf(16384);
  int rc = getpwnam_r(user.c_str(), &pw_storage, buf.data(), buf.size(), &pw);
  if (rc != 0 || !pw) return {"ERR_PRIVILEGE_DROP", "unknown user '" + user + "'"};
  if (initgroups(pw->pw_name, pw->pw_gid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("initgroups: ") + strerror(errno)};
  if (setgid(pw->pw_gid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("setgid: ") + strerror(errno)};
  if (setuid(pw->pw_uid) < 0) return {"ERR_PRIVILEGE_DROP", std::string("setuid: ") + strerror(errno)};
  if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid || getegid() != pw->pw_gid) {
    return {"ERR_PRIVILEGE_DROP", "ids did not change to user '" + user + "'"};
  }
  // If root could be regained, the drop did not happen (e.g. saved set-user-id kept).
  if (pw->pw_uid != 0 && setuid(0) == 0) return {"ERR_PRIVILEGE_DROP", "root could be regained after dropping to '" + user + "'"};
  return {};
}

std::string pcap_version() { return pcap_lib_version(); }

}  // namespace tcpcast
