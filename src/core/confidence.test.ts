import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  confidence,
  decisionConfidence,
  logistic,
  looseForGallery,
  thresholdForFar,
  type ModelCalibration,
} from './confidence.js';

const model = 'test-model@3';
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

describe('confidence', () => {


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

  it('gives null for a model without calibration, never an invented value', () => {
    assert.equal(confidence(undefined, 0.4), null);
    assert.equal(decisionConfidence(undefined, 0.4, { threshold: 0.5, people: 10 }), null);
    assert.equal(confidence(calibration, 0.4), Math.round(logistic(12, -22, 0.4) * 1e4) / 1e4);
  });

  describe('the confidence shown next to a decision', () => {
    // LR(d) = exp(12 − 22·d): LR(0.4) = e^3.2 ≈ 24.5, LR(0.5) = e^1 ≈ 2.7, LR(0.3) = e^5.4 ≈ 221.
    it('is the 1:1 posterior for one comparison at a threshold no stricter than the even call', () => {
      const d = 0.5;
      assert.equal(decisionConfidence(calibration, d, { threshold: 0.6, people: 1 }), confidence(calibration, d));
    });

    it('divides the 1:1 odds by the number of enrolled people: P = LR / (LR + N)', () => {
      const lr = Math.exp(12 - 22 * 0.3);
      const expected = Math.round((lr / (lr + 100)) * 1e4) / 1e4;
      assert.equal(decisionConfidence(calibration, 0.3, { threshold: 0.6, people: 100 }), expected);
    });

    it('never says "likely" beyond the threshold, whatever the gallery size (the unknown-but-99 % bug)', () => {
      for (const people of [1, 2, 10, 100, 10_000]) {
        for (const threshold of [0.3, 0.4, 0.5]) {
          for (let d = threshold + 0.001; d < 1; d += 0.01) {
            const shown = decisionConfidence(calibration, d, { threshold, people }) ?? 1;
            assert.ok(shown < 0.5, `unknown at ${d} (threshold ${threshold}, ${people} people) shown as ${shown}`);
          }
        }
      }
      // What the 1:1 figure said next to "unknown": e.g. 0.44 > threshold 0.4 with 3 people enrolled.
      assert.ok((confidence(calibration, 0.44) ?? 0) > 0.9);
      assert.ok((decisionConfidence(calibration, 0.44, { threshold: 0.4, people: 3 }) ?? 1) < 0.5);
    });

    it('is at least 50 % for a match unless the gallery outgrows the threshold, which is flagged', () => {
      for (const people of [1, 10, 24]) {
        for (let d = 0; d <= 0.4; d += 0.01) {
          assert.ok((decisionConfidence(calibration, d, { threshold: 0.4, people }) ?? 0) >= 0.5, `match at ${d}, ${people} people`);
        }
        assert.equal(looseForGallery(calibration, { threshold: 0.4, people }), false);
      }
      // LR(0.4) ≈ 24.5 < 1000 people: a match at the threshold is a coin flip at best, and says so.
      assert.ok((decisionConfidence(calibration, 0.4, { threshold: 0.4, people: 1000 }) ?? 1) < 0.5);
      assert.equal(looseForGallery(calibration, { threshold: 0.4, people: 1000 }), true);
    });
  });

  it('looks up the largest threshold whose measured FAR is within the target', () => {
    assert.equal(thresholdForFar(calibration, 0.001, model), 0.5);
    assert.equal(thresholdForFar(calibration, 0.002, model), 0.5);
    assert.equal(thresholdForFar(calibration, 0.004, model), 0.55);
    assert.equal(thresholdForFar(calibration, 0.0001, model), 0.3);
    assert.equal(thresholdForFar(calibration, 0.3, model), 0.8);
  });

  it('rejects a model without calibration or a FAR outside the table with invalid_input', () => {
    const code = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'no error';
    };
    assert.equal(code(() => thresholdForFar(undefined, 0.001, 'x@1')), 'invalid_input');
    assert.equal(code(() => thresholdForFar(calibration, 0.00001, model)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(calibration, 0.5, model)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(calibration, 0, model)), 'invalid_input');
    assert.equal(code(() => thresholdForFar(calibration, Number.NaN, model)), 'invalid_input');
  });

  it('names the measured range rounded inwards, so a refused target never looks inside it', () => {
    const wide: ModelCalibration = { ...calibration, minFar: 0.000123, roc: [...calibration.roc, { threshold: 1.2, far: 0.9988, tar: 1 }] };
    const message = (target: number): string => {
      try {
        thresholdForFar(wide, target, model);
      } catch (error) {
        return (error as Error).message;
      }
      return 'no error';
    };
    assert.match(message(0.9995), /\(0\.00013 to 0\.99\)/);
    assert.match(message(0.0001), /\(0\.00013 to 0\.99\)/);
  });
});
