// ONNX export: onnxruntime running the exported graph reproduces the tfjs network (gate order, layout, biases).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { onnx } from 'onnx-proto';
import { OnnxRunner } from '../../src/forecast/onnx-runner';
import { seededRandom } from '../../src/train/dataset';
import { buildNetwork, extractNetwork, predictScaled, tf } from '../../src/train/network';
import { buildOnnxModel } from '../../src/train/onnx-export';
import { F, makeModelDir, SEQ } from '../fixtures/forecast/model-helper';

const dir = mkdtempSync(join(tmpdir(), 'tcm-export-'));
after(() => rmSync(dir, { recursive: true, force: true }));

for (const arch of [
  { lstm_units: [8], dense_units: [] as number[], outputs: 1 },
  { lstm_units: [6, 5], dense_units: [4, 3], outputs: 1 },
  // The shipped shape: 2 horizons x p10/p50/p90 from one network; every output must match, not only the first.
  { lstm_units: [6], dense_units: [4], outputs: 6 },
]) {
  it(`LSTM ${arch.lstm_units.join('x')} + dense [${arch.dense_units.join(',')}] -> ${arch.outputs} output(s): max |onnxruntime - tfjs| <= 1e-5 on every output`, async () => {
    const modelDir = join(dir, `${arch.lstm_units.join('_')}_${arch.outputs}`);
    // A seeded network with non-trivial weights; biases are zero at init, so set them to exercise B's layout.
    await makeModelDir(modelDir, arch, 11);
    const model = buildNetwork(arch, SEQ, F, 11, arch.outputs);
    const O = arch.outputs;
    const random = seededRandom(5);
    model.setWeights(model.getWeights().map((w) => {
      const values = Float32Array.from(w.dataSync(), (v) => v + (random() - 0.5) * 0.6);
      return tf.tensor(values, w.shape);
    }));
    writeFileSync(join(modelDir, 'm.onnx'), buildOnnxModel(extractNetwork(model, SEQ, F)));

    const n = 64;
    const x = Float32Array.from({ length: n * SEQ * F }, () => (random() - 0.5) * 4);
    const expected = predictScaled(model, x, n, SEQ, F, 4096, O);
    const runner = await OnnxRunner.open({ onnxPath: join(modelDir, 'm.onnx'), inputName: 'input', outputName: 'output', sequenceLength: SEQ, featureCount: F, outputs: O, intraOpThreads: 1 });
    try {
      const got = await runner.run(x, n);
      assert.equal(got.length, n * O);
      let maxDiff = 0;
      for (let o = 0; o < O; o++) {
        let spread = 0;
        for (let i = 0; i < n; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(got[i * O + o] - expected[i * O + o]));
          spread = Math.max(spread, Math.abs(expected[i * O + o] - expected[o]));
        }
        assert.ok(spread > 1e-3, `output ${o} varies with the input (the check is not vacuous)`);
      }
      assert.ok(maxDiff <= 1e-5, `max abs diff ${maxDiff}`);
    } finally {
      await runner.close();
    }

    // Standard ops only, time-major LSTM (no layout=1, which onnxruntime's CPU LSTM rejects).
    const proto = onnx.ModelProto.decode(readFileSync(join(modelDir, 'm.onnx')));
    const ops = proto.graph!.node!.map((nd) => nd.opType);
    assert.equal(ops.filter((o) => o === 'LSTM').length, arch.lstm_units.length);
    for (const node of proto.graph!.node!.filter((nd) => nd.opType === 'LSTM'))
      assert.ok(!node.attribute!.some((a) => a.name === 'layout' && Number(a.i) !== 0));
  });
}
