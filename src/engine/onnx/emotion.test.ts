import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EMOTIONS, FACE_ATTRIBUTES, type Emotion, type EmotionScores, type FaceAttribute } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import type { FaceEngine } from '../engine.js';
import { HUMAN_EMOTION_SIZE, HUMAN_EMOTIONS } from '../human-emotion/postprocess.js';
import { createOnnxEngine } from './engine.js';
import { analyzeFaces, detectFaces, DETECTOR_MIN_SCORE, expressionInput, expressionLogits, expressionRegion, humanEmotionInput, humanEmotionProbabilities } from './pipeline.js';
import { EXPRESSION_LABELS, softmax } from './postprocess.js';
import { loadSessions, type OnnxSessions, type RunNet } from './runtime.js';

const FER = new URL('../../../../shared/data/emotion-fer/', import.meta.url);
/** Two clearly happy photos (a broad smile, a laugh) and one of each of three other classes. */
const PHOTOS = ['happy/PublicTest_10248771.jpg', 'happy/PublicTest_10527411.jpg', 'surprise/PublicTest_10984020.jpg', 'sad/PublicTest_10404299.jpg', 'angry/PublicTest_10116449.jpg'];

const BONO = new URL('../../../../shared/data/test-images/Bono_0001.jpg', import.meta.url);

async function load(relativePath: string): Promise<RgbImage> {
  return loadFrom(new URL(relativePath, FER));
}

async function loadFrom(url: URL): Promise<RgbImage> {
  const { data, info } = await sharp(url.pathname).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

function top(scores: Record<Emotion, number>): Emotion {
  return EMOTIONS.reduce((best, e) => (scores[e] > scores[best] ? e : best), EMOTIONS[0]);
}

void describe('humanEmotionInput', () => {
  void it('is the 64x64 luma of the region, scaled to −1..1', () => {
    const white: RgbImage = { width: 10, height: 8, data: new Uint8Array(10 * 8 * 3).fill(255) };
    const input = humanEmotionInput(white, { x: 0, y: 0, width: 10, height: 8 });
    assert.equal(input.length, HUMAN_EMOTION_SIZE * HUMAN_EMOTION_SIZE);
    assert.ok(input.every((v) => Math.abs(v - 1) < 1e-5));
    const black: RgbImage = { ...white, data: new Uint8Array(white.data.length) };
    assert.ok(humanEmotionInput(black, { x: 2, y: 2, width: 4, height: 4 }).every((v) => Math.abs(v + 1) < 1e-5));
  });
});

void describe("ONNX engine's emotion: the mean of its expression net and Human's net, on FER photos", () => {
  let engine: FaceEngine;
  let sessions: OnnxSessions;
  before(async () => {
    engine = await createOnnxEngine({ workers: 1 });
    sessions = await loadSessions({ intraOpThreads: 1 });
  });
  after(async () => {
    await engine.close();
    await sessions.release();
  });

  void it('runs the nets of the attributes asked for and no other (runs counted per net)', async () => {
    const image = await loadFrom(BONO);
    const runsFor = async (attributes: readonly FaceAttribute[]): Promise<Record<string, number>> => {
      const runs: Record<string, number> = {};
      const counting: RunNet = (net, input, dims) => {
        runs[net] = (runs[net] ?? 0) + 1;
        return sessions.run(net, input, dims);
      };
      const faces = await analyzeFaces(counting, image, { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: false, attributes, crop: false } });
      assert.equal(faces.length, 1);
      assert.deepEqual(Object.keys(faces[0]?.attributes ?? {}).sort(), attributes.flatMap((a) => (a === 'gender' ? ['gender', 'genderProbability'] : [a])).sort());
      return runs;
    };
    const bare = await runsFor([]);
    assert.deepEqual(Object.keys(bare).sort(), ['detect', 'landmark']);
    const plus = (extra: Record<string, number>): Record<string, number> => ({ ...bare, ...extra });
    assert.deepEqual(await runsFor(['emotion']), plus({ expression: 1, humanEmotion: 1 }));
    assert.deepEqual(await runsFor(['age']), plus({ age: 1 }));
    assert.deepEqual(await runsFor(['gender']), plus({ gender: 1 }));
    assert.deepEqual(await runsFor(['age', 'gender']), plus({ age: 1, gender: 1 }));
    assert.deepEqual(await runsFor(FACE_ATTRIBUTES), plus({ expression: 1, humanEmotion: 1, age: 1, gender: 1 }));
  });

  /** Each member's probabilities by the nets' own label orders, averaged here, outside the engine's code. */
  async function membersMean(image: RgbImage): Promise<EmotionScores> {
    const [face] = (await detectFaces(sessions.run, image, DETECTOR_MIN_SCORE)).sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height);
    assert.ok(face, 'the detector finds the face');
    const region = expressionRegion(image, face.box);
    const expression = softmax(await expressionLogits(sessions.run, expressionInput(image, region)));
    const human = await humanEmotionProbabilities(sessions.run, humanEmotionInput(image, region));
    const mean = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as EmotionScores;
    EXPRESSION_LABELS.forEach((label, i) => (mean[label] += (expression[i] ?? 0) / 2));
    HUMAN_EMOTIONS.forEach((label, i) => (mean[label] += (human[i] ?? 0) / 2));
    return mean;
  }

  void it('gives, for each photo, the averaged members’ scores (summing to 1) and their top emotion', async () => {
    for (const photo of PHOTOS) {
      const image = await load(photo);
      const [face] = await engine.analyze({ ...image, data: image.data.slice() }, { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: false, attributes: FACE_ATTRIBUTES, crop: false } });
      const emotion = face?.attributes?.emotion;
      assert.ok(emotion, `an emotion for ${photo}`);
      const expected = await membersMean(image);
      const sum = EMOTIONS.reduce((total, e) => total + emotion[e], 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `${photo}: scores sum to ${sum}`);
      for (const e of EMOTIONS) assert.ok(Math.abs(emotion[e] - expected[e]) < 1e-4, `${photo}: ${e} ${emotion[e]} vs the members' mean ${expected[e]}`);
      assert.equal(top(emotion), top(expected), photo);
    }
  });

  void it('reads the clearly happy photos as happy', async () => {
    for (const photo of PHOTOS.filter((p) => p.startsWith('happy/'))) {
      const [face] = await engine.analyze(await load(photo), { minDetectionScore: 0.2, maxFaces: 1, minFaceSize: 20, needs: { embedding: false, attributes: FACE_ATTRIBUTES, crop: false } });
      const emotion = face?.attributes?.emotion;
      assert.ok(emotion, photo);
      assert.equal(top(emotion), 'happy', photo);
      assert.ok(emotion.happy > 0.5, `${photo}: happy ${emotion.happy}`);
    }
  });
});
