// Packet sources (pcap/pcapng files, stdin, live interfaces) each on its own thread feeding its own Engine, with a bounded batch queue towards JS.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capture_error.h"
#include "engine.h"
// The host helpers (devices, privilege drop, versions) are part of what the binding gets from "capture.h".
#include "host.h"
#include "types.h"

namespace tcpcast {

// Everything the capture needs, already validated and defaulted by the TypeScript layer (policy lives there).
struct CaptureOptions {
  std::vector<std::string> files;       // pcap or pcapng paths; "-" reads stdin
  std::vector<std::string> interfaces;  // live interfaces; "any" captures all of them (DLT_LINUX_SLL2)
  std::string bpf;                      // applied to every handle; empty = no filter
  int snaplen = 128;                    // bytes kept per live frame
  int buffer_kib = 32768;               // kernel ring per live handle, KiB (tcpdump's -B)
  bool promisc = false;
  // Live handles are created and activated inside /run/netns/<netns> (as `ip netns exec` names it); empty = our own.
  // The process stays where it is: only a short-lived opener thread enters the namespace (see capture.cc).
  std::string netns;
  double speed = 0;                     // file replay pacing: 0 = as fast as possible, 1 = real time, N = N x
  int64_t tick_ns = 10 * NS_PER_MS;     // how often a live source advances its windows when the link is idle
  size_t queue_batches = 64;            // bound of the queue towards JS
  // With engine.per_packet: write `tcpcast packets` rows to this descriptor (packet_tsv.h) instead of queueing
  // PacketRecords for JS; -1 = queue them. A reader that goes away (EPIPE) ends the capture quietly.
  int packets_fd = -1;
  EngineConfig engine;
};

// A series as JS sees it: the interface by name instead of the engine's numeric id.
struct NamedSeries {
  uint32_t index;  // global over all sources
  std::string iface;
  std::string key;
};

// What one source hands over at a time. Series indexes are already global (each source has its own engine).
struct Batch {
  std::vector<WindowRecord> windows;
  std::vector<NamedSeries> new_series;
  std::vector<SeriesEnd> ended_series;  // global indexes; each series' last window is in this batch or an earlier one
  std::vector<PacketRecord> packets;
  CaptureError error;   // set on the batch that ends a source with an error
  std::string warning;  // pcap_activate warnings, for the log
  bool end = false;     // the last item the queue ever yields: every source has finished
};

struct PcapStats {
  std::string source;
  bool live = false;
  uint64_t received = 0;
  uint64_t dropped = 0;      // by the kernel (ring full)
  uint64_t if_dropped = 0;   // by the interface/driver
};

struct CaptureStats {
  Counters counters;                 // summed over sources
  std::vector<PcapStats> pcap;       // one per source
  uint64_t batches_dropped = 0;      // live queue overflow: oldest batches dropped
  uint64_t windows_dropped = 0;
  uint64_t packets_dropped = 0;      // per-packet records lost with dropped batches
  uint64_t queue_length = 0;
};

class Source;

class Capture {
 public:
  // notify is called from capture threads whenever the queue goes from empty to non-empty; it must be thread-safe.
  Capture(const CaptureOptions& options, std::function<void()> notify);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Opens every handle and applies the filter, on the calling thread so errors are immediate (stdin is opened by its thread).
  CaptureError open();
  void start();
  // Asks every thread to leave its loop; each finishes its engine and queues its last batch. Returns at once.
  void stop();
  // Waits for the threads (call after the end item was taken, or after stop()).
  void join();

  // Takes up to max items from the queue (non-blocking). The end item is returned once, last.
  void take(std::vector<std::unique_ptr<Batch>>* out, size_t max);
  CaptureStats stats();
  // Linktype of each open handle, for diagnostics.
  std::vector<int> linktypes() const;

  // Called by sources.
  void push(std::unique_ptr<Batch> batch, bool live);
  uint32_t global_series_index();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  void source_done();

 private:
  CaptureOptions options_;
  std::function<void()> notify_;
  std::vector<std::unique_ptr<Source>> sources_;
  std::mutex mu_;
  std::condition_variable space_cv_;  // file readers wait here while the queue is full
  std::deque<std::unique_ptr<Batch>> queue_;
  uint32_t next_series_ = 0;
  size_t running_ = 0;
  bool end_queued_ = false;
  bool end_taken_ = false;
  bool started_ = false;
  uint64_t batches_dropped_ = 0, windows_dropped_ = 0, packets_dropped_ = 0;
  std::atomic<bool> stopping_{false};
};

}  // namespace tcpcast
