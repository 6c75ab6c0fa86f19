import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadOnce } from './load-once.js';

void describe('loadOnce', () => {
  void it('loads once for every caller, and tries again only after a failure', async () => {
    let attempts = 0;
    const load = loadOnce(async () => {
      attempts += 1;
      if (attempts === 1) throw new Error('model file busy');
      return attempts;
    });
    await assert.rejects(load(), /model file busy/);
    const [a, b] = await Promise.all([load(), load()]);
    assert.deepEqual([a, b, await load()], [2, 2, 2]);
    assert.equal(attempts, 2);
  });
});
