// Flow-table tests through the Engine on hand-made TCP conversations: stream numbering and port reuse,
// ack RTT (cumulative, partial, duplicate ACKs, retransmissions, SYN/SYN-ACK), bytes in flight with SACK,
// sequence wraparound, retransmission flags, TSval/TSecr RTT, idle eviction and the table bound.
// Expected values are derived here from the segments sent, following Wireshark 4.0's rules.
#include "../engine.h"
#include "../packet.h"
#include "harness.h"

using namespace tcpcast;
using tt::Seg;

namespace {

constexpr int64_t T0 = 1700000000 * NS_PER_S;

struct Conv {
  Engine engine;
  Seg c2s;  // client -> server template
  Seg s2c;
  explicit Conv(EngineConfig cfg = config()) : engine(cfg) {
    c2s = Seg();
    s2c = tt::reversed(c2s);
  }
  static EngineConfig config() {
    EngineConfig c;
    c.per_packet = true;
    return c;
  }
  PacketRecord send(const Seg& s, int64_t ts_ns, uint32_t iface = 0) {
    tt::Bytes f = tt::eth_frame(s);
    PacketRecord r;
    std::memset(&r, 0xee, sizeof r);
    bool got = engine.process(LINK_EN10MB, f.data(), static_cast<uint32_t>(f.size()),
                              static_cast<uint32_t>(f.size()), ts_ns, iface, &r);
    CHECK(got);
    return r;
  }
  // Client data segment.
  PacketRecord data(uint32_t seq, uint32_t len, uint32_t ack, int64_t ts_ns) {
    Seg s = c2s;
    s.seq = seq;
    s.payload = len;
    s.ack = ack;
    s.flags = TCP_ACK | TCP_PSH;
    return send(s, ts_ns);
  }
  // Server ACK, optionally with SACK blocks.
  PacketRecord ack(uint32_t seq, uint32_t ack_no, int64_t ts_ns,
                   const std::vector<std::pair<uint32_t, uint32_t>>& sack = {}) {
    Seg s = s2c;
    s.seq = seq;
    s.ack = ack_no;
    s.flags = TCP_ACK;
    if (!sack.empty()) s.options = tt::opt_sack(sack);
    return send(s, ts_ns);
  }
  // Three-way handshake: client ISN ci, server ISN si; returns after the final ACK.
  void handshake(uint32_t ci, uint32_t si, int64_t t) {
    Seg syn = c2s;
    syn.seq = ci;
    syn.ack = 0;
    syn.flags = TCP_SYN;
    send(syn, t);
    Seg sa = s2c;
    sa.seq = si;
    sa.ack = ci + 1;
    sa.flags = TCP_SYN | TCP_ACK;
    send(sa, t + 100 * NS_PER_US);
    Seg a = c2s;
    a.seq = ci + 1;
    a.ack = si + 1;
    a.flags = TCP_ACK;
    send(a, t + 200 * NS_PER_US);
  }
};

}  // namespace

TEST(flow_handshake_rtt_and_streams) {
  Conv c;
  Seg syn = c.c2s;
  syn.seq = 5000;
  syn.ack = 0;
  syn.flags = TCP_SYN;
  PacketRecord r = c.send(syn, T0);
  CHECK_EQ(r.stream, 0u);
  CHECK_EQ(r.frame_number, 1u);
  CHECK_EQ(r.ack_rtt_ns, -1);
  CHECK_EQ(r.bytes_in_flight, -1);  // SYN: 1 virtual byte minus 1 = 0, not printed
  Seg sa = c.s2c;
  sa.seq = 9000;
  sa.ack = 5001;
  sa.flags = TCP_SYN | TCP_ACK;
  r = c.send(sa, T0 + 300 * NS_PER_US);
  CHECK_EQ(r.stream, 0u);
  CHECK_EQ(r.ack_rtt_ns, 300 * NS_PER_US);  // acks the SYN
  Seg a = c.c2s;
  a.seq = 5001;
  a.ack = 9001;
  r = c.send(a, T0 + 350 * NS_PER_US);
  CHECK_EQ(r.ack_rtt_ns, 50 * NS_PER_US);  // acks the SYN-ACK
  // A second connection gets the next stream number; the first keeps its own.
  Seg other = c.c2s;
  other.sport = 40001;
  other.flags = TCP_SYN;
  CHECK_EQ(c.send(other, T0 + NS_PER_MS).stream, 1u);
  CHECK_EQ(c.send(a, T0 + 2 * NS_PER_MS).stream, 0u);
  CHECK_EQ(c.engine.counters().flows_created, 2u);
  CHECK_EQ(c.engine.counters().tcp_packets, 5u);
}

