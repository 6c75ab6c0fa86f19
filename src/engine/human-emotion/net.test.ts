import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { HUMAN_EMOTION_SIZE, HUMAN_EMOTIONS, humanEmotionScores } from './postprocess.js';
import { loadTfjsCore } from '../tfjs-loader.js';
import { lazyHumanEmotionNet } from './net.js';

const FER = new URL('../../../../shared/data/emotion-fer/', import.meta.url);

/** A FER photo as the net's input, prepared with sharp alone (64x64 luma scaled to −1..1). */
async function ferInput(relativePath: string): Promise<Float32Array> {
  const size = HUMAN_EMOTION_SIZE;
  const gray = await sharp(new URL(relativePath, FER).pathname).greyscale().resize(size, size).raw().toBuffer();
  assert.equal(gray.length, size * size);
  return Float32Array.from(gray, (v) => v / 127.5 - 1);
}

void describe("Human's emotion net (tfjs, loaded on first use)", () => {
  const run = lazyHumanEmotionNet();

  void it('returns seven probabilities and reads a laughing face as happy', async () => {
    const probabilities = await run(await ferInput('happy/PublicTest_10527411.jpg'));
    assert.equal(probabilities.length, HUMAN_EMOTIONS.length);
    const sum = probabilities.reduce((total, p) => total + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-3, `softmax output sums to ${sum}`);
    const scores = humanEmotionScores(probabilities);
    assert.ok(scores.happy > 0.5, `happy ${scores.happy}`);
  });

  void it('gives the same output for the same input twice, and different outputs for different faces', async () => {
    const happy = await ferInput('happy/PublicTest_10248771.jpg');
    const surprised = await ferInput('surprise/PublicTest_10984020.jpg');
    const [a, b, c] = [await run(happy), await run(happy.slice()), await run(surprised)];
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  });

  void it('leaves no tensor behind', async () => {
    const input = await ferInput('happy/PublicTest_10248771.jpg');
    await run(input);
    const { tf } = await loadTfjsCore();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await run(input);
    assert.equal(tf.memory().numTensors, before);
  });

  void it('refuses an input of the wrong size', async () => {
    await assert.rejects(run(new Float32Array(48 * 48)), /64x64/);
  });
});
