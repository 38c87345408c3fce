// Network namespaces joined by veth pairs, for tests and benchmarks that need real kernel TCP without touching the host network.
//
// Topology: sender <-veth-> receiver, or sender <-veth-> router <-veth-> receiver when `router` is set.
// The router exists so a tbf qdisc on its egress drops real segments in flight: a tbf on the sender's own
// interface makes the local stack back off (NET_XMIT_DROP / TCP small queues) instead of losing packets,
// so no retransmissions would ever reach a capture.
//
// Every offload that merges or splits frames (TSO, GSO, GRO) is turned off on every veth end so the
// capture holds MTU-sized frames, as a physical link would show them.
//
// Addresses are fixed (the namespaces are isolated, so two topologies never collide) which keeps captures
// reproducible; only the namespace names are unique: PREFIX-PID-N-ROLE, so a later run can delete the
// leftovers of a killed one (owner pid dead) without touching anyone else's.
import { ChildProcess, execFileSync, spawn, SpawnOptions } from 'node:child_process';
import { pidAlive } from '../../src/lab/netns';

export const SENDER_ADDR4 = '10.201.1.1';
export const RECEIVER_ADDR4_DIRECT = '10.201.1.2';
export const ROUTER_ADDR4_SENDER_SIDE = '10.201.1.254';
export const ROUTER_ADDR4_RECEIVER_SIDE = '10.201.2.254';
export const RECEIVER_ADDR4_ROUTED = '10.201.2.2';
export const SENDER_ADDR6 = 'fd00:201:1::1';
export const RECEIVER_ADDR6_DIRECT = 'fd00:201:1::2';
export const ROUTER_ADDR6_SENDER_SIDE = 'fd00:201:1::fe';
export const ROUTER_ADDR6_RECEIVER_SIDE = 'fd00:201:2::fe';
export const RECEIVER_ADDR6_ROUTED = 'fd00:201:2::2';

export interface Endpoint {
  ns: string;
  ifname: string;
  addr4: string;
  addr6: string;
}

export interface TopologyOptions {
  /** Namespace/veth name prefix of the calling area ('tcf' fixtures, 'tcb' bench). */
  prefix: string;
  /** Put a forwarding namespace between sender and receiver (needed for real losses at a tbf bottleneck). */
  router?: boolean;
  /** Leave TSO/GSO/GRO as the kernel sets them (on), as real hosts run, instead of turning them off. */
  keepOffloads?: boolean;
}

export interface TbfOptions {
  rateMbit: number;
  /** Bucket size; must hold at least one MTU frame and rate/HZ bytes. */
  burstBytes?: number;
  /** Queue length in bytes; packets beyond it are dropped, which is where losses come from. */
  limitBytes?: number;
}

export interface Topology {
  sender: Endpoint;
  receiver: Endpoint;
  router?: { ns: string; senderSide: string; receiverSide: string };
  /** The interface whose egress is the bottleneck: router->receiver when routed, else the sender's. */
  bottleneck: { ns: string; ifname: string };
  /** Runs a command to completion inside a namespace; throws with its stderr when it fails. */
  exec(ns: string, cmd: string, args: string[]): string;
  /** Starts a long-running command inside a namespace; it is killed on destroy(). */
  spawn(ns: string, cmd: string, args: string[], options?: SpawnOptions): ChildProcess;
  setTbf(ns: string, ifname: string, tbf: TbfOptions): void;
  /** Kills what spawn() started, deletes the namespaces (their veths go with them). Idempotent. */
  destroy(): void;
}

const live = new Set<Topology>();
let counter = 0;
let exitHookInstalled = false;

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${(e.stderr || e.message).trim()}`);
  }
}


/** Deletes namespaces PREFIX-PID-* left behind by processes that no longer exist. */
export function cleanupStale(prefix: string): string[] {
  const removed: string[] = [];
  const re = new RegExp(`^${prefix}-(\\d+)-\\d+-[a-z]+$`);
  for (const line of ip(['netns', 'list']).split('\n')) {
    const name = line.split(' ')[0];
    const m = re.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      ip(['netns', 'del', name]);
      removed.push(name);
    } catch {
      // already gone: another cleaner got there first
    }
  }
  return removed;
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' covers normal ends and uncaught errors; signals need their own handler because the default
  // action would skip 'exit'. After cleaning up, the signal is re-raised so the exit status stays honest.
  process.on('exit', () => {
    for (const t of [...live]) t.destroy();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const t of [...live]) t.destroy();
      process.kill(process.pid, sig);
    });
  }
}

/** Checks the things a topology needs, so callers can skip with a reason instead of failing half-way. */
export function netnsUnavailableReason(): string | undefined {
  if (process.getuid && process.getuid() !== 0) return 'network namespaces need root';
  for (const tool of ['ip', 'tc', 'ethtool']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed`;
    }
  }
  return undefined;
}

