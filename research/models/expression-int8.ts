/**
 * Does int8 quantisation make engine v5's expression net (fr_expression.onnx, a DenseNet-121 at 224x224, most of a
 * face's compute when every attribute is asked for) cheap enough, at the same accuracy? Static QDQ quantisation, the
 * form ONNX Runtime's CPU provider fuses into QLinearConv: every Conv's weights int8 per output channel (symmetric),
 * its bias int32, its data input and output uint8 per tensor with the min/max ranges seen on calibration photos
 * (half A only). Then the engine's emotion (the equal-weight mean of the expression net and Human's net on
 * expressionRegion, as research/models/expression-size.ts) on the FER photos with a face, float against int8, on
 * halves A and B, and each net's ms per face (one intra-op thread, as the worker pool runs it).
 *
 *   node --import tsx research/models/expression-int8.ts [--calibration 100] [--limit N]
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { EMOTIONS, type Emotion, type EmotionScores } from '../../src/core/types.js';
import { averageEmotions, emotionFromLogits } from '../../src/engine/onnx/postprocess.js';
import { boxAffine, NORMALISE, rgbPlanes } from '../../src/engine/onnx/preprocess.js';
import { loadSessions, modelDirectory, NET_FILES, openNet } from '../../src/engine/onnx/runtime.js';
import { argValue, ferFacesV5, pct } from './common.js';

// onnx-proto is a protobufjs static module (CommonJS, one `onnx` namespace that Node's ESM loader cannot name).
const { onnx } = createRequire(import.meta.url)('onnx-proto') as { onnx: typeof OnnxTypes };
type Model = OnnxTypes.ModelProto;
type Tensor = OnnxTypes.ITensorProto;
/** The decoded classes fill every repeated field; their declared types do not say so. */
const graphOf = (model: Model) => model.graph as OnnxTypes.GraphProto & { node: OnnxTypes.NodeProto[]; initializer: OnnxTypes.TensorProto[] };

const SIDE = 224;
const calibrationCount = Number(argValue('calibration') ?? 100);
const limit = Number(argValue('limit') ?? Infinity);
const DATA_TYPE = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7 } as const;

function floatsOf(tensor: Tensor): Float32Array {
  const raw = tensor.rawData;
  if (raw && raw.length > 0) return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  return Float32Array.from(tensor.floatData ?? []);
}
function tensor(name: string, dims: readonly number[], dataType: number, values: Float32Array | Int8Array | Uint8Array | Int32Array | BigInt64Array): OnnxTypes.TensorProto {
  return onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)) });
}
const attribute = (node: OnnxTypes.INodeProto, name: string) => node.attribute?.find((a) => a.name === name);
const copy = (model: Model): Model => onnx.ModelProto.decode(onnx.ModelProto.encode(model).finish());

/** Per-axis DequantizeLinear needs opset 13, where Pad takes its pads and value as inputs instead of attributes. */
function toOpset13(model: Model): void {
  const graph = graphOf(model);
  for (const node of graph.node) {
    if (node.opType !== 'Pad') continue;
    const pads = (attribute(node, 'pads')?.ints ?? []).map(Number);
    const value = attribute(node, 'value')?.f ?? 0;
    graph.initializer.push(tensor(`${node.name}_pads`, [pads.length], DATA_TYPE.int64, BigInt64Array.from(pads.map(BigInt))), tensor(`${node.name}_value`, [], DATA_TYPE.float, Float32Array.of(value)));
    node.input = [node.input[0]!, `${node.name}_pads`, `${node.name}_value`];
    node.attribute = node.attribute.filter((a) => a.name === 'mode');
  }
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: 13 })];
  model.irVersion = 7;
}

/** The activations the quantised graph needs ranges for: every Conv's data input and output. */
function convActivations(model: Model): string[] {
  return [...new Set(graphOf(model).node.filter((n) => n.opType === 'Conv').flatMap((n) => [n.input![0]!, n.output![0]!]))];
}

