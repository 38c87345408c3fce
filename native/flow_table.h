// The connection table: one entry per TCP connection with both directions (pping style), Wireshark-compatible
// sequence analysis (ack RTT, bytes in flight, retransmissions) and the TCP-timestamp RTT, bounded in memory.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "packet.h"
#include "types.h"

namespace tcpcast {

// Sequence comparisons modulo 2^32 (Wireshark's GT_SEQ, LT_SEQ, LE_SEQ): the sequence analysis and acked_bytes.
inline bool seq_gt(uint32_t x, uint32_t y) { return static_cast<int32_t>(y - x) < 0; }
inline bool seq_lt(uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) < 0; }
inline bool seq_le(uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) <= 0; }

constexpr uint32_t NO_FLOW = 0xffffffffu;
constexpr uint32_t NO_STREAM = 0xffffffffu;

// Wireshark keeps at most this many unacked segments per direction (TCP_MAX_UNACKED_SEGMENTS); we do too,
// so that bytes in flight agree when ACKs are not captured.
constexpr uint32_t MAX_UNACKED_PER_DIRECTION = 10000;
// Bound on unacked segments summed over all flows (16 bytes each: 64 MiB). Beyond it, new segments are
// not remembered (counted in Counters::segments_dropped) -- only a capture without ACKs can get here.
constexpr uint64_t MAX_UNACKED_TOTAL = 4u << 20;
// TSval values remembered per direction while waiting for their echo (pping's "timestamp table").
constexpr int TS_PENDING = 8;

// Canonical 5-tuple: endpoint a is the smaller (address, port) pair, so both directions share one key.
// The tunnel the connection was found in is part of it (packet.h TunnelId): same 4-tuple, other VNI = other flow.
struct FlowKey {
  uint8_t ip_version;
  uint8_t a[16];
  uint8_t b[16];
  uint16_t port_a;
  uint16_t port_b;
  TunnelId tunnel;
};

struct UnackedSegment {
  uint32_t seq;
  uint32_t nextseq;  // seq + len (+1 for SYN/FIN)
  int64_t ts_ns;
};

struct PendingTsval {
  uint32_t tsval;
  int64_t first_seen_ns;
};

// One direction of a connection. The first block mirrors Wireshark's tcp_flow_t/tcp_analyze_seq_flow_info_t
// (same names, same "0 means unknown" quirks), because bytes in flight and ack RTT must match tshark.
struct FlowDirection {
  bool base_seq_set;
  uint32_t base_seq;
  uint32_t nextseq;          // highest seq + len seen (0 = none yet, as in Wireshark)
  uint32_t maxseqtobeacked;
  uint32_t lastack;
  uint32_t window;           // raw window of the last segment; 0xffffffff before the first
  bool valid_bif;            // cleared by a sequence gap, set again by an ACK from the other side
  uint32_t lastsegmentflags; // keep-alive / zero-window-probe flags of the last segment
  uint8_t num_sack;          // SACK blocks of the last segment of this direction (Wireshark keeps 3)
  uint32_t sack_left[3];
  uint32_t sack_right[3];
  std::vector<UnackedSegment> unacked;  // insertion order; live part is [unacked_head, size)
  uint32_t unacked_head;
  // Kept so that neither bytes in flight nor an ACK costs a walk over the whole list in the common case:
  // the smallest start and largest end offset from base_seq (unsigned, as Wireshark compares them), and
  // whether the list is in sequence order without overlaps (then an ACK stops at the first segment after it).
  uint32_t unacked_min_off;
  uint32_t unacked_max_off;
  bool unacked_sorted;

  // Our own bookkeeping.
  uint64_t payload_bytes;
  uint64_t packets;
  int64_t last_bif;          // last bytes-in-flight value reported for this direction; 0 before any and
                             // after an ACK that acknowledges everything outstanding
  bool ack_seen;             // acked_bytes (docs/features.md): this direction has sent an ACK, and
  uint32_t highest_ack;      // the highest cumulative ACK it sent so far (modulo 2^32)
  // pping: TSvals seen in this direction waiting for their echo as TSecr from the other direction.
  PendingTsval pending[TS_PENDING];
  uint8_t pending_start;
  uint8_t pending_count;
  bool have_last_tsval;
  uint32_t last_tsval;
  bool have_last_tsecr;
  uint32_t last_tsecr;       // last TSecr matched (or tried) from this direction: later equal ones are not samples
};

struct Flow {
  FlowKey key;
  uint64_t hash;
  bool in_use;
  uint8_t initiator;         // direction index (0: a->b, 1: b->a) of the endpoint that opened the connection
  uint32_t stream;           // tcp.stream
  uint32_t iface;            // caller's interface id of the first packet
  int64_t first_ns;
  int64_t last_ns;
  uint32_t lru_prev;         // idle-eviction list (lru_list), least recently seen first
  uint32_t lru_next;
  uint8_t lru_list;          // HALF_OPEN until a packet carries payload, then ESTABLISHED
  FlowDirection dir[2];

