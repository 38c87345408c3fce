// Capture options: validation and defaults live here (policy in TypeScript); native code receives a complete, checked struct.
import { Option, type Command } from 'commander';
import { Errors } from '../errors';
import type { NativeCaptureOptions } from '../native';

/** Live captures leave loopback out unless the user gives a filter: local chatter is not the link being forecast. */
export const DEFAULT_LIVE_BPF = 'not (net 127.0.0.0/8 or ip6 host ::1)';
/**
 * Headers only, including one tunnel: VXLAN over an IPv6 underlay (14 + 40 + 8 + 8) carrying Ethernet + IPv6 +
 * TCP with full options (14 + 40 + 60) is 184 bytes; 192 covers it and stays ~8x denser in the ring than full
 * 1500-byte frames (fewer drops under load). Without tunnels 128 would do (Ethernet, two VLAN tags, IPv6, TCP).
 */
export const DEFAULT_SNAPLEN = 192;
/** Kernel ring per handle, KiB (tcpdump's -B unit): 32 MiB holds ~1 s of a 10 Gb/s link's headers. */
export const DEFAULT_BUFFER_KIB = 32 * 1024;
export const DEFAULT_WINDOW_MS = 50;
export const DEFAULT_TOP_K = 20;
export const DEFAULT_MAX_FLOWS = 65536;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/** Connections that never carried payload (SYN scans, stalled handshakes) are forgotten sooner, as conntrack does. */
export const DEFAULT_HALF_OPEN_TIMEOUT_MS = 5_000;
/** How often an idle live link closes its silent windows: well under a window, cheap (one poll timeout). */
export const DEFAULT_TICK_MS = 10;
export const DEFAULT_QUEUE_BATCHES = 64;
/** UDP ports decoded as VXLAN: IANA's 4789 and 8472, the Linux kernel's default (flannel, older OVS). */
export const DEFAULT_VXLAN_PORTS: readonly number[] = [4789, 8472];
/** The native parser keeps a fixed-size port list (native/packet.h MAX_VXLAN_PORTS). */
export const MAX_VXLAN_PORTS = 8;

const NS_PER_MS = 1_000_000;

export interface CaptureOptions {
  /** pcap/pcapng files ('-' = stdin). Exactly one of files/interfaces. */
  files?: string[];
  /** Live interfaces; 'any' captures all (per-interface series through the SLL2 ifindex). */
  interfaces?: string[];
  /** tcpdump-style filter, as one string or trailing words; default: DEFAULT_LIVE_BPF live, none for files. */
  bpf?: string | string[];
  snaplen?: number;
  bufferKib?: number;
  promisc?: boolean;
  /**
   * Live only: open the interfaces inside this network namespace (a name as `ip netns list` shows it, i.e. a file
   * in /run/netns) while the process, its dashboard and its sinks stay in their own. Needs CAP_SYS_ADMIN.
   */
  netns?: string;
  /** File replay pacing: 0 = as fast as possible, 1 = real time, N = N x. */
  speed?: number;
  windowMs?: number;
  topK?: number;
  maxFlows?: number;
  idleTimeoutMs?: number;
  /** Eviction timeout of connections that never carried payload. */
  halfOpenTimeoutMs?: number;
  /** Per-packet records (the `packets` command) in addition to windows. */
  perPacket?: boolean;
  /**
   * With perPacket: the native side writes the `packets` TSV rows (src/capture/packet-tsv.ts's format) straight
   * to this file descriptor and no packet batches reach JS. A closed pipe ends the capture quietly.
   */
  packetsFd?: number;
  tickMs?: number;
  /** Follow tunnels (VXLAN, Geneve, GRE, IP-in-IP, MPLS, PPPoE) to the inner TCP connection; default true. */
  decap?: boolean;
  /** UDP ports decoded as VXLAN; default DEFAULT_VXLAN_PORTS. */
  vxlanPorts?: number[];
  /** Bound of the native queue, in batches: files wait when full, live drops the oldest batch (counted). */
  queueBatches?: number;
  /** pcap_activate warnings; default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

function int(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw Errors.invalidOption(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  return v;
}

function real(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw Errors.invalidOption(`${name} must be a number in [${min}, ${max}], got ${value}`);
  return v;
}

function vxlanPorts(ports: number[] | undefined): number[] {
  const list = ports ?? [...DEFAULT_VXLAN_PORTS];
  if (!Array.isArray(list) || list.length > MAX_VXLAN_PORTS) {
    throw Errors.invalidOption(`vxlanPorts must be a list of at most ${MAX_VXLAN_PORTS} UDP ports, got ${JSON.stringify(ports)}`);
  }
  return list.map((p) => int('vxlanPorts', p, 0, 1, 65535));
}

/** "4789,8472" (the --vxlan-ports flag) -> [4789, 8472]; an empty string means no VXLAN port. */
export function parseVxlanPorts(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const ports = parts.map((s) => {
    if (!/^\d+$/.test(s)) throw Errors.invalidOption(`--vxlan-ports: not a port number: ${JSON.stringify(s)}`);
    return Number(s);
  });
  return vxlanPorts(ports);
}

/** The decapsulation flags, shared by every command that captures (packets, windows, run, replay). */
export interface DecapFlags {
  decap: boolean;
  vxlanPorts?: number[];
}

export function addDecapOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--no-decap', 'do not follow tunnels (VXLAN, Geneve, GRE, IP-in-IP, MPLS, PPPoE): tunnelled TCP is not analysed'))
    .addOption(
      new Option('--vxlan-ports <list>', `UDP ports decoded as VXLAN, comma-separated (default ${DEFAULT_VXLAN_PORTS.join(',')})`)
        .env('TCPCAST_VXLAN_PORTS')
        .argParser(parseVxlanPorts),
    );
}