/** The model with `names` as extra graph outputs, to read their values during calibration. */
function exposing(model: Model, names: readonly string[]): Uint8Array {
  const exposed = copy(model);
  for (const name of names) graphOf(exposed).output.push(onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: DATA_TYPE.float } } }));
  return onnx.ModelProto.encode(exposed).finish();
}

/** Static QDQ quantisation of every Conv (see the header); `ranges` maps an activation to its [min, max]. */
function quantised(source: Model, ranges: ReadonlyMap<string, [number, number]>): Uint8Array {
  const model = copy(source);
  const graph = graphOf(model);
  const initializers = new Map(graph.initializer.map((t) => [t.name, t]));
  const nodes: OnnxTypes.INodeProto[] = [];
  const axis0 = [onnx.AttributeProto.create({ name: 'axis', i: 0, type: onnx.AttributeProto.AttributeType.INT })];
  /** Quantises activation `name` into `target` (Q then DQ), returning its scale. */
  const qdq = (name: string, from: string, target: string): number => {
    const [low, high] = ranges.get(name)!;
    const min = Math.min(low, 0);
    const scale = (Math.max(high, 0) - min) / 255 || 1;
    graph.initializer.push(tensor(`${target}_scale`, [], DATA_TYPE.float, Float32Array.of(scale)), tensor(`${target}_zero`, [], DATA_TYPE.uint8, Uint8Array.of(Math.round(-min / scale))));
    nodes.push({ opType: 'QuantizeLinear', name: `${target}_Q`, input: [from, `${target}_scale`, `${target}_zero`], output: [`${target}_q`] });
    nodes.push({ opType: 'DequantizeLinear', name: `${target}_DQ`, input: [`${target}_q`, `${target}_scale`, `${target}_zero`], output: [target] });
    return scale;
  };
  const inputScales = new Map<string, number>();
  for (const node of graph.node) {
    if (node.opType !== 'Conv') {
      nodes.push(node);
      continue;
    }
    const [x, weightName, biasName] = node.input as [string, string, string | undefined];
    if (!inputScales.has(x)) inputScales.set(x, qdq(x, x, `${x}_dq`));
    const xScale = inputScales.get(x)!;
    const weightTensor = initializers.get(weightName)!;
    const weights = floatsOf(weightTensor);
    const channels = Number(weightTensor.dims![0]);
    const perChannel = weights.length / channels;
    const wScales = new Float32Array(channels);
    const wInt8 = new Int8Array(weights.length);
    for (let o = 0; o < channels; o++) {
      let largest = 0;
      for (let k = 0; k < perChannel; k++) largest = Math.max(largest, Math.abs(weights[o * perChannel + k]!));
      wScales[o] = largest / 127 || 1;
      for (let k = 0; k < perChannel; k++) wInt8[o * perChannel + k] = Math.round(weights[o * perChannel + k]! / wScales[o]!);
    }
    const w = `${node.name}_w`;
    graph.initializer.push(tensor(w, weightTensor.dims!.map(Number), DATA_TYPE.int8, wInt8), tensor(`${w}_scale`, [channels], DATA_TYPE.float, wScales), tensor(`${w}_zero`, [channels], DATA_TYPE.int8, new Int8Array(channels)));
    nodes.push({ opType: 'DequantizeLinear', name: `${w}_DQ`, input: [w, `${w}_scale`, `${w}_zero`], output: [`${w}_dq`], attribute: axis0 });
    const inputs = [`${x}_dq`, `${w}_dq`];
    if (biasName !== undefined) {
      const bias = floatsOf(initializers.get(biasName)!);
      const bScales = wScales.map((s) => s * xScale);
      const b = `${node.name}_b`;
      graph.initializer.push(tensor(b, [channels], DATA_TYPE.int32, Int32Array.from(bias, (v, o) => Math.round(v / bScales[o]!))), tensor(`${b}_scale`, [channels], DATA_TYPE.float, bScales), tensor(`${b}_zero`, [channels], DATA_TYPE.int32, new Int32Array(channels)));
      nodes.push({ opType: 'DequantizeLinear', name: `${b}_DQ`, input: [b, `${b}_scale`, `${b}_zero`], output: [`${b}_dq`], attribute: axis0 });
      inputs.push(`${b}_dq`);
    }
    const y = node.output[0]!;
    nodes.push({ ...node, input: inputs, output: [`${y}_float`] });
    qdq(y, `${y}_float`, y);
  }
  graph.node = nodes.map((n) => onnx.NodeProto.create(n));
  const used = new Set(graph.node.flatMap((n) => n.input));
  graph.initializer = graph.initializer.filter((t) => used.has(t.name)) as typeof graph.initializer;
  return onnx.ModelProto.encode(model).finish();
}

