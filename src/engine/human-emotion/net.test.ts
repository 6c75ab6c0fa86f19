import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { HUMAN_EMOTION_SIZE, HUMAN_EMOTIONS, humanEmotionScores } from './postprocess.js';
import { loadTfjsCore } from '../tfjs-loader.js';
import { loadHumanEmotionModel } from './net.js';
import { humanEmotionProbabilities } from '../onnx/pipeline.js';
import { loadSessions, type OnnxSessions } from '../onnx/runtime.js';

const FER = new URL('../../../../shared/data/emotion-fer/', import.meta.url);
const PHOTOS = ['happy/PublicTest_10527411.jpg', 'happy/PublicTest_10248771.jpg', 'surprise/PublicTest_10984020.jpg', 'sad/PublicTest_10404299.jpg', 'angry/PublicTest_10116449.jpg', 'fear/PublicTest_10150476.jpg'];

/** A FER photo as the net's input, prepared with sharp alone (64x64 luma scaled to −1..1). */
async function ferInput(relativePath: string): Promise<Float32Array> {
  const size = HUMAN_EMOTION_SIZE;
  const gray = await sharp(new URL(relativePath, FER).pathname).greyscale().resize(size, size).raw().toBuffer();
  assert.equal(gray.length, size * size);
  return Float32Array.from(gray, (v) => v / 127.5 - 1);
}

void describe("Human's emotion net converted to ONNX (engine v5) against its tfjs graph (engine v4)", () => {
  let sessions: OnnxSessions;
  before(async () => {
    sessions = await loadSessions({ intraOpThreads: 1 });
  });
  after(async () => {
    await sessions.release();
  });

  void it('gives the tfjs graph’s probabilities on real faces, to within 1e-5', async () => {
    const { tf, loadGraphModel } = await loadTfjsCore();
    const model = await loadHumanEmotionModel({ loadGraphModel });
    try {
      for (const photo of PHOTOS) {
        const input = await ferInput(photo);
        const onnx = await humanEmotionProbabilities(sessions.run, input);
        const output = tf.tidy(() => model.execute(tf.tensor4d(input, [1, HUMAN_EMOTION_SIZE, HUMAN_EMOTION_SIZE, 1])) as ReturnType<typeof tf.tensor>);
        const tfjs = await output.data<'float32'>();
        output.dispose();
        assert.equal(onnx.length, HUMAN_EMOTIONS.length, photo);
        for (let i = 0; i < HUMAN_EMOTIONS.length; i++) assert.ok(Math.abs(onnx[i]! - tfjs[i]!) < 1e-5, `${photo} ${HUMAN_EMOTIONS[i]}: onnx ${onnx[i]} tfjs ${tfjs[i]}`);
      }
    } finally {
      model.dispose();
    }
  });

  void it('returns seven probabilities summing to 1 and reads a laughing face as happy', async () => {
    const probabilities = await humanEmotionProbabilities(sessions.run, await ferInput('happy/PublicTest_10527411.jpg'));
    assert.equal(probabilities.length, HUMAN_EMOTIONS.length);
    const sum = probabilities.reduce((total, p) => total + p, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `softmax output sums to ${sum}`);
    assert.ok(humanEmotionScores(probabilities).happy > 0.5);
  });

  void it('gives the same output for the same input twice, and different outputs for different faces', async () => {
    const happy = await ferInput('happy/PublicTest_10248771.jpg');
    const surprised = await ferInput('surprise/PublicTest_10984020.jpg');
    const run = (input: Float32Array): Promise<Float32Array> => humanEmotionProbabilities(sessions.run, input);
    const [a, b, c] = [await run(happy), await run(happy.slice()), await run(surprised)];
    assert.deepEqual(Array.from(a), Array.from(b));
    assert.notDeepEqual(Array.from(a), Array.from(c));
  });

  void it('refuses an input of the wrong size', async () => {
    await assert.rejects(humanEmotionProbabilities(sessions.run, new Float32Array(48 * 48)), /64x64/);
  });
});
