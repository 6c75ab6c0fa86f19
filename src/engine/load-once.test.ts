import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOnce } from './load-once.js';

void describe('loadOnce', () => {
  void it('loads once for every caller, and tries again only after a failure', async () => {
    let attempts = 0;
    const load = loadOnce(() => {
      attempts += 1;
      return attempts === 1 ? Promise.reject(new Error('model file busy')) : Promise.resolve(attempts);
    });
    await assert.rejects(load(), /model file busy/);
    const [a, b] = await Promise.all([load(), load()]);
    assert.deepEqual([a, b, await load()], [2, 2, 2]);
    assert.equal(attempts, 2);
  });
});
