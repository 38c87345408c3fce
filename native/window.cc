// Window aggregation: per-packet accumulation into the open window of each series, and closing windows into
// WindowRecords when capture time passes their end. Every feature is defined once, in docs/features.md.
//
// Why the top-K rule looks like this: a series must not flap in and out as byte counts cross each other, and
// there must never be more than K connection series. So a connection gets a series at a window close when a
// slot is free (largest cumulative payload first among the connections seen in that window that have carried
// payload) and keeps it until the connection ends (idle eviction, port reuse) or is silent for
// FLOW_SERIES_IDLE_NS. Every end is reported (take_ended_series, with its reason) so the layers above forget the
// series at once.
#include "window.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace tcpcast {

namespace {

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
  return q;
}

std::string endpoint(uint8_t ip_version, const uint8_t* addr, uint16_t port) {
  char buf[INET6_ADDRSTRLEN + 1];
  std::string out;
  if (ip_version == 4) {
    inet_ntop(AF_INET, addr, buf, sizeof buf);
    out = buf;
  } else {
    inet_ntop(AF_INET6, addr, buf, sizeof buf);
    out = std::string("[") + buf + "]";
  }
  return out + ":" + std::to_string(port);
}

}  // namespace

WindowAggregator::WindowAggregator(const EngineConfig& config, FlowTable* flows, Counters* counters)
    : config_(config),
      flows_(flows),
      counters_(counters),
      flow_series_active_(0),
      next_index_(0),
      open_end_ns_(0),
      iface_series_count_(0),
      last_iface_(0),
      last_iface_pos_(SIZE_MAX) {
  if (config_.window_ns <= 0) config_.window_ns = 50 * NS_PER_MS;
  series_.reserve(8 + config_.top_k);
  candidates_.reserve(config_.top_k);
}

WindowAggregator::Series* WindowAggregator::new_series(uint32_t iface, uint32_t flow, const Flow* f) {
  size_t pos = series_.size();
  for (size_t i = 0; i < series_.size(); i++) {
    if (!series_[i].live) {
      pos = i;
      break;
    }
  }
  if (pos == series_.size()) series_.emplace_back();
  Series& s = series_[pos];
  s = Series{};
  s.live = true;
  s.index = next_index_++;
  s.iface = iface;
  s.flow = flow;
  s.flow_stream = f ? f->stream : NO_STREAM;
  s.last_ts_ns = -1;
  SeriesInfo info;
  info.index = s.index;
  info.iface = iface;
  if (f == nullptr) {
    info.key = "all";
  } else {
    // Responder first: "server:port-client:port" reads the same for every connection to one service.
    const FlowKey& k = f->key;
    std::string ea = endpoint(k.ip_version, k.a, k.port_a);
    std::string eb = endpoint(k.ip_version, k.b, k.port_b);
    // A tunnelled connection names its tunnel first ("vni=42/..."): one label per connection series, which
    // is bounded by top-K, so the tunnel adds no series of its own.
    info.key = tunnel_label(k.tunnel) + (f->initiator == 0 ? eb + "-" + ea : ea + "-" + eb);
    flow_state(flow).series = static_cast<uint32_t>(pos);
    flow_series_active_++;
  }
  new_series_.push_back(std::move(info));
  last_iface_pos_ = SIZE_MAX;
  return &s;
}

WindowAggregator::Series* WindowAggregator::iface_series(uint32_t iface) {
  if (last_iface_pos_ != SIZE_MAX && last_iface_ == iface) return &series_[last_iface_pos_];
  for (size_t i = 0; i < series_.size(); i++) {
    Series& s = series_[i];
    if (s.live && s.flow == NO_FLOW && !s.ended && s.iface == iface && s.flow_stream == NO_STREAM) {
      last_iface_ = iface;
      last_iface_pos_ = i;
      return &s;
    }
  }
  if (iface_series_count_ >= MAX_IFACE_SERIES) return nullptr;
  iface_series_count_++;
  new_series(iface, NO_FLOW, nullptr);
  for (size_t i = 0; i < series_.size(); i++) {
    Series& s = series_[i];
    if (s.live && s.flow == NO_FLOW && s.flow_stream == NO_STREAM && s.iface == iface) {
      last_iface_ = iface;
      last_iface_pos_ = i;
      return &s;
    }
  }
  return nullptr;  // unreachable: new_series() just made it
}

