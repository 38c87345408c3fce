// Connection table and per-segment TCP analysis: a port of Wireshark 4.0's tcp_analyze_sequence_number()
// (the parts that decide tcp.analysis.ack_rtt, tcp.analysis.bytes_in_flight and retransmissions) plus
// pping's TSval/TSecr RTT, over a bounded open-addressing table (slots made on demand) with LRU idle eviction.
//
// Why a port and not "a cleaner algorithm": the numbers must match tshark 4.0 on real captures, and
// Wireshark's results depend on its exact bookkeeping. In particular:
//  - Each direction keeps an unacked list (segments with data, SYN or FIN). An ACK equal to a segment's
//    end gives an RTT sample measured from that segment's capture time; when several listed segments end
//    there (a retransmission), the OLDEST one wins, because Wireshark walks its newest-first list and
//    overwrites the result at each match. Segments ending at or before the ACK are dropped; an ACK inside
//    a segment trims it. An RTT of exactly 0 is not printed.
//  - Bytes in flight, on segments with payload only: span from the lowest listed seq to the highest listed
//    end (relative to the direction's base seq, unsigned, as Wireshark does), minus the SACKed bytes of the
//    first three SACK blocks of the other direction's last segment; printed when in (0, 2e9), minus 1 on
//    SYN/FIN; not printed after a sequence gap until the other side ACKs (valid_bif).
//  - A SYN with a different ISN on a known 5-tuple starts a new connection (new tcp.stream), as Wireshark's
//    port-reuse logic does; a SYN with the same ISN is a retransmission and restores nextseq.
// All sequence comparisons are modulo 2^32 (GT/LT/LE below are Wireshark's GT_SEQ etc.).
#include "flow_table.h"

#include <cstring>

namespace tcpcast {

namespace {

inline bool seq_gt(uint32_t x, uint32_t y) { return static_cast<int32_t>(y - x) < 0; }
inline bool seq_lt(uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) < 0; }
inline bool seq_le(uint32_t x, uint32_t y) { return static_cast<int32_t>(x - y) <= 0; }

constexpr uint32_t FLAG_KEEP_ALIVE = 1;
constexpr uint32_t FLAG_ZERO_WINDOW_PROBE = 2;
constexpr uint32_t FLAG_KEEP_ALIVE_ACK = 4;
constexpr uint32_t FLAG_ZERO_WINDOW_PROBE_ACK = 8;

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hash_key(const FlowKey& k) {
  uint64_t w[4];
  std::memcpy(&w[0], k.a, 8);
  std::memcpy(&w[1], k.a + 8, 8);
  std::memcpy(&w[2], k.b, 8);
  std::memcpy(&w[3], k.b + 8, 8);
  uint64_t h = 0x9e3779b97f4a7c15ULL ^ (static_cast<uint64_t>(k.ip_version) << 32) ^
               (static_cast<uint64_t>(k.port_a) << 16) ^ k.port_b;
  for (uint64_t x : w) h = mix64(h ^ x) + 0x9e3779b97f4a7c15ULL;
  return mix64(h);
}

inline bool key_eq(const FlowKey& x, const FlowKey& y) {
  return x.ip_version == y.ip_version && x.port_a == y.port_a && x.port_b == y.port_b &&
         std::memcmp(x.a, y.a, 16) == 0 && std::memcmp(x.b, y.b, 16) == 0;
}

// memcmp's byte order over 16 bytes, as two big-endian word compares: inlined, where the memcmp with an
// ordering result was a library call on every packet.
inline int addr_cmp(const uint8_t* x, const uint8_t* y) {
  uint64_t xw[2], yw[2];
  std::memcpy(xw, x, 16);
  std::memcpy(yw, y, 16);
  for (int i = 0; i < 2; i++) {
    uint64_t a = __builtin_bswap64(xw[i]), b = __builtin_bswap64(yw[i]);
    if (a != b) return a < b ? -1 : 1;
  }
  return 0;
}

// Builds the canonical key; returns the direction of the packet (0 when src is endpoint a).
int make_key(const PacketView& p, FlowKey* k) {
  k->ip_version = p.ip_version;
  int c = addr_cmp(p.src, p.dst);
  bool src_first = c < 0 || (c == 0 && p.sport <= p.dport);
  if (src_first) {
    std::memcpy(k->a, p.src, 16);
    std::memcpy(k->b, p.dst, 16);
    k->port_a = p.sport;
    k->port_b = p.dport;
    return 0;
  }
  std::memcpy(k->a, p.dst, 16);
  std::memcpy(k->b, p.src, 16);
  k->port_a = p.dport;
  k->port_b = p.sport;
  return 1;
}

uint64_t next_pow2(uint64_t v) {
  uint64_t p = 16;
  while (p < v) p <<= 1;
  return p;
}

}  // namespace

