// `tcpcast packets FILE [BPF...]`: one TSV row per TCP packet in tshark's field layout (see src/capture/packet-tsv.ts).
import type { Command } from 'commander';
import { openCapture } from '../capture';
import { PacketTsvFormatter } from '../capture/packet-tsv';
import { ChunkWriter } from '../capture/write-stream';
import { addDecapOptions, type DecapFlags } from '../capture/options';

export async function runPackets(file: string, bpf: string[], decap: DecapFlags = { decap: true }): Promise<void> {
  const out = new ChunkWriter(process.stdout);
  // Formatting is slower than reading, so a file reader only waits at the queue bound: 4 batches of 8192 packets
  // keep it busy; the default 64 (sized for live bursts) held ~90 MB of records that nobody needed yet.
  const capture = openCapture({ files: [file], bpf: bpf.length ? bpf : undefined, perPacket: true, queueBatches: 4,
    decap: decap.decap, vxlanPorts: decap.vxlanPorts, onWarning: (m) => process.stderr.write(`tcpcast: ${m}\n`) });
  const formatter = new PacketTsvFormatter();
  for await (const batch of capture.packetBatches()) {
    await out.write(formatter.format(batch));
    if (out.closedByReader) break;
  }
  await out.end();
}

export function register(program: Command): void {
  const cmd = program
    .command('packets')
    .description(
      'print one TSV row per TCP packet: frame.number frame.time_epoch tcp.stream ip.src tcp.srcport ip.dst tcp.dstport ' +
        'tcp.len tcp.analysis.ack_rtt tcp.analysis.bytes_in_flight (as tshark -T fields)',
    )
    .argument('<file>', 'pcap or pcapng file (- for stdin)')
    .argument('[bpf...]', 'capture filter, as tcpdump takes it');
  addDecapOptions(cmd).action((file: string, bpf: string[], opts: DecapFlags) => runPackets(file, bpf, opts));
}
