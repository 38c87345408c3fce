// `tcpcast import-pantheon LOG... -o out.csv`: Pantheon tunnel logs -> windows CSV (one-way delay; see docs/forecast.md).
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { DEFAULT_WINDOW_MS, parsePositiveInt } from '../options';

export function register(program: Command): void {
  program
    .command('import-pantheon')
    .description('convert Pantheon/mahimahi tunnel logs into the windows CSV format (egress side; delay is one-way)')
    .argument('<log...>', 'tunnel logs (# init timestamp header, "<ts> + <bytes>", "<ts> - <bytes> <delay>")')
    .requiredOption('-o, --output <csv>', 'output CSV ("-" for stdout)')
    .option('--window-ms <ms>', 'window length in milliseconds', parsePositiveInt('--window-ms'), DEFAULT_WINDOW_MS)
    .action(async (logs: string[], o) => {
      const { pantheonCsvRows } = await import('../train/pantheon');
      const { windowsToCsv } = await import('../train/csv');
      const windowMs = o.windowMs as number;
      const csv = windowsToCsv(logs.flatMap((log) => pantheonCsvRows(log, windowMs)));
      if (o.output === '-') process.stdout.write(csv);
      else writeFileSync(o.output, csv);
    });
}
