import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeOnnxModel, type OnnxGraph } from './model-proto.js';
import { openNet } from './runtime.js';

/** y = leakyRelu(x + bias) over [batch, 3], with a float attribute, an ints attribute and a symbolic batch. */
const GRAPH: OnnxGraph = {
  name: 'tiny',
  opset: 13,
  input: { name: 'x', shape: ['batch', 3] },
  output: { name: 'y', shape: ['batch', 3] },
  initializers: [{ name: 'bias', dims: [3], values: Float32Array.from([0.5, -1, 300]) }],
  nodes: [
    { opType: 'Add', name: 'add', inputs: ['x', 'bias'], outputs: ['sum'] },
    { opType: 'LeakyRelu', name: 'leaky', inputs: ['sum'], outputs: ['leaky'], attributes: [{ name: 'alpha', value: 0.25, kind: 'float' }] },
    { opType: 'Transpose', name: 'same', inputs: ['leaky'], outputs: ['y'], attributes: [{ name: 'perm', value: [0, 1] }] },
  ],
};

void describe('encodeOnnxModel', () => {
  void it('writes a model ONNX Runtime loads and runs as written', async () => {
    const net = await openNet(encodeOnnxModel(GRAPH), { intraOpThreads: 1 });
    try {
      const { y } = await net.run(Float32Array.from([1, 2, 3, -4, 0.5, -400]), [2, 3]);
      assert.deepEqual(Array.from(y ?? []), [1.5, 1, 303, -0.875, -0.125, -25]);
    } finally {
      await net.release();
    }
  });

  void it('refuses an initializer whose values do not fill its dimensions, and negative integers', () => {
    assert.throws(() => encodeOnnxModel({ ...GRAPH, initializers: [{ name: 'bias', dims: [4], values: new Float32Array(3) }] }), /3 values for dims 4/);
    assert.throws(() => encodeOnnxModel({ ...GRAPH, nodes: [{ opType: 'Transpose', name: 't', inputs: ['x'], outputs: ['y'], attributes: [{ name: 'perm', value: [-1, 0] }] }] }), /non-negative/);
  });
});
