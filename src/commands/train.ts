// `tcpcast train --data CSV... --out DIR`: trains the LSTM forecaster on windows CSVs and writes an ONNX model dir.
import { Command, Option } from 'commander';
import { TARGET_MODES, TRAIN_LOSSES } from '../forecast/spec';
import { SERIES_FILTERS } from '../train/dataset';

const intList = (v: string) => v.split(',').filter(Boolean).map((x) => {
  const n = Number(x);
  if (!Number.isInteger(n) || n < 1) throw new Error(`not a list of positive integers: ${v}`);
  return n;
});

export function register(program: Command): void {
  program
    .command('train')
    .description('train the next-window throughput LSTM on windows CSVs, export ONNX + model.json, verify and evaluate')
    .requiredOption('--data <csv...>', 'windows CSVs (tcpcast windows / data/lab/<session>/windows.csv)')
    .requiredOption('--out <dir>', 'output model directory')
    .option('--lstm <units>', 'LSTM layer sizes, comma-separated', '32')
    .option('--dense <units>', 'dense head hidden sizes before the output unit, comma-separated ("" for none)', '32')
    .option('--seq-len <n>', 'windows of history per forecast', '15')
    .option('--epochs <n>', 'maximum epochs', '60')
    .option('--patience <n>', 'early stopping: epochs without validation improvement', '4')
    .option('--batch-size <n>', 'minibatch size', '256')
    .option('--lr <rate>', 'Adam learning rate', '0.001')
    .option('--val-fraction <f>', 'fraction of sessions (link traces) held out for validation', '0.2')
    .option('--seed <n>', 'seed for initialisation, split and shuffles', '42')
    .option('--features <names>', 'window columns the network reads, comma-separated (default: the seed\'s nine)')
    .option('--quantiles <levels>', 'quantile levels per horizon with the pinball loss', '0.1,0.5,0.9')
    .option('--synthetic', 'mark the model as trained on synthetic data in model.json', false)
    .addOption(
      new Option('--target-mode <mode>', 'network output: level (next throughput), delta (change from the last window) or relative (next throughput over the sequence level, from level-relative inputs)')
        .choices([...TARGET_MODES])
        .default('relative'),
    )
    .addOption(new Option('--series <which>', 'series to train on: any, aggregate (each interface\'s `all`) or connections').choices([...SERIES_FILTERS]).default('any'))
    .addOption(new Option('--loss <loss>', 'training loss (pinball: p10/p50/p90 per horizon; mae/huber: p50 only)').choices([...TRAIN_LOSSES]).default('pinball'))
    .addOption(new Option('--no-progress', 'no per-epoch progress bar'))
    .action(async (o) => {
      const { train, DEFAULT_TRAIN_OPTIONS } = await import('../train/trainer');
      const { formatReport } = await import('../train/evaluate');
      const result = await train({
        ...DEFAULT_TRAIN_OPTIONS,
        data: o.data,
        outDir: o.out,
        sequenceLength: Number(o.seqLen),
        architecture: { lstm_units: intList(o.lstm), dense_units: o.dense === '' ? [] : intList(o.dense) },
        epochs: Number(o.epochs),
        patience: Number(o.patience),
        batchSize: Number(o.batchSize),
        learningRate: Number(o.lr),
        validationFraction: Number(o.valFraction),
        seed: Number(o.seed),
        synthetic: Boolean(o.synthetic),
        targetMode: o.targetMode,
        loss: o.loss,
        series: o.series,
        ...(o.features ? { features: String(o.features).split(',').map((f) => f.trim()).filter(Boolean) } : {}),
        quantiles: String(o.quantiles).split(',').map(Number),
        progress: o.progress !== false && process.stderr.isTTY === true,
      });
      process.stdout.write(
        `model written to ${o.out} (${result.epochsRun} epochs, ${result.trainSeconds.toFixed(1)} s, export max diff ${result.exportMaxAbsDiffScaled.toExponential(2)})\n` +
          `validation:\n${formatReport(result.evaluation)}\n`,
      );
    });
}
