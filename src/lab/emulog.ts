// Reads the emulator's mahimahi-format down-link log: per-bin delivered bytes and whether the link was saturated.
import { readFileSync } from 'node:fs';

export interface LinkBin {
  /** Bytes (IP) the link delivered in the bin. */
  deliveredBytes: number;
  /** Bytes of opportunity the link offered in the bin. */
  offeredBytes: number;
  /** True when packets were waiting at every opportunity of the bin: delivery is then bounded only by the trace. */
  saturated: boolean;
}

/**
 * Replays the log's events in order, keeping the queue occupancy (accepted arrivals minus departures); a bin is
 * saturated when no opportunity in it met an empty queue. Lines: "ms + bytes", "ms d bytes", "ms # bytes",
 * "ms - bytes delay".
 */
export function readLinkLog(path: string, binMs: number): LinkBin[] {
  const bins: LinkBin[] = [];
  const bin = (ms: number): LinkBin => {
    const i = Math.floor(ms / binMs);
    while (bins.length <= i) bins.push({ deliveredBytes: 0, offeredBytes: 0, saturated: true });
    return bins[i];
  };
  let queued = 0;
  // Opportunities and departures at one ms are logged together: judge emptiness after that ms's departures.
  let pendingOpportunityMs = -1;
  let pendingDepartures = 0;
  const settle = () => {
    if (pendingOpportunityMs >= 0 && pendingDepartures === 0 && queued === 0) bin(pendingOpportunityMs).saturated = false;
    pendingOpportunityMs = -1;
    pendingDepartures = 0;
  };
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const [msText, kind, bytesText] = line.split(' ');
    const ms = Number(msText);
    const bytes = Number(bytesText);
    if (kind === '#') {
      if (ms !== pendingOpportunityMs) settle();
      pendingOpportunityMs = ms;
      bin(ms).offeredBytes += bytes;
    } else if (kind === '-') {
      queued--;
      pendingDepartures++;
      bin(ms).deliveredBytes += bytes;
    } else if (kind === '+') {
      settle();
      queued++;
    } else if (kind === 'd') {
      queued--;
    }
  }
  settle();
  return bins;
}