TEST(flow_bif_and_cumulative_ack_rtt) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  // Three 1000-byte segments: in flight grows by 1000 each.
  CHECK_EQ(c.data(1001, 1000, 2001, t).bytes_in_flight, 1000);
  CHECK_EQ(c.data(2001, 1000, 2001, t + 10 * NS_PER_US).bytes_in_flight, 2000);
  CHECK_EQ(c.data(3001, 1000, 2001, t + 20 * NS_PER_US).bytes_in_flight, 3000);
  // A cumulative ACK for the first two: the RTT is measured from the segment whose end it matches (the 2nd).
  PacketRecord r = c.ack(2001, 3001, t + 500 * NS_PER_US);
  CHECK_EQ(r.ack_rtt_ns, 500 * NS_PER_US - 10 * NS_PER_US);
  CHECK_EQ(r.bytes_in_flight, -1);  // pure ACK: no BIF
  CHECK_EQ(c.data(4001, 1000, 2001, t + 600 * NS_PER_US).bytes_in_flight, 2000);
  // A partial ACK (inside the 3rd segment) gives no RTT but trims the segment.
  r = c.ack(2001, 3501, t + 700 * NS_PER_US);
  CHECK_EQ(r.ack_rtt_ns, -1);
  CHECK_EQ(c.data(5001, 1000, 2001, t + 800 * NS_PER_US).bytes_in_flight, 2500);
  // A duplicate ACK: no RTT.
  CHECK_EQ(c.ack(2001, 3501, t + 810 * NS_PER_US).ack_rtt_ns, -1);
  // Acking everything: RTT from the last segment.
  CHECK_EQ(c.ack(2001, 6001, t + 900 * NS_PER_US).ack_rtt_ns, 100 * NS_PER_US);
  CHECK_EQ(c.engine.counters().retransmissions, 0u);
}

TEST(flow_retransmission_rtt_from_oldest_copy) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  CHECK_EQ(c.data(1001, 1000, 2001, t).retransmission, 0);
  CHECK_EQ(c.data(2001, 1000, 2001, t + 10 * NS_PER_US).retransmission, 0);
  PacketRecord r = c.data(1001, 1000, 2001, t + 300 * NS_PER_US);  // retransmission of the 1st
  CHECK_EQ(r.retransmission, 1);
  CHECK_EQ(r.bytes_in_flight, 2000);  // span of the listed segments, not their sum
  // The ACK for the 1st segment matches both copies; Wireshark reports the time since the original.
  CHECK_EQ(c.ack(2001, 2001, t + 400 * NS_PER_US).ack_rtt_ns, 400 * NS_PER_US);
  CHECK_EQ(c.engine.counters().retransmissions, 1u);
  // The list is out of order now (the retransmission went behind newer data): BIF still spans it correctly.
  CHECK_EQ(c.data(3001, 1000, 2001, t + 410 * NS_PER_US).bytes_in_flight, 2000);
  CHECK_EQ(c.ack(2001, 2501, t + 420 * NS_PER_US).ack_rtt_ns, -1);  // partial
  CHECK_EQ(c.data(4001, 1000, 2001, t + 430 * NS_PER_US).bytes_in_flight, 2500);
  // A keep-alive (seq = next - 1, no data) is not a retransmission.
  Seg ka = c.c2s;
  ka.seq = 3000;
  ka.ack = 2001;
  ka.flags = TCP_ACK;
  ka.payload = 1;
  ka.seq = 5000;
  CHECK_EQ(c.send(ka, t + NS_PER_S).retransmission, 0);
}

