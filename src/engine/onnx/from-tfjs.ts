/**
 * Turns a small tfjs graph model (model.json's topology and its weights) into an ONNX graph, so a net shipped for
 * tfjs runs on ONNX Runtime beside the engine's other nets instead of loading a second runtime per worker. Pure:
 * objects in, objects out (model-proto.ts writes the bytes). It knows the ops of a convolutional classifier such as
 * Human's emotion net (convolutions with a fused bias and ReLU, depthwise convolutions, max pooling, addition,
 * ReLU, spatial mean, softmax) and refuses any other op or setting it cannot translate exactly.
 *
 * tfjs works in NHWC; ONNX's Conv and MaxPool in NCHW. The graph keeps the tfjs input (NHWC), transposes it once,
 * and runs NCHW from there; weights are transposed here (HWIO → OIHW; depthwise HWCM → (C·M)1HW with group C).
 * TensorFlow's SAME padding puts the odd pixel at the end, which is ONNX's SAME_UPPER.
 */
import type { OnnxAttribute, OnnxGraph, OnnxInitializer, OnnxNode } from './model-proto.js';

/** model.json's `modelTopology.node` entries, as far as read here. */
export interface TfjsNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfjsAttr>;
}

interface TfjsAttr {
  list?: { i?: string[]; s?: string[] };
  s?: string;
  b?: boolean;
  shape?: { dim?: { size: string }[] };
}

export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

export interface TfjsGraph {
  nodes: readonly TfjsNode[];
  /** In the order their bytes follow each other in `data`. */
  weights: readonly TfjsWeight[];
  data: ArrayBuffer;
}

/** ai.onnx operator set the converted nodes are written against (ReduceMean still takes `axes` as an attribute). */
export const CONVERTED_OPSET = 13;

/** The converted graph's one output, whatever the tfjs graph called it. */
export const CONVERTED_OUTPUT = 'output';

/** NHWC axis → NCHW axis. */
const NCHW_AXIS = [0, 2, 3, 1] as const;
const BATCH = 'batch';

function decode(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8');
}

function ints(node: TfjsNode, key: string): number[] {
  return (node.attr?.[key]?.list?.i ?? []).map(Number);
}

/** The (height, width) entries of an NHWC attribute such as strides or ksize, checking batch and channel are 1. */
function spatial(node: TfjsNode, key: string, fallback: readonly number[] = [1, 1, 1, 1]): [number, number] {
  const values = ints(node, key);
  const [n, h, w, c] = values.length === 0 ? fallback : values;
  if (values.length !== 0 && values.length !== 4) throw new Error(`${node.name}: ${key} has ${values.length} entries`);
  if (n !== 1 || c !== 1 || h === undefined || w === undefined) throw new Error(`${node.name}: ${key} [${values.join(', ')}] is not spatial-only`);
  return [h, w];
}

function autoPad(node: TfjsNode): 'SAME_UPPER' | 'VALID' {
  const padding = decode(node.attr?.padding?.s);
  if (padding === 'SAME') return 'SAME_UPPER';
  if (padding === 'VALID') return 'VALID';
  throw new Error(`${node.name}: padding ${padding || '(none)'} is not supported`);
}

function checkNhwc(node: TfjsNode): void {
  const format = decode(node.attr?.data_format?.s);
  if (format !== '' && format !== 'NHWC') throw new Error(`${node.name}: data format ${format} is not supported`);
  const [dh, dw] = spatial(node, 'dilations');
  if (dh !== 1 || dw !== 1) throw new Error(`${node.name}: dilated convolutions are not supported`);
}

/** Reads every weight as a typed array, by name. */
function readWeights(graph: TfjsGraph): Map<string, { weight: TfjsWeight; values: Float32Array | Int32Array }> {
  const out = new Map<string, { weight: TfjsWeight; values: Float32Array | Int32Array }>();
  let offset = 0;
  for (const weight of graph.weights) {
    if (weight.quantization !== undefined) throw new Error(`weight ${weight.name} is quantised; not supported`);
    const count = weight.shape.reduce((n, d) => n * d, 1);
    const bytes = graph.data.slice(offset, offset + count * 4);
    if (bytes.byteLength !== count * 4) throw new Error(`weight ${weight.name} runs past the end of the weight data`);
    if (weight.dtype === 'float32') out.set(weight.name, { weight, values: new Float32Array(bytes) });
    else if (weight.dtype === 'int32') out.set(weight.name, { weight, values: new Int32Array(bytes) });
    else throw new Error(`weight ${weight.name} has dtype ${weight.dtype}; not supported`);
    offset += count * 4;
  }
  if (offset !== graph.data.byteLength) throw new Error(`the weights take ${offset} bytes of ${graph.data.byteLength}`);
  return out;
}

/**
 * A kernel stored H·W·A·B (tfjs) rewritten plane by plane, H·W within each plane: `plane(a, b)` says which plane
 * element (a, b) of a position belongs to.
 */
