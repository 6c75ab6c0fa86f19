import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { AnalyzeOptions } from '../engine.js';
import { loadFaceApiRuntime } from './runtime.js';
import { FACE_ATTRIBUTES, type FaceAttribute } from '../../core/types.js';
import { loadModels } from './loader.js';

const DATA = new URL('../../../../shared/data/', import.meta.url);
const OPTIONS: AnalyzeOptions = { minDetectionScore: 0.2, maxFaces: 100, minFaceSize: 20, needs: { embedding: true, attributes: FACE_ATTRIBUTES, crop: true } };

async function load(relativePath: string): Promise<RgbImage> {
  const { data, info } = await sharp(new URL(relativePath, DATA).pathname).rotate().removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 3);
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

// Runs the runtime in this thread (no worker) so its tfjs engine can be inspected.
void describe('face-api runtime', () => {
  void it('leaves no tensor behind across 24 calls, on every path (one face, many, retry pass, none)', async () => {
    const runtime = await loadFaceApiRuntime();
    const images = await Promise.all(
      ['test-images/Bono_0001.jpg', 'test-images/group.jpg', 'emotion-fer/happy/PublicTest_10130075.jpg', 'test-images/Blank_image.jpg'].map(load),
    );
    // Warm-up: the first calls may allocate lasting backend state.
    for (const image of images) await runtime.analyze(image, OPTIONS);
    const baseline = runtime.tensorCount();
    for (let i = 0; i < 24; i++) {
      const image = images[i % images.length];
      assert.ok(image);
      await runtime.analyze(image, OPTIONS);
    }
    assert.equal(runtime.tensorCount(), baseline);
  });

  void it('loads the models once per thread', async () => {
    const first = await loadFaceApiRuntime();
    const tensors = first.tensorCount();
    await loadFaceApiRuntime();
    assert.equal(first.tensorCount(), tensors);
  });

  void it('computes only the nets asked for, leaking nothing on the detection-only path either', async () => {
    const runtime = await loadFaceApiRuntime();
    const image = await load('test-images/group.jpg');
    const bare = await runtime.analyze({ ...image, data: image.data.slice() }, { ...OPTIONS, needs: { embedding: false, attributes: [], crop: false } });
    const full = await runtime.analyze({ ...image, data: image.data.slice() }, OPTIONS);
    assert.deepEqual(bare.map((face) => face.box), full.map((face) => face.box));
    assert.ok(bare.every((face) => !face.embedding && !face.attributes && !face.alignedCrop && face.landmarks.length === 68));
    const baseline = runtime.tensorCount();
    await runtime.analyze({ ...image, data: image.data.slice() }, { ...OPTIONS, needs: { embedding: false, attributes: [], crop: false } });
    assert.equal(runtime.tensorCount(), baseline);
  });

  void it('runs the attribute nets of the attributes asked for and no other (runs counted per net)', async () => {
    const runtime = await loadFaceApiRuntime();
    const { faceapi, human } = await loadModels(); // the same instances the runtime uses (loaded once per thread)
    const runs = { ageGender: 0, expression: 0, humanEmotion: 0 };
    const count = <T extends object, K extends keyof T>(target: T, method: K, counter: keyof typeof runs): (() => void) => {
      const original = target[method];
      target[method] = function (this: unknown, ...args: unknown[]) {
        runs[counter] += 1;
        return (original as (...a: unknown[]) => unknown).apply(this, args);
      } as T[K];
      return () => {
        target[method] = original;
      };
    };
    const restore = [
      count(faceapi.nets.ageGenderNet, 'predictAgeAndGender', 'ageGender'),
      count(faceapi.nets.faceExpressionNet, 'predictExpressions', 'expression'),
      count(human.emotion, 'execute', 'humanEmotion'),
    ];
    try {
      const image = await load('test-images/Bono_0001.jpg');
      const runsFor = async (attributes: readonly FaceAttribute[]): Promise<typeof runs> => {
        Object.assign(runs, { ageGender: 0, expression: 0, humanEmotion: 0 });
        const [face] = await runtime.analyze({ ...image, data: image.data.slice() }, { ...OPTIONS, maxFaces: 1, needs: { embedding: false, attributes, crop: false } });
        assert.ok(face);
        assert.deepEqual(Object.keys(face.attributes ?? {}).sort(), attributes.flatMap((a) => (a === 'gender' ? ['gender', 'genderProbability'] : [a])).sort());
        return { ...runs };
      };
      assert.deepEqual(await runsFor([]), { ageGender: 0, expression: 0, humanEmotion: 0 });
      // The expression net and Human's each see the crop and its mirror image.
      assert.deepEqual(await runsFor(['emotion']), { ageGender: 0, expression: 2, humanEmotion: 2 });
      // face-api's one net answers age and gender together.
      assert.deepEqual(await runsFor(['age']), { ageGender: 1, expression: 0, humanEmotion: 0 });
      assert.deepEqual(await runsFor(['gender']), { ageGender: 1, expression: 0, humanEmotion: 0 });
      assert.deepEqual(await runsFor(FACE_ATTRIBUTES), { ageGender: 1, expression: 2, humanEmotion: 2 });
    } finally {
      for (const undo of restore) undo();
    }
  });

  void it('turns bad input into a typed error instead of throwing from tfjs', async () => {
    const runtime = await loadFaceApiRuntime();
    await assert.rejects(runtime.analyze({ width: 3, height: 3, data: new Uint8Array(5) }, OPTIONS), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_image');
  });
});
