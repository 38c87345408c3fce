// The lab topology: sender and receiver namespaces joined through an emulator namespace by two veth pairs (prefix tcl-).
import { run } from './exec';

/**
 *   tcl-<id>-snd                 tcl-<id>-emu                      tcl-<id>-rcv
 *   [<id>s 10.201.0.1] <-veth-> [<id>a]  linkem  [<id>b] <-veth-> [<id>r 10.201.0.2]
 *
 * The emulator namespace has no addresses and no routes: the emulator is a wire that reads every frame on one
 * side and writes it, on schedule, to the other; sender and receiver share one subnet and resolve each other by
 * ARP through it. Offloads are off everywhere so each frame on the wire is one MTU-sized packet, as the traces
 * assume (and so tcpdump sees the segments TCP really sent). Checksum offload is off too: the emulator copies
 * frames verbatim, so their checksums must already be complete when they reach it.
 */
export interface Topology {
  id: string;
  snd: string;
  emu: string;
  rcv: string;
  sndIf: string;
  emuSndIf: string;
  emuRcvIf: string;
  rcvIf: string;
  sndAddr: string;
  rcvAddr: string;
}

export const NAME_PREFIX = 'tcl-';
const SND_ADDR = '10.201.0.1';
const RCV_ADDR = '10.201.0.2';
let sessionCounter = 0;

/** A fresh id that embeds our pid, so stale namespaces of dead lab runs can be recognised and removed. */
export function newTopologyId(): string {
  return `${process.pid.toString(36)}-${(sessionCounter++).toString(36)}`;
}

export function topologyNames(id: string): Topology {
  return {
    id,
    snd: `${NAME_PREFIX}${id}-snd`,
    emu: `${NAME_PREFIX}${id}-emu`,
    rcv: `${NAME_PREFIX}${id}-rcv`,
    sndIf: `${NAME_PREFIX}${id}s`,
    emuSndIf: `${NAME_PREFIX}${id}a`,
    emuRcvIf: `${NAME_PREFIX}${id}b`,
    rcvIf: `${NAME_PREFIX}${id}r`,
    sndAddr: SND_ADDR,
    rcvAddr: RCV_ADDR,
  };
}

export function inNs(ns: string, cmd: string, args: string[]): [string, string[]] {
  return ['ip', ['netns', 'exec', ns, cmd, ...args]];
}

export function listNamespaces(): string[] {
  return run('ip', ['netns', 'list'], { allowFail: true })
    .split('\n')
    .map((line) => line.split(' ')[0])
    .filter((name) => name.length > 0);
}

/** Builds the topology; on any failure removes what it built and rethrows. */
export function createTopology(id: string): Topology {
  const t = topologyNames(id);
  try {
    for (const ns of [t.snd, t.emu, t.rcv]) {
      run('ip', ['netns', 'add', ns]);
      run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      // IPv6 would add router solicitations and DAD to a capture meant to hold only the experiment's traffic.
      run(...inNs(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']));
    }
    run('ip', ['link', 'add', t.sndIf, 'netns', t.snd, 'type', 'veth', 'peer', 'name', t.emuSndIf, 'netns', t.emu]);
    run('ip', ['link', 'add', t.rcvIf, 'netns', t.rcv, 'type', 'veth', 'peer', 'name', t.emuRcvIf, 'netns', t.emu]);
    run('ip', ['-n', t.snd, 'addr', 'add', `${t.sndAddr}/24`, 'dev', t.sndIf]);
    run('ip', ['-n', t.rcv, 'addr', 'add', `${t.rcvAddr}/24`, 'dev', t.rcvIf]);
    for (const [ns, ifname] of [[t.snd, t.sndIf], [t.emu, t.emuSndIf], [t.emu, t.emuRcvIf], [t.rcv, t.rcvIf]]) {
      run(...inNs(ns, 'ethtool', ['-K', ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']));
      run('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
    }
    return t;
  } catch (err) {
    destroyTopology(t);
    throw err;
  }
}

/** Kills every process still inside the topology's namespaces (they are ours), then deletes the namespaces. */
export function destroyTopology(t: Topology): void {
  for (const ns of [t.snd, t.emu, t.rcv]) destroyNamespace(ns);
}

function destroyNamespace(ns: string): void {
  if (!listNamespaces().includes(ns)) return;
  const pids = run('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').map(Number).filter((p) => p > 0);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Deleting the namespace removes its veth ends, and with them their peers.
  run('ip', ['netns', 'del', ns], { allowFail: true });
}

/** Removes lab namespaces left by lab processes that no longer exist (a crash or SIGKILL skips cleanup). */
export function removeStaleTopologies(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = /^tcl-([0-9a-z]+)-[0-9a-z]+-(snd|emu|rcv)$/.exec(ns);
    if (!m) continue;
    const pid = parseInt(m[1], 36);
    if (pid === process.pid || pidAlive(pid)) continue;
    destroyNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
