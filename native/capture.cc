// The capture: its sources (source.cc), the bounded queue of batches towards JS with its backpressure rule, and stats summed over sources.
//
// Backpressure: files wait while the queue is full (they can be re-read at any pace, so nothing is lost); live
// sources never wait (the kernel ring would overflow instead): the oldest queued batch is dropped and counted.
// JS is never touched here: the owner (addon.cc) gets a thread-safe notify() when the queue becomes non-empty.
#include "capture.h"

#include "source.h"

namespace tcpcast {

namespace {

// Every counter of TCPCAST_COUNTERS (schema.h); flows_active is a gauge, and the sum over sources is right for it too.
void add_counters(Counters* sum, const Counters& c) {
#define TCPCAST_X(name, description) sum->name += c.name;
  TCPCAST_COUNTERS(TCPCAST_X)
#undef TCPCAST_X
}

}  // namespace

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
        heir->ended_series.insert(heir->ended_series.begin(), (*victim)->ended_series.begin(),
                                  (*victim)->ended_series.end());
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

}  // namespace tcpcast
