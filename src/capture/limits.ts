// tcpdump's -c COUNT and a --duration for any capture: stop() once enough packets were seen or enough time passed.
import type { Capture } from './index';

export interface CaptureLimits {
  /** Stop after this many packets (tcpdump -c). */
  count?: number;
  /** Stop after this many seconds of wall-clock time (tshark -a duration:S). */
  durationS?: number;
}

/** How often the packet count is read: a fraction of a 50 ms window, one cheap stats() call. */
const COUNT_POLL_MS = 10;

/**
 * Calls capture.stop() (the last window closes and flows to the sinks, as on SIGINT) when a limit is reached.
 * The count is read from the engine's counters while it runs, so a fast file read may pass it by what the reader
 * holds ahead of JS (at most the native queue); an exact cut would need a limit inside the native read loop.
 */
export function stopAtLimits(capture: Pick<Capture, 'stop' | 'stats'>, limits: CaptureLimits, onStop?: (why: 'count' | 'duration') => void): { dispose(): void } {
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  const stop = (why: 'count' | 'duration') => {
    if (stopped) return;
    stopped = true;
    for (const t of timers) clearTimeout(t);
    onStop?.(why);
    void capture.stop();
  };
  if (limits.durationS !== undefined) timers.push(setTimeout(() => stop('duration'), limits.durationS * 1000));
  if (limits.count !== undefined) {
    const count = limits.count;
    timers.push(
      setInterval(() => {
        let frames = 0;
        try {
          frames = capture.stats().frames ?? 0;
        } catch {
          return; // the capture already ended and closed its handle
        }
        if (frames >= count) stop('count');
      }, COUNT_POLL_MS),
    );
  }
  for (const t of timers) t.unref();
  return {
    dispose() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