export function bpfText(bpf: string | string[] | undefined): string | undefined {
  if (bpf === undefined) return undefined;
  return (Array.isArray(bpf) ? bpf.join(' ') : bpf).trim();
}

export function toNativeOptions(o: CaptureOptions): NativeCaptureOptions {
  const files = o.files ?? [];
  const interfaces = o.interfaces ?? [];
  if (files.length === 0 && interfaces.length === 0) throw Errors.invalidOption('no capture source: give a file or an interface');
  if (files.length > 0 && interfaces.length > 0) throw Errors.invalidOption('give files or interfaces, not both');
  for (const s of [...files, ...interfaces]) {
    if (typeof s !== 'string' || s.length === 0) throw Errors.invalidOption('empty source name');
  }
  if (files.filter((f) => f === '-').length > 1) throw Errors.invalidOption('stdin (-) can be read once');
  const live = interfaces.length > 0;
  const netns = o.netns ?? '';
  if (netns !== '') {
    if (!live) throw Errors.invalidOption('netns applies to live interfaces, not to files');
    // A name, not a path: it is looked up in /run/netns, so a slash or dot-dot could point anywhere.
    if (typeof netns !== 'string' || !/^[A-Za-z0-9_.@:+-]{1,255}$/.test(netns) || netns === '.' || netns === '..') {
      throw Errors.invalidOption(`netns must be a namespace name as ip netns list shows it, got ${JSON.stringify(netns)}`);
    }
  }
  const userBpf = bpfText(o.bpf);
  const windowMs = real('windowMs', o.windowMs, DEFAULT_WINDOW_MS, 1, 3_600_000);
  return {
    files,
    interfaces,
    bpf: userBpf ?? (live ? DEFAULT_LIVE_BPF : ''),
    snaplen: int('snaplen', o.snaplen, DEFAULT_SNAPLEN, 64, 262144),
    bufferKib: int('bufferKib', o.bufferKib, DEFAULT_BUFFER_KIB, 64, 4 * 1024 * 1024),
    promisc: o.promisc ?? false,
    netns,
    speed: real('speed', o.speed, 0, 0, 1e6),
    tickNs: Math.round(real('tickMs', o.tickMs, DEFAULT_TICK_MS, 1, 1000) * NS_PER_MS),
    queueBatches: int('queueBatches', o.queueBatches, DEFAULT_QUEUE_BATCHES, 1, 1 << 20),
    windowNs: Math.round(windowMs * NS_PER_MS),
    topK: int('topK', o.topK, DEFAULT_TOP_K, 0, 100_000),
    maxFlows: int('maxFlows', o.maxFlows, DEFAULT_MAX_FLOWS, 1, 1 << 26),
    idleTimeoutNs: Math.round(real('idleTimeoutMs', o.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS, 1, 86_400_000) * NS_PER_MS),
    halfOpenTimeoutNs: Math.round(real('halfOpenTimeoutMs', o.halfOpenTimeoutMs, DEFAULT_HALF_OPEN_TIMEOUT_MS, 1, 86_400_000) * NS_PER_MS),
    perPacket: o.perPacket ?? false,
    decap: o.decap ?? true,
    vxlanPorts: vxlanPorts(o.vxlanPorts),
    packetsFd: o.perPacket && o.packetsFd !== undefined ? int('packetsFd', o.packetsFd, -1, 0, 1 << 20) : -1,
  };
}
