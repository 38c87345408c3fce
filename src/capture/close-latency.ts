// Window-close latency of a live capture: wall-clock time from a window's end to its row being handed to the sinks.
//
// Why a fixed histogram: the pipeline records one value per window close (20 a second at 50 ms windows) for
// as long as the daemon runs, so memory must not grow with uptime; 0.25 ms buckets up to 1 s give p50/p99
// well inside the 20 ms target's resolution, and anything slower lands in the overflow bucket (reported as
// the maximum seen).

const BUCKET_MS = 0.25;
const BUCKETS = 4000; // 0 .. 1000 ms

export interface CloseLatencyStats {
  /** Window closes measured. */
  closeLatencyCount: number;
  closeLatencyP50Ms: number;
  closeLatencyP99Ms: number;
  closeLatencyMaxMs: number;
}

/** Wall clock in nanoseconds since the epoch, with sub-millisecond resolution (Date.now() has 1 ms). */
export function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e6));
}

export class CloseLatency {
  private readonly counts = new Uint32Array(BUCKETS + 1);
  private count = 0;
  private maxMs = 0;

  /** windowEndNs: the window's exclusive end in capture time (the kernel's wall clock for live sources). */
  record(windowEndNs: bigint, nowNs: bigint = wallClockNs()): void {
    const ms = Math.max(0, Number(nowNs - windowEndNs) / 1e6);
    this.counts[Math.min(BUCKETS, Math.floor(ms / BUCKET_MS))]++;
    this.count++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Upper edge of the bucket holding quantile q (0..1); the maximum for the overflow bucket; 0 before any. */
  quantileMs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i <= BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) return i === BUCKETS ? this.maxMs : Math.min(this.maxMs, (i + 1) * BUCKET_MS);
    }
    return this.maxMs;
  }

  stats(): CloseLatencyStats {
    return {
      closeLatencyCount: this.count,
      closeLatencyP50Ms: this.quantileMs(0.5),
      closeLatencyP99Ms: this.quantileMs(0.99),
      closeLatencyMaxMs: this.maxMs,
    };
  }
}
