import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countAtMost, equalErrorRate, errorCurve, histograms, impostorPairsNeeded, pointAtFar, ratesAt, wilsonInterval } from './verification.js';

const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();

describe('verification statistics', () => {
  it('asks for 3 / FAR impostor pairs (the rule of three)', () => {
    assert.equal(impostorPairsNeeded(1e-2), 300);
    assert.equal(impostorPairsNeeded(1e-4), 30000);
    assert.equal(impostorPairsNeeded(0.3), 10);
  });

  it('gives the Wilson interval: known values, bounded, and [0, 1] with no trials', () => {
    const { low, high } = wilsonInterval(10, 100);
    assert.ok(Math.abs(low - 0.0552) < 1e-3 && Math.abs(high - 0.1744) < 1e-3, `${low} ${high}`);
    const zero = wilsonInterval(0, 50);
    assert.equal(zero.low, 0);
    assert.ok(zero.high > 0.05 && zero.high < 0.08);
    assert.deepEqual(wilsonInterval(0, 0), { low: 0, high: 1 });
  });

  it('puts the threshold at the k-th impostor distance and counts genuine pairs above it', () => {
    const impostor = sorted(Array.from({ length: 1000 }, (_, i) => 1 + i / 1000)); // 1.000 … 1.999
    const genuine = sorted([0.2, 0.5, 0.9, 1.004, 1.5]);
    const p = pointAtFar(genuine, impostor, 1e-2); // k = 10 → threshold 1.009
    assert.equal(p.threshold, impostor[9]);
    assert.equal(p.measuredFar, 0.01);
    assert.equal(p.falseRejects, 1); // only 1.5 is above
    assert.equal(p.frr, 0.2);
    assert.equal(p.enoughPairs, true);
    assert.ok(p.frrInterval && p.frrInterval.low < 0.2 && p.frrInterval.high > 0.2);
    const tooFine = pointAtFar(genuine, impostor, 1e-4); // k = 0: not measurable, never NaN
    assert.equal(tooFine.threshold, null);
    assert.equal(tooFine.frr, null);
    assert.equal(tooFine.enoughPairs, false);
    assert.equal(tooFine.impostorPairsNeeded, 30000);
  });

  it('never accepts more than k impostors when distances tie at the threshold', () => {
    const impostor = sorted([0.5, 0.5, 0.5, 0.5, 0.9, 1, 1, 1, 1, 1]);
    const p = pointAtFar(sorted([0.1]), impostor, 0.2); // k = 2, but 4 pairs sit at 0.5
    assert.ok(p.threshold !== null && p.threshold < 0.5);
    assert.ok((p.measuredFar ?? 1) <= 0.2);
  });

  it('finds the equal error rate where the curves cross', () => {
    const genuine = sorted([0.1, 0.2, 0.3, 0.4, 0.8]);
    const impostor = sorted([0.35, 0.9, 1.0, 1.1, 1.2]);
    const eer = equalErrorRate(genuine, impostor);
    assert.ok(eer);
    assert.ok(Math.abs(eer.eer - 0.2) < 1e-12);
    assert.equal(eer.threshold, 0.4);
    assert.equal(equalErrorRate(sorted([]), impostor), null);
  });

  it('draws a monotone error curve and histograms that sum to one per class', () => {
    const genuine = sorted(Array.from({ length: 200 }, (_, i) => 0.5 + (i % 50) / 100));
    const impostor = sorted(Array.from({ length: 5000 }, (_, i) => 0.9 + (i % 700) / 1000));
    const curve = errorCurve(genuine, impostor);
    for (let i = 1; i < curve.length; i++) {
      assert.ok(curve[i]!.far >= curve[i - 1]!.far && curve[i]!.frr <= curve[i - 1]!.frr);
    }
    const h = histograms(genuine, impostor);
    assert.ok(Math.abs(h.genuine.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.ok(Math.abs(h.impostor.reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.deepEqual(histograms(sorted([]), sorted([])), { start: 0, width: 0, genuine: [], impostor: [] });
    assert.deepEqual(ratesAt(genuine, impostor, 0), { far: 0, frr: 1 });
    assert.equal(countAtMost(sorted([1, 2, 2, 3]), 2), 3);
  });
});
