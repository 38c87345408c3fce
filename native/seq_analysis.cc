// Per-segment TCP analysis: a port of Wireshark 4.0's tcp_analyze_sequence_number() (the parts that decide
// tcp.analysis.ack_rtt, tcp.analysis.bytes_in_flight and retransmissions), run by FlowTable::update().
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

namespace tcpcast {

namespace {

constexpr uint32_t FLAG_KEEP_ALIVE = 1;
constexpr uint32_t FLAG_ZERO_WINDOW_PROBE = 2;
constexpr uint32_t FLAG_KEEP_ALIVE_ACK = 4;
constexpr uint32_t FLAG_ZERO_WINDOW_PROBE_ACK = 8;

}  // namespace

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

}  // namespace tcpcast
