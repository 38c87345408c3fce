// `tcpcast eval --model DIR --data CSV...`: model vs persistence / EWMA / moving average, overall and per session.
import { Command, Option } from 'commander';
import { SERIES_FILTERS } from '../train/dataset';

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model directory as the daemon serves it (calibration, fallback) and the baselines on windows CSVs, per horizon')
    .requiredOption('--model <dir>', 'model directory (model.json + ONNX)', 'model')
    .requiredOption('--data <csv...>', 'windows CSVs')
    .option('--json', 'print the report as JSON', false)
    .option('--plots <dir>', 'write SVG plots (10 s zoom with the interval band per session, reliability diagram, error CDF) here')
    .option('--ewma-alpha <a>', 'EWMA weight of the newest window, for a model without tuned alphas in model.json', '0.3')
    .option('--ma-windows <n>', 'moving-average baseline length in windows', '5')
    .addOption(new Option('--series <which>', 'series to score: any, aggregate (each interface\'s `all`) or connections').choices([...SERIES_FILTERS]).default('any'))
    .action(async (o) => {
      const { evaluateModelDir, formatReport } = await import('../train/evaluate');
      const opts = { ewmaAlpha: Number(o.ewmaAlpha), maWindows: Number(o.maWindows) };
      const { report, results, spec } = await evaluateModelDir(o.model, o.data, opts, o.series);
      if (o.plots) {
        const { writePlots, IDLE_MBPS } = await import('../train/plots');
        const { written, skipped } = await writePlots(o.plots, results, spec.window_ms);
        process.stderr.write(`plots: ${written.join(', ')}\n`);
        if (skipped.length > 0) process.stderr.write(`plots: left out idle series (mean < ${IDLE_MBPS} Mbit/s): ${skipped.join(', ')}\n`);
      }
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
    });
}