TEST(flow_sack_reduces_bif) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  for (uint32_t i = 0; i < 4; i++) c.data(1001 + 1000 * i, 1000, 2001, t + i * NS_PER_US);
  // Segment 2 lost; the receiver SACKs 3 and 4 (2 blocks, 1000 bytes each would be 2000; use 3001-5001).
  c.ack(2001, 2001, t + 100 * NS_PER_US, {{3001, 5001}});
  // Next data segment: span 2001..6001 = 4000 minus 2000 SACKed.
  CHECK_EQ(c.data(5001, 1000, 2001, t + 110 * NS_PER_US).bytes_in_flight, 2000);
  // Three blocks are honoured; a later ACK without SACK clears them.
  c.ack(2001, 2001, t + 120 * NS_PER_US, {{3001, 3501}, {4001, 4501}, {5001, 5501}});
  CHECK_EQ(c.data(6001, 1000, 2001, t + 130 * NS_PER_US).bytes_in_flight, 5000 - 1500);
  c.ack(2001, 2001, t + 140 * NS_PER_US);
  CHECK_EQ(c.data(7001, 1000, 2001, t + 150 * NS_PER_US).bytes_in_flight, 6000);
}

TEST(flow_sequence_wraparound) {
  Conv c;
  const uint32_t isn = 0xffffffffu - 2500;
  c.handshake(isn, 77, T0);
  int64_t t = T0 + NS_PER_MS;
  uint32_t seq = isn + 1;
  int64_t in_flight = 0;
  for (int i = 0; i < 5; i++) {  // crosses 2^32 during the 3rd segment
    PacketRecord r = c.data(seq, 1000, 78, t + i * NS_PER_US);
    in_flight += 1000;
    CHECK_EQ(r.bytes_in_flight, in_flight);
    CHECK_EQ(r.retransmission, 0);
    seq += 1000;
  }
  PacketRecord r = c.ack(78, seq, t + 50 * NS_PER_US);  // ACK number itself wrapped
  CHECK_EQ(r.ack_rtt_ns, 50 * NS_PER_US - 4 * NS_PER_US);
  CHECK_EQ(c.data(seq, 1000, 78, t + 60 * NS_PER_US).bytes_in_flight, 1000);
  CHECK_EQ(c.data(seq - 1000, 1000, 78, t + 70 * NS_PER_US).retransmission, 1);  // across the wrap
}

TEST(flow_gap_disables_bif_until_ack) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  c.data(1001, 1000, 2001, t);
  // 2001..3001 not captured: BIF is not reported until the server ACKs again.
  CHECK_EQ(c.data(3001, 1000, 2001, t + NS_PER_US).bytes_in_flight, -1);
  c.ack(2001, 2001, t + 100 * NS_PER_US);  // acks (and drops) the 1st segment
  CHECK_EQ(c.data(4001, 1000, 2001, t + 110 * NS_PER_US).bytes_in_flight, 2000);
}

TEST(flow_port_reuse_new_stream) {
  Conv c;
  c.handshake(1000, 2000, T0);
  c.data(1001, 100, 2001, T0 + NS_PER_MS);
  Seg fin = c.c2s;
  fin.seq = 1101;
  fin.ack = 2001;
  fin.flags = TCP_FIN | TCP_ACK;
  CHECK_EQ(c.send(fin, T0 + 2 * NS_PER_MS).stream, 0u);
  // Retransmitted SYN with the same ISN: same connection.
  Seg syn = c.c2s;
  syn.seq = 1000;
  syn.flags = TCP_SYN;
  syn.ack = 0;
  CHECK_EQ(c.send(syn, T0 + 3 * NS_PER_MS).stream, 0u);
  // New ISN on the same 5-tuple: a new connection, as tshark numbers it.
  syn.seq = 777777;
  CHECK_EQ(c.send(syn, T0 + 4 * NS_PER_MS).stream, 1u);
  Seg sa = c.s2c;
  sa.seq = 5;
  sa.ack = 777778;
  sa.flags = TCP_SYN | TCP_ACK;
  PacketRecord r = c.send(sa, T0 + 5 * NS_PER_MS);
  CHECK_EQ(r.stream, 1u);
  CHECK_EQ(r.ack_rtt_ns, NS_PER_MS);
  const Counters& k = c.engine.counters();
  CHECK_EQ(k.flows_created, 2u);
  CHECK_EQ(k.flows_port_reused, 1u);
  CHECK_EQ(k.flows_active, 1u);  // the new connection took the old one's place
}

