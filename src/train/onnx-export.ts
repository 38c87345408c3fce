// tfjs LSTM network -> standard ONNX graph (Transpose, LSTM, Squeeze, Gemm, Relu) built with onnx-proto.
import { onnx } from 'onnx-proto';

/** Weights of one layer as plain row-major arrays with their tfjs shapes. */
export interface LstmWeights {
  units: number;
  /** tfjs kernel [input, 4*units], gate blocks i, f, c, o. */
  kernel: Float32Array;
  /** tfjs recurrent kernel [units, 4*units]. */
  recurrentKernel: Float32Array;
  /** [4*units]. */
  bias: Float32Array;
}

export interface DenseWeights {
  /** tfjs kernel [input, units]. */
  kernel: Float32Array;
  bias: Float32Array;
  units: number;
  activation: 'relu' | 'linear';
}

export interface ExportableNetwork {
  sequenceLength: number;
  featureCount: number;
  lstm: LstmWeights[];
  dense: DenseWeights[];
}

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'output';
export const ONNX_OPSET = 14;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const AttrType = onnx.AttributeProto.AttributeType;

// ONNX orders gates i, o, f, c; keras/tfjs i, f, c, o. ONNX gate g takes tfjs block TFJS_BLOCK[g].
const TFJS_BLOCK = [0, 3, 1, 2];

function floatTensor(name: string, dims: number[], data: Float32Array): onnx.ITensorProto {
  return { name, dims, dataType: FLOAT, rawData: new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)) };
}

function int64Tensor(name: string, values: number[]): onnx.ITensorProto {
  const data = BigInt64Array.from(values.map(BigInt));
  return { name, dims: [values.length], dataType: INT64, rawData: new Uint8Array(data.buffer) };
}

/** tfjs [input, 4H] kernel -> ONNX [1, 4H, input] with gates reordered. */
function reorderKernel(kernel: Float32Array, rows: number, units: number): Float32Array {
  const out = new Float32Array(4 * units * rows);
  for (let g = 0; g < 4; g++)
    for (let h = 0; h < units; h++) {
      const srcCol = TFJS_BLOCK[g] * units + h;
      for (let r = 0; r < rows; r++) out[(g * units + h) * rows + r] = kernel[r * 4 * units + srcCol];
    }
  return out;
}

/** ONNX B = [Wb, Rb]: tfjs has one bias; it goes into Wb (gate-reordered) and Rb stays zero. */
function reorderBias(bias: Float32Array, units: number): Float32Array {
  const out = new Float32Array(8 * units);
  for (let g = 0; g < 4; g++) for (let h = 0; h < units; h++) out[g * units + h] = bias[TFJS_BLOCK[g] * units + h];
  return out;
}

function attrInt(name: string, i: number): onnx.IAttributeProto {
  return { name, type: AttrType.INT, i };
}

/**
 * Input [batch, seq, feature] (what the runtime feeds) is transposed to the time-major layout 0 that
 * onnxruntime's CPU LSTM accepts (it rejects layout = 1). Each LSTM's Y [seq, 1, batch, H] is squeezed to
 * feed the next; the last one's Y_h [1, batch, H] is squeezed to [batch, H] for the dense head.
 */
export function buildOnnxModel(net: ExportableNetwork, docString = ''): Uint8Array {
  const nodes: onnx.INodeProto[] = [];
  const initializer: onnx.ITensorProto[] = [int64Tensor('axes_0', [0])];
  if (net.lstm.length > 1) initializer.push(int64Tensor('axes_1', [1]));
  nodes.push({ opType: 'Transpose', input: [ONNX_INPUT], output: ['x_time_major'], attribute: [{ name: 'perm', type: AttrType.INTS, ints: [1, 0, 2] }] });
  let current = 'x_time_major';
  let width = net.featureCount;
  net.lstm.forEach((layer, l) => {
    const H = layer.units;
    initializer.push(
      floatTensor(`lstm${l}_W`, [1, 4 * H, width], reorderKernel(layer.kernel, width, H)),
      floatTensor(`lstm${l}_R`, [1, 4 * H, H], reorderKernel(layer.recurrentKernel, H, H)),
      floatTensor(`lstm${l}_B`, [1, 8 * H], reorderBias(layer.bias, H)),
    );
    const last = l === net.lstm.length - 1;
    const outputs = last ? ['', `lstm${l}_Y_h`] : [`lstm${l}_Y`];
    nodes.push({
      opType: 'LSTM',
      name: `lstm${l}`,
      input: [current, `lstm${l}_W`, `lstm${l}_R`, `lstm${l}_B`],
      output: outputs,
      attribute: [attrInt('hidden_size', H)],
    });
    if (last) {
      nodes.push({ opType: 'Squeeze', input: [`lstm${l}_Y_h`, 'axes_0'], output: [`lstm${l}_last`] });
      current = `lstm${l}_last`;
    } else {
      nodes.push({ opType: 'Squeeze', input: [`lstm${l}_Y`, 'axes_1'], output: [`lstm${l}_seq`] });
      current = `lstm${l}_seq`;
    }
    width = H;
  });
  net.dense.forEach((layer, d) => {
    initializer.push(floatTensor(`dense${d}_W`, [width, layer.units], layer.kernel), floatTensor(`dense${d}_B`, [layer.units], layer.bias));
    const lastLayer = d === net.dense.length - 1;
    const gemmOut = layer.activation === 'relu' ? `dense${d}_lin` : lastLayer ? ONNX_OUTPUT : `dense${d}_out`;
    nodes.push({ opType: 'Gemm', input: [current, `dense${d}_W`, `dense${d}_B`], output: [gemmOut] });
    current = gemmOut;
    if (layer.activation === 'relu') {
      const reluOut = lastLayer ? ONNX_OUTPUT : `dense${d}_out`;
      nodes.push({ opType: 'Relu', input: [gemmOut], output: [reluOut] });
      current = reluOut;
    }
    width = layer.units;
  });
  if (current !== ONNX_OUTPUT) nodes.push({ opType: 'Identity', input: [current], output: [ONNX_OUTPUT] });

  const tensorType = (dims: onnx.TensorShapeProto.IDimension[]): onnx.ITypeProto => ({ tensorType: { elemType: FLOAT, shape: { dim: dims } } });
  const model: onnx.IModelProto = {
    irVersion: 8,
    producerName: 'tcpcast',
    producerVersion: '1',
    docString,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: {
      name: 'tcp_forecast',
      node: nodes,
      initializer,
      input: [{ name: ONNX_INPUT, type: tensorType([{ dimParam: 'batch' }, { dimValue: net.sequenceLength }, { dimValue: net.featureCount }]) }],
      output: [{ name: ONNX_OUTPUT, type: tensorType([{ dimParam: 'batch' }, { dimValue: width }]) }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}