void WindowAggregator::account(Series* s, const PacketView& p, const SegmentResult& r) {
  s->size += p.tcp_len;
  s->packets++;
  if (r.retransmission) s->retransmits++;
  s->acked_bytes += r.acked_bytes;
  if (r.ack_rtt_ns > 0) {
    double rtt_ms = static_cast<double>(r.ack_rtt_ns) / NS_PER_MS;
    if (s->rtt_n == 0 || rtt_ms < s->rtt_min_ms) s->rtt_min_ms = rtt_ms;
    s->rtt_sum_ms += rtt_ms;
    s->rtt_n++;
  }
  if (s->last_ts_ns >= 0) {
    // Packets older than the previous one (capture reordering) count as simultaneous.
    double iat = p.ts_ns > s->last_ts_ns ? static_cast<double>(p.ts_ns - s->last_ts_ns) : 0.0;
    s->iat_n++;
    double delta = iat - s->iat_mean_ns;
    s->iat_mean_ns += delta / static_cast<double>(s->iat_n);
    s->iat_m2 += delta * (iat - s->iat_mean_ns);
  }
  if (p.ts_ns > s->last_ts_ns) s->last_ts_ns = p.ts_ns;
}

void WindowAggregator::consider_candidate(uint32_t flow_id, const Flow& f) {
  uint64_t bytes = f.payload_bytes();
  size_t min_pos = 0;
  for (size_t i = 0; i < candidates_.size(); i++) {
    Candidate& c = candidates_[i];
    if (c.flow == flow_id && c.stream == f.stream) {
      c.bytes = bytes;
      return;
    }
    if (c.bytes < candidates_[min_pos].bytes) min_pos = i;
  }
  if (candidates_.size() < config_.top_k) {
    candidates_.push_back(Candidate{flow_id, f.stream, bytes});
  } else if (!candidates_.empty() && candidates_[min_pos].bytes < bytes) {
    candidates_[min_pos] = Candidate{flow_id, f.stream, bytes};
  }
}

void WindowAggregator::promote_candidates() {
  if (candidates_.empty()) return;
  std::sort(candidates_.begin(), candidates_.end(), [](const Candidate& x, const Candidate& y) {
    return x.bytes != y.bytes ? x.bytes > y.bytes : x.stream < y.stream;
  });
  for (const Candidate& c : candidates_) {
    if (flow_series_active_ >= config_.top_k) break;
    const Flow& f = flows_->flow(c.flow);
    if (!f.in_use || f.stream != c.stream || flow_state(c.flow).series != NO_FLOW) continue;
    new_series(f.iface, c.flow, &f);
  }
  candidates_.clear();
}

void WindowAggregator::on_packet(const PacketView& p, uint32_t iface, const SegmentResult& r) {
  const int64_t w = config_.window_ns;
  if (open_end_ns_ == 0) {
    open_end_ns_ = (floor_div(p.ts_ns, w) + 1) * w;
  } else if (p.ts_ns >= open_end_ns_) {
    close_windows(p.ts_ns);
  }
  Series* all = iface_series(iface);
  if (all) account(all, p, r); else counters_->iface_series_full++;
  if (r.flow == NO_FLOW) return;
  const Flow& f = flows_->flow(r.flow);
  FlowState& st = flow_state(r.flow);
  int64_t bif = f.bytes_in_flight();
  if (bif != st.bif_in_sum) {
    Series* owner = iface_series(f.iface);
    if (owner) owner->bif_sum += bif - st.bif_in_sum;
    st.bif_in_sum = bif;
  }
  if (st.series != NO_FLOW) {
    account(&series_[st.series], p, r);
  } else if (flow_series_active_ < config_.top_k && f.payload_bytes() != 0) {
    // A connection that never carried payload (a SYN of a scan, a handshake) is no candidate: K series of
    // empty connections would hold every slot while the scan lasts, and tell nothing about throughput.
    consider_candidate(r.flow, f);
  }
}

void WindowAggregator::flow_ended(uint32_t flow_id, const Flow& f, SeriesEndReason why) {
  FlowState& st = flow_state(flow_id);
  if (st.bif_in_sum != 0) {
    Series* owner = iface_series(f.iface);
    if (owner) owner->bif_sum -= st.bif_in_sum;
  }
  if (st.series != NO_FLOW) {
    Series& s = series_[st.series];
    s.ended = true;
    s.end_reason = why;
    s.prev_bif = static_cast<double>(f.bytes_in_flight());
    s.flow = NO_FLOW;
  }
  st = FlowState{};  // the slot's next connection starts with nothing
}

