import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitLogistic, type LabelledSample } from '../research/calibrate.js';
import { logistic } from '../src/core/confidence.js';
import { seededRandom } from './fixtures.js';

describe('calibration fitting (research)', () => {
  it('recovers known logistic parameters from synthetic data', () => {
    const random = seededRandom(7);
    const truth = { a: 6, b: -10 };
    const samples: LabelledSample[] = [];
    for (let i = 0; i < 20000; i++) {
      const x = random() * 1.2;
      samples.push({ x, y: random() < logistic(truth.a, truth.b, x) ? 1 : 0 });
    }
    const fit = fitLogistic(samples);
    assert.ok(Math.abs(fit.a - truth.a) < 0.4, `a=${fit.a}`);
    assert.ok(Math.abs(fit.b - truth.b) < 0.7, `b=${fit.b}`);
  });

  it('balances classes with weights and converges on separable data', () => {
    const samples: LabelledSample[] = [
      { x: 0.2, y: 1 },
      { x: 0.3, y: 1 },
      { x: 0.9, y: 0, weight: 0.5 },
      { x: 1.0, y: 0, weight: 0.5 },
    ];
    const fit = fitLogistic(samples);
    assert.ok(Number.isFinite(fit.a) && Number.isFinite(fit.b));
    assert.ok(logistic(fit.a, fit.b, 0.25) > 0.9 && logistic(fit.a, fit.b, 0.95) < 0.1);
  });
});
