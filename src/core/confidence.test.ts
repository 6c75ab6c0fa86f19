import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  calibrationFor,
  confidence,
  fitLogistic,
  logistic,
  rocAt,
  thresholdForFar,
  type CalibrationTable,
  type LabelledSample,
  type ModelCalibration,
} from './confidence.js';
import { seededRandom } from '../../test/fixtures.js';

const model = { id: 'test-model', version: '3' };
const calibration: ModelCalibration = {
  threshold: 0.6,
  logistic: { a: 12, b: -22 },
  far: 0.01,
  frr: 0.05,
  minFar: 0.0001,
  pairs: { same: 1000, different: 10000 },
  roc: [
    { threshold: 0.3, far: 0, tar: 0.2 },
    { threshold: 0.4, far: 0.0005, tar: 0.6 },
    { threshold: 0.5, far: 0.001, tar: 0.8 },
    { threshold: 0.55, far: 0.004, tar: 0.9 },
    { threshold: 0.6, far: 0.01, tar: 0.95 },
    { threshold: 0.8, far: 0.3, tar: 1 },
  ],
  source: 'synthetic',
};
const table: CalibrationTable = { 'test-model@3': calibration };

describe('confidence', () => {
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

  it('is monotone decreasing in distance and within 0..1', () => {
    let previous = Infinity;
    for (let d = 0; d <= 2; d += 0.01) {
      const c = confidence(calibration, d);
      assert.ok(c !== null && c >= 0 && c <= 1);
      assert.ok(c <= previous, `confidence rose at ${d}`);
      previous = c;
    }
    assert.ok((confidence(calibration, 0.3) ?? 0) > 0.9);
    assert.ok((confidence(calibration, 0.9) ?? 1) < 0.01);
  });

  it('gives null for an unknown model, never an invented value', () => {
    assert.equal(calibrationFor({ id: 'other', version: '1' }, table), undefined);
    assert.equal(confidence(undefined, 0.4), null);
    assert.equal(confidence(calibrationFor(model, table), 0.4), Math.round(logistic(12, -22, 0.4) * 1e4) / 1e4);
  });

  it('looks up the largest threshold whose measured FAR is within the target', () => {
    assert.equal(thresholdForFar(model, 0.001, table), 0.5);
    assert.equal(thresholdForFar(model, 0.002, table), 0.5);
    assert.equal(thresholdForFar(model, 0.004, table), 0.55);
    assert.equal(thresholdForFar(model, 0.0001, table), 0.3);
    assert.equal(thresholdForFar(model, 0.3, table), 0.8);
  });

  it('rejects an unknown model or a FAR outside the table with invalid_input', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'no error';
    };
    assert.equal(code(() => thresholdForFar({ id: 'x', version: '1' }, 0.001, table)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(model, 0.00001, table)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(model, 0.5, table)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(model, 0, table)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(model, Number.NaN, table)), 'invalid_input');
  });

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
