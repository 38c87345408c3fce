// openCapture(): a started native capture behind an async-iterable of WindowBatch (and of packet batches), with stats() and stop().
import type { WindowBatch } from '../features';
import { TcpcastError, withCallerStack } from '../errors';
import { native, NativeCaptureHandle, NativeCaptureStats, NativeQueueItem, PacketBatch } from '../native';
import { CaptureOptions, toNativeOptions } from './options';
import { UndecodedReporter } from './undecoded';
import { snaplenWarning } from './snaplen';

export * from './options';
export type { PacketBatch } from '../native';

/** Items taken from native per call; each is a whole batch, so this only bounds one synchronous step. */
const TAKE_MAX = 16;

export class Capture implements AsyncIterable<WindowBatch> {
  readonly live: boolean;
  private readonly handle: NativeCaptureHandle;
  private readonly buffer: NativeQueueItem[] = [];
  private waiters: Array<() => void> = [];
  private ended = false;
  private stopRequested = false;
  private readonly onWarning: (message: string) => void;
  private readonly undecoded = new UndecodedReporter();
  /** The too-small-snaplen warning is said once per capture. */
  private snaplenChecked = false;
  private readonly snaplen?: number;

  /** Use openCapture(). */
  constructor(options: CaptureOptions) {
    const nativeOptions = toNativeOptions(options);
    this.live = nativeOptions.interfaces.length > 0;
    this.onWarning = options.onWarning ?? ((m) => process.emitWarning(m, 'TcpcastWarning'));
    this.snaplen = options.snaplen;
    const addon = native();
    // The native side calls this (through a ThreadSafeFunction) when its queue becomes non-empty.
    this.handle = new addon.CaptureHandle(nativeOptions, () => this.wake());
    this.handle.start();
  }

  /** Window batches until every source ends (or stop()); a source error is thrown after the windows before it. */
  async *[Symbol.asyncIterator](): AsyncGenerator<WindowBatch> {
    for await (const item of this.items()) {
      const w = item.windows;
      if (w && (w.count > 0 || w.newSeries.length > 0 || w.endedSeries.length > 0)) yield w;
    }
  }

  /** Per-packet records (perPacket: true), batch by batch; windows are ignored here. */
  async *packetBatches(): AsyncGenerator<PacketBatch> {
    for await (const item of this.items()) {
      if (item.packets && item.packets.count > 0) yield item.packets;
    }
  }

  private async *items(): AsyncGenerator<NativeQueueItem> {
    try {
      for (;;) {
        // Made while the consumer's next() is on the stack: a source error then points at the consumer's code.
        const site = new Error();
        const item = await this.nextItem();
        this.reportUndecoded();
        if (!item) {
          this.checkSnaplen();
          return;
        }
        if (item.warning) this.onWarning(item.warning);
        this.checkSnaplen();
        yield item;
        if (item.error) {
          await this.stop();
          throw withCallerStack(item.error, site);
        }
      }
    } finally {
      // A consumer that breaks out early stops the capture, so threads and the notify handle are released.
      if (!this.ended) await this.stop();
    }
  }

  /** Once per reason, the first time frames were skipped for it (the counters keep the totals). */
  private reportUndecoded(): void {
    for (const line of this.undecoded.report(this.handle.stats().counters)) this.onWarning(line);
  }

  private checkSnaplen(): void {
    if (this.snaplenChecked) return;
    const counters = this.handle.stats().counters;
    const message = snaplenWarning(counters, this.snaplen);
    if (!message) {
      // Enough packets parsed fine: the snaplen is not the problem, stop asking.
      if (counters.tcpPackets >= 5000) this.snaplenChecked = true;
      return;
    }
    this.snaplenChecked = true;
    this.onWarning(message);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  private waitReadable(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Pulls from native only when asked: that is what keeps a file reader from running ahead of JS. */
  private pull(): boolean {
    const items = this.handle.take(TAKE_MAX);
    for (const item of items) {
      if (item.end) {
        this.ended = true;
        this.handle.close();
      } else {
        this.buffer.push(item);
      }
    }
    return items.length > 0;
  }

  private async nextItem(): Promise<NativeQueueItem | undefined> {
    for (;;) {
      const item = this.buffer.shift();
      if (item) return item;
      if (this.ended) return undefined;
      if (!this.pull()) await this.waitReadable();
    }
  }

  /**
   * Makes every source leave its loop, close its open windows and queue its last batch; resolves when all have
   * ended. Batches not yet iterated stay available to the iterator.
   */
  async stop(): Promise<void> {
    if (!this.stopRequested) {
      this.stopRequested = true;
      if (!this.ended) this.handle.stop();
    }
    while (!this.ended) {
      if (!this.pull()) await this.waitReadable();
    }
  }

  /** Engine counters, pcap_stats and queue drops, flat (for the stats line and /metrics). */
  stats(): Record<string, number> {
    const s = this.detailedStats();
    const flat: Record<string, number> = { ...s.counters };
    flat.pcapReceived = s.pcap.reduce((a, p) => a + p.received, 0);
    flat.pcapDropped = s.pcap.reduce((a, p) => a + p.dropped, 0);
    flat.pcapIfDropped = s.pcap.reduce((a, p) => a + p.ifDropped, 0);
    flat.batchesDropped = s.batchesDropped;
    flat.windowsDropped = s.windowsDropped;
    flat.packetsDropped = s.packetsDropped;
    flat.queueLength = s.queueLength + this.buffer.length;
    return flat;
  }

  detailedStats(): NativeCaptureStats {
    return this.handle.stats();
  }

  /** DLT_* of each source, in source order (files, then interfaces). */
  linktypes(): number[] {
    return this.handle.linktypes();
  }
}

/** Opens and starts a capture; open failures (missing file, unknown interface, bad filter) throw a coded TcpcastError. */
export function openCapture(options: CaptureOptions): Capture {
  const site = new Error();
  try {
    return new Capture(options);
  } catch (err) {
    if (err instanceof TcpcastError) throw withCallerStack(err, site);
    throw err;
  }
}

/** Leaves root for `user` after every handle is open (daemon --user). */
export function dropPrivileges(user: string): void {
  const site = new Error();
  try {
    native().dropPrivileges(user);
  } catch (err) {
    if (err instanceof TcpcastError) throw withCallerStack(err, site);
    throw err;
  }
}

export function listDevices() {
  return native().listDevices();
}
