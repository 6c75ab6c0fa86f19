import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emotionResult } from './emotion.js';
import { EMOTIONS, type EmotionScores } from './types.js';

function scores(values: number[]): EmotionScores {
  return Object.fromEntries(EMOTIONS.map((e, i) => [e, values[i] ?? 0])) as EmotionScores;
}

describe('emotionResult', () => {
  it('sums to exactly 100 with one decimal', () => {
    const result = emotionResult(scores([1 / 3, 1 / 3, 1 / 3, 0, 0, 0, 0]));
    const total = Object.values(result.scores).reduce((a, b) => a + b, 0);
    assert.equal(Math.round(total * 10), 1000);
    for (const value of Object.values(result.scores)) assert.equal(Math.round(value * 10), value * 10);
  });

  it('picks the most probable emotion as dominant', () => {
    const result = emotionResult(scores([0.1, 0, 0, 0.7, 0.1, 0, 0.1]));
    assert.equal(result.dominant, 'happy');
    assert.equal(result.scores.happy, 70);
  });

  it('renormalises probabilities that do not sum to one', () => {
    const result = emotionResult(scores([0, 0, 0, 0, 0, 2, 2]));
    assert.equal(result.scores.surprise, 50);
    assert.equal(result.scores.neutral, 50);
  });
});
