/**
 * Writes an ONNX model (the ModelProto protobuf, onnx/onnx.proto) from plain objects: just the fields a small
 * float32 convolutional graph needs (nodes with int, ints, float and string attributes, float32 initializers, one input and
 * one output). Pure, so from-tfjs.ts can build a model in memory that runtime.ts hands to ONNX Runtime as bytes.
 */

export interface OnnxAttribute {
  name: string;
  /** A number is an int unless `kind` is 'float'; an array is ints. */
  value: number | readonly number[] | string;
  kind?: 'int' | 'float';
}

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: readonly OnnxAttribute[];
}

export interface OnnxInitializer {
  name: string;
  dims: readonly number[];
  values: Float32Array;
}

/** A float32 graph input or output; a string dimension is symbolic (the batch). */
export interface OnnxValue {
  name: string;
  shape: readonly (number | string)[];
}

export interface OnnxGraph {
  name: string;
  nodes: readonly OnnxNode[];
  initializers: readonly OnnxInitializer[];
  input: OnnxValue;
  output: OnnxValue;
  /** The default (ai.onnx) operator set the nodes are written against. */
  opset: number;
}

// onnx.proto field numbers and enum values.
const IR_VERSION = 7;
const FLOAT = 1; // TensorProto.DataType
const ATTRIBUTE_FLOAT = 1;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_STRING = 3;
const ATTRIBUTE_INTS = 7;

const VARINT = 0;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** Appends protobuf fields to a growing list of chunks. */
class Writer {
  readonly #chunks: Uint8Array[] = [];

  varint(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new Error(`protobuf varint must be a non-negative safe integer, got ${value}`);
    this.#key(field, VARINT);
    this.#chunks.push(varintBytes(value));
    return this;
  }

  float(field: number, value: number): this {
    this.#key(field, FIXED32);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.#chunks.push(bytes);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.#key(field, LENGTH_DELIMITED);
    this.#chunks.push(varintBytes(value.length), value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer();
    build(inner);
    return this.bytes(field, inner.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  #key(field: number, wireType: number): void {
    this.#chunks.push(varintBytes(field * 8 + wireType));
  }
}

/** A protobuf varint (research/onnx-batch-dim.ts rewrites models with it too). */
export function varintBytes(value: number): Uint8Array {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

function writeValueInfo(w: Writer, value: OnnxValue): void {
  w.string(1, value.name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, FLOAT).message(2, (shape) => {
        for (const dim of value.shape) shape.message(1, (d) => (typeof dim === 'string' ? d.string(2, dim) : d.varint(1, dim)));
      }),
    ),
  );
}

function writeAttribute(w: Writer, attribute: OnnxAttribute): void {
  w.string(1, attribute.name);
  const { value } = attribute;
  if (typeof value === 'string') {
    w.string(4, value).varint(20, ATTRIBUTE_STRING);
  } else if (typeof value !== 'number') {
    for (const v of value) w.varint(8, v);
    w.varint(20, ATTRIBUTE_INTS);
  } else if (attribute.kind === 'float') {
    w.float(2, value).varint(20, ATTRIBUTE_FLOAT);
  } else {
    w.varint(3, value).varint(20, ATTRIBUTE_INT);
  }
}

function writeInitializer(w: Writer, initializer: OnnxInitializer): void {
  const expected = initializer.dims.reduce((n, d) => n * d, 1);
  if (initializer.values.length !== expected) throw new Error(`initializer ${initializer.name}: ${initializer.values.length} values for dims ${initializer.dims.join('x')}`);
  for (const dim of initializer.dims) w.varint(1, dim);
  w.varint(2, FLOAT).string(8, initializer.name);
  const raw = new Uint8Array(initializer.values.length * 4);
  const view = new DataView(raw.buffer);
  initializer.values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  w.bytes(9, raw);
}

/** The serialised ModelProto of `graph`. */
export function encodeOnnxModel(graph: OnnxGraph, producer = 'facedb'): Uint8Array {
  return new Writer()
    .varint(1, IR_VERSION)
    .string(2, producer)
    .message(7, (g) => {
      for (const node of graph.nodes) {
        g.message(1, (n) => {
          for (const input of node.inputs) n.string(1, input);
          for (const output of node.outputs) n.string(2, output);
          n.string(3, node.name).string(4, node.opType);
          for (const attribute of node.attributes ?? []) n.message(5, (a) => writeAttribute(a, attribute));
        });
      }
      g.string(2, graph.name);
      for (const initializer of graph.initializers) g.message(5, (t) => writeInitializer(t, initializer));
      g.message(11, (v) => writeValueInfo(v, graph.input));
      g.message(12, (v) => writeValueInfo(v, graph.output));
    })
    .message(8, (o) => o.string(1, '').varint(2, graph.opset))
    .finish();
}
