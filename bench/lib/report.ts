// Writes a benchmark run as dated Markdown (ratios first, then rates, memory, targets, machine, versions) and JSON.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MachineInfo } from './machine';
import { CaseResult } from './types';

export interface RunReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  repeat: number;
  machine: MachineInfo;
  cases: CaseResult[];
}

function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 10 ? `${x.toFixed(0)}x` : x >= 1 ? `${x.toFixed(2)}x` : `${x.toFixed(3)}x`;
}

function fmtRate(x: number | undefined): string {
  if (x === undefined) return '-';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

export function renderMarkdown(report: RunReport): string {
  const m = report.machine;
  const lines: string[] = [];
  lines.push(`# tcpcast benchmark ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick)' : ''}`);
  lines.push('');
  lines.push(`${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Linux ${m.kernel}, Node ${m.node}, tcpcast ${m.tcpcast}.`);
  lines.push(`Median of ${report.repeat} run(s) per trial unless noted; every run in its own process; peak RSS is the largest over runs.`);
  for (const c of report.cases) {
    lines.push('', `## ${c.name}: ${c.description}`, '');
    if (c.error) {
      lines.push(`**Case failed:** ${c.error}`);
      continue;
    }
    const header = ['trial', ...c.ratioAgainst.map((r) => `x ${r}`), `${c.unit}/s`, 'wall s', 'peak RSS MB', 'CPU s', 'runs'];
    lines.push(`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? '---' : '---:')).join('|')}|`);
    for (const t of c.trials) {
      if (t.error) {
        lines.push(`| ${t.name} | ${c.ratioAgainst.map(() => '-').join(' | ')} | **error** | | | | ${t.runs.length} |`);
        continue;
      }
      lines.push(`| ${[t.name, ...c.ratioAgainst.map((r) => fmtRatio(t.ratios[r])), fmtRate(t.ratePerS), t.wallS?.toFixed(3),
        t.peakRssMb?.toFixed(1), t.cpuS?.toFixed(2), String(t.runs.length)].join(' | ')} |`);
    }
    lines.push('', `"x NAME" is this trial's ${c.unit}/s divided by NAME's: above 1 is faster.`);
    if (c.notes && c.notes.length > 0) lines.push('', ...c.notes);
    const errors = c.trials.filter((t) => t.error);
    if (errors.length > 0) {
      lines.push('', 'Errors:', '');
      for (const t of errors) lines.push(`- ${t.name}: ${t.error}`);
    }
    if (c.targets.length > 0) {
      lines.push('', '| target | reached | met |', '|---|---|---|');
      for (const t of c.targets) lines.push(`| ${t.target} | ${t.reached} | ${t.met ? 'yes' : 'no'} |`);
    }
    lines.push('', 'Input:', '');
    for (const [k, v] of Object.entries(c.input)) lines.push(`- ${k}: ${v}`);
    lines.push('', 'Versions:', '');
    for (const [k, v] of Object.entries(c.versions)) lines.push(`- ${k}: ${v}`);
    lines.push('', 'Commands:', '');
    for (const t of c.trials) lines.push(`- ${t.name}: \`${t.argv.join(' ')}\``);
  }
  return lines.join('\n') + '\n';
}

/** Writes DIR/YYYY-MM-DD-HHMM[-quick].{md,json} (UTC) and returns the two paths. */
export function writeReport(report: RunReport, dir: string): { md: string; json: string } {
  mkdirSync(dir, { recursive: true });
  const d = new Date(report.startedAt);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
  const base = join(dir, `${stamp}${report.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.md`, renderMarkdown(report));
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  return { md: `${base}.md`, json: `${base}.json` };
}
