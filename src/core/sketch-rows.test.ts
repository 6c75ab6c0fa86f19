import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileKernel, SKETCH_KERNEL_SOURCE } from '../../scripts/build-wasm.js';
import { SKETCH_KERNEL_WASM } from './sketch-kernel.wasm.js';
import { SketchRows } from './sketch-rows.js';

void describe('SketchRows', () => {
  void it('embeds the bytes its WebAssembly source compiles to', async () => {
    const bytes = await compileKernel(SKETCH_KERNEL_SOURCE);
    assert.equal(SKETCH_KERNEL_WASM, bytes.toString('base64'), 'src/core/sketch-kernel.wasm.ts is stale: run npm run build:wasm');
  });

  void it('returns exactly the rows with the nearest sketches, ties at the cut-off to the lowest rows', () => {
    const dims = 16;
    const rows = new SketchRows(dims, { bits: 512, candidates: 3 }, new Float32Array(dims), 8);
    // Rows 0..5: two copies each of three directions; the query is direction B.
    const a = Float32Array.from({ length: dims }, (_, d) => (d % 2 === 0 ? 1 : -1));
    const b = Float32Array.from({ length: dims }, (_, d) => (d < 8 ? 1 : -1));
    const c = Float32Array.from({ length: dims }, (_, d) => -b[d]!);
    for (const [row, vector] of [a, b, c, a, b, c].entries()) rows.write(row, vector);
    // Both copies of b are at distance 0, then one row of a (the lower, row 0) fills the third place: a is at 90°
    // from b, c at 180°.
    assert.deepEqual([...rows.nearestRows(b, 6)], [0, 1, 4]);
    assert.deepEqual([...rows.nearestRows(b, 6, 4)], [0, 1, 3, 4]);
    // Moving row 5 (c) over row 1 (b) leaves one b.
    rows.move(5, 1);
    assert.deepEqual([...rows.nearestRows(b, 5)], [0, 3, 4]);
    assert.deepEqual([...rows.nearestRows(c, 5)], [0, 1, 2]);
  });

  void it('refuses settings the kernel cannot run', () => {
    assert.throws(() => new SketchRows(512, { bits: 500, candidates: 10 }, new Float32Array(512), 10), /multiple of 512/);
    assert.throws(() => new SketchRows(6, { bits: 512, candidates: 10 }, new Float32Array(6), 10), /multiple of 4/);
    assert.throws(() => new SketchRows(512, { bits: 512, candidates: 0 }, new Float32Array(512), 10), /positive integer/);
  });
});