const original = await readFile(join(modelDirectory(), NET_FILES.expression));
const model = onnx.ModelProto.decode(original);
toOpset13(model);
const sessions = await loadSessions({ intraOpThreads: 1 });

// The expression input and Human's scores of every FER photo with a face, as the engine computes them.
const { faces, noFace } = await ferFacesV5(sessions.run, limit);
const items = faces.map(({ label, half, human, image, region }) => ({ label, half, human, input: rgbPlanes(image, boxAffine(region, SIDE, SIDE), SIDE, SIDE, NORMALISE.unit, 'edge') }));
await sessions.release();

// Ranges from the first `calibrationCount` half-A photos, spread over the classes.
const activations = convActivations(model);
const calibration = await ort.InferenceSession.create(exposing(model, activations), { executionProviders: ['cpu'], logSeverityLevel: 3 });
const ranges = new Map<string, [number, number]>();
const halfA = items.filter((item) => item.half === 0);
for (const item of halfA.filter((_, i) => i % Math.max(1, Math.floor(halfA.length / calibrationCount)) === 0).slice(0, calibrationCount)) {
  const outputs = await calibration.run({ [calibration.inputNames[0]!]: new ort.Tensor('float32', item.input, [1, 3, SIDE, SIDE]) });
  for (const name of activations) {
    const values = outputs[name]!.data as Float32Array;
    let [low, high] = ranges.get(name) ?? [Infinity, -Infinity];
    for (const v of values) {
      if (v < low) low = v;
      if (v > high) high = v;
    }
    ranges.set(name, [low, high]);
  }
}
await calibration.release();

const dominant = (scores: EmotionScores): Emotion => EMOTIONS.reduce((best, e) => (scores[e] > scores[best] ? e : best), EMOTIONS[0]);
const nets = { float: original, int8: quantised(model, ranges) };
console.log(`Emotion through the engine's region (expression net + Human's net), ${items.length + noFace} FER photos, ${noFace} without a face; int8 ranges from ${Math.min(calibrationCount, halfA.length)} half-A photos`);
console.log('| expression net | half A | half B | disgust (apart) | ms per face |');
console.log('| --- | --- | --- | --- | --- |');
for (const [name, bytes] of Object.entries(nets)) {
  // The engine's own session settings (one intra-op thread, full graph optimisation).
  const net = await openNet(bytes, { intraOpThreads: 1 }, `expression ${name}`);
  const correct = [0, 0];
  const total = [0, 0];
  let disgust = 0;
  let disgustTotal = 0;
  let ms = 0;
  for (const item of items) {
    const start = performance.now();
    const logits = Object.values(await net.run(item.input, [1, 3, SIDE, SIDE]))[0]!;
    ms += performance.now() - start;
    const ok = dominant(averageEmotions([emotionFromLogits(logits), item.human])) === item.label;
    if (item.label === 'disgust') {
      disgustTotal++;
      if (ok) disgust++;
    } else {
      total[item.half]!++;
      if (ok) correct[item.half]!++;
    }
  }
  await net.release();
  const [a, b] = correct as [number, number];
  const [ta, tb] = total as [number, number];
  console.log(`| ${name} | ${pct(a / ta)} (${a}/${ta}) | ${pct(b / tb)} (${b}/${tb}) | ${pct(disgust / Math.max(1, disgustTotal))} | ${(ms / items.length).toFixed(1)} |`);
}
