// Frames that may carry TCP but were not analysed (an unsupported link type, a tunnel we cannot follow, a header cut by the snaplen): each reason is reported once, never silent.
import type { NativeCounters } from '../native';

/** The engine counters that mean "this frame may have carried TCP that tcpcast did not analyse", and why. */
export const UNDECODED_REASONS: ReadonlyArray<{ counter: keyof NativeCounters; why: string }> = [
  { counter: 'unsupportedLink', why: 'the link type is not decoded (docs/capture.md lists those that are)' },
  { counter: 'unknownEncap', why: 'a tunnel whose payload type is not decoded (GRE/Geneve protocol, MPLS pseudowire, PPP protocol)' },
  { counter: 'decapDepthLimit', why: 'tunnels nested deeper than the decapsulation depth limit' },
  { counter: 'truncated', why: 'headers cut by the snaplen (raise --snaplen for deep encapsulations)' },
];

/** Remembers which reasons were reported; report() returns the lines for reasons seen for the first time. */
export class UndecodedReporter {
  private readonly reported = new Set<string>();

  report(counters: Partial<NativeCounters> | undefined): string[] {
    const lines: string[] = [];
    if (!counters) return lines;
    for (const { counter, why } of UNDECODED_REASONS) {
      const n = counters[counter] ?? 0;
      if (n > 0 && !this.reported.has(counter)) {
        this.reported.add(counter);
        lines.push(`frames not analysed (${counter}, counted in the stats): ${why}`);
      }
    }
    return lines;
  }
}