export function createTopology(options: TopologyOptions): Topology {
  if (!/^[a-z]{2,5}$/.test(options.prefix)) throw new Error(`bad namespace prefix ${options.prefix}`);
  installExitHook();
  cleanupStale(options.prefix);
  const base = `${options.prefix}-${process.pid}-${counter++}`;
  const routed = options.router === true;
  const p = options.prefix;
  const sender: Endpoint = { ns: `${base}-s`, ifname: `${p}-s`, addr4: SENDER_ADDR4, addr6: SENDER_ADDR6 };
  const receiver: Endpoint = routed
    ? { ns: `${base}-d`, ifname: `${p}-d`, addr4: RECEIVER_ADDR4_ROUTED, addr6: RECEIVER_ADDR6_ROUTED }
    : { ns: `${base}-d`, ifname: `${p}-d`, addr4: RECEIVER_ADDR4_DIRECT, addr6: RECEIVER_ADDR6_DIRECT };
  const router = routed ? { ns: `${base}-r`, senderSide: `${p}-rs`, receiverSide: `${p}-rd` } : undefined;
  const namespaces = [sender.ns, receiver.ns, ...(router ? [router.ns] : [])];
  const children = new Set<ChildProcess>();
  let destroyed = false;

  const exec = (ns: string, cmd: string, args: string[]): string => run('ip', ['netns', 'exec', ns, cmd, ...args]);

  const topology: Topology = {
    sender,
    receiver,
    router,
    bottleneck: router ? { ns: router.ns, ifname: router.receiverSide } : { ns: sender.ns, ifname: sender.ifname },
    exec,
    spawn(ns, cmd, args, spawnOptions) {
      const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOptions });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    setTbf(ns, ifname, tbf) {
      const burst = tbf.burstBytes ?? Math.max(16 * 1024, Math.ceil((tbf.rateMbit * 1e6) / 8 / 250));
      const limit = tbf.limitBytes ?? 64 * 1024;
      exec(ns, 'tc', ['qdisc', 'replace', 'dev', ifname, 'root', 'tbf', 'rate', `${tbf.rateMbit}mbit`,
        'burst', String(burst), 'limit', String(limit)]);
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      live.delete(topology);
      // `ip netns exec` passes the signal's target on by exec'ing; killing it kills the command itself.
      for (const child of children) {
        try {
          child.kill('SIGKILL');
        } catch {
          // already exited
        }
      }
      for (const ns of namespaces) {
        try {
          ip(['netns', 'del', ns]);
        } catch {
          // never created, or already deleted
        }
      }
    },
  };
  live.add(topology);

  try {
    for (const ns of namespaces) ip(['netns', 'add', ns]);
    const links: Array<[string, string, string, string]> = router
      ? [[sender.ns, sender.ifname, router.ns, router.senderSide], [router.ns, router.receiverSide, receiver.ns, receiver.ifname]]
      : [[sender.ns, sender.ifname, receiver.ns, receiver.ifname]];
    for (const [nsA, ifA, nsB, ifB] of links) {
      ip(['link', 'add', ifA, 'netns', nsA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    }
    const addrs: Array<[string, string, string, string]> = router
      ? [
          [sender.ns, sender.ifname, sender.addr4, sender.addr6],
          [router.ns, router.senderSide, ROUTER_ADDR4_SENDER_SIDE, ROUTER_ADDR6_SENDER_SIDE],
          [router.ns, router.receiverSide, ROUTER_ADDR4_RECEIVER_SIDE, ROUTER_ADDR6_RECEIVER_SIDE],
          [receiver.ns, receiver.ifname, receiver.addr4, receiver.addr6],
        ]
      : [
          [sender.ns, sender.ifname, sender.addr4, sender.addr6],
          [receiver.ns, receiver.ifname, receiver.addr4, receiver.addr6],
        ];
    for (const ns of namespaces) ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    for (const [ns, ifname, a4, a6] of addrs) {
      ip(['-n', ns, 'addr', 'add', `${a4}/24`, 'dev', ifname]);
      // nodad: duplicate address detection would leave the address unusable for ~2 s.
      ip(['-n', ns, 'addr', 'add', `${a6}/64`, 'dev', ifname, 'nodad']);
      if (!options.keepOffloads) exec(ns, 'ethtool', ['-K', ifname, 'tso', 'off', 'gso', 'off', 'gro', 'off']);
      ip(['-n', ns, 'link', 'set', ifname, 'up']);
    }
    if (router) {
      exec(router.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
      exec(router.ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.forwarding=1']);
      ip(['-n', sender.ns, 'route', 'add', 'default', 'via', ROUTER_ADDR4_SENDER_SIDE]);
      ip(['-n', receiver.ns, 'route', 'add', 'default', 'via', ROUTER_ADDR4_RECEIVER_SIDE]);
      ip(['-n', sender.ns, '-6', 'route', 'add', 'default', 'via', ROUTER_ADDR6_SENDER_SIDE]);
      ip(['-n', receiver.ns, '-6', 'route', 'add', 'default', 'via', ROUTER_ADDR6_RECEIVER_SIDE]);
    }
  } catch (err) {
    topology.destroy();
    throw err;
  }
  return topology;
}

/** Runs fn with a fresh topology and always deletes it afterwards. */
export async function withTopology<T>(options: TopologyOptions, fn: (t: Topology) => Promise<T>): Promise<T> {
  const t = createTopology(options);
  try {
    return await fn(t);
  } finally {
    t.destroy();
  }
}
