// What a tcpdump user expects on the terminal: "listening on IFACE, link-type ..." per source and the closing counts.
import type { Capture, CaptureOptions } from '../capture';
import { DEFAULT_SNAPLEN } from '../capture';
import type { Sink } from '../sinks/sink';

/** pcap-linktype names and descriptions as tcpdump prints them, for the link types the engine reads. */
const LINK_TYPES: Record<number, [string, string]> = {
  0: ['NULL', 'BSD loopback'],
  1: ['EN10MB', 'Ethernet'],
  12: ['RAW', 'Raw IP'],
  14: ['RAW', 'Raw IP'],
  101: ['RAW', 'Raw IP'],
  113: ['LINUX_SLL', 'Linux cooked v1'],
  228: ['IPV4', 'Raw IPv4'],
  229: ['IPV6', 'Raw IPv6'],
  276: ['LINUX_SLL2', 'Linux cooked v2'],
};

export function linkTypeText(dlt: number | undefined): string {
  if (dlt === undefined) return 'link-type unknown';
  const known = LINK_TYPES[dlt];
  return known ? `link-type ${known[0]} (${known[1]})` : `link-type ${dlt}`;
}

/** One line per source, in the capture's source order (files, then interfaces), as tcpdump starts. */
export function startLines(capture: Pick<Capture, 'linktypes'>, source: Pick<CaptureOptions, 'files' | 'interfaces' | 'netns' | 'snaplen'>): string[] {
  const files = source.files ?? [];
  const interfaces = source.interfaces ?? [];
  let types: number[] = [];
  try {
    types = capture.linktypes();
  } catch {
    // an addon without linktypes(): the line still names the source
  }
  const snaplen = source.snaplen ?? DEFAULT_SNAPLEN;
  return [
    ...files.map((f, i) => `reading from file ${f === '-' ? 'stdin' : f}, ${linkTypeText(types[i])}`),
    ...interfaces.map(
      (name, i) => `listening on ${name}${source.netns ? ` (network namespace ${source.netns})` : ''}, ${linkTypeText(types[files.length + i])}, snapshot length ${snaplen} bytes`,
    ),
  ];
}

/** Rows a sink delivered, whatever its stats spell it (the sinks move to one shape: `written`). */
function sinkWritten(stats: Record<string, number>): number | undefined {
  return stats.written ?? stats.rowsWritten ?? stats.points_written ?? stats.messagesSent;
}

/** tcpdump's closing counts, then ours: windows, forecasts and what each sink took. */
export function summaryLines(groups: Record<string, Record<string, number>>, sinks: Sink[]): string[] {
  const c = groups.capture ?? {};
  const p = groups.pipeline ?? {};
  const n = (v: number | undefined) => String(v ?? 0);
  const lines = [
    `${n(c.frames)} packets captured (${n(c.tcpPackets)} TCP)`,
    `${n(c.pcapReceived)} packets received by filter`,
    `${n(c.pcapDropped)} packets dropped by kernel`,
    `${n(c.pcapIfDropped)} packets dropped by interface`,
  ];
  if (c.packetsDropped || c.windowsDropped) lines.push(`${n(c.windowsDropped)} windows dropped between capture and pipeline (JS too slow)`);
  lines.push(`${n(p.windows)} windows (${n(p.series)} series, ${n(p.windowCloses)} closes), ${n(p.predictionsAttached)} forecasts`);
  const parts = sinks.map((s) => {
    const st = groups[`sink_${s.name}`] ?? s.stats();
    const written = sinkWritten(st);
    const dropped = st.dropped ?? st.points_dropped;
    const rejected = st.rejected ?? st.points_rejected;
    return `${s.name} ${written ?? '?'} written${dropped ? `, ${dropped} dropped` : ''}${rejected ? `, ${rejected} rejected` : ''}`;
  });
  if (parts.length) lines.push(`sinks: ${parts.join('; ')}`);
  return lines;
}
