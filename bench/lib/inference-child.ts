// Child process of the inference case: runs benchInference for one worker count and prints its result as one JSON line.
//
// Usage: node dist/bench/lib/inference-child.js MODEL_DIR WORKERS SERIES[,SERIES...] BATCHES. Its own process so
// one trial's onnxruntime sessions, worker threads and heap never share a process with another's.
import { benchInference } from '../../src/forecast/bench';

async function main(): Promise<void> {
  const [modelDir, workers, series, batches] = process.argv.slice(2);
  if (!modelDir || !workers || !series || !batches) throw new Error('usage: inference-child.js MODEL_DIR WORKERS SERIES[,SERIES...] BATCHES');
  const result = await benchInference({
    modelDir,
    workerCounts: [Number(workers)],
    seriesCounts: series.split(',').map(Number),
    batches: Number(batches),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`inference-child: ${err.message}\n`);
  process.exitCode = 1;
});
