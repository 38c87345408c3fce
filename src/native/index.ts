// The one place that loads the addon (build/Release/tcpcast.node); these types are the whole native/TS boundary.
import { join } from 'node:path';
import type { EndedSeries, SeriesInfo } from '../features';
import { TcpcastError } from '../errors';
import { schemaDifferences, type CounterKey, type NativeSchema } from '../schema';

/** Options exactly as native/addon.cc reads them; src/capture validates and defaults them first. */
export interface NativeCaptureOptions {
  files: string[];
  interfaces: string[];
  bpf: string;
  snaplen: number;
  bufferKib: number;
  promisc: boolean;
  /** Network namespace (a name under /run/netns) the live handles are opened in; '' = the process's own. */
  netns: string;
  speed: number;
  tickNs: number;
  queueBatches: number;
  windowNs: number;
  topK: number;
  maxFlows: number;
  idleTimeoutNs: number;
  halfOpenTimeoutNs: number;
  /** Per-packet rows formatted natively straight to this file descriptor (-1: as batches to JS). */
  packetsFd: number;
  perPacket: boolean;
  /** Follow tunnels (VXLAN, Geneve, GRE, IP-in-IP, MPLS, PPPoE) to the inner TCP connection. */
  decap: boolean;
  /** UDP ports decoded as VXLAN (at most 8). */
  vxlanPorts: number[];
}

/** Closed windows of one batch, columnar (row-major values, WINDOW_VALUE_COLUMNS wide). */
export interface NativeWindowBatch {
  count: number;
  series: Uint32Array;
  windowEndNs: BigInt64Array;
  values: Float64Array;
  newSeries: SeriesInfo[];
  /** Series that ended since the previous batch, with why (idle, evicted, port_reused); their last window came before. */
  endedSeries: EndedSeries[];
}

/** Per-packet records of one batch, columnar; -1 in a Float64 column means "tshark prints nothing". */
export interface PacketBatch {
  count: number;
  frameNumber: Float64Array;
  /** Capture time split into whole epoch seconds and the nanoseconds within that second. */
  tsSec: Float64Array;
  tsNsec: Uint32Array;
  stream: Uint32Array;
  ipVersion: Uint8Array;
  /** 16 bytes per packet; IPv4 uses the first 4. */
  src: Uint8Array;
  dst: Uint8Array;
  sport: Uint16Array;
  dport: Uint16Array;
  tcpLen: Uint32Array;
  ackRttNs: Float64Array;
  bytesInFlight: Float64Array;
  tsRttNs: Float64Array;
  retransmission: Uint8Array;
}

/** One item of the native queue. `end` is the last item ever; `error` ends its source (after the data before it). */
export interface NativeQueueItem {
  end: boolean;
  windows?: NativeWindowBatch;
  packets?: PacketBatch;
  error?: TcpcastError;
  warning?: string;
}

/** Every engine counter (src/schema.ts COUNTERS), keyed camelCase as addon.cc sets them. */
export type NativeCounters = Record<CounterKey, number>;

/** pcap_stats of one source (files report frames read as received). */
export interface NativePcapStats {
  source: string;
  live: boolean;
  received: number;
  dropped: number;
  ifDropped: number;
}

export interface NativeCaptureStats {
  counters: NativeCounters;
  pcap: NativePcapStats[];
  batchesDropped: number;
  windowsDropped: number;
  packetsDropped: number;
  queueLength: number;
}

export interface NativeCaptureHandle {
  start(): void;
  stop(): void;
  take(max: number): NativeQueueItem[];
  stats(): NativeCaptureStats;
  linktypes(): number[];
  close(): void;
}

export interface DeviceAddress {
  family: string;
  addr: string;
  netmask?: string;
  broadcast?: string;
}

export interface DeviceInfo {
  name: string;
  description: string;
  flags: string[];
  addresses: DeviceAddress[];
}

export interface NativeAddon {
  setErrorClass(cls: typeof TcpcastError): void;
  listDevices(): DeviceInfo[];
  dropPrivileges(user: string): void;
  pcapVersion: string;
  /** The window columns and counters this build was compiled with (native/schema.h). */
  schema: NativeSchema;
  /** Opens every source (throws TcpcastError with a code); onReadable is called when the queue becomes non-empty. */
  CaptureHandle: new (options: NativeCaptureOptions, onReadable: () => void) => NativeCaptureHandle;
}

/** dist/src/native/index.js -> <repo>/build/Release/tcpcast.node, so it works from the compiled tree. */
export const ADDON_PATH = join(__dirname, '..', '..', '..', 'build', 'Release', 'tcpcast.node');

let addon: NativeAddon | undefined;

/** Loads the addon once and hands it the error class; a missing build is a clear, coded error. */
export function native(): NativeAddon {
  if (addon) return addon;
  let loaded: NativeAddon;
  try {
    // node-gyp-build: build/Release when compiled here, else a prebuilt binary from prebuilds/ (npm run prebuilds).
    loaded = (require('node-gyp-build') as (dir: string) => unknown)(join(ADDON_PATH, '..', '..', '..')) as NativeAddon;
  } catch (err) {
    throw new TcpcastError(
      `cannot load the native addon ${ADDON_PATH} (run npm run build:native): ${(err as Error).message}`,
      'ERR_ADDON_MISSING',
    );
  }
  // A build from another schema would hand over values under the wrong column names: refuse it, naming the difference.
  const diff = schemaDifferences(loaded.schema ?? { windowColumns: [], counters: [], seriesEndReasons: [] });
  if (diff.length > 0) {
    throw new TcpcastError(
      `the native addon ${ADDON_PATH} was built from another schema than this TypeScript (run npm run build): ${diff.slice(0, 5).join('; ')}${diff.length > 5 ? ` (+${diff.length - 5} more)` : ''}`,
      'ERR_ADDON_SCHEMA',
    );
  }
  loaded.setErrorClass(TcpcastError);
  addon = loaded;
  return addon;
}
