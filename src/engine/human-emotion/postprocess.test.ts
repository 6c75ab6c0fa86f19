import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMOTIONS } from '../../core/types.js';
import { HUMAN_EMOTIONS, humanEmotionScores } from './postprocess.js';

void describe('humanEmotionScores', () => {
  void it('reads the net as angry, disgust, fear, happy, sad, surprise, neutral', () => {
    HUMAN_EMOTIONS.forEach((label, index) => {
      const oneHot = HUMAN_EMOTIONS.map((_, i) => (i === index ? 1 : 0));
      const scores = humanEmotionScores(oneHot);
      assert.equal(scores[label], 1, label);
      for (const other of EMOTIONS) if (other !== label) assert.equal(scores[other], 0, `${other} when the net says ${label}`);
    });
  });

  void it('gives every one of the seven emotions a score, summing to 1 even when the output does not quite', () => {
    const scores = humanEmotionScores([0.1, 0.05, 0.1, 0.3, 0.1, 0.1, 0.27]);
    assert.deepEqual(Object.keys(scores).sort(), [...EMOTIONS].sort());
    const sum = EMOTIONS.reduce((total, e) => total + scores[e], 0);
    assert.ok(Math.abs(sum - 1) < 1e-12, `sum ${sum}`);
    assert.ok(Math.abs(scores.happy - 0.3 / 1.02) < 1e-12);
  });

  void it('refuses an output of the wrong length or without probability mass', () => {
    assert.throws(() => humanEmotionScores([0.5, 0.5]), /expected 7/);
    assert.throws(() => humanEmotionScores([0, 0, 0, 0, 0, 0, 0]), /no usable/);
    assert.throws(() => humanEmotionScores([NaN, 0, 0, 0, 0, 0, 1]), /no usable/);
  });
});
