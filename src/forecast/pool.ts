// The inference pool: Piscina workers running batched ONNX inference, with a bounded queue, drop-oldest and retries.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { TcpcastError } from '../errors';
import type { RunnerOptions } from './onnx-runner';
import type { InferenceTask } from './worker';

export interface PoolOptions {
  onnxPath: string;
  inputName: string;
  outputName: string;
  sequenceLength: number;
  featureCount: number;
  /** Outputs per sequence (default 1). */
  outputs?: number;
  /** Worker threads (default 1). */
  workers?: number;
  /** Per-worker onnxruntime threads; default floor(cores / workers), at least 1. */
  intraOpThreads?: number;
  /** Batches allowed to wait for a free worker before the oldest waiting one is dropped (default 2). */
  maxPending?: number;
  /** Extra attempts for a batch whose worker crashed or threw (default 2). */
  maxRetries?: number;
  /** Compiled worker module; tests substitute a wrapper that crashes on purpose. */
  workerFile?: string;
  /** Merged into workerData (for such wrappers). */
  workerDataExtra?: Record<string, unknown>;
}

export interface PoolStats {
  workers: number;
  intra_op_threads: number;
  batches: number;
  sequences: number;
  dropped: number;
  retries: number;
  failed: number;
  pending: number;
  in_flight: number;
  latency_p50_ms: number;
  latency_p99_ms: number;
}

interface Job {
  task: InferenceTask;
  attempts: number;
  submittedMs: number;
  resolve(out: Float32Array | null): void;
  reject(err: Error): void;
}

const LATENCY_SAMPLES = 2048;

/**
 * Why drop-oldest: a forecast is only useful for the window right after the one it was made at. When the
 * workers fall behind, the oldest waiting batch is the most stale one; dropping it (resolving it with null and
 * counting it) keeps latency bounded instead of letting a queue grow without limit. Only predictions are lost,
 * never history: the sequence buffers were already updated on the main thread before the batch was queued.
 * At most `workers` tasks are handed to Piscina at once, so its own queue stays empty and ours is the only one.
 */
export class InferencePool {
  private readonly piscina: Piscina;
  private readonly waiting: Job[] = [];
  private inFlight = 0;
  private closed = false;
  readonly workers: number;
  readonly intraOpThreads: number;
  private readonly maxPending: number;
  private readonly maxRetries: number;
  private readonly latencyMs = new Float64Array(LATENCY_SAMPLES);
  private latencyCount = 0;
  private counters = { batches: 0, sequences: 0, dropped: 0, retries: 0, failed: 0 };

  constructor(private readonly options: PoolOptions) {
    const cores = availableParallelism();
    this.workers = Math.max(1, Math.floor(options.workers ?? 1));
    this.intraOpThreads = Math.max(1, Math.floor(options.intraOpThreads ?? cores / this.workers));
    this.maxPending = Math.max(0, Math.floor(options.maxPending ?? 2));
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
    const workerData: RunnerOptions & Record<string, unknown> = {
      onnxPath: options.onnxPath,
      inputName: options.inputName,
      outputName: options.outputName,
      sequenceLength: options.sequenceLength,
      featureCount: options.featureCount,
      outputs: options.outputs ?? 1,
      intraOpThreads: this.intraOpThreads,
      ...options.workerDataExtra,
    };
    this.piscina = new Piscina({
      // Resolved next to this compiled module, so it works from dist/ wherever the package is installed.
      filename: options.workerFile ?? join(__dirname, 'worker.js'),
      minThreads: this.workers,
      maxThreads: this.workers,
      idleTimeout: 2 ** 31 - 1,
      workerData,
    });
  }

  /** Queues one batch; resolves with the scaled outputs, or null when the batch was dropped as stale. */
  run(input: Float32Array, batch: number): Promise<Float32Array | null> {
    if (this.closed) return Promise.reject(new TcpcastError('inference pool is closed', 'TCM_POOL_CLOSED'));
    return new Promise((resolve, reject) => {
      const job: Job = { task: { input, batch }, attempts: 0, submittedMs: performance.now(), resolve, reject };
      if (this.inFlight < this.workers) {
        this.dispatch(job);
        return;
      }
      this.waiting.push(job);
      while (this.waiting.length > this.maxPending) {
        const stale = this.waiting.shift()!;
        this.counters.dropped++;
        stale.resolve(null);
      }
    });
  }

  private dispatch(job: Job): void {
    this.inFlight++;
    job.attempts++;
    // The input is copied, not moved: a retry after a worker crash needs it again.
    this.piscina.run(job.task).then(
      (out: Float32Array) => {
        this.inFlight--;
        this.counters.batches++;
        this.counters.sequences += job.task.batch;
        this.recordLatency(performance.now() - job.submittedMs);
        job.resolve(out);
        this.next();
      },
      (err: Error) => {
        this.inFlight--;
        if (!this.closed && job.attempts <= this.maxRetries) {
          // A crashed worker is replaced by Piscina (minThreads); the batch goes first so it is not lost.
          this.counters.retries++;
          this.waiting.unshift(job);
        } else {
          this.counters.failed++;
          job.reject(new TcpcastError(`inference failed after ${job.attempts} attempt(s): ${err.message}`, 'TCM_INFERENCE_FAILED'));
        }
        this.next();
      },
    );
  }

  private next(): void {
    while (!this.closed && this.inFlight < this.workers && this.waiting.length > 0) this.dispatch(this.waiting.shift()!);
  }

  private recordLatency(ms: number): void {
    this.latencyMs[this.latencyCount % LATENCY_SAMPLES] = ms;
    this.latencyCount++;
  }

  /** Counters for /metrics and the stats line; latency covers queueing plus inference, over the last 2048 batches. */
  stats(): PoolStats {
    const n = Math.min(this.latencyCount, LATENCY_SAMPLES);
    const sorted = Float64Array.from(this.latencyMs.subarray(0, n)).sort();
    const pick = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.ceil(q * n) - 1)]);
    return {
      workers: this.workers,
      intra_op_threads: this.intraOpThreads,
      ...this.counters,
      pending: this.waiting.length,
      in_flight: this.inFlight,
      latency_p50_ms: pick(0.5),
      latency_p99_ms: pick(0.99),
    };
  }

  /** Current Piscina worker threads (tests use it to see a crashed worker replaced). */
  get threadIds(): number[] {
    return this.piscina.threads.map((t) => t.threadId);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.resolve(null);
    await this.piscina.destroy();
  }
}
