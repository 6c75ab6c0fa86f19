import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type * as TfjsCore from '@tensorflow/tfjs-core';
import { seededRandom } from '../../../test/fixtures.js';
import { loadTfjsCore, type TfjsCoreRuntime } from '../tfjs-loader.js';
import { convKernelToOihw, CONVERTED_OUTPUT, depthwiseKernelToOihw, tfjsGraphToOnnx, type TfjsGraph, type TfjsNode, type TfjsWeight } from './from-tfjs.js';
import { encodeOnnxModel } from './model-proto.js';
import { openNet } from './runtime.js';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
const ints = (values: number[]): { list: { i: string[] } } => ({ list: { i: values.map(String) } });
const FLOAT = { type: 'DT_FLOAT' };

/** A tfjs graph built in the test: weights drawn at random, attributes as the tfjs converter writes them. */
class GraphBuilder {
  readonly nodes: TfjsNode[] = [];
  readonly weights: TfjsWeight[] = [];
  readonly #data: number[] = [];
  readonly #random = seededRandom(7);

  input(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { shape: { shape: { dim: shape.map((size) => ({ size: String(size) })) } }, dtype: FLOAT } as never });
    return name;
  }

  constant(name: string, shape: number[], values?: number[], dtype = 'float32'): string {
    const count = shape.reduce((n, d) => n * d, 1);
    const data = values ?? Array.from({ length: count }, () => this.#random() * 2 - 1);
    this.#data.push(...data);
    this.weights.push({ name, shape, dtype });
    this.nodes.push({ name, op: 'Const', attr: { value: { tensor: { dtype: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT', tensorShape: { dim: shape.map((size) => ({ size: String(size) })) } } }, dtype: { type: dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } } as never });
    return name;
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: FLOAT, ...attr } as never });
    return name;
  }

  graph(): TfjsGraph {
    const data = new ArrayBuffer(this.#data.length * 4);
    const view = new DataView(data);
    let offset = 0;
    for (const weight of this.weights) {
      const count = weight.shape.reduce((n, d) => n * d, 1);
      for (let i = 0; i < count; i++, offset++) {
        const value = this.#data[offset]!;
        if (weight.dtype === 'int32') view.setInt32(offset * 4, value, true);
        else view.setFloat32(offset * 4, value, true);
      }
    }
    return { nodes: this.nodes, weights: this.weights, data };
  }
}

const conv = (strides: number, padding: 'SAME' | 'VALID', fused: string[]): Record<string, unknown> => ({
  strides: ints([1, strides, strides, 1]),
  padding: { s: b64(padding) },
  data_format: { s: b64('NHWC') },
  dilations: ints([1, 1, 1, 1]),
  fused_ops: { list: { s: fused.map(b64) } },
  num_args: { i: '1' },
  epsilon: { f: 0 },
});

/**
 * Every op the converter knows, at sizes where TensorFlow's SAME padding is uneven (a 3x3 kernel at stride 2 on a
 * 9x8 input pads one pixel at the end only), with a depthwise multiplier of 2 and a residual addition.
 */
function sampleGraph(): TfjsGraph {
  const g = new GraphBuilder();
  const x = g.input('x', [-1, 9, 8, 3]);
  const c1 = g.op('c1', '_FusedConv2D', [x, g.constant('c1w', [3, 3, 3, 4]), g.constant('c1b', [4])], conv(2, 'SAME', ['BiasAdd', 'Relu']));
  const dw = g.op('dw', 'DepthwiseConv2dNative', [c1, g.constant('dww', [3, 3, 4, 2])], { strides: ints([1, 1, 1, 1]), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') }, dilations: ints([1, 1, 1, 1]) });
  const pw = g.op('pw', '_FusedConv2D', [dw, g.constant('pww', [1, 1, 8, 4]), g.constant('pwb', [4])], conv(1, 'VALID', ['BiasAdd']));
  const sum = g.op('sum', 'AddV2', [pw, c1]);
  const relu = g.op('relu', 'Relu', [sum]);
  const pool = g.op('pool', 'MaxPool', [relu], { ksize: ints([1, 3, 3, 1]), strides: ints([1, 2, 2, 1]), padding: { s: b64('SAME') }, data_format: { s: b64('NHWC') } });
  const c2 = g.op('c2', '_FusedConv2D', [pool, g.constant('c2w', [2, 2, 4, 5]), g.constant('c2b', [5])], conv(1, 'VALID', ['BiasAdd']));
  const mean = g.op('mean', 'Mean', [c2, g.constant('axes', [2], [1, 2], 'int32')], { keep_dims: { b: false }, Tidx: { type: 'DT_INT32' } });
  const softmax = g.op('softmax', 'Softmax', [mean]);
  g.op('Identity', 'Identity', [softmax]);
  return g.graph();
}

/** Runs a tfjs graph through tfjs itself (the reference). */
async function runTfjs(runtime: TfjsCoreRuntime, graph: TfjsGraph, input: Float32Array, shape: [number, number, number, number]): Promise<Float32Array> {
  const handler: TfjsCore.io.IOHandler = {
    load: () => Promise.resolve({ modelTopology: { node: graph.nodes, versions: {} }, weightSpecs: graph.weights as TfjsCore.io.WeightsManifestEntry[], weightData: graph.data, format: 'graph-model' }),
  };
  const model = await runtime.loadGraphModel(handler);
  try {
    const { tf } = runtime;
    const output = tf.tidy(() => model.execute(tf.tensor4d(input, shape)) as TfjsCore.Tensor);
    const values = await output.data<'float32'>();
    output.dispose();
    return Float32Array.from(values);
  } finally {
    model.dispose();
  }
}

void describe('tfjsGraphToOnnx', () => {
  let runtime: TfjsCoreRuntime;
  before(async () => {
    runtime = await loadTfjsCore();
  });

  void it('gives tfjs’s answers on ONNX Runtime for every op it knows, with uneven SAME padding and a batch of 2', async () => {
    const graph = sampleGraph();
    const net = await openNet(encodeOnnxModel(tfjsGraphToOnnx(graph, 'sample')), { intraOpThreads: 1 });
    after(() => net.release());
    const random = seededRandom(11);
    const shape: [number, number, number, number] = [2, 9, 8, 3];
    const input = Float32Array.from({ length: 2 * 9 * 8 * 3 }, () => random() * 4 - 2);
    const expected = await runTfjs(runtime, graph, input, shape);
    const { [CONVERTED_OUTPUT]: actual } = await net.run(input, shape);
    assert.ok(actual, 'the converted graph has its output');
    assert.equal(actual.length, 2 * 5);
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-5, `output ${i}: onnx ${actual[i]} tfjs ${expected[i]}`);
    // The two photos of the batch differ, so the comparison is not of two constant outputs.
    assert.notDeepEqual(Array.from(actual.subarray(0, 5)), Array.from(actual.subarray(5)));
  });

  void it('refuses what it cannot translate exactly', () => {
    const withNode = (edit: (nodes: TfjsNode[]) => TfjsNode[]): TfjsGraph => {
      const graph = sampleGraph();
      return { ...graph, nodes: edit(graph.nodes.map((n) => structuredClone(n))) };
    };
    const setAttr = (name: string, key: string, value: unknown) =>
      withNode((nodes) => nodes.map((n) => (n.name === name ? { ...n, attr: { ...n.attr, [key]: value } as never } : n)));
    assert.throws(() => tfjsGraphToOnnx(withNode((nodes) => nodes.map((n) => (n.name === 'relu' ? { ...n, op: 'Sigmoid' } : n))), 'x'), /op Sigmoid is not supported/);
    assert.throws(() => tfjsGraphToOnnx(setAttr('c1', 'padding', { s: b64('EXPLICIT') }), 'x'), /padding EXPLICIT/);
    assert.throws(() => tfjsGraphToOnnx(setAttr('c1', 'fused_ops', { list: { s: [b64('BiasAdd'), b64('Relu6')] } }), 'x'), /fused ops BiasAdd\+Relu6/);
    assert.throws(() => tfjsGraphToOnnx(setAttr('c1', 'dilations', ints([1, 2, 2, 1])), 'x'), /dilated/);
    assert.throws(() => tfjsGraphToOnnx(setAttr('pool', 'data_format', { s: b64('NCHW') }), 'x'), /data format NCHW/);
    assert.throws(() => tfjsGraphToOnnx(setAttr('mean', 'keep_dims', { b: true }), 'x'), /keeps its dimensions/);
    // A graph that ends before the spatial mean would hand back NCHW where tfjs gives NHWC.
    assert.throws(() => tfjsGraphToOnnx(withNode((nodes) => nodes.filter((n) => !['mean', 'axes', 'softmax', 'Identity'].includes(n.name))), 'x'), /rank 2/);
    const graph = sampleGraph();
    assert.throws(() => tfjsGraphToOnnx({ ...graph, data: graph.data.slice(0, graph.data.byteLength - 4) }, 'x'), /runs past the end/);
    assert.throws(() => tfjsGraphToOnnx({ ...graph, weights: graph.weights.map((w, i) => (i === 0 ? { ...w, quantization: { dtype: 'uint8' } } : w)) }, 'x'), /quantised/);
  });
});

void describe('kernel layouts', () => {
  void it('moves HWIO to OIHW and depthwise HWCM to (C·M)1HW, output channel c·M + m', () => {
    // value = 1000·h + 100·w + 10·i + o, so every element says where it came from.
    const [h, w, i, o] = [2, 3, 4, 5];
    const hwio = new Float32Array(h * w * i * o);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < i; c++) for (let k = 0; k < o; k++) hwio[((y * w + x) * i + c) * o + k] = 1000 * y + 100 * x + 10 * c + k;
    const oihw = convKernelToOihw(hwio, [h, w, i, o]);
    assert.equal(oihw[((3 * i + 2) * h + 1) * w + 2], 1000 * 1 + 100 * 2 + 10 * 2 + 3);
    const depthwise = depthwiseKernelToOihw(hwio, [h, w, i, o]);
    // Output channel c·M + m = 2·5 + 3 reads input channel 2, multiplier 3.
    assert.equal(depthwise[(13 * h + 1) * w + 2], 1000 * 1 + 100 * 2 + 10 * 2 + 3);
  });
});