function kernelPlanes(values: Float32Array, dims: readonly number[], plane: (a: number, b: number, sizeA: number, sizeB: number) => number): Float32Array {
  const [h, w, sizeA, sizeB] = dims;
  if (dims.length !== 4 || h === undefined || w === undefined || sizeA === undefined || sizeB === undefined) throw new Error('a convolution kernel has four dimensions');
  const out = new Float32Array(values.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let a = 0; a < sizeA; a++) for (let b = 0; b < sizeB; b++) {
    out[(plane(a, b, sizeA, sizeB) * h + y) * w + x] = values[((y * w + x) * sizeA + a) * sizeB + b]!;
  }
  return out;
}

/** HWIO convolution kernel → OIHW (plane o·I + i). */
export function convKernelToOihw(values: Float32Array, dims: readonly number[]): Float32Array {
  return kernelPlanes(values, dims, (i, o, inputs) => o * inputs + i);
}

/** Depthwise kernel HW·C·M (M outputs per input channel) → (C·M)·1·H·W, output channel c·M + m as in TensorFlow. */
export function depthwiseKernelToOihw(values: Float32Array, dims: readonly number[]): Float32Array {
  return kernelPlanes(values, dims, (c, m, _channels, multiplier) => c * multiplier + m);
}

/**
 * The ONNX graph of a tfjs graph model with one NHWC float input (kept NHWC, under its tfjs name) and one output
 * (CONVERTED_OUTPUT) of rank 2, [batch, classes].
 */
