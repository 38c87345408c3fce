// `npm run bench [-- --quick] [--case NAME] [--repeat N]`: runs every case in bench/cases/, prints and writes dated results; exits non-zero if anything errored.
//
// A case is one file in bench/cases/ exporting `benchCase: BenchCase` (see bench/lib/types.ts and
// docs/bench.md). Runs are interleaved (run 1 of every trial, then run 2 ...) so a slow drift of the
// machine, e.g. another process starting, spreads over all trials instead of landing on one.
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeMachine, toolVersion } from './lib/machine';
import { writeReport, RunReport } from './lib/report';
import { median, runOnce, TrialError } from './lib/runner';
import { BenchCase, BenchContext, CaseResult, TrialResult } from './lib/types';

const REPO_ROOT = resolve(__dirname, '..', '..');

interface Options {
  quick: boolean;
  cases: string[];
  repeat?: number;
  resultsDir: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { quick: false, cases: [], resultsDir: join(REPO_ROOT, 'bench', 'results') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--case') o.cases.push(argv[++i]);
    else if (a === '--repeat') o.repeat = Number(argv[++i]);
    else if (a === '--results') o.resultsDir = resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run bench -- [--quick] [--case NAME]... [--repeat N] [--results DIR]');
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.repeat !== undefined && !(Number.isInteger(o.repeat) && o.repeat >= 1)) throw new Error('--repeat needs a positive integer');
  return o;
}

function loadCases(): BenchCase[] {
  const dir = join(__dirname, 'cases');
  const cases: BenchCase[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.js')) continue;
    const mod = require(join(dir, file)) as { benchCase?: BenchCase };
    if (mod.benchCase) cases.push(mod.benchCase);
  }
  return cases;
}

function log(message: string): void {
  process.stdout.write(`${message}\n`);
}

async function runCase(bc: BenchCase, ctx: BenchContext): Promise<CaseResult> {
  const result: CaseResult = {
    name: bc.name, description: bc.description, unit: '', input: {}, ratioAgainst: [], trials: [], targets: [], versions: {},
  };
  log(`== ${bc.name}: ${bc.description}`);
  let prepared;
  try {
    prepared = await bc.prepare(ctx);
  } catch (err) {
    result.error = `prepare failed: ${(err as Error).message}`;
    log(`   ${result.error}`);
    return result;
  }
  result.unit = prepared.unit;
  result.input = prepared.input;
  result.ratioAgainst = prepared.ratioAgainst;
  for (const [name, argv] of Object.entries(prepared.versions)) result.versions[name] = toolVersion(argv);
  for (const argv of prepared.warmup ?? []) {
    await runOnce({ name: 'warm-up', argv, work: 0 }, log).catch(() => undefined);
  }

  if (prepared.measure) {
    try {
      const measured = await prepared.measure();
      result.trials = measured.trials;
      result.notes = measured.notes;
    } catch (err) {
      result.error = `measure failed: ${(err as Error).message}`;
      log(`   ${result.error}`);
      return result;
    }
    addRatios(result.trials, prepared.ratioAgainst);
    result.targets = prepared.targets ? prepared.targets(result.trials) : [];
    return result;
  }

  const trials: TrialResult[] = prepared.trials.map((t) => ({ name: t.name, argv: t.argv, work: t.work, runs: [], ratios: {} }));
  const maxRepeat = Math.max(...prepared.trials.map((t) => t.repeat ?? ctx.repeat));
  const totalRuns = prepared.trials.reduce((n, t) => n + (t.repeat ?? ctx.repeat), 0);
  let done = 0;
  for (let rep = 0; rep < maxRepeat; rep++) {
    for (let i = 0; i < prepared.trials.length; i++) {
      const trial = prepared.trials[i];
      const tr = trials[i];
      if (tr.error || rep >= (trial.repeat ?? ctx.repeat)) continue;
      done++;
      try {
        const m = await runOnce(trial, log);
        tr.runs.push(m);
        log(`  [${done}/${totalRuns}] ${trial.name}: ${m.wallS.toFixed(3)} s, ${(trial.work / m.wallS / 1e3).toFixed(1)} k ${prepared.unit}/s, ` +
          `peak RSS ${(m.peakRssKb / 1024).toFixed(1)} MB`);
      } catch (err) {
        if (!(err instanceof TrialError)) throw err;
        tr.error = err.message;
        log(`  [${done}/${totalRuns}] ${trial.name}: ERROR ${err.message}`);
      }
    }
  }
  for (const tr of trials) {
    if (tr.error || tr.runs.length === 0) continue;
    tr.wallS = median(tr.runs.map((r) => r.wallS));
    tr.ratePerS = tr.work / tr.wallS;
    tr.peakRssMb = Math.max(...tr.runs.map((r) => r.peakRssKb)) / 1024;
    tr.cpuS = median(tr.runs.map((r) => r.userS + r.sysS));
  }
  addRatios(trials, prepared.ratioAgainst);
  result.trials = trials;
  result.targets = prepared.targets ? prepared.targets(trials) : [];
  return result;
}

