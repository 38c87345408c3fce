// `tcpcast packets FILE [BPF...]`: one TSV row per TCP packet in tshark's field layout (see src/capture/packet-tsv.ts).
import type { Command } from 'commander';
import { openCapture } from '../capture';
import { addDecapOptions, type DecapFlags } from '../capture/options';

const STDOUT_FD = 1;

export async function runPackets(file: string, bpf: string[], decap: DecapFlags = { decap: true }): Promise<void> {
  // The rows are formatted natively and written straight to stdout's descriptor (native/packet_tsv.cc, the same
  // bytes as PacketTsvFormatter): no per-packet record crosses into JS, and memory stays constant. A reader
  // that closes the pipe (| head) ends the capture quietly. Only the queue's end (and errors) come here.
  // topK 0: the window batches still reach JS (and are dropped there); per-connection series would only cost memory.
  const capture = openCapture({ files: [file], bpf: bpf.length ? bpf : undefined, perPacket: true, packetsFd: STDOUT_FD, queueBatches: 4, topK: 0,
    decap: decap.decap, vxlanPorts: decap.vxlanPorts, onWarning: (m) => process.stderr.write(`tcpcast: ${m}\n`) });
  for await (const batch of capture.packetBatches()) void batch; // none arrive: the rows went to stdout
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