  uint64_t payload_bytes() const { return dir[0].payload_bytes + dir[1].payload_bytes; }
  // Data direction: the one that sent more payload; its last BIF is the connection's bytes in flight.
  int64_t bytes_in_flight() const {
    return dir[0].payload_bytes >= dir[1].payload_bytes ? dir[0].last_bif : dir[1].last_bif;
  }
};

// The two eviction lists: connections that never carried payload (a SYN scan, a handshake in progress) time
// out after half_open_timeout_ns and give way first when the table is full; the others after idle_timeout_ns.
constexpr uint8_t HALF_OPEN = 0;
constexpr uint8_t ESTABLISHED = 1;
// As Linux conntrack treats unreplied/unassured entries: short, so a scan cannot hold the table for a minute.
constexpr int64_t DEFAULT_HALF_OPEN_TIMEOUT_NS = 5 * NS_PER_S;

// What the table learned from one segment.
struct SegmentResult {
  uint32_t flow;             // slot id, stable while the flow lives; NO_FLOW when not tracked
  uint32_t stream;
  uint8_t dir;               // 0: a->b, 1: b->a
  bool new_connection;       // first packet of this connection (new slot or port reuse)
  bool retransmission;
  int64_t ack_rtt_ns;        // -1 when tshark prints nothing
  int64_t bytes_in_flight;   // -1 when tshark prints nothing
  int64_t ts_rtt_ns;         // -1 when no TSecr matched
  uint32_t acked_bytes;      // sequence space this ACK newly acknowledges (0 for the direction's first ACK)
};

// Told about every connection that leaves the table (idle eviction, or replaced by a new one on port reuse)
// before its slot is reused.
using FlowEndHook = void (*)(void* ctx, uint32_t flow_id, const Flow& flow, SeriesEndReason why);

class FlowTable {
 public:
  FlowTable(uint32_t max_flows, int64_t idle_timeout_ns, Counters* counters,
            int64_t half_open_timeout_ns = DEFAULT_HALF_OPEN_TIMEOUT_NS);
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  void set_end_hook(FlowEndHook hook, void* ctx) {
    end_hook_ = hook;
    end_ctx_ = ctx;
  }

  // Runs one TCP segment through the table. Returns false (and result->flow == NO_FLOW) when the
  // table is full: before giving up it evicts idle flows, then the oldest half-open connection.
  bool update(const PacketView& pkt, uint32_t iface, SegmentResult* result);

  // Evicts half-open connections not seen for half_open_timeout_ns before now_ns, and the others not seen for
  // idle_timeout_ns. Costs O(evicted): each list is in last-seen order.
  void expire(int64_t now_ns);

  const Flow& flow(uint32_t id) const { return slots_[id]; }
  Flow& flow(uint32_t id) { return slots_[id]; }
  uint32_t active() const { return active_; }

 private:
  uint32_t find(const FlowKey& key, uint64_t hash) const;
  uint32_t insert(const FlowKey& key, uint64_t hash, int64_t now_ns);
  void remove(uint32_t id);
  void end_flow(uint32_t id, SeriesEndReason why);
  void reset_flow(Flow& f);
  void lru_unlink(uint32_t id);
  void lru_push_back(uint32_t id, uint8_t list);
  void evict(uint32_t id, uint64_t* counter);
  void analyze(Flow& f, int d, const PacketView& p, SegmentResult* r);
  void process_acks(FlowDirection& rev, uint32_t ack, int64_t ts_ns, SegmentResult* r);
  void ts_rtt(Flow& f, int d, const PacketView& p, SegmentResult* r);
  void push_unacked(FlowDirection& dir, const UnackedSegment& seg);
  static void recompute_bounds(FlowDirection& dir);

  std::vector<Flow> slots_;       // grows up to max_flows_ as the peak number of flows grows, never shrinks
  uint32_t max_flows_;
  struct FreeDeleter {
    void operator()(uint32_t* p) const { std::free(p); }
  };
  // Open addressing, linear probing; slot id + 1, 0 = empty. calloc'd: sized for max_flows up front, but its
  // zero pages only become memory where flows hash to (std::vector's zero fill touched all of it: 512 KiB).
  std::unique_ptr<uint32_t[], FreeDeleter> index_;
  uint64_t index_mask_;
  std::vector<uint32_t> free_;    // free slot ids
  uint32_t lru_head_[2];          // by lru_list
  uint32_t lru_tail_[2];
  uint32_t active_;
  uint32_t next_stream_;
  int64_t idle_timeout_ns_;
  int64_t half_open_timeout_ns_;
  uint64_t segments_total_;
  Counters* counters_;
  FlowEndHook end_hook_;
  void* end_ctx_;
};

}  // namespace tcpcast