function addRatios(trials: TrialResult[], ratioAgainst: string[]): void {
  for (const tr of trials) {
    for (const against of ratioAgainst) {
      const base = trials.find((t) => t.name === against);
      if (tr.ratePerS !== undefined && base?.ratePerS !== undefined) tr.ratios[against] = tr.ratePerS / base.ratePerS;
    }
  }
}

function printSummary(c: CaseResult): void {
  if (c.error) return;
  log(`-- ${c.name} (${c.unit}/s; ratios: trial rate / named trial's rate)`);
  for (const t of c.trials) {
    if (t.error) {
      log(`   ${t.name.padEnd(28)} ERROR ${t.error}`);
      continue;
    }
    const ratios = c.ratioAgainst.map((r) => `${(t.ratios[r] ?? NaN).toPrecision(3)}x ${r}`).join(', ');
    const fixed = (x: number | undefined, digits: number): string => (x === undefined ? '-' : x.toFixed(digits));
    log(`   ${t.name.padEnd(28)} ${ratios.padEnd(36)} ${fixed(t.ratePerS === undefined ? undefined : t.ratePerS / 1e3, 1).padStart(9)} k/s  ${fixed(t.peakRssMb, 1).padStart(7)} MB`);
  }
  for (const t of c.targets) log(`   target ${t.met ? 'met    ' : 'NOT met'} ${t.target}: ${t.reached}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const repeat = options.repeat ?? (options.quick ? 1 : 3);
  const ctx: BenchContext = { quick: options.quick, repeat, repoRoot: REPO_ROOT, outDir: join(REPO_ROOT, 'bench', 'out'), log };
  let cases = loadCases();
  if (options.cases.length > 0) {
    const unknown = options.cases.filter((n) => !cases.some((c) => c.name === n));
    if (unknown.length > 0) throw new Error(`unknown case(s) ${unknown.join(', ')}; have ${cases.map((c) => c.name).join(', ')}`);
    cases = cases.filter((c) => options.cases.includes(c.name));
  }
  const report: RunReport = {
    startedAt: new Date().toISOString(), finishedAt: '', quick: options.quick, repeat, machine: describeMachine(REPO_ROOT), cases: [],
  };
  for (const bc of cases) report.cases.push(await runCase(bc, ctx));
  report.finishedAt = new Date().toISOString();
  for (const c of report.cases) printSummary(c);
  const paths = writeReport(report, options.resultsDir);
  log(`results: ${paths.md}`);
  const failed = report.cases.filter((c) => c.error || c.trials.some((t) => t.error));
  if (failed.length > 0) {
    log(`FAILED: ${failed.map((c) => c.name).join(', ')} (see errors above)`);
    process.exitCode = 1;
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.message}\n`);
  process.exitCode = 1;
});