void WindowAggregator::emit(Series* s, int64_t window_end_ns) {
  const double window_s = static_cast<double>(config_.window_ns) / NS_PER_S;
  WindowRecord rec{};  // a column emit() forgets to set reads 0, never stack garbage
  rec.series = s->index;
  rec.window_end_ns = window_end_ns;
  rec.size = s->size;
  rec.delay = s->rtt_n ? s->rtt_sum_ms / static_cast<double>(s->rtt_n) : (s->has_prev ? s->prev_delay : 0.0);
  if (s->flow_stream == NO_STREAM) {
    rec.bif = static_cast<double>(s->bif_sum);
  } else if (s->flow != NO_FLOW) {
    rec.bif = static_cast<double>(flows_->flow(s->flow).bytes_in_flight());
  } else {
    rec.bif = s->prev_bif;  // connection ended: its last value
  }
  if (s->iat_n >= 1) {
    rec.iat_mean = s->iat_mean_ns / NS_PER_MS;
    rec.iat_std = std::sqrt(std::max(0.0, s->iat_m2 / static_cast<double>(s->iat_n))) / NS_PER_MS;
  } else {
    rec.iat_mean = 0;
    rec.iat_std = 0;
  }
  rec.throughput_mbps = s->size * 8.0 / window_s / 1e6;
  rec.delay_gradient = s->has_prev ? rec.delay - s->prev_delay : 0.0;
  rec.bif_gradient = s->has_prev ? rec.bif - s->prev_bif : 0.0;
  rec.is_silent = s->packets == 0 ? 1.0 : 0.0;
  rec.packets = static_cast<double>(s->packets);
  rec.retransmits = static_cast<double>(s->retransmits);
  rec.min_rtt = s->rtt_n ? s->rtt_min_ms : 0.0;
  rec.acked_bytes = s->acked_bytes;
  out_.push_back(rec);
  counters_->windows_emitted++;

  s->silent_ns = s->packets == 0 ? s->silent_ns + config_.window_ns : 0;
  s->prev_delay = rec.delay;
  s->prev_bif = rec.bif;
  s->has_prev = true;
  s->size = 0;
  s->packets = 0;
  s->retransmits = 0;
  s->acked_bytes = 0;
  s->rtt_sum_ms = 0;
  s->rtt_n = 0;
  s->rtt_min_ms = 0;
  s->last_ts_ns = -1;
  s->iat_n = 0;
  s->iat_mean_ns = 0;
  s->iat_m2 = 0;
}

void WindowAggregator::drop_ended_series() {
  for (Series& s : series_) {
    if (!s.live || s.flow_stream == NO_STREAM) continue;
    if (s.ended || s.silent_ns >= FLOW_SERIES_IDLE_NS) {
      if (s.flow != NO_FLOW) flow_state(s.flow).series = NO_FLOW;
      s.live = false;
      flow_series_active_--;
      // Announced across the boundary, so JS forgets the series at once instead of guessing from its silence.
      ended_series_.push_back(SeriesEnd{s.index, s.ended ? s.end_reason : SeriesEndReason::idle});
      counters_->series_ended++;
    }
  }
}

void WindowAggregator::close_windows(int64_t until_ns) {
  if (open_end_ns_ == 0 || until_ns < open_end_ns_) return;
  const int64_t w = config_.window_ns;
  const int64_t due = (until_ns - open_end_ns_) / w + 1;
  int64_t max_silent = MAX_SILENT_GAP_NS / w;
  if (max_silent < 1) max_silent = 1;
  const int64_t emit_count = due < max_silent + 1 ? due : max_silent + 1;
  for (int64_t k = 0; k < emit_count; k++) {
    int64_t end = open_end_ns_ + k * w;
    for (size_t i = 0; i < series_.size(); i++) {
      if (series_[i].live) emit(&series_[i], end);
    }
    drop_ended_series();
    if (k == 0) promote_candidates();
  }
  open_end_ns_ = (floor_div(until_ns, w) + 1) * w;
}

void WindowAggregator::advance(int64_t now_ns) { close_windows(now_ns); }

void WindowAggregator::finish() {
  if (open_end_ns_ == 0) return;
  for (size_t i = 0; i < series_.size(); i++) {
    if (series_[i].live) emit(&series_[i], open_end_ns_);
  }
  drop_ended_series();
  candidates_.clear();
  open_end_ns_ = 0;
}

// Swapping hands our buffer to the caller and reuses theirs: no allocation per batch in the steady state.
void WindowAggregator::take_windows(std::vector<WindowRecord>* out) {
  out->clear();
  out->swap(out_);
}

void WindowAggregator::take_new_series(std::vector<SeriesInfo>* out) {
  out->clear();
  out->swap(new_series_);
}

void WindowAggregator::take_ended_series(std::vector<SeriesEnd>* out) {
  out->clear();
  out->swap(ended_series_);
}

}  // namespace tcpcast
