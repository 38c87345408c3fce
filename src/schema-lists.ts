// Generated from native/schema.h by scripts/gen-schema.js (npm run build:ts runs it): edit schema.h, never this file.

/** TCPCAST_WINDOW_COLUMNS: every value column of a window record, in native order. */
export const WINDOW_COLUMNS = [
  { name: 'size', unit: 'bytes', description: 'TCP payload bytes in the window, both directions' },
  { name: 'delay', unit: 'ms', description: 'Mean ack RTT of the window, carried forward when it has no sample' },
  { name: 'bif', unit: 'bytes', description: 'Bytes in flight at the window end' },
  { name: 'iat_mean', unit: 'ms', description: 'Mean packet inter-arrival time in the window' },
  { name: 'iat_std', unit: 'ms', description: 'Population standard deviation of the packet inter-arrival times in the window' },
  { name: 'throughput_mbps', unit: 'Mbit/s', description: 'Payload throughput of the window: size * 8 / window seconds / 1e6' },
  { name: 'delay_gradient', unit: 'ms', description: 'delay minus the previous window\'s delay' },
  { name: 'bif_gradient', unit: 'bytes', description: 'bif minus the previous window\'s bif' },
  { name: 'is_silent', unit: 'flag', description: '1 when the series had no packet in the window, else 0' },
  { name: 'packets', unit: 'packets', description: 'TCP packets in the window' },
  { name: 'retransmits', unit: 'packets', description: 'Packets flagged as retransmissions in the window' },
  { name: 'min_rtt', unit: 'ms', description: 'Smallest ack RTT sample of the window, 0 when none' },
  { name: 'acked_bytes', unit: 'bytes', description: 'Sequence space newly acknowledged by the window\'s ACKs, both directions' },
] as const;

/** TCPCAST_COUNTERS: engine counters, summed over sources. */
export const COUNTERS = [
  { name: 'frames', description: 'Frames handed to the engine' },
  { name: 'tcp_packets', description: 'TCP segments parsed' },
  { name: 'not_ip', description: 'Frames skipped: not IPv4 or IPv6' },
  { name: 'not_tcp', description: 'IP packets skipped: not TCP' },
  { name: 'fragments', description: 'IP fragments skipped (no reassembly)' },
  { name: 'truncated', description: 'Frames skipped: captured too short to hold the headers up to the TCP options' },
  { name: 'malformed', description: 'Frames skipped: inconsistent IP or TCP header fields' },
  { name: 'unsupported_link', description: 'Frames skipped: link type not supported' },
  { name: 'flows_created', description: 'TCP connections that entered the flow table (port reuse included)' },
  { name: 'flows_evicted_idle', description: 'Connections evicted from the flow table after the idle timeout' },
  { name: 'flows_evicted_half_open', description: 'Half-open connections (never carried payload) evicted: timed out early, or gave way when the table was full' },
  { name: 'flows_table_full', description: 'Packets of connections not tracked because the flow table was full' },
  { name: 'flows_active', description: 'Connections in the flow table now (a gauge)' },
  { name: 'flows_port_reused', description: 'Connections replaced by a new one on the same 5-tuple (SYN with a new ISN)' },
  { name: 'retransmissions', description: 'Segments flagged as retransmissions' },
  { name: 'ack_rtt_samples', description: 'Ack RTT samples taken (tcp.analysis.ack_rtt)' },
  { name: 'ts_rtt_samples', description: 'TCP timestamp RTT samples taken (TSval echoed as TSecr)' },
  { name: 'segments_dropped', description: 'Segments not remembered for ack matching: the global unacked-segment bound was hit' },
  { name: 'windows_emitted', description: 'Window records closed (all series)' },
  { name: 'iface_series_full', description: 'Packets of interfaces beyond the per-interface series bound (no all series)' },
  { name: 'series_ended', description: 'Connection series ended and announced to JS (idle, evicted or port reuse)' },
  { name: 'decapsulated', description: 'TCP packets found inside a tunnel (VXLAN, Geneve, GRE, IP-in-IP, MPLS, PPPoE)' },
  { name: 'unknown_encap', description: 'Frames skipped: a tunnel whose payload type is not decoded (GRE/Geneve protocol, MPLS pseudowire, PPP protocol)' },
  { name: 'decap_depth_limit', description: 'Frames skipped: tunnels nested deeper than the decapsulation depth limit' },
] as const;

/** TCPCAST_SERIES_END_REASONS: why a connection series ended. */
export const SERIES_END_REASONS = [
  { name: 'idle', description: 'The connection sent nothing for FLOW_SERIES_IDLE_NS (2 s); it may still be in the flow table' },
  { name: 'evicted', description: 'The connection left the flow table after the idle timeout' },
  { name: 'port_reused', description: 'A new connection (SYN with a new ISN) replaced it on the same 5-tuple' },
] as const;
