// `tcpcast eval --model DIR --data CSV...`: model vs persistence / EWMA / moving average, overall and per session.
import { Command, Option } from 'commander';
import { SERIES_FILTERS } from '../train/dataset';

export function register(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model directory and the baselines on windows CSVs (MAE, RMSE, R2, congestion AUC, lag)')
    .requiredOption('--model <dir>', 'model directory (model.json + ONNX)', 'model')
    .requiredOption('--data <csv...>', 'windows CSVs')
    .option('--json', 'print the report as JSON', false)
    .option('--plots <dir>', 'write SVG plots (actual vs forecasts per session, error CDF) here')
    .option('--threshold-mbps <mbps>', 'congestion = actual next-window throughput below this', '20')
    .option('--ewma-alpha <a>', 'EWMA baseline weight of the newest window', '0.3')
    .option('--ma-windows <n>', 'moving-average baseline length in windows', '5')
    .addOption(new Option('--series <which>', 'series to score: any, aggregate (each interface\'s `all`) or connections').choices([...SERIES_FILTERS]).default('any'))
    .action(async (o) => {
      const { evaluateModelDir, formatReport } = await import('../train/evaluate');
      const opts = { thresholdMbps: Number(o.thresholdMbps), ewmaAlpha: Number(o.ewmaAlpha), maWindows: Number(o.maWindows) };
      const { report, results, spec } = await evaluateModelDir(o.model, o.data, opts, o.series);
      if (o.plots) {
        const { writePlots } = await import('../train/plots');
        const written = await writePlots(o.plots, results, spec.window_ms);
        process.stderr.write(`plots: ${written.join(', ')}\n`);
      }
      process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatReport(report) + '\n');
    });
}
