// Live-capture peer for the bench: the `cap` npm package (libpcap via nan) with its JS decoders, counting Ethernet/IPv4/TCP packets until SIGTERM.
//
// Usage: node bench/peers/cap-capture.js IFACE [BUFFER_BYTES]. Prints "capturing on IFACE" on stderr once the
// handle is open, and on SIGTERM/SIGINT one JSON line on stdout: {captured, ipv4, tcp, payloadBytes}.
// cap exposes no pcap_stats, so it cannot report kernel drops: the bench compares `captured` with what the
// interface received. Every packet is decoded the way cap's README does it (Ethernet, then IPv4, then TCP),
// which is what a Node tool built on cap pays per packet.
'use strict';
const { Cap, decoders } = require('cap');

const PROTOCOL = decoders.PROTOCOL;
const iface = process.argv[2];
const bufferBytes = Number(process.argv[3] ?? 32 * 1024 * 1024);
if (!iface) {
  process.stderr.write('usage: cap-capture.js IFACE [BUFFER_BYTES]\n');
  process.exit(2);
}

const c = new Cap();
const packet = Buffer.alloc(65535);
const linkType = c.open(iface, '', bufferBytes, packet);
if (linkType !== 'ETHERNET') {
  process.stderr.write(`cap-capture: link type ${linkType}, only ETHERNET is decoded\n`);
  process.exit(1);
}
if (c.setMinBytes) c.setMinBytes(0);

const counts = { captured: 0, ipv4: 0, tcp: 0, payloadBytes: 0 };
c.on('packet', (nbytes) => {
  counts.captured++;
  let ret = decoders.Ethernet(packet);
  if (ret.info.type !== PROTOCOL.ETHERNET.IPV4) return;
  ret = decoders.IPV4(packet, ret.offset);
  counts.ipv4++;
  if (ret.info.protocol !== PROTOCOL.IP.TCP) return;
  const ipPayload = ret.info.totallen - ret.hdrlen;
  ret = decoders.TCP(packet, ret.offset);
  counts.tcp++;
  counts.payloadBytes += Math.max(0, ipPayload - ret.hdrlen);
  if (ret.offset > nbytes) counts.truncated = (counts.truncated ?? 0) + 1;
});

const stop = () => {
  c.close();
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stderr.write(`capturing on ${iface}\n`);
