import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bestThreshold, crossValidate, statsAt, type ScoredPair } from '../bench/threshold-stats.js';

const pair = (distance: number, same: boolean, fold = 0): ScoredPair => ({ distance, same, fold });

describe('threshold statistics (bench)', () => {
  it('counts false accepts and false rejects at a threshold', () => {
    const pairs = [pair(0.2, true), pair(0.7, true), pair(0.5, false), pair(0.9, false)];
    const stats = statsAt(pairs, 0.6);
    assert.equal(stats.accuracy, 0.5);
    assert.equal(stats.falseAcceptRate, 0.5);
    assert.equal(stats.falseRejectRate, 0.5);
  });

  it('treats a missing face (Infinity) as rejected', () => {
    assert.equal(statsAt([pair(Infinity, true)], 10).falseRejectRate, 1);
  });

  it('finds the separating threshold between the classes', () => {
    const pairs = [pair(0.1, true), pair(0.3, true), pair(0.5, false), pair(0.8, false)];
    const best = bestThreshold(pairs);
    assert.equal(best.accuracy, 1);
    assert.ok(best.threshold > 0.3 && best.threshold < 0.5);
  });

  it('cross-validates by choosing each fold threshold on the other folds', () => {
    const pairs: ScoredPair[] = [];
    for (let fold = 0; fold < 10; fold++) pairs.push(pair(0.2 + fold / 100, true, fold), pair(0.7, false, fold));
    const result = crossValidate(pairs);
    assert.equal(result.folds.length, 10);
    assert.equal(result.meanAccuracy, 1);
  });
});
