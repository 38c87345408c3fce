// One packet source (a pcap/pcapng file, stdin or a live interface): its pcap handle, its thread, its Engine and the loops that feed it.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "capture.h"
#include "engine.h"
#include "packet_tsv.h"
#include "types.h"

namespace tcpcast {

class Source {
 public:
  Source(Capture* owner, const CaptureOptions& options, std::string name, bool live);
  ~Source();
  CaptureError open();
  void start() { thread_ = std::thread([this] { run(); }); }
  void stop();
  void join();
  void snapshot(Counters* counters, PcapStats* pcap);
  int linktype() const { return linktype_; }

 private:
  CaptureError open_file();
  CaptureError open_stdin();
  // Runs on the opener thread inside options_.netns when one is given (see run_in_netns).
  CaptureError open_live();
  CaptureError after_open();
  void run();
  CaptureError run_file();
  // Sleeps until the packet is due in replay time; while waiting, idle windows close as they would live.
  // Paced replay, and stdin (a pipe from `tcpdump -U -w -`: data arrives as it happens), hand each window close
  // to JS at once, so output streams; only a fast read of a file groups closes into large batches.
  bool flush_each_window() const { return options_.speed > 0 || name_ == "-"; }
  void pace(int64_t first_ts_ns, int64_t first_wall_ns, int64_t ts_ns);
  CaptureError run_live();
  static void on_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* data);
  int64_t stamp_ns(const pcap_pkthdr* hdr) const;
  void handle_packet(const pcap_pkthdr* hdr, const u_char* data, int64_t ts_ns);
  void cache_iface_names();
  std::string iface_name(uint32_t iface);
  void collect_series();
  // Moves closed windows (and the series they refer to, which the engine creates first) into the pending batch.
  void collect();
  void flush();
  void refresh_stats(bool force);
  std::string basename_or_path() const { return name_ == "-" ? "stdin" : name_; }
  Capture* owner_;
  const CaptureOptions& options_;
  std::string name_;
  bool live_;
  Engine engine_;
  std::unique_ptr<PacketTsvWriter> tsv_;  // rows straight to options_.packets_fd (the packets command)
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
  std::unordered_map<uint32_t, uint32_t> series_map_;  // engine series index -> global, live series only
  std::unordered_map<uint32_t, std::string> iface_names_;
  std::vector<WindowRecord> tmp_windows_;
  std::vector<SeriesInfo> tmp_series_;
  std::vector<SeriesEnd> tmp_ended_;
  int64_t last_stats_ns_ = 0;
  std::mutex stats_mu_;
  Counters counters_;
  PcapStats stats_;
};

}  // namespace tcpcast
