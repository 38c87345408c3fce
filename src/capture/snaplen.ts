// Says it when a capture cannot give results because its snaplen cut packets before the end of the TCP header (0 rows otherwise looks like "no traffic").

/** Below this many frames a verdict would be noise (a handful of odd frames). */
const MIN_FRAMES = 20;
/** Share of the IP frames cut short in their headers that means "the snaplen is too small", not "a few bad frames". */
const MIN_SHARE = 0.5;

/**
 * The warning for these counters, or undefined. Packets whose IP or TCP header (options included) does not fit
 * in the captured bytes are counted as `truncated` and give no windows; tshark still shows them, so without
 * this line a too-small snaplen (e.g. `editcap -s 64`, `tcpdump -s 54`) looks like an empty capture.
 */
export function snaplenWarning(c: { frames?: number; tcpPackets?: number; truncated?: number }, snaplen?: number): string | undefined {
  const truncated = c.truncated ?? 0;
  const usable = c.tcpPackets ?? 0;
  if ((c.frames ?? 0) < MIN_FRAMES || truncated === 0) return undefined;
  if (truncated / (truncated + usable) < MIN_SHARE) return undefined;
  const where = snaplen !== undefined ? ` (snaplen ${snaplen})` : '';
  return (
    `${truncated} of ${truncated + usable} IP packets were cut short${where} before the end of their TCP header, so they give no windows: ` +
    'capture with a larger snaplen, e.g. tcpdump -s 256 or tcpcast run -s 256 (256 bytes hold Ethernet + IPv6 + TCP with options)'
  );
}
