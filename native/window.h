// Fixed time windows over capture time: one series per interface ("all") and one per top-K connection,
// closed into WindowRecords (definitions: docs/features.md).
#pragma once

#include <cstdint>
#include <vector>

#include "engine.h"
#include "flow_table.h"
#include "types.h"

namespace tcpcast {

// Longest run of silent windows emitted for one series in one step of capture time; a longer gap
// (e.g. hours between two packets of a file) leaves a hole instead of millions of empty windows.
constexpr int64_t MAX_SILENT_GAP_NS = 60 * NS_PER_S;
// A connection series ends after this much silence; its slot goes to another connection.
constexpr int64_t FLOW_SERIES_IDLE_NS = 2 * NS_PER_S;
// Interface ("all") series never end, so their number is bounded: a file with garbage SLL2 ifindex values
// must not create a series per packet. Packets of further interfaces are counted (iface_series_full).
constexpr uint32_t MAX_IFACE_SERIES = 64;

class WindowAggregator {
 public:
  WindowAggregator(const EngineConfig& config, FlowTable* flows, Counters* counters);

  // After the flow table has seen the packet (result->flow may be NO_FLOW: untracked).
  void on_packet(const PacketView& p, uint32_t iface, const SegmentResult& r);
  // Closes every window ending at or before now_ns.
  void advance(int64_t now_ns);
  // Closes the open window of every series.
  void finish();
  // The flow table is about to drop this connection (why: evicted or port_reused).
  void flow_ended(uint32_t flow_id, const Flow& flow, SeriesEndReason why);

  void take_windows(std::vector<WindowRecord>* out);
  void take_new_series(std::vector<SeriesInfo>* out);
  // Series that ended since the last call, each after its last window was emitted.
  void take_ended_series(std::vector<SeriesEnd>* out);

 private:
  struct Series {
    bool live;
    uint32_t index;           // SeriesInfo.index
    uint32_t iface;
    uint32_t flow;            // NO_FLOW for "all"
    uint32_t flow_stream;
    bool ended;               // connection gone: emit the open window, then drop the series
    SeriesEndReason end_reason;
    int64_t bif_sum;          // "all": summed BIF of the interface's live connections
    int64_t silent_ns;        // current run of silent windows
    // Open window accumulators.
    double size;
    uint64_t packets;
    uint64_t retransmits;
    double acked_bytes;
    double rtt_sum_ms;
    uint64_t rtt_n;
    double rtt_min_ms;
    int64_t last_ts_ns;       // previous packet of this series in the open window (-1: none)
    uint64_t iat_n;
    double iat_mean_ns;       // Welford running mean / M2 of inter-arrival times
    double iat_m2;
    // Carried between windows.
    double prev_delay;
    double prev_bif;
    bool has_prev;
  };
  // What the window module keeps per connection, indexed by flow slot id (the flow table knows nothing of it).
  struct FlowState {
    uint32_t series = NO_FLOW;  // this connection's series slot, or NO_FLOW
    int64_t bif_in_sum = 0;     // what it currently contributes to its interface's summed BIF
  };
  struct Candidate {
    uint32_t flow;
    uint32_t stream;
    uint64_t bytes;
  };

  Series* iface_series(uint32_t iface);
  Series* new_series(uint32_t iface, uint32_t flow, const Flow* f);
  void account(Series* s, const PacketView& p, const SegmentResult& r);
  void emit(Series* s, int64_t window_end_ns);
  void close_windows(int64_t until_ns);
  void promote_candidates();
  void consider_candidate(uint32_t flow_id, const Flow& f);
  void drop_ended_series();
  FlowState& flow_state(uint32_t flow_id) {
    if (flow_id >= flow_state_.size()) flow_state_.resize(flow_id + 1);
    return flow_state_[flow_id];
  }

  EngineConfig config_;
  FlowTable* flows_;
  Counters* counters_;
  std::vector<Series> series_;      // slots (interfaces + at most top_k connections); FlowState.series is a slot
  std::vector<FlowState> flow_state_;  // by flow slot id; grows with the table's peak, reset when a flow ends
  uint32_t flow_series_active_;
  uint32_t next_index_;
  int64_t open_end_ns_;             // exclusive end of the open window; 0 before the first packet
  std::vector<Candidate> candidates_;
  std::vector<WindowRecord> out_;
  std::vector<SeriesInfo> new_series_;
  std::vector<SeriesEnd> ended_series_;
  uint32_t iface_series_count_;
  uint32_t last_iface_;             // cache for iface_series()
  size_t last_iface_pos_;
};

}  // namespace tcpcast
