import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EMOTIONS, FACE_ATTRIBUTES } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import { engineContract } from '../engine.contract.js';
import type { AnalyzeOptions, FaceEngine } from '../engine.js';
import { createFaceApiEngine, FACEAPI_MODEL } from './engine.js';

const DATA = new URL('../../../../shared/data/', import.meta.url);
const EVERYTHING = { embedding: true, attributes: FACE_ATTRIBUTES, crop: false };
const OPTIONS: AnalyzeOptions = { minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20, needs: EVERYTHING };

engineContract('faceapi', () => createFaceApiEngine({ workers: 2 }));

/** Decodes with sharp directly (src/image/decode.ts is written separately); grayscale keeps 3 equal channels. */
async function load(relativePath: string, grayscale = false): Promise<RgbImage> {
  const pipeline = sharp(new URL(relativePath, DATA).pathname).rotate().removeAlpha().toColourspace('srgb');
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  const pixels = new Uint8Array(data);
  if (grayscale) {
    for (let i = 0; i < pixels.length; i += 3) {
      const luminance = Math.round(0.299 * (pixels[i] ?? 0) + 0.587 * (pixels[i + 1] ?? 0) + 0.114 * (pixels[i + 2] ?? 0));
      pixels.fill(luminance, i, i + 3);
    }
  }
  return { width: info.width, height: info.height, data: pixels };
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(sum);
}

async function onlyFace(engine: FaceEngine, image: RgbImage) {
  const faces = await engine.analyze(image, OPTIONS);
  assert.ok(faces.length >= 1, 'a face is found');
  const [face] = faces;
  assert.ok(face);
  return face;
}

