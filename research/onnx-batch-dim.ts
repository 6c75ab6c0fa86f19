/**
 * Rewrites an ONNX model so its inputs' and outputs' first dimension is symbolic ("batch") instead of the fixed 1
 * faceplugin's files were exported with, and drops the graph's value_info (intermediate shapes recorded at batch 1,
 * which ONNX Runtime would otherwise check against). A minimal protobuf walk: only the messages on the path to those
 * dimensions are decoded; every other field is copied byte for byte. Used by research/net-batching.ts and
 * research/models/expression-size.ts (which also makes the image's height and width symbolic).
 */
import { varintBytes } from '../src/engine/onnx/model-proto.js';

/** Field numbers in onnx/onnx.proto. */
const MODEL_GRAPH = 7;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const GRAPH_VALUE_INFO = 13;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_PARAM = 2;

interface Field {
  number: number;
  wireType: number;
  /** The whole field, tag included. */
  bytes: Uint8Array;
  /** Length-delimited payload (wire type 2). */
  payload?: Uint8Array;
}

function readVarint(bytes: Uint8Array, offset: number): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  let at = offset;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) return { value, next: at };
    scale *= 128;
  }
}

function fields(message: Uint8Array): Field[] {
  const result: Field[] = [];
  let at = 0;
  while (at < message.length) {
    const start = at;
    const tag = readVarint(message, at);
    at = tag.next;
    const wireType = tag.value % 8;
    const number = Math.floor(tag.value / 8);
    let payload: Uint8Array | undefined;
    if (wireType === 0) at = readVarint(message, at).next;
    else if (wireType === 1) at += 8;
    else if (wireType === 5) at += 4;
    else if (wireType === 2) {
      const length = readVarint(message, at);
      payload = message.subarray(length.next, length.next + length.value);
      at = length.next + length.value;
    } else throw new Error(`unsupported protobuf wire type ${wireType}`);
    result.push({ number, wireType, bytes: message.subarray(start, at), ...(payload ? { payload } : {}) });
  }
  return result;
}

function lengthDelimited(number: number, payload: Uint8Array): Uint8Array {
  return concat([varintBytes(number * 8 + 2), varintBytes(payload.length), payload]);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Rewrites the LEN fields numbered `number` of `message` with `rewrite`; other fields are kept as they are. */
function mapFields(message: Uint8Array, rewrite: Record<number, ((payload: Uint8Array, index: number) => Uint8Array | null) | undefined>): Uint8Array {
  const counts = new Map<number, number>();
  const parts: Uint8Array[] = [];
  for (const field of fields(message)) {
    const change = rewrite[field.number];
    if (change === undefined || field.payload === undefined) {
      parts.push(field.bytes);
      continue;
    }
    const index = counts.get(field.number) ?? 0;
    counts.set(field.number, index + 1);
    const replaced = change(field.payload, index);
    if (replaced !== null) parts.push(lengthDelimited(field.number, replaced));
  }
  return concat(parts);
}

const DIM_NAMES = ['batch', 'channels', 'height', 'width'];

/** The value's dimensions at `dims` made symbolic. */
const symbolicDims = (valueInfo: Uint8Array, dims: readonly number[]): Uint8Array =>
  mapFields(valueInfo, {
    [VALUE_INFO_TYPE]: (type) =>
      mapFields(type, {
        [TYPE_TENSOR]: (tensor) =>
          mapFields(tensor, {
            [TENSOR_SHAPE]: (shape) =>
              mapFields(shape, {
                [SHAPE_DIM]: (dim, index) => (dims.includes(index) ? lengthDelimited(DIM_PARAM, new TextEncoder().encode(DIM_NAMES[index] ?? `d${index}`)) : dim),
              }),
          }),
      }),
  });

/**
 * The model with symbolic dimensions: `inputDims` of its first graph input (the image: old exporters list the
 * weights as inputs after it) and the batch dimension of every output. By default only the batch.
 */
export function withSymbolicBatch(model: Uint8Array, inputDims: readonly number[] = [0]): Uint8Array {
  return mapFields(model, {
    [MODEL_GRAPH]: (graph) =>
      mapFields(graph, {
        [GRAPH_INPUT]: (input, index) => (index === 0 ? symbolicDims(input, inputDims) : input),
        [GRAPH_OUTPUT]: (output) => symbolicDims(output, [0]),
        [GRAPH_VALUE_INFO]: () => null,
      }),
  });
}
