// The window value columns and the engine counters, each declared once as an X-macro list; everything else derives from these.
//
// Why X-macros in a header rather than a table in TypeScript that generates C++: the C++ struct must exist at
// compile time with no generator step in node-gyp, the fuzzers or the native test Makefile, and the addon can
// report these same lists at load (addon.cc `schema`). TypeScript gets them generated (scripts/gen-schema.js ->
// src/schema-lists.ts, run by every build:ts); src/native/index.ts refuses an addon whose lists differ, and a unit
// test (test/unit/schema.test.ts) fails when the generated file is stale or docs/features.md differs.
//
// Derived from TCPCAST_WINDOW_COLUMNS: WindowRecord's value fields and WINDOW_VALUE_COLUMNS (types.h), the width
// of the values block and the column list the addon exports (addon.cc); in TypeScript the column types, the CSV
// header, the InfluxDB field map and the docs table check. To add a column: one line here, a row in docs/features.md,
// and its computation in window.cc (WindowAggregator::emit). Append new
// columns at the end: the first nine are the seed model's input order.
//
// TCPCAST_SERIES_END_REASONS gives SeriesEndReason (types.h) and the reason names of ended series (addon.cc).
//
// Derived from TCPCAST_COUNTERS: the Counters struct (types.h), summing over sources (capture.cc add_counters),
// the counters object and list the addon exports, the stats line, the final "tcpcast stopped" line and /metrics
// (the description is the Prometheus HELP text). Counters are cumulative, except the gauge flows_active.
#pragma once

// X(name, unit, description): one double per window per series.
#define TCPCAST_WINDOW_COLUMNS(X)                                                                           \
  X(size, "bytes", "TCP payload bytes in the window, both directions")                                      \
  X(delay, "ms", "Mean ack RTT of the window, carried forward when it has no sample")                       \
  X(bif, "bytes", "Bytes in flight at the window end")                                                      \
  X(iat_mean, "ms", "Mean packet inter-arrival time in the window")                                         \
  X(iat_std, "ms", "Population standard deviation of the packet inter-arrival times in the window")         \
  X(throughput_mbps, "Mbit/s", "Payload throughput of the window: size * 8 / window seconds / 1e6")         \
  X(delay_gradient, "ms", "delay minus the previous window's delay")                                        \
  X(bif_gradient, "bytes", "bif minus the previous window's bif")                                           \
  X(is_silent, "flag", "1 when the series had no packet in the window, else 0")                             \
  X(packets, "packets", "TCP packets in the window")                                                        \
  X(retransmits, "packets", "Packets flagged as retransmissions in the window")                             \
  X(min_rtt, "ms", "Smallest ack RTT sample of the window, 0 when none")                                    \
  X(acked_bytes, "bytes", "Sequence space newly acknowledged by the window's ACKs, both directions")

// X(name, description): one uint64 per engine, summed over sources.
#define TCPCAST_COUNTERS(X)                                                                                 \
  X(frames, "Frames handed to the engine")                                                                  \
  X(tcp_packets, "TCP segments parsed")                                                                     \
  X(not_ip, "Frames skipped: not IPv4 or IPv6")                                                             \
  X(not_tcp, "IP packets skipped: not TCP")                                                                 \
  X(fragments, "IP fragments skipped (no reassembly)")                                                      \
  X(truncated, "Frames skipped: captured too short to hold the headers up to the TCP options")              \
  X(malformed, "Frames skipped: inconsistent IP or TCP header fields")                                      \
  X(unsupported_link, "Frames skipped: link type not supported")                                            \
  X(flows_created, "TCP connections that entered the flow table (port reuse included)")                     \
  X(flows_evicted_idle, "Connections evicted from the flow table after the idle timeout")                   \
  X(flows_evicted_half_open, "Half-open connections (never carried payload) evicted: timed out early, or gave way when the table was full") \
  X(flows_table_full, "Packets of connections not tracked because the flow table was full")                 \
  X(flows_active, "Connections in the flow table now (a gauge)")                                            \
  X(flows_port_reused, "Connections replaced by a new one on the same 5-tuple (SYN with a new ISN)")        \
  X(retransmissions, "Segments flagged as retransmissions")                                                 \
  X(ack_rtt_samples, "Ack RTT samples taken (tcp.analysis.ack_rtt)")                                        \
  X(ts_rtt_samples, "TCP timestamp RTT samples taken (TSval echoed as TSecr)")                              \
  X(segments_dropped, "Segments not remembered for ack matching: the global unacked-segment bound was hit") \
  X(windows_emitted, "Window records closed (all series)")                                                  \
  X(iface_series_full, "Packets of interfaces beyond the per-interface series bound (no all series)")        \
  X(series_ended, "Connection series ended and announced to JS (idle, evicted or port reuse)") \
  X(decapsulated, "TCP packets found inside a tunnel (VXLAN, Geneve, GRE, IP-in-IP, MPLS, PPPoE)")         \
  X(unknown_encap, "Frames skipped: a tunnel whose payload type is not decoded (GRE/Geneve protocol, MPLS pseudowire, PPP protocol)") \
  X(decap_depth_limit, "Frames skipped: tunnels nested deeper than the decapsulation depth limit")

// X(name, description): why a connection series ended (SeriesEnd.reason; the name is what JS sees in
// NativeWindowBatch.endedSeries). Interface ("all") series never end. No series ends because a table is full:
// a connection the flow table has no room for is not tracked and never gets a series (flows_table_full).
#define TCPCAST_SERIES_END_REASONS(X)                                                                       \
  X(idle, "The connection sent nothing for FLOW_SERIES_IDLE_NS (2 s); it may still be in the flow table")  \
  X(evicted, "The connection left the flow table after the idle timeout")                                 \
  X(port_reused, "A new connection (SYN with a new ISN) replaced it on the same 5-tuple")
