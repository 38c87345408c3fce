// The benchmark case interface: a case prepares its inputs and returns its trials as data; the harness runs, measures and reports them.

/** What the harness hands a case. */
export interface BenchContext {
  /** Small inputs, one repetition: CI mode, a couple of minutes in all. */
  quick: boolean;
  /** Repetitions per trial unless a trial says otherwise (median is reported). */
  repeat: number;
  repoRoot: string;
  /** Cache for generated inputs and built peers (bench/out, gitignored), reused across runs. */
  outDir: string;
  log(message: string): void;
}

/** One command measured in its own child process. Plain data, so cases are easy to read and diff. */
export interface Trial {
  /** Row label, unique within the case: 'tcpcast windows', 'tshark fields' ... */
  name: string;
  /** Program and arguments; stdout goes to /dev/null, stderr is kept for error messages. */
  argv: string[];
  /** Units of work one run does (e.g. packets in the input); rate = work / wall time. */
  work: number;
  /** Paths that must exist before the trial can run, with the message given when one is missing. */
  requires?: Array<{ path: string; missing: string }>;
  repeat?: number;
  /** Kill the run after this long and report an error (default 600 s). */
  timeoutS?: number;
}

/** A target printed beside the results: what is aimed for, what was reached, and whether that meets it. */
export interface TargetCheck {
  target: string;
  reached: string;
  met: boolean;
}

export interface PreparedCase {
  /** Described in the report: input file, its size and packet count, how it was made. */
  input: Record<string, string | number>;
  /** Unit of Trial.work: 'packets'. */
  unit: string;
  trials: Trial[];
  /** Trial names whose rate every row is divided by, in this order ("x bare loop", "x tshark"). */
  ratioAgainst: string[];
  /** Program name -> argv printing its version (first non-empty output line is kept). */
  versions: Record<string, string[]>;
  /** Untimed commands run once before the trials (e.g. read the input so the page cache is warm). */
  warmup?: string[][];
  targets?(results: TrialResult[]): TargetCheck[];
  /**
   * For cases that do not fit "one command per run" (a rate sweep, servers started around the runs): the
   * harness calls this instead of running `trials` (leave that empty) and reports what it returns. A throw
   * fails the case.
   */
  measure?(): Promise<MeasuredCase>;
}

/** What a case's own measure() hands back: rows for the usual table, plus Markdown lines for what the table cannot hold. */
export interface MeasuredCase {
  trials: TrialResult[];
  /** Printed under the case's table in the report (per-rate tables, latency percentiles ...). */
  notes?: string[];
}

export interface BenchCase {
  /** Short name, used by `npm run bench -- --case NAME`. */
  name: string;
  description: string;
  prepare(ctx: BenchContext): Promise<PreparedCase>;
}

export interface RunMeasurement {
  wallS: number;
  peakRssKb: number;
  userS: number;
  sysS: number;
}

export interface TrialResult {
  name: string;
  argv: string[];
  work: number;
  runs: RunMeasurement[];
  /** Median over runs; undefined when the trial failed. */
  wallS?: number;
  ratePerS?: number;
  /** Largest peak RSS over runs. */
  peakRssMb?: number;
  cpuS?: number;
  /** Trial rate / the named trial's rate. */
  ratios: Record<string, number>;
  error?: string;
}

export interface CaseResult {
  name: string;
  description: string;
  unit: string;
  input: Record<string, string | number>;
  ratioAgainst: string[];
  trials: TrialResult[];
  targets: TargetCheck[];
  versions: Record<string, string>;
  /** From MeasuredCase.notes. */
  notes?: string[];
  error?: string;
}