FlowTable::FlowTable(uint32_t max_flows, int64_t idle_timeout_ns, Counters* counters)
    : max_flows_(max_flows == 0 ? 1 : max_flows),
      index_(static_cast<uint32_t*>(std::calloc(next_pow2(2ull * (max_flows == 0 ? 1 : max_flows)), sizeof(uint32_t)))),
      lru_head_(NO_FLOW),
      lru_tail_(NO_FLOW),
      active_(0),
      next_stream_(0),
      idle_timeout_ns_(idle_timeout_ns),
      segments_total_(0),
      counters_(counters),
      end_hook_(nullptr),
      end_ctx_(nullptr) {
  if (!index_) std::abort();  // as std::vector's allocation failure would, without exceptions
  index_mask_ = next_pow2(2ull * max_flows_) - 1;
  // Slots are created on demand: a 65536-flow table costs memory only when that many flows are live.
  slots_.reserve(max_flows_ < 1024 ? max_flows_ : 1024);
}

uint32_t FlowTable::find(const FlowKey& key, uint64_t hash) const {
  for (uint64_t pos = hash & index_mask_;; pos = (pos + 1) & index_mask_) {
    uint32_t e = index_[pos];
    if (e == 0) return NO_FLOW;
    const Flow& f = slots_[e - 1];
    if (f.hash == hash && key_eq(f.key, key)) return e - 1;
  }
}

void FlowTable::reset_flow(Flow& f) {
  for (FlowDirection& d : f.dir) {
    segments_total_ -= d.unacked.size() - d.unacked_head;
    // Keep the buffer (no allocation in the steady state) unless a burst made it large.
    if (d.unacked.capacity() > 4096) {
      std::vector<UnackedSegment>().swap(d.unacked);
    } else {
      d.unacked.clear();
    }
    d.unacked_head = 0;
    d.unacked_min_off = d.unacked_max_off = 0;
    d.unacked_sorted = true;
    d.base_seq_set = false;
    d.base_seq = d.nextseq = d.maxseqtobeacked = d.lastack = 0;
    d.window = 0xffffffffu;
    d.valid_bif = true;
    d.lastsegmentflags = 0;
    d.num_sack = 0;
    d.payload_bytes = d.packets = 0;
    d.last_bif = 0;
    d.ack_seen = false;
    d.highest_ack = 0;
    d.pending_start = d.pending_count = 0;
    d.have_last_tsval = d.have_last_tsecr = false;
    d.last_tsval = d.last_tsecr = 0;
  }
  f.series = NO_FLOW;
  f.bif_in_sum = 0;
}

uint32_t FlowTable::insert(const FlowKey& key, uint64_t hash, int64_t now_ns) {
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (slots_.size() < max_flows_) {
    id = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();  // value-initialized: empty vectors, zero counters
  } else {
    return NO_FLOW;
  }
  Flow& f = slots_[id];
  f.key = key;
  f.hash = hash;
  f.in_use = true;
  f.first_ns = f.last_ns = now_ns;
  reset_flow(f);
  uint64_t pos = hash & index_mask_;
  while (index_[pos] != 0) pos = (pos + 1) & index_mask_;
  index_[pos] = id + 1;
  lru_push_back(id);
  active_++;
  return id;
}

// Backward-shift deletion keeps probe chains intact without tombstones.
void FlowTable::remove(uint32_t id) {
  Flow& f = slots_[id];
  uint64_t pos = f.hash & index_mask_;
  while (index_[pos] != id + 1) pos = (pos + 1) & index_mask_;
  uint64_t hole = pos;
  for (uint64_t j = (hole + 1) & index_mask_; index_[j] != 0; j = (j + 1) & index_mask_) {
    uint64_t home = slots_[index_[j] - 1].hash & index_mask_;
    // Move j into the hole when its home is not in the cyclic range (hole, j].
    bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_in_range) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = 0;
  lru_unlink(id);
  reset_flow(f);
  f.in_use = false;
  free_.push_back(id);
  active_--;
}

