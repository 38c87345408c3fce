// The connection table: both directions of a TCP connection in one entry (pping style), a bounded open-addressing
// index (slots made on demand), LRU idle eviction, port reuse, and the per-segment driver that runs the Wireshark
// sequence analysis (seq_analysis.cc) and pping's timestamp RTT (ts_rtt.cc) on each segment.
#include "flow_table.h"

#include <cstring>

namespace tcpcast {

namespace {

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
  if (k.tunnel.type) {
    // Tunnelled: the tunnel identity too (outer addresses only hash when set, i.e. unkeyed tunnels).
    h = mix64(h ^ ((uint64_t{k.tunnel.type} << 40) | (uint64_t{k.tunnel.outer_version} << 32) | k.tunnel.id));
    if (k.tunnel.outer_version) {
      std::memcpy(&w[0], k.tunnel.outer_a, 8);
      std::memcpy(&w[1], k.tunnel.outer_a + 8, 8);
      std::memcpy(&w[2], k.tunnel.outer_b, 8);
      std::memcpy(&w[3], k.tunnel.outer_b + 8, 8);
      for (uint64_t x : w) h = mix64(h ^ x) + 0x9e3779b97f4a7c15ULL;
    }
  }
  return mix64(h);
}

inline bool tunnel_eq(const TunnelId& x, const TunnelId& y) {
  return x.type == y.type && x.outer_version == y.outer_version && x.id == y.id &&
         std::memcmp(x.outer_a, y.outer_a, 16) == 0 && std::memcmp(x.outer_b, y.outer_b, 16) == 0;
}

inline bool key_eq(const FlowKey& x, const FlowKey& y) {
  return x.ip_version == y.ip_version && x.port_a == y.port_a && x.port_b == y.port_b &&
         std::memcmp(x.a, y.a, 16) == 0 && std::memcmp(x.b, y.b, 16) == 0 && tunnel_eq(x.tunnel, y.tunnel);
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
  k->tunnel = p.tunnel;
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

FlowTable::FlowTable(uint32_t max_flows, int64_t idle_timeout_ns, Counters* counters, int64_t half_open_timeout_ns)
    : max_flows_(max_flows == 0 ? 1 : max_flows),
      index_(static_cast<uint32_t*>(std::calloc(next_pow2(2ull * (max_flows == 0 ? 1 : max_flows)), sizeof(uint32_t)))),
      lru_head_{NO_FLOW, NO_FLOW},
      lru_tail_{NO_FLOW, NO_FLOW},
      active_(0),
      next_stream_(0),
      idle_timeout_ns_(idle_timeout_ns),
      half_open_timeout_ns_(half_open_timeout_ns),
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
  lru_push_back(id, HALF_OPEN);
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

void FlowTable::end_flow(uint32_t id, SeriesEndReason why) {
  if (end_hook_) end_hook_(end_ctx_, id, slots_[id], why);
}

void FlowTable::lru_unlink(uint32_t id) {
  Flow& f = slots_[id];
  uint8_t l = f.lru_list;
  if (f.lru_prev != NO_FLOW) slots_[f.lru_prev].lru_next = f.lru_next; else lru_head_[l] = f.lru_next;
  if (f.lru_next != NO_FLOW) slots_[f.lru_next].lru_prev = f.lru_prev; else lru_tail_[l] = f.lru_prev;
  f.lru_prev = f.lru_next = NO_FLOW;
}

void FlowTable::lru_push_back(uint32_t id, uint8_t list) {
  Flow& f = slots_[id];
  f.lru_list = list;
  f.lru_prev = lru_tail_[list];
  f.lru_next = NO_FLOW;
  if (lru_tail_[list] != NO_FLOW) slots_[lru_tail_[list]].lru_next = id; else lru_head_[list] = id;
  lru_tail_[list] = id;
}

void FlowTable::evict(uint32_t id, uint64_t* counter) {
  end_flow(id, SeriesEndReason::evicted);
  remove(id);
  (*counter)++;
}

void FlowTable::expire(int64_t now_ns) {
  // Capture time is not monotonic (merged files, clock steps), so only clearly idle flows go.
  while (lru_head_[HALF_OPEN] != NO_FLOW && now_ns - slots_[lru_head_[HALF_OPEN]].last_ns > half_open_timeout_ns_) {
    evict(lru_head_[HALF_OPEN], &counters_->flows_evicted_half_open);
  }
  while (lru_head_[ESTABLISHED] != NO_FLOW && now_ns - slots_[lru_head_[ESTABLISHED]].last_ns > idle_timeout_ns_) {
    evict(lru_head_[ESTABLISHED], &counters_->flows_evicted_idle);
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
    if (free_.empty() && slots_.size() >= max_flows_) {
      expire(p.ts_ns);
      // Still full: the oldest connection that never carried data gives way (conntrack's early drop), so a
      // flood of SYNs cannot keep a real connection out of the table.
      if (free_.empty() && lru_head_[HALF_OPEN] != NO_FLOW) evict(lru_head_[HALF_OPEN], &counters_->flows_evicted_half_open);
    }
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
    if (id != lru_tail_[f.lru_list]) {  // already the most recent: moving it would leave the list as it is
      uint8_t list = f.lru_list;
      lru_unlink(id);
      lru_push_back(id, list);
    }
  }
  Flow& f = slots_[id];
  FlowDirection& fwd = f.dir[d];

  // Port reuse (Wireshark: a SYN whose seq differs from the direction's base seq is a new conversation).
  if ((p.flags & (TCP_SYN | TCP_ACK)) == TCP_SYN && fwd.base_seq_set) {
    if (p.seq != fwd.base_seq) {
      end_flow(id, SeriesEndReason::port_reused);
      uint32_t iface_keep = iface;
      reset_flow(f);
      f.initiator = static_cast<uint8_t>(d);
      f.iface = iface_keep;
      f.stream = next_stream_++;
      f.first_ns = f.last_ns = p.ts_ns;
      lru_unlink(id);
      lru_push_back(id, HALF_OPEN);  // the new connection has carried nothing yet
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
  if (p.tcp_len != 0 && f.lru_list == HALF_OPEN) {
    lru_unlink(id);
    lru_push_back(id, ESTABLISHED);
  }
  if (r->retransmission) counters_->retransmissions++;
  if (r->ack_rtt_ns >= 0) counters_->ack_rtt_samples++;
  if (r->ts_rtt_ns >= 0) counters_->ts_rtt_samples++;
  if (r->bytes_in_flight >= 0) fwd.last_bif = r->bytes_in_flight;
  return true;
}

}  // namespace tcpcast