TEST(flow_timestamp_rtt_first_match_only) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  Seg d = c.c2s;
  d.seq = 1001;
  d.ack = 2001;
  d.payload = 500;
  d.options = tt::opt_ts(100, 7);
  CHECK_EQ(c.send(d, t).ts_rtt_ns, -1);
  d.seq = 1501;
  CHECK_EQ(c.send(d, t + 10 * NS_PER_US).ts_rtt_ns, -1);  // same TSval: still timed from its first sighting
  Seg a = c.s2c;
  a.seq = 2001;
  a.ack = 2001;
  a.options = tt::opt_ts(8, 100);
  CHECK_EQ(c.send(a, t + 300 * NS_PER_US).ts_rtt_ns, 300 * NS_PER_US);
  CHECK_EQ(c.send(a, t + 400 * NS_PER_US).ts_rtt_ns, -1);  // the same echo again: no second sample
  a.options = tt::opt_ts(9, 12345);                      // echo of a value never sent
  CHECK_EQ(c.send(a, t + 500 * NS_PER_US).ts_rtt_ns, -1);
  // The other direction: the client echoes the server's TSval 8.
  d.seq = 2001;
  d.options = tt::opt_ts(101, 8);
  CHECK_EQ(c.send(d, t + 900 * NS_PER_US).ts_rtt_ns, 600 * NS_PER_US);
  CHECK_EQ(c.engine.counters().ts_rtt_samples, 2u);
}

TEST(flow_idle_eviction_and_table_full) {
  EngineConfig cfg = Conv::config();
  cfg.max_flows = 2;
  cfg.idle_timeout_ns = 10 * NS_PER_S;
  Conv c(cfg);
  Seg s = c.c2s;
  s.payload = 10;  // connections that carried data: half-open ones would give way (see the next test)
  s.sport = 1;
  CHECK_EQ(c.send(s, T0).stream, 0u);
  s.sport = 2;
  CHECK_EQ(c.send(s, T0 + NS_PER_S).stream, 1u);
  s.sport = 3;
  PacketRecord r = c.send(s, T0 + 2 * NS_PER_S);  // table full, nothing idle: not tracked
  CHECK_EQ(r.stream, 0xffffffffu);
  CHECK_EQ(r.bytes_in_flight, -1);
  CHECK_EQ(c.engine.counters().flows_table_full, 1u);
  // 11 s later both first flows are idle: the new one gets a slot.
  CHECK_EQ(c.send(s, T0 + 12 * NS_PER_S).stream, 2u);
  const Counters& k = c.engine.counters();
  CHECK_EQ(k.flows_evicted_idle, 2u);
  CHECK_EQ(k.flows_active, 1u);
  CHECK_EQ(k.flows_created - k.flows_evicted_idle, k.flows_active);
  // advance() evicts without traffic.
  c.engine.advance(T0 + 30 * NS_PER_S);
  CHECK_EQ(c.engine.counters().flows_active, 0u);
}

// Half-open connections (never carried payload) time out after half_open_timeout_ns, long before the idle timeout,
// and give way to a new connection when the table is full; connections with data keep their slots.
TEST(flow_half_open_timeout_and_early_drop) {
  EngineConfig cfg = Conv::config();
  cfg.max_flows = 3;
  cfg.idle_timeout_ns = 60 * NS_PER_S;
  cfg.half_open_timeout_ns = 5 * NS_PER_S;
  Conv c(cfg);
  Seg syn = c.c2s;
  syn.flags = TCP_SYN;
  syn.sport = 1;
  c.send(syn, T0);                       // half-open
  Seg data = c.c2s;
  data.payload = 100;
  data.sport = 2;
  c.send(data, T0);                      // carried data
  CHECK_EQ(c.engine.counters().flows_active, 2u);
  c.engine.advance(T0 + 4 * NS_PER_S);   // not yet
  CHECK_EQ(c.engine.counters().flows_active, 2u);
  c.engine.advance(T0 + 6 * NS_PER_S);   // the SYN-only connection goes; the other stays
  CHECK_EQ(c.engine.counters().flows_active, 1u);
  CHECK_EQ(c.engine.counters().flows_evicted_half_open, 1u);
  CHECK_EQ(c.engine.counters().flows_evicted_idle, 0u);

  // A SYN that later carries data is no longer half-open: it lives to the idle timeout.
  syn.sport = 3;
  c.send(syn, T0 + 7 * NS_PER_S);
  Seg more = syn;
  more.flags = TCP_ACK | TCP_PSH;
  more.seq = syn.seq + 1;
  more.payload = 10;
  c.send(more, T0 + 7 * NS_PER_S);
  c.engine.advance(T0 + 20 * NS_PER_S);
  CHECK_EQ(c.engine.counters().flows_active, 2u);

  // Table full (two established + one half-open): a new connection takes the half-open one's slot at once.
  syn.sport = 4;
  c.send(syn, T0 + 21 * NS_PER_S);
  CHECK_EQ(c.engine.counters().flows_active, 3u);
  syn.sport = 5;
  CHECK_EQ(c.send(syn, T0 + 21 * NS_PER_S + 1).stream, 4u);  // tracked (streams 0..3 came before)
  CHECK_EQ(c.engine.counters().flows_evicted_half_open, 2u);
  CHECK_EQ(c.engine.counters().flows_table_full, 0u);
  // Full of established connections and the newest half-open one: that one gives way again, never an established one.
  data.sport = 6;
  CHECK_EQ(c.send(data, T0 + 21 * NS_PER_S + 2).stream, 5u);
  CHECK_EQ(c.engine.counters().flows_evicted_half_open, 3u);
  // Now all three carried data: a newcomer is not tracked.
  syn.sport = 7;
  CHECK_EQ(c.send(syn, T0 + 21 * NS_PER_S + 3).stream, 0xffffffffu);
  CHECK_EQ(c.engine.counters().flows_table_full, 1u);
  const Counters& k = c.engine.counters();
  CHECK_EQ(k.flows_created - k.flows_evicted_idle - k.flows_evicted_half_open, k.flows_active);
}