void FlowTable::end_flow(uint32_t id) {
  if (end_hook_) end_hook_(end_ctx_, id, slots_[id]);
}

void FlowTable::lru_unlink(uint32_t id) {
  Flow& f = slots_[id];
  if (f.lru_prev != NO_FLOW) slots_[f.lru_prev].lru_next = f.lru_next; else lru_head_ = f.lru_next;
  if (f.lru_next != NO_FLOW) slots_[f.lru_next].lru_prev = f.lru_prev; else lru_tail_ = f.lru_prev;
  f.lru_prev = f.lru_next = NO_FLOW;
}

void FlowTable::lru_push_back(uint32_t id) {
  Flow& f = slots_[id];
  f.lru_prev = lru_tail_;
  f.lru_next = NO_FLOW;
  if (lru_tail_ != NO_FLOW) slots_[lru_tail_].lru_next = id; else lru_head_ = id;
  lru_tail_ = id;
}

void FlowTable::expire(int64_t now_ns) {
  // Capture time is not monotonic (merged files, clock steps), so only clearly idle flows go.
  while (lru_head_ != NO_FLOW && now_ns - slots_[lru_head_].last_ns > idle_timeout_ns_) {
    uint32_t id = lru_head_;
    end_flow(id);
    remove(id);
    counters_->flows_evicted_idle++;
  }
  counters_->flows_active = active_;
}

