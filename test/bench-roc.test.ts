import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rocAt } from '../bench/roc.js';

describe('ROC from every pair (bench)', () => {
  it('counts ROC points from sorted distances', () => {
    const roc = rocAt([0.1, 0.2, 0.5], [0.3, 0.6, 0.7, 0.9], [0.15, 0.3, 0.65, 1]);
    assert.deepEqual(
      roc.map((p) => [p.far, p.tar]),
      [
        [0, 1 / 3],
        [0.25, 2 / 3],
        [0.5, 1],
        [1, 1],
      ],
    );
  });
});