export function tfjsGraphToOnnx(graph: TfjsGraph, name: string): OnnxGraph {
  const weights = readWeights(graph);
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  /** tfjs tensor name → ONNX value name (NCHW from the input's transpose on). */
  const values = new Map<string, string>();
  /** ONNX values of rank 2 ([batch, channels], after the spatial mean); every other activation is NCHW. */
  const flat = new Set<string>();
  let input: { name: string; shape: (number | string)[] } | undefined;

  /** The ONNX value behind input `index`; `rank` checks the layout the op needs. */
  const source = (node: TfjsNode, index: number, rank: 2 | 4 | 'any' = 4): string => {
    const ref = (node.input ?? [])[index];
    if (ref === undefined) throw new Error(`${node.name}: input ${index} is missing`);
    const value = values.get(ref.split(':')[0] ?? ref);
    if (value === undefined) throw new Error(`${node.name}: input ${ref} is not an activation`);
    if (rank !== 'any' && flat.has(value) !== (rank === 2)) throw new Error(`${node.name}: expects a rank-${rank} input`);
    return value;
  };
  const weight = (node: TfjsNode, index: number): { weight: TfjsWeight; values: Float32Array | Int32Array } => {
    const ref = (node.input ?? [])[index];
    const found = ref === undefined ? undefined : weights.get(ref);
    if (!found) throw new Error(`${node.name}: input ${index} is not a weight`);
    return found;
  };
  const floatWeight = (node: TfjsNode, index: number): { weight: TfjsWeight; values: Float32Array } => {
    const found = weight(node, index);
    if (!(found.values instanceof Float32Array)) throw new Error(`${node.name}: weight ${found.weight.name} is not float32`);
    return { weight: found.weight, values: found.values };
  };
  const emit = (node: TfjsNode, opType: string, inputs: string[], attributes: OnnxNode['attributes'] = []): string => {
    const output = `${node.name}:${opType}`;
    nodes.push({ opType, name: output, inputs, outputs: [output], attributes });
    values.set(node.name, output);
    return output;
  };
  const constant = (id: string, dims: number[], data: Float32Array): string => {
    initializers.push({ name: id, dims, values: data });
    return id;
  };

  for (const node of graph.nodes) {
    switch (node.op) {
      case 'Const':
        if (!weights.has(node.name)) throw new Error(`constant ${node.name} has no weight data`);
        break;
      case 'Placeholder': {
        if (input) throw new Error('the graph has more than one input');
        const dims = (node.attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
        if (dims.length !== 4 || dims.slice(1).some((d) => !(d > 0))) throw new Error(`input ${node.name}: expected NHWC with fixed H, W, C, got [${dims.join(', ')}]`);
        input = { name: node.name, shape: [dims[0]! > 0 ? dims[0]! : BATCH, ...dims.slice(1)] };
        nodes.push({ opType: 'Transpose', name: `${node.name}:nchw`, inputs: [node.name], outputs: [`${node.name}:nchw`], attributes: [{ name: 'perm', value: [0, 3, 1, 2] }] });
        values.set(node.name, `${node.name}:nchw`);
        break;
      }
      case '_FusedConv2D': {
        checkNhwc(node);
        const fused = (node.attr?.fused_ops?.list?.s ?? []).map(decode);
        const relu = fused.length === 2 && fused[0] === 'BiasAdd' && fused[1] === 'Relu';
        if (!relu && !(fused.length === 1 && fused[0] === 'BiasAdd')) throw new Error(`${node.name}: fused ops ${fused.join('+')} are not supported`);
        if ((node.input ?? []).length !== 3) throw new Error(`${node.name}: expected input, kernel and bias`);
        const kernel = floatWeight(node, 1);
        const bias = floatWeight(node, 2);
        const out = emit(node, 'Conv', [source(node, 0), constant(`${node.name}:W`, [kernel.weight.shape[3]!, kernel.weight.shape[2]!, kernel.weight.shape[0]!, kernel.weight.shape[1]!], convKernelToOihw(kernel.values, kernel.weight.shape)), constant(`${node.name}:B`, [bias.values.length], bias.values)], [
          { name: 'kernel_shape', value: kernel.weight.shape.slice(0, 2) },
          { name: 'strides', value: spatial(node, 'strides') },
          ...padAttributes(node),
        ]);
        if (relu) {
          nodes.push({ opType: 'Relu', name: `${out}:Relu`, inputs: [out], outputs: [`${out}:Relu`] });
          values.set(node.name, `${out}:Relu`);
        }
        break;
      }
      case 'DepthwiseConv2dNative': {
        checkNhwc(node);
        const kernel = floatWeight(node, 1);
        const [h, w, channels, multiplier] = kernel.weight.shape;
        if (h === undefined || w === undefined || channels === undefined || multiplier === undefined) throw new Error(`${node.name}: a depthwise kernel has four dimensions`);
        emit(node, 'Conv', [source(node, 0), constant(`${node.name}:W`, [channels * multiplier, 1, h, w], depthwiseKernelToOihw(kernel.values, kernel.weight.shape))], [
          { name: 'kernel_shape', value: [h, w] },
          { name: 'strides', value: spatial(node, 'strides') },
          { name: 'group', value: channels },
          ...padAttributes(node),
        ]);
        break;
      }
      case 'MaxPool':
        checkNhwc(node);
        emit(node, 'MaxPool', [source(node, 0)], [{ name: 'kernel_shape', value: spatial(node, 'ksize') }, { name: 'strides', value: spatial(node, 'strides') }, ...padAttributes(node)]);
        break;
      case 'AddV2':
      case 'Add': {
        const [a, b] = [source(node, 0, 'any'), source(node, 1, 'any')];
        if (flat.has(a) !== flat.has(b)) throw new Error(`${node.name}: adds tensors of different ranks`);
        const sum = emit(node, 'Add', [a, b]);
        if (flat.has(a)) flat.add(sum);
        break;
      }
      case 'Relu': {
        const x = source(node, 0, 'any');
        const relu = emit(node, 'Relu', [x]);
        if (flat.has(x)) flat.add(relu);
        break;
      }
      case 'Mean': {
        const axes = weight(node, 1).values;
        if (!(axes instanceof Int32Array)) throw new Error(`${node.name}: reduction axes are not int32`);
        // Without keep_dims the result is [batch, channels] in either layout, so what follows needs no transpose.
        if (node.attr?.keep_dims?.b === true) throw new Error(`${node.name}: a mean that keeps its dimensions is not supported`);
        const nchwAxes = Array.from(axes, (a) => NCHW_AXIS[a < 0 ? a + 4 : a]);
        if (nchwAxes.some((a) => a === undefined)) throw new Error(`${node.name}: reduction axes [${axes.join(', ')}] are not of a 4-D tensor`);
        const spatialAxes = [...nchwAxes].sort().join(',') === '2,3';
        if (!spatialAxes) throw new Error(`${node.name}: only a mean over height and width is supported`);
        flat.add(
          emit(node, 'ReduceMean', [source(node, 0)], [
            { name: 'axes', value: [2, 3] },
            { name: 'keepdims', value: 0 },
          ]),
        );
        break;
      }
      case 'Softmax':
        // tfjs takes the last axis; on [batch, classes] that is axis 1 in both layouts.
        flat.add(emit(node, 'Softmax', [source(node, 0, 2)], [{ name: 'axis', value: 1 }]));
        break;
      case 'Identity':
        values.set(node.name, source(node, 0, 'any'));
        break;
      default:
        throw new Error(`${node.name}: op ${node.op} is not supported`);
    }
  }
  if (!input) throw new Error('the graph has no input');
  const consumed = new Set(graph.nodes.flatMap((n) => (n.input ?? []).map((ref) => ref.split(':')[0] ?? ref)));
  const outputs = graph.nodes.filter((n) => n.op !== 'Const' && n.op !== 'Placeholder' && !consumed.has(n.name));
  const [last] = outputs;
  if (outputs.length !== 1 || !last) throw new Error(`expected one output, found ${outputs.length}`);
  const result = values.get(last.name);
  if (result === undefined) throw new Error('the output is not computed');
  if (!flat.has(result)) throw new Error('the output is not of rank 2 ([batch, classes])');
  nodes.push({ opType: 'Identity', name: CONVERTED_OUTPUT, inputs: [result], outputs: [CONVERTED_OUTPUT] });
  return { name, nodes, initializers, input, output: { name: CONVERTED_OUTPUT, shape: [input.shape[0]!, 'classes'] }, opset: CONVERTED_OPSET };
}

function padAttributes(node: TfjsNode): OnnxAttribute[] {
  const explicit = node.attr?.explicit_paddings?.list?.i ?? [];
  if (explicit.length > 0) throw new Error(`${node.name}: explicit paddings are not supported`);
  return [{ name: 'auto_pad', value: autoPad(node) }];
}