bool FlowTable::update(const PacketView& p, uint32_t iface, SegmentResult* r) {
  r->flow = NO_FLOW;
  r->stream = NO_STREAM;
  r->new_connection = false;
  r->retransmission = false;
  r->ack_rtt_ns = -1;
  r->bytes_in_flight = -1;
  r->ts_rtt_ns = -1;
  r->acked_bytes = 0;

  FlowKey key;
  int d = make_key(p, &key);
  r->dir = static_cast<uint8_t>(d);
  uint64_t h = hash_key(key);
  uint32_t id = find(key, h);
  if (id == NO_FLOW) {
    if (free_.empty() && slots_.size() >= max_flows_) expire(p.ts_ns);
    id = insert(key, h, p.ts_ns);
    if (id == NO_FLOW) {
      counters_->flows_table_full++;
      return false;
    }
    Flow& f = slots_[id];
    f.initiator = static_cast<uint8_t>(d);
    f.iface = iface;
    f.stream = next_stream_++;
    r->new_connection = true;
    counters_->flows_created++;
    counters_->flows_active = active_;
  } else {
    Flow& f = slots_[id];
    if (p.ts_ns > f.last_ns) f.last_ns = p.ts_ns;
    if (id != lru_tail_) {  // already the most recent: moving it would leave the list as it is
      lru_unlink(id);
      lru_push_back(id);
    }
  }
  Flow& f = slots_[id];
  FlowDirection& fwd = f.dir[d];

  // Port reuse (Wireshark: a SYN whose seq differs from the direction's base seq is a new conversation).
  if ((p.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && fwd.base_seq_set) {
    if (p.seq != fwd.base_seq) {
      end_flow(id);
      uint32_t iface_keep = iface;
      reset_flow(f);
      f.initiator = static_cast<uint8_t>(d);
      f.iface = iface_keep;
      f.stream = next_stream_++;
      f.first_ns = f.last_ns = p.ts_ns;
      r->new_connection = true;
      counters_->flows_created++;
      counters_->flows_port_reused++;
    } else {
      fwd.nextseq = fwd.maxseqtobeacked;
    }
  }
  if ((p.flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) && fwd.base_seq_set && p.seq != fwd.base_seq) {
    fwd.base_seq = p.seq;
    recompute_bounds(fwd);  // offsets are relative to base_seq
  }
  r->flow = id;
  r->stream = f.stream;

  FlowDirection& rev = f.dir[1 - d];
  fwd.num_sack = 0;
  if (!fwd.base_seq_set) {
    fwd.base_seq = (p.flags & TCP_SYN) ? p.seq : p.seq - 1;
    fwd.base_seq_set = true;
  }
  if (!rev.base_seq_set && (p.flags & TCP_ACK)) {
    rev.base_seq = p.ack - 1;
    rev.base_seq_set = true;
  }

  analyze(f, d, p, r);

  // SACK blocks are stored after the analysis (Wireshark dissects options afterwards), so they affect the
  // other direction's next bytes-in-flight value. Wireshark keeps only the first three.
  uint8_t n = p.sack_count > 3 ? 3 : p.sack_count;
  for (uint8_t i = 0; i < n; i++) {
    fwd.sack_left[i] = p.sack_left[i];
    fwd.sack_right[i] = p.sack_right[i];
  }
  fwd.num_sack = n;

  if (p.has_ts) ts_rtt(f, d, p, r);

  // acked_bytes: how far this ACK moves the direction's cumulative ACK forward. The first one only sets the
  // baseline (so the SYN is never counted); one that does not move it forward counts 0.
  if (p.flags & TCP_ACK) {
    if (!fwd.ack_seen) {
      fwd.ack_seen = true;
      fwd.highest_ack = p.ack;
    } else if (seq_gt(p.ack, fwd.highest_ack)) {
      r->acked_bytes = p.ack - fwd.highest_ack;
      fwd.highest_ack = p.ack;
    }
  }
  fwd.packets++;
  fwd.payload_bytes += p.tcp_len;
  if (r->retransmission) counters_->retransmissions++;
  if (r->ack_rtt_ns >= 0) counters_->ack_rtt_samples++;
  if (r->ts_rtt_ns >= 0) counters_->ts_rtt_samples++;
  if (r->bytes_in_flight >= 0) fwd.last_bif = r->bytes_in_flight;
  return true;
}

void FlowTable::analyze(Flow& f, int d, const PacketView& p, SegmentResult* r) {
  FlowDirection& fwd = f.dir[d];
  FlowDirection& rev = f.dir[1 - d];
  const uint32_t seq = p.seq;
  const uint32_t ack = p.ack;
  const uint32_t seglen = p.tcp_len;
  const uint16_t flags = p.flags;
  const uint32_t window = p.window;
  const bool syn_fin_rst = (flags & (TCP_SYN | TCP_FIN | TCP_RST)) != 0;
  uint32_t seg_flags = 0;

  if (flags & TCP_ACK) rev.valid_bif = true;

  if (seglen == 1 && seq == fwd.nextseq && rev.window == 0) {
    seg_flags |= FLAG_ZERO_WINDOW_PROBE;
    goto finished_fwd;
  }
  // A gap: a segment was not captured; bytes in flight is unreliable until the other side ACKs again.
  if (fwd.nextseq && seq_gt(seq, fwd.nextseq) && !(flags & TCP_RST)) fwd.valid_bif = false;
  if (seglen <= 1 && seq == fwd.nextseq - 1 && !syn_fin_rst) seg_flags |= FLAG_KEEP_ALIVE;
  if (seglen == 0 && window && window == fwd.window && seq == fwd.nextseq && ack == fwd.lastack &&
      (rev.lastsegmentflags & FLAG_KEEP_ALIVE) && !syn_fin_rst) {
    seg_flags |= FLAG_KEEP_ALIVE_ACK;
    goto finished_fwd;
  }
  if (seglen == 0 && window == 0 && window == fwd.window && seq == fwd.nextseq && ack == fwd.lastack &&
      (rev.lastsegmentflags & FLAG_ZERO_WINDOW_PROBE) && !syn_fin_rst) {
    seg_flags |= FLAG_ZERO_WINDOW_PROBE_ACK;
    goto finished_fwd;
  }

finished_fwd:
  // An ACK beyond what the other side has sent contiguously: move its "max seq to be acked" forward.
  if (rev.maxseqtobeacked && seq_gt(ack, rev.maxseqtobeacked) && (flags & TCP_ACK)) {
    if (seq_lt(rev.maxseqtobeacked, rev.nextseq)) rev.maxseqtobeacked = rev.nextseq;
  }

  // Retransmission: data (or SYN/FIN) that does not advance the sequence space. Wireshark splits these into
  // retransmission, fast retransmission, spurious retransmission and out-of-order; we flag all of them.
  if ((seglen > 0 || (flags & (TCP_SYN | TCP_FIN))) && !(seg_flags & FLAG_KEEP_ALIVE)) {
    bool seq_not_advanced = fwd.nextseq && seq_lt(seq, fwd.nextseq);
    if (seglen > 1 && fwd.nextseq - 1 == seq) seq_not_advanced = false;
    bool spurious = seglen > 0 && rev.lastack && seq_le(seq + seglen, rev.lastack);
    r->retransmission = spurious || seq_not_advanced;
  }

  {
    uint32_t nextseq = seq + seglen;
    if (seglen || (flags & (TCP_SYN | TCP_FIN))) {
      uint32_t listed = static_cast<uint32_t>(fwd.unacked.size() - fwd.unacked_head);
      if (listed < MAX_UNACKED_PER_DIRECTION) {
        // Wireshark adds the SYN/FIN byte only for segments it lists (a quirk kept for identical nextseq).
        if (flags & (TCP_SYN | TCP_FIN)) nextseq += 1;
        if (segments_total_ < MAX_UNACKED_TOTAL) {
          push_unacked(fwd, UnackedSegment{seq, nextseq, p.ts_ns});
        } else {
          counters_->segments_dropped++;
        }
      }
    }
    if ((seq_gt(nextseq, fwd.nextseq) || !fwd.nextseq) && !(seg_flags & FLAG_ZERO_WINDOW_PROBE)) {
      fwd.nextseq = nextseq;
    }
    if ((seq == fwd.maxseqtobeacked || !fwd.maxseqtobeacked) && !(seg_flags & FLAG_ZERO_WINDOW_PROBE)) {
      fwd.maxseqtobeacked = fwd.nextseq;
    }
  }
  fwd.window = window;
  fwd.lastack = ack;
  fwd.lastsegmentflags = seg_flags;

  // Wireshark uses the ACK field whether or not the ACK flag is set.
  process_acks(rev, ack, p.ts_ns, r);

  if (seglen != 0 && fwd.unacked.size() > fwd.unacked_head && fwd.valid_bif) {
    uint32_t in_flight = fwd.unacked_max_off - fwd.unacked_min_off;
    for (uint8_t i = 0; i < rev.num_sack; i++) in_flight -= rev.sack_right[i] - rev.sack_left[i];
    if (in_flight > 0 && in_flight < 2000000000u) {
      // The SYN/FIN "byte" is virtual.
      if (flags & (TCP_SYN | TCP_FIN)) in_flight -= 1;
      if (in_flight != 0) r->bytes_in_flight = in_flight;
    }
  }
}

void FlowTable::push_unacked(FlowDirection& d, const UnackedSegment& seg) {
  uint32_t lo = seg.seq - d.base_seq;
  uint32_t hi = seg.nextseq - d.base_seq;
  if (d.unacked.size() == d.unacked_head) {
    d.unacked_min_off = lo;
    d.unacked_max_off = hi;
    d.unacked_sorted = true;
  } else {
    if (seq_lt(seg.seq, d.unacked.back().nextseq)) d.unacked_sorted = false;
    if (lo < d.unacked_min_off) d.unacked_min_off = lo;
    if (hi > d.unacked_max_off) d.unacked_max_off = hi;
  }
  d.unacked.push_back(seg);
  segments_total_++;
}

void FlowTable::recompute_bounds(FlowDirection& d) {
  const UnackedSegment* s = d.unacked.data() + d.unacked_head;
  const UnackedSegment* e = d.unacked.data() + d.unacked.size();
  if (s == e) return;
  // In order and not straddling the 2^32 offset boundary: the first segment starts lowest, the last ends highest.
  if (d.unacked_sorted) {
    uint32_t lo = s->seq - d.base_seq;
    uint32_t hi = (e - 1)->nextseq - d.base_seq;
    if (lo <= hi) {
      d.unacked_min_off = lo;
      d.unacked_max_off = hi;
      return;
    }
  }
  uint32_t lo = s->seq - d.base_seq;
  uint32_t hi = s->nextseq - d.base_seq;
  for (; s != e; ++s) {
    uint32_t a = s->seq - d.base_seq;
    uint32_t b = s->nextseq - d.base_seq;
    if (a < lo) lo = a;
    if (b > hi) hi = b;
  }
  d.unacked_min_off = lo;
  d.unacked_max_off = hi;
}

// Removes what this ACK acknowledges from the other direction's unacked list and finds the RTT sample.
void FlowTable::process_acks(FlowDirection& rev, uint32_t ack, int64_t ts_ns, SegmentResult* r) {
  std::vector<UnackedSegment>& v = rev.unacked;
  size_t head = rev.unacked_head;
  size_t n = v.size();
  if (head == n) return;
  bool matched = false;
  int64_t sent_ns = 0;
  size_t w = head;
  size_t removed = 0;
  bool trimmed = false;
  // ACKs usually remove a prefix, so compaction starts at the first kept segment.
  bool prefix = true;
  size_t i = head;
  for (; i < n; i++) {
    UnackedSegment s = v[i];
    // In a sorted list, a segment starting at or after the ACK is untouched, and so is everything after it.
    if (rev.unacked_sorted && seq_le(ack, s.seq)) break;
    bool drop;
    if (ack == s.nextseq) {
      if (!matched) {
        matched = true;
        sent_ns = s.ts_ns;
      }
      drop = true;
    } else if (seq_gt(ack, s.seq) && seq_le(ack, s.nextseq)) {
      s.seq = ack;  // partially acknowledged: trim
      trimmed = true;
      drop = false;
    } else if (seq_gt(s.nextseq, ack)) {
      drop = false;
    } else {
      drop = true;
    }
    if (drop) {
      removed++;
      if (prefix) w = i + 1;
      continue;
    }
    prefix = false;
    v[w++] = s;
  }
  if (removed) {
    // Either a prefix went (w advanced with it) or the survivors were compacted to [head', w); the untouched
    // tail [i, n) moves down behind them.
    size_t kept = i - head - removed;
    size_t new_head = w - kept;
    if (w != i) {
      for (size_t j = i; j < n; j++) v[w++] = v[j];
      v.resize(w);
    }
    rev.unacked_head = static_cast<uint32_t>(new_head);
    segments_total_ -= removed;
  }
  if (rev.unacked_head == v.size()) {
    v.clear();
    rev.unacked_head = 0;
    rev.unacked_sorted = true;
    // Everything outstanding is acknowledged: nothing is in flight, although tshark (which only reports
    // BIF on data segments) keeps showing its last value. The window feature uses this truer zero.
    if (removed) rev.last_bif = 0;
  } else {
    if (rev.unacked_head > 256 && rev.unacked_head * 2 > v.size()) {
      v.erase(v.begin(), v.begin() + rev.unacked_head);
      rev.unacked_head = 0;
    }
    if (removed || trimmed) recompute_bounds(rev);
  }
  if (matched) {
    int64_t rtt = ts_ns - sent_ns;
    if (rtt != 0) r->ack_rtt_ns = rtt;
  }
}

// pping: the first time a TSval is seen in one direction is remembered; the first TSecr equal to it from the
// other direction gives one RTT sample. Later packets echoing the same value are not samples (they measure
// the time since the first echo, not the path).
void FlowTable::ts_rtt(Flow& f, int d, const PacketView& p, SegmentResult* r) {
  FlowDirection& fwd = f.dir[d];
  FlowDirection& rev = f.dir[1 - d];
  if (p.tsecr != 0 && (!fwd.have_last_tsecr || fwd.last_tsecr != p.tsecr)) {
    fwd.have_last_tsecr = true;
    fwd.last_tsecr = p.tsecr;
    for (uint8_t i = 0; i < rev.pending_count; i++) {
      const PendingTsval& e = rev.pending[(rev.pending_start + i) % TS_PENDING];
      if (e.tsval == p.tsecr) {
        int64_t rtt = p.ts_ns - e.first_seen_ns;
        if (rtt >= 0) r->ts_rtt_ns = rtt;
        // Older TSvals can no longer be the first echo of anything useful: drop them with the match.
        rev.pending_start = static_cast<uint8_t>((rev.pending_start + i + 1) % TS_PENDING);
        rev.pending_count = static_cast<uint8_t>(rev.pending_count - i - 1);
        break;
      }
    }
  }
  if (!fwd.have_last_tsval || fwd.last_tsval != p.tsval) {
    fwd.have_last_tsval = true;
    fwd.last_tsval = p.tsval;
    if (fwd.pending_count == TS_PENDING) {
      fwd.pending_start = static_cast<uint8_t>((fwd.pending_start + 1) % TS_PENDING);
      fwd.pending_count--;
    }
    fwd.pending[(fwd.pending_start + fwd.pending_count) % TS_PENDING] = PendingTsval{p.tsval, p.ts_ns};
    fwd.pending_count++;
  }
}

}  // namespace tcpcast
