// Piscina worker: opens the ONNX session once per worker thread and runs one batched inference per task.
import { move, workerData } from 'piscina';
import { OnnxRunner, type RunnerOptions } from './onnx-runner';

export interface InferenceTask {
  input: Float32Array;
  batch: number;
}

// The session is created on the first task, not per task: opening it costs milliseconds and memory.
let runner: Promise<OnnxRunner> | null = null;

export default async function infer(task: InferenceTask): Promise<Float32Array> {
  if (!runner) {
    runner = OnnxRunner.open(workerData as RunnerOptions);
    runner.catch(() => (runner = null)); // a failed open is retried by the next task, not cached
  }
  const output = await (await runner).run(task.input, task.batch);
  return move(output) as unknown as Float32Array;
}
