// `tcpcast devices`: the interfaces libpcap can capture on, with flags and addresses (as tcpdump -D, plus addresses).
import type { Command } from 'commander';
import { listDevices } from '../capture';

export function register(program: Command): void {
  program
    .command('devices')
    .description('list capture interfaces with their flags and addresses')
    .option('--json', 'print JSON instead of text')
    .action((opts: { json?: boolean }) => {
      const devices = listDevices();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(devices, null, 2)}\n`);
        return;
      }
      const lines: string[] = [];
      devices.forEach((d, i) => {
        const desc = d.description ? ` (${d.description})` : '';
        lines.push(`${i + 1}. ${d.name}${desc} [${d.flags.join(', ')}]`);
        for (const a of d.addresses) {
          const mask = a.netmask ? ` netmask ${a.netmask}` : '';
          lines.push(`     ${a.family} ${a.addr}${mask}`);
        }
      });
      process.stdout.write(lines.join('\n') + (lines.length ? '\n' : ''));
    });
}
