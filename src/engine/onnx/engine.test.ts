import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { EMOTIONS, FACE_ATTRIBUTES } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine, FaceNeeds } from '../engine.js';
import { engineContract } from '../engine.contract.js';
import { createOnnxEngine, ONNX_LANDMARK_LAYOUT, ONNX_MODEL } from './engine.js';

const DATA = new URL('../../../../shared/data/', import.meta.url);
const EMBED: FaceNeeds = { embedding: true, attributes: [], crop: false };
const options = (needs: FaceNeeds = EMBED): AnalyzeOptions => ({ minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20, needs });

/** Decodes with sharp directly, so this test depends on the engine only. */
async function load(relativePath: string): Promise<RgbImage> {
  const { data, info } = await sharp(new URL(relativePath, DATA).pathname).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(sum);
}

async function embedding(engine: FaceEngine, file: string): Promise<Float32Array> {
  const [face] = await engine.analyze(await load(file), options());
  assert.ok(face?.embedding, `a face with an embedding in ${file}`);
  return face.embedding;
}

engineContract('onnx', () => createOnnxEngine({ workers: 1 }));

void describe('ONNX engine (1 worker)', () => {
  let engine: FaceEngine;
  before(async () => {
    engine = await createOnnxEngine({ workers: 1 });
  });
  after(() => engine.close());

  void it('reports its model, landmark layout and calibration', () => {
    assert.deepEqual(engine.model, ONNX_MODEL);
    assert.equal(engine.model.dimensions, 512);
    assert.equal(engine.landmarkLayout, ONNX_LANDMARK_LAYOUT);
    assert.ok(engine.calibration, 'a calibration measured for this model version');
    assert.ok(engine.calibration.roc.length > 0);
  });

  void it('puts two photos of Bono within the threshold and Brad Pitt beyond it, with unit-length 512-D embeddings', async () => {
    const bono1 = await embedding(engine, 'test-images/Bono_0001.jpg');
    const bono2 = await embedding(engine, 'test-images/Bono_0002.jpg');
    const brad = await embedding(engine, 'test-images/Brad_Pitt_0001.jpg');
    for (const e of [bono1, bono2, brad]) {
      assert.equal(e.length, 512);
      assert.ok(Math.abs(distance(e, new Float32Array(512)) - 1) < 1e-5, 'unit length');
    }
    const same = distance(bono1, bono2);
    assert.ok(same < ONNX_MODEL.defaultThreshold, `Bono vs Bono ${same}`);
    assert.ok(distance(bono1, brad) > ONNX_MODEL.defaultThreshold, `Bono vs Brad ${distance(bono1, brad)}`);
    assert.ok(distance(bono2, brad) > ONNX_MODEL.defaultThreshold);
  });

  void it('gives the same answer for the same photo twice', async () => {
    const image = await load('test-images/Brad_Pitt_0001.jpg');
    const [a] = await engine.analyze({ ...image, data: image.data.slice() }, options());
    const [b] = await engine.analyze(image, options());
    assert.ok(a?.embedding && b?.embedding);
    assert.deepEqual(Array.from(a.embedding), Array.from(b.embedding));
    assert.deepEqual(a.box, b.box);
  });

  void it('finds all seven faces of the group photo, largest first, and none on the blank photo', async () => {
    const group = await engine.analyze(await load('test-images/group.jpg'), options({ embedding: false, attributes: [], crop: false }));
    assert.equal(group.length, 7);
    const areas = group.map((f) => f.box.width * f.box.height);
    assert.deepEqual(areas, [...areas].sort((x, y) => y - x));
    for (const face of group) assert.equal(face.landmarks.length, 5);
    assert.deepEqual(await engine.analyze(await load('test-images/Blank_image.jpg'), options()), []);
  });

  void it('honours maxFaces and minFaceSize', async () => {
    const image = await load('test-images/group.jpg');
    const two = await engine.analyze({ ...image, data: image.data.slice() }, { ...options(), maxFaces: 2 });
    assert.equal(two.length, 2);
    const big = await engine.analyze(image, { ...options(), minFaceSize: 60 });
    assert.ok(big.length >= 1 && big.length < 7 && big.every((f) => f.box.width >= 60));
  });

  void it('runs only the nets asked for', async () => {
    const image = await load('test-images/Bono_0002.jpg');
    const copy = (): RgbImage => ({ ...image, data: image.data.slice() });
    const detectOnly = await engine.analyze(copy(), options({ embedding: false, attributes: [], crop: false }));
    assert.equal(detectOnly.length, 1);
    const only = detectOnly[0] as FaceAnalysis;
    assert.equal(only.embedding, undefined);
    assert.equal(only.attributes, undefined);
    assert.equal(only.alignedCrop, undefined);

    const [full] = await engine.analyze(copy(), options({ embedding: false, attributes: FACE_ATTRIBUTES, crop: true }));
    assert.ok(full?.attributes && full.alignedCrop);
    assert.equal(full.embedding, undefined);
    const sum = EMOTIONS.reduce((total, e) => total + (full.attributes?.emotion?.[e] ?? 0), 0);
    assert.ok(Math.abs(sum - 1) < 1e-6, `emotion scores sum to ${sum}`);
    assert.equal(full.attributes.gender, 'male');
    const { age } = full.attributes;
    assert.ok(age !== undefined && age > 15 && age < 80, `age ${age}`);
    const crop = await sharp(full.alignedCrop).metadata();
    assert.equal(crop.format, 'jpeg');
  });

  void it('rejects pixel buffers that do not match the size', async () => {
    const bad = { width: 10, height: 10, data: new Uint8Array(5) };
    await assert.rejects(engine.analyze(bad, options()), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_image');
    const zero = { width: 0, height: 0, data: new Uint8Array(0) };
    await assert.rejects(engine.analyze(zero, options()), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_image');
  });
});