TEST(flow_zero_window_probe_not_retransmission) {
  Conv c;
  c.handshake(1000, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  c.data(1001, 1000, 2001, t);
  Seg zw = c.s2c;
  zw.seq = 2001;
  zw.ack = 2001;
  zw.window = 0;
  c.send(zw, t + 100 * NS_PER_US);
  PacketRecord r = c.data(2001, 1, 2001, t + NS_PER_MS);  // probe
  CHECK_EQ(r.retransmission, 0);
  // The probe does not advance nextseq: the real segment at 2001 is not a retransmission either.
  zw.window = 1000;
  c.send(zw, t + 2 * NS_PER_MS);
  CHECK_EQ(c.data(2001, 1000, 2001, t + 3 * NS_PER_MS).retransmission, 0);
}

// Wireshark compares segment offsets from the base sequence number as unsigned 32-bit values, so when a
// connection's offsets pass 2^32 (every 4 GiB sent) its bytes in flight dips or vanishes for a moment.
// We reproduce that exactly rather than "fix" it, so the numbers stay identical to tshark's.
TEST(flow_bif_at_4gib_offset_boundary_matches_wireshark) {
  Conv c;
  const uint32_t isn = 1000;
  c.handshake(isn, 2000, T0);
  int64_t t = T0 + NS_PER_MS;
  // Walk the sequence space forward in jumps below 2^31 (each a capture gap, re-enabled by the ACK).
  uint32_t last_ack = isn + 1;
  int64_t ts = t;
  for (uint32_t k = 1; k <= 3; k++) {
    CHECK_EQ(c.data(isn + k * 0x50000000u, 1000, 2001, ts += NS_PER_US).bytes_in_flight, -1);
    last_ack = isn + k * 0x50000000u + 1000;
    c.ack(2001, last_ack, ts += NS_PER_US);
  }
  const uint32_t off = 0xfffffc00u;
  CHECK_EQ(c.data(isn + off, 1000, 2001, ts += NS_PER_US).bytes_in_flight, -1);  // a gap: BIF off
  c.ack(2001, last_ack, ts += NS_PER_US);                                        // an ACK: BIF on again
  t = ts;
  // Offsets 0xfffffc00..0xffffffe8 and 0xffffffe8..0x3d0: the unsigned max end is 0xffffffe8, so 1000, not 2000.
  CHECK_EQ(c.data(isn + off + 1000, 1000, 2001, t + 4 * NS_PER_US).bytes_in_flight, 1000);
  // Next: the min start is now 0x3d0 below the max end 0xffffffe8: a "negative" span, not reported.
  CHECK_EQ(c.data(isn + off + 2000, 1000, 2001, t + 5 * NS_PER_US).bytes_in_flight, -1);
  // Once the old segments are acknowledged, the values are right again.
  c.ack(2001, isn + off + 2000, t + 6 * NS_PER_US);
  CHECK_EQ(c.data(isn + off + 3000, 1000, 2001, t + 7 * NS_PER_US).bytes_in_flight, 2000);
}
