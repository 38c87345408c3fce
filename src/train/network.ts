// The tfjs side: backend set-up, the LSTM network definition, and pulling its weights out for ONNX export.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { ExportableNetwork } from './onnx-export';

export { tf };

let backendReady: Promise<void> | null = null;

/** tfjs-node cannot be installed here; the WASM backend is several times faster than the pure-JS CPU one. */
export function ensureBackend(): Promise<void> {
  backendReady ??= (async () => {
    if (!(await tf.setBackend('wasm'))) await tf.setBackend('cpu');
    await tf.ready();
  })();
  return backendReady;
}

export interface Architecture {
  lstm_units: number[];
  dense_units: number[];
}

/**
 * recurrentActivation 'sigmoid' (tfjs defaults to hardSigmoid) so ONNX's standard LSTM (Sigmoid, Tanh, Tanh)
 * computes exactly the same function. Every initializer is seeded: the same seed gives the same model.
 */
export function buildNetwork(arch: Architecture, sequenceLength: number, featureCount: number, seed: number, outputs = 1): tf.Sequential {
  const model = tf.sequential();
  arch.lstm_units.forEach((units, i) => {
    model.add(
      tf.layers.lstm({
        units,
        returnSequences: i < arch.lstm_units.length - 1,
        recurrentActivation: 'sigmoid',
        activation: 'tanh',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 101 * i }),
        recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 101 * i + 1 }),
        ...(i === 0 ? { inputShape: [sequenceLength, featureCount] } : {}),
      }),
    );
  });
  arch.dense_units.forEach((units, i) => {
    model.add(tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1000 + i }) }));
  });
  model.add(tf.layers.dense({ units: outputs, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2000 }) }));
  return model;
}

/** Copies the trained weights out of tfjs into the plain form buildOnnxModel() takes. */
export function extractNetwork(model: tf.LayersModel, sequenceLength: number, featureCount: number): ExportableNetwork {
  const net: ExportableNetwork = { sequenceLength, featureCount, lstm: [], dense: [] };
  for (const layer of model.layers) {
    const weights = layer.getWeights().map((w) => w.dataSync() as Float32Array);
    const config = layer.getConfig();
    if (layer.getClassName() === 'LSTM') {
      if (config.recurrentActivation !== 'sigmoid' || config.activation !== 'tanh' || !config.useBias)
        throw new Error(`LSTM layer ${layer.name}: only tanh/sigmoid with bias exports to the standard ONNX LSTM`);
      net.lstm.push({ units: config.units as number, kernel: weights[0], recurrentKernel: weights[1], bias: weights[2] });
    } else if (layer.getClassName() === 'Dense') {
      const activation = config.activation as string;
      if (activation !== 'relu' && activation !== 'linear') throw new Error(`Dense layer ${layer.name}: activation ${activation} not exportable`);
      net.dense.push({ units: config.units as number, kernel: weights[0], bias: weights[1], activation });
    } else throw new Error(`layer ${layer.getClassName()} not exportable`);
  }
  return net;
}

/** Runs the tfjs network on scaled inputs [N, L, F] in chunks; returns N x outputs scaled predictions (row-major). */
export function predictScaled(model: tf.LayersModel, x: Float32Array, n: number, sequenceLength: number, featureCount: number, chunk = 4096, outputs = 1): Float32Array {
  const out = new Float32Array(n * outputs);
  const stride = sequenceLength * featureCount;
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    const result = tf.tidy(() => {
      const input = tf.tensor3d(x.subarray(start * stride, (start + m) * stride), [m, sequenceLength, featureCount]);
      return (model.predict(input) as tf.Tensor).dataSync() as Float32Array;
    });
    out.set(result.subarray(0, m * outputs), start * outputs);
  }
  return out;
}

/**
 * Pinball (quantile) loss over every output: output j is quantile levels[j] of its target (targets are tiled
 * per quantile). Minimised by the conditional quantiles, so one network learns p10/p50/p90 of each horizon.
 */
export function pinballLoss(levels: readonly number[]): (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar {
  const q = tf.keep(tf.tensor2d([Array.from(levels)], [1, levels.length]));
  return (yTrue, yPred) =>
    tf.tidy(() => {
      const e = tf.sub(yTrue, yPred);
      return tf.mean(tf.maximum(tf.mul(q, e), tf.mul(tf.sub(q, 1), e))) as tf.Scalar;
    });
}