void describe('face-api engine (2 workers)', () => {
  let engine: FaceEngine;
  before(async () => {
    engine = await createFaceApiEngine({ workers: 2 });
  });
  after(() => engine.close());

  void it('reports the model it embeds with, its landmark layout and its own calibration', () => {
    assert.deepEqual(engine.model, FACEAPI_MODEL);
    assert.equal(engine.model.dimensions, 128);
    assert.equal(engine.landmarkLayout, 'ibug68');
    assert.equal(engine.calibration?.threshold, FACEAPI_MODEL.defaultThreshold);
  });

  void it('gives identical descriptors from two workers at once', async () => {
    const [a, b] = await Promise.all([1, 2].map(async () => onlyFace(engine, await load('test-images/Bono_0001.jpg'))));
    assert.ok(a?.embedding && b?.embedding);
    assert.equal(distance(a.embedding, b.embedding), 0);
  });

  void it('finds the faces of group.jpg, largest first, each fully described', async () => {
    const image = await load('test-images/group.jpg');
    const { width, height } = image;
    const faces = await engine.analyze(image, OPTIONS);
    assert.ok(faces.length >= 6, `found ${faces.length}`);
    for (const [i, face] of faces.entries()) {
      assert.equal(face.landmarks.length, 68);
      assert.ok(face.attributes);
      const sum = EMOTIONS.reduce((total, emotion) => total + (face.attributes?.emotion?.[emotion] ?? 0), 0);
      assert.ok(Math.abs(sum - 1) < 1e-6, `emotions sum to ${sum}`);
      assert.ok(face.box.x >= 0 && face.box.y >= 0 && face.box.x + face.box.width <= width && face.box.y + face.box.height <= height);
      assert.ok(face.detectionScore >= OPTIONS.minDetectionScore);
      const { gender, genderProbability, age } = face.attributes;
      assert.ok(genderProbability !== undefined && age !== undefined, 'every attribute asked for');
      assert.ok(gender === 'male' || gender === 'female');
      assert.ok(genderProbability >= 0.5 && genderProbability <= 1);
      assert.ok(age > 0 && age < 120);
      assert.equal(face.alignedCrop, undefined);
      const previous = faces[i - 1];
      if (previous) assert.ok(previous.box.width * previous.box.height >= face.box.width * face.box.height);
    }
  });

  void it('applies maxFaces and minFaceSize', async () => {
    const few = await engine.analyze(await load('test-images/group.jpg'), { ...OPTIONS, maxFaces: 2 });
    assert.equal(few.length, 2);
    const none = await engine.analyze(await load('test-images/group.jpg'), { ...OPTIONS, minFaceSize: 10_000 });
    assert.equal(none.length, 0);
  });

  void it('finds no face in a blank image', async () => {
    assert.deepEqual(await engine.analyze(await load('test-images/Blank_image.jpg'), OPTIONS), []);
  });

  void it('finds the face in a grayscale photo', async () => {
    await onlyFace(engine, await load('lfw-subset/Bono/Bono_0001.jpg', true));
  });

  void it('finds the face in grayscale LFW photos', async () => {
    const files = ['Aaron_Peirsol/Aaron_Peirsol_0001.jpg', 'Bono/Bono_0002.jpg', 'Alan_Trammell/Alan_Trammell_0001.jpg', 'Angela_Bassett/Angela_Bassett_0001.jpg', 'Bernard_Giraudeau/Bernard_Giraudeau_0001.jpg'];
    const faces = await Promise.all(files.map(async (file) => engine.analyze(await load(`lfw-subset/${file}`, true), OPTIONS)));
    assert.deepEqual(
      faces.map((found) => found.length > 0),
      files.map(() => true),
    );
  });

  void it('finds the face in a 48x48 FER crop of every emotion', async () => {
    const files = ['angry/PublicTest_10116449.jpg', 'fear/PublicTest_10150476.jpg', 'sad/PublicTest_10404299.jpg', 'surprise/PublicTest_10984020.jpg', 'neutral/PublicTest_10014592.jpg'];
    const faces = await Promise.all(files.map(async (file) => engine.analyze(await load(`emotion-fer/${file}`), { ...OPTIONS, minFaceSize: 1 })));
    assert.deepEqual(
      faces.map((found) => found.length > 0),
      files.map(() => true),
    );
  });

  void it('finds the face in a tight 48x48 FER crop and keeps its box inside the image', async () => {
    const face = await onlyFace(engine, await load('emotion-fer/happy/PublicTest_10130075.jpg'));
    assert.ok(face.box.x >= 0 && face.box.y >= 0 && face.box.x + face.box.width <= 48 && face.box.y + face.box.height <= 48);
    assert.ok(face.box.width >= 24, `box ${JSON.stringify(face.box)}`);
  });

  void it('returns an eye-level 160x160 JPEG crop when asked', async () => {
    const [face] = await engine.analyze(await load('test-images/Bono_0001.jpg'), { ...OPTIONS, needs: { ...EVERYTHING, crop: true } });
    assert.ok(face?.alignedCrop);
    const metadata = await sharp(face.alignedCrop).metadata();
    assert.equal(metadata.format, 'jpeg');
    assert.equal(metadata.width, 160);
    assert.equal(metadata.height, 160);
  });

  void it('answers many concurrent calls, queueing what the two workers cannot take yet', async () => {
    const images = await Promise.all(Array.from({ length: 8 }, () => load('test-images/Bono_0001.jpg')));
    const calls = images.map((image) => engine.analyze(image, OPTIONS));
    assert.ok(engine.queueDepth >= 5, `queue depth ${engine.queueDepth}`);
    const results = await Promise.all(calls);
    assert.deepEqual(results.map((faces) => faces.length), [1, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(engine.queueDepth, 0);
  });

  void it('rejects pixels that do not match the stated size with a typed error', async () => {
    const bad = { width: 10, height: 10, data: new Uint8Array(12) };
    await assert.rejects(engine.analyze(bad, OPTIONS), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_image');
  });
});

void describe('face-api engine close()', () => {
  void it('ends the workers and refuses further work', async () => {
    const engine = await createFaceApiEngine({ workers: 1 });
    await engine.close();
    assert.deepEqual(process.getActiveResourcesInfo().filter((name) => name === 'Worker'), []);
    await assert.rejects(engine.analyze(await load('test-images/Bono_0001.jpg'), OPTIONS), FacedbError);
  });
});
