import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { EMOTIONS, FACE_ATTRIBUTES } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import { decodeImage } from '../image/decode.js';
import type { RgbImage } from '../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine, FaceNeeds } from './engine.js';

/**
 * The behaviour every FaceEngine must have, written against the interface only. Each engine's test file calls it
 * with a factory (called once; the engine is closed at the end). An engine that does not recognise people (the
 * fake) passes `skipPeople` with the reason, which skips the two same-person/different-people cases.
 */
export function engineContract(name: string, create: () => Promise<FaceEngine>, options: { skipPeople?: string } = {}): void {
  void describe(`FaceEngine contract: ${name}`, () => {
    let engine: FaceEngine;
    before(async () => {
      engine = await create();
    });
    after(() => engine.close());

    const analyze = async (file: string, needs: Partial<FaceNeeds> = {}, overrides: Partial<AnalyzeOptions> = {}): Promise<FaceAnalysis[]> =>
      // A fresh decode per call: an engine may take the pixel buffer over (see createFaceApiEngine).
      engine.analyze(await load(file), { ...OPTIONS, ...overrides, needs: { ...NOTHING, ...needs } });

    const largest = async (file: string, needs: Partial<FaceNeeds>): Promise<FaceAnalysis> => {
      const [face] = await analyze(file, needs);
      assert.ok(face, `a face in ${file}`);
      return face;
    };

    void it('describes its model: id, version, dimensions, metric, threshold, landmark layout', () => {
      const { model } = engine;
      assert.ok(model.id.length > 0 && model.version.length > 0);
      assert.ok(Number.isInteger(model.dimensions) && model.dimensions > 0);
      assert.equal(model.metric, 'euclidean');
      assert.ok(model.defaultThreshold > 0);
      assert.ok(engine.landmarkLayout.length > 0);
      if (engine.calibration) assert.ok(engine.calibration.roc.length > 0);
    });

    void it('gives unit-length embeddings of model.dimensions', async () => {
      const face = await largest(BONO_1, { embedding: true });
      assert.ok(face.embedding);
      assert.equal(face.embedding.length, engine.model.dimensions);
      const norm = Math.sqrt(face.embedding.reduce((sum, x) => sum + x * x, 0));
      assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
      assert.ok(face.embedding.every(Number.isFinite));
    });

    void it('gives the same output for the same photo twice', async () => {
      const needs = { embedding: true, attributes: FACE_ATTRIBUTES };
      const [a, b] = [await analyze(BONO_1, needs), await analyze(BONO_1, needs)];
      assert.deepEqual(a, b);
    });

    void it('sorts faces by box area, largest first, each inside the image', async () => {
      const image = await load(GROUP);
      const faces = await analyze(GROUP);
      assert.ok(faces.length >= 1);
      faces.forEach((face, i) => {
        const previous = faces[i - 1];
        if (previous) assert.ok(previous.box.width * previous.box.height >= face.box.width * face.box.height);
        assert.ok(face.box.x >= 0 && face.box.y >= 0 && face.box.x + face.box.width <= image.width + 1e-6 && face.box.y + face.box.height <= image.height + 1e-6);
        assert.ok(face.detectionScore >= OPTIONS.minDetectionScore && face.detectionScore <= 1);
      });
      assert.equal((await analyze(GROUP, {}, { maxFaces: 1 })).length, 1);
      assert.equal((await analyze(GROUP, {}, { minFaceSize: 100_000 })).length, 0);
    });

    void it('finds no face in a blank image', async () => {
      assert.deepEqual(await analyze(BLANK, { embedding: true, attributes: FACE_ATTRIBUTES, crop: true }), []);
    });

    void it('puts two photos of the same person within the threshold', { skip: options.skipPeople ?? false }, async () => {
      const [a, b] = [await largest(BONO_1, { embedding: true }), await largest(BONO_2, { embedding: true })];
      const d = distance(a.embedding!, b.embedding!);
      assert.ok(d <= engine.model.defaultThreshold, `Bono vs Bono at ${d}`);
    });

    void it('puts two different people beyond the threshold', { skip: options.skipPeople ?? false }, async () => {
      const [a, b] = [await largest(BONO_1, { embedding: true }), await largest(BRAD, { embedding: true })];
      const d = distance(a.embedding!, b.embedding!);
      assert.ok(d > engine.model.defaultThreshold, `Bono vs Brad Pitt at ${d}`);
    });

    void it('computes only what `needs` asks for', async () => {
      const bare = await largest(BONO_1, {});
      assert.equal(bare.embedding, undefined);
      assert.equal(bare.attributes, undefined);
      assert.equal(bare.alignedCrop, undefined);
      assert.ok(Array.isArray(bare.landmarks));

      const withEmbedding = await largest(BONO_1, { embedding: true });
      assert.ok(withEmbedding.embedding && !withEmbedding.attributes && !withEmbedding.alignedCrop);

      const withAttributes = await largest(BONO_1, { attributes: FACE_ATTRIBUTES });
      assert.ok(withAttributes.attributes && !withAttributes.embedding && !withAttributes.alignedCrop);
      const { emotion, age, gender, genderProbability } = withAttributes.attributes;
      assert.ok(emotion && age !== undefined && genderProbability !== undefined, 'every attribute asked for');
      const sum = EMOTIONS.reduce((total, e) => total + emotion[e], 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `emotions sum to ${sum}`);
      assert.ok(Number.isFinite(age) && age > 0 && age < 120);
      assert.ok(gender === 'male' || gender === 'female');
      assert.ok(genderProbability >= 0 && genderProbability <= 1);

      const withCrop = await largest(BONO_1, { crop: true });
      assert.ok(withCrop.alignedCrop && !withCrop.embedding && !withCrop.attributes);
      assert.deepEqual([...withCrop.alignedCrop.subarray(0, 2)], [0xff, 0xd8], 'a JPEG');
      // The box does not depend on what else was asked for.
      assert.deepEqual(bare.box, withEmbedding.box);
    });

    void it('computes exactly the attributes asked for, each as it is when all are asked for', async () => {
      const all = (await largest(BONO_1, { attributes: FACE_ATTRIBUTES })).attributes;
      for (const attribute of FACE_ATTRIBUTES) {
        const only = (await largest(BONO_1, { attributes: [attribute] })).attributes;
        const expected = attribute === 'gender' ? { gender: all?.gender, genderProbability: all?.genderProbability } : { [attribute]: all?.[attribute] };
        assert.deepEqual(only, expected, attribute);
      }
      const emotionAndAge = (await largest(BONO_1, { attributes: ['emotion', 'age'] })).attributes;
      assert.deepEqual(emotionAndAge, { emotion: all?.emotion, age: all?.age });
      assert.equal((await largest(BONO_1, { attributes: [] })).attributes, undefined);
    });

    void it('with detect: false takes the whole image as one face (FER crops, one of which a detector misses)', async () => {
      for (const file of FER_CROPS) {
        const image = await load(file);
        const faces = await analyze(file, { embedding: true, attributes: FACE_ATTRIBUTES }, { detect: false, minFaceSize: 100 });
        assert.equal(faces.length, 1, file);
        const [face] = faces;
        assert.deepEqual(face?.box, { x: 0, y: 0, width: image.width, height: image.height }, file);
        assert.equal(face?.detectionScore, 1);
        assert.equal(face?.embedding?.length, engine.model.dimensions);
        assert.ok(face?.attributes && EMOTIONS.every((e) => Number.isFinite(face.attributes?.emotion?.[e])));
        for (const [x, y] of face?.landmarks ?? []) assert.ok(x >= 0 && x <= image.width && y >= 0 && y <= image.height, `landmark ${x},${y} in ${file}`);
      }
    });

    void it('rejects pixels that do not match the stated size with invalid_image', async () => {
      for (const bad of [
        { width: 10, height: 10, data: new Uint8Array(12) },
        { width: 0, height: 10, data: new Uint8Array(0) },
        { width: 2.5, height: 2, data: new Uint8Array(15) },
      ]) {
        await assert.rejects(engine.analyze(bad, { ...OPTIONS, needs: NOTHING }), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_image');
      }
    });
  });
}

const DATA = new URL('../../../shared/data/', import.meta.url);
const BONO_1 = 'test-images/Bono_0001.jpg';
const BONO_2 = 'test-images/Bono_0002.jpg';
const BRAD = 'test-images/Brad_Pitt_0001.jpg';
const GROUP = 'test-images/group.jpg';
const BLANK = 'test-images/Blank_image.jpg';
/** 48x48 FER crops; the ONNX engine's detector finds no face in the first. */
const FER_CROPS = ['emotion-fer/happy/PublicTest_11107518.jpg', 'emotion-fer/sad/PublicTest_12632735.jpg', 'emotion-fer/surprise/PublicTest_10984020.jpg'];
const NOTHING: FaceNeeds = { embedding: false, attributes: [], crop: false };
const OPTIONS: Omit<AnalyzeOptions, 'needs'> = { minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20 };

async function load(file: string): Promise<RgbImage> {
  const bytes = await readFile(new URL(file, DATA));
  return decodeImage(bytes, { maxPixels: 50_000_000, maxFileBytes: 32 * 1024 * 1024 });
}

function distance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += ((a[i] ?? 0) - (b[i] ?? 0)) ** 2;
  return Math.sqrt(sum);
}
