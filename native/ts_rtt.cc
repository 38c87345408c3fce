// pping's RTT from TCP timestamps (TSval seen in one direction, first equal TSecr from the other), run by FlowTable::update().
#include "flow_table.h"

namespace tcpcast {

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
