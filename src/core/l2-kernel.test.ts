import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileKernel } from '../../scripts/build-wasm.js';
import { seededRandom as prng } from '../../test/fixtures.js';
import { RowStore } from './l2-kernel.js';
import { L2_KERNEL_WASM } from './l2-kernel.wasm.js';

function fill(store: RowStore, count: number, random: () => number): void {
  for (let i = 0; i < count * store.dimensions; i++) store.rows[i] = random() * 2 - 1;
}

function reference(store: RowStore, query: Float32Array, row: number): number {
  let sum = 0;
  for (let j = 0; j < store.dimensions; j++) sum += (query[j]! - store.rows[row * store.dimensions + j]!) ** 2;
  return sum;
}

void describe('RowStore', () => {
  void it('embeds the bytes its WebAssembly source compiles to', async () => {
    const bytes = await compileKernel();
    assert.equal(L2_KERNEL_WASM, bytes.toString('base64'), 'src/core/l2-kernel.wasm.ts is stale: run npm run build:wasm');
  });

  for (const dims of [16, 512, 100]) {
    void it(`computes squared distances to a list of rows at ${dims}-D, in the order listed`, () => {
      const random = prng(dims + 1);
      const store = new RowStore(dims, 300);
      fill(store, 300, random);
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      const picks = Int32Array.from([299, 0, 17, 17, 150]);
      const scores = store.squaredDistancesAt(query, picks);
      assert.equal(scores.length, picks.length);
      picks.forEach((row, i) => {
        const want = reference(store, query, row);
        assert.ok(Math.abs(scores[i]! - want) <= 1e-5 * want, `row ${row}: ${scores[i]} vs ${want}`);
      });
      assert.equal(store.squaredDistancesAt(query, new Int32Array(0)).length, 0);
    });
  }

  // 16 and 128 run the SIMD kernel (one and eight unrolled steps), 7 and 100 the JS scan.
  for (const dims of [16, 128, 1024, 7, 100]) {
    void it(`computes squared distances to every row at ${dims}-D`, () => {
      const random = prng(dims);
      const store = new RowStore(dims, 300);
      fill(store, 257, random);
      const query = Float32Array.from({ length: dims }, () => random() * 2 - 1);
      for (const count of [0, 1, 2, 257]) {
        const scores = store.squaredDistances(query, count);
        assert.equal(scores.length, count);
        scores.forEach((score, row) => {
          const want = reference(store, query, row);
          // float32 accumulation: a few ulps of relative error.
          assert.ok(Math.abs(score - want) <= 1e-5 * want, `row ${row}: ${score} vs ${want}`);
        });
      }
    });
  }

  void it('keeps the rows when it grows, and scans the new ones', () => {
    const random = prng(3);
    const store = new RowStore(128, 10);
    fill(store, 10, random);
    const before = store.rows.slice(0, 10 * 128);
    store.reserve(200_000);
    assert.ok(store.capacity >= 200_000);
    assert.deepEqual(store.rows.subarray(0, 10 * 128), before);
    store.rows.set(before.subarray(0, 128), 199_999 * 128);
    const scores = store.squaredDistances(before.subarray(0, 128), 200_000);
    assert.equal(scores[0], 0);
    assert.equal(scores[199_999], 0);
    assert.ok(scores[1]! > 0);
  });

  void it('refuses a capacity beyond 4 GiB with a clear error', () => {
    const store = new RowStore(128, 10);
    assert.throws(() => store.reserve(10_000_000), /at most 8,2\d\d,\d{3} 128-D faces/);
    assert.equal(store.capacity, 10);
  });
});
