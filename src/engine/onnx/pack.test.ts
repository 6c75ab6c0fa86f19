import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { lfwPhoto, tempDir, testImage } from '../../../test/fixtures.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { FaceEngine } from '../engine.js';
import { engineByName, engineForModel, fallbackThreshold } from '../registry.js';
import { createOnnxEngine, ONNX_MODEL } from './engine.js';
import { PACK_MANIFEST, packModel, readModelPack } from './pack.js';
import { modelDirectory } from './runtime.js';

/** The built-in recogniser's own file, fed as the built-in engine feeds it: a pack that must embed exactly alike. */
const BUILT_IN_AS_PACK = {
  id: 'mobilefacenet-as-pack',
  version: '1',
  recognition: { file: path.join(modelDirectory(), 'fr_feature.onnx'), input: 112, channels: 'BGR', mean: 127, std: 128, dimensions: 512 },
};

async function writePack(manifest: unknown): Promise<string> {
  const dir = path.join(await tempDir('facedb-pack-'), 'pack');
  await mkdir(dir);
  await writeFile(path.join(dir, PACK_MANIFEST), typeof manifest === 'string' ? manifest : JSON.stringify(manifest));
  return dir;
}

const withRecognition = (changes: Record<string, unknown>) => ({ ...BUILT_IN_AS_PACK, recognition: { ...BUILT_IN_AS_PACK.recognition, ...changes } });

async function load(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

const OPTIONS = { minDetectionScore: 0.2, maxFaces: 10, minFaceSize: 20, needs: { embedding: true, attributes: [], crop: false } };

function invalid(pattern: RegExp) {
  return (error: unknown): boolean => error instanceof FacedbError && error.code === 'invalid_input' && pattern.test(error.message);
}

void describe('model pack manifest', () => {
  let badJson: string;
  let missingFile: string;
  let wrongInput: string;
  let unknownChannels: string;
  let noId: string;
  before(async () => {
    badJson = await writePack('{"id": "x",');
    missingFile = await writePack(withRecognition({ file: 'nope.onnx' }));
    wrongInput = await writePack(withRecognition({ input: 160 }));
    unknownChannels = await writePack(withRecognition({ channels: 'BRG' }));
    noId = await writePack({ ...BUILT_IN_AS_PACK, id: '' });
  });

  void it('reads a valid pack, resolving the file, and pins it apart from every built-in model', async () => {
    const dir = await writePack({ ...BUILT_IN_AS_PACK, recognition: { ...BUILT_IN_AS_PACK.recognition, channels: 'RGB' } });
    const pack = readModelPack(dir);
    assert.equal(pack.recognition.channels, 'rgb');
    assert.equal(pack.recognition.file, BUILT_IN_AS_PACK.recognition.file);
    assert.deepEqual(packModel(pack), { id: 'pack:mobilefacenet-as-pack', version: '1', dimensions: 512, metric: 'euclidean', defaultThreshold: 0 });
    assert.equal(engineForModel(packModel(pack)), undefined, 'no built-in engine claims a pack model');
    assert.equal(engineForModel(packModel(pack), pack)?.name, 'onnx');
  });

  void it('refuses a folder without a manifest, bad JSON, a missing file, a wrong input size and unknown channels', () => {
    assert.throws(() => readModelPack(path.join(BUILT_IN_AS_PACK.recognition.file, '..')), invalid(/has no facedb-pack\.json/));
    assert.throws(() => readModelPack(badJson), invalid(/not valid JSON/));
    assert.throws(() => readModelPack(missingFile), invalid(/recognition\.file nope\.onnx does not exist/));
    assert.throws(() => readModelPack(wrongInput), invalid(/recognition\.input: must be 112/));
    assert.throws(() => readModelPack(unknownChannels), invalid(/recognition\.channels: must be "BGR" or "RGB"/));
    assert.throws(() => readModelPack(noId), invalid(/\bid:/));
  });

  void it('runs only on the onnx engine', async () => {
    const pack = readModelPack(await writePack(BUILT_IN_AS_PACK));
    assert.throws(() => engineByName('faceapi', pack), invalid(/runs on the onnx engine/));
  });

  void it('has no threshold to fall back to until calibrated, and says how to get one', async () => {
    const pack = readModelPack(await writePack(BUILT_IN_AS_PACK));
    assert.throws(() => fallbackThreshold(packModel(pack)), invalid(/facedb evaluate <folder> --apply.*--threshold/));
    assert.equal(fallbackThreshold(ONNX_MODEL), ONNX_MODEL.defaultThreshold);
  });
});

void describe('model pack recogniser on the onnx engine (1 worker)', () => {
  let builtIn: FaceEngine;
  let packed: FaceEngine;
  before(async () => {
    builtIn = await createOnnxEngine({ workers: 1 });
    packed = await createOnnxEngine({ workers: 1, pack: readModelPack(await writePack(BUILT_IN_AS_PACK)) });
  });
  after(() => Promise.all([builtIn.close(), packed.close()]));

  void it("embeds exactly as the built-in engine when given the built-in recogniser's own file", async () => {
    assert.equal(packed.model.id, 'pack:mobilefacenet-as-pack');
    assert.equal(packed.calibration, undefined);
    for (const file of [lfwPhoto('Bono', 1), lfwPhoto('Aaron_Eckhart', 1), testImage('group.jpg')]) {
      const [ours, theirs] = await Promise.all([builtIn.analyze(await load(file), OPTIONS), packed.analyze(await load(file), OPTIONS)]);
      assert.ok(ours.length > 0, file);
      assert.deepEqual(
        theirs.map((face) => Array.from(face.embedding ?? [])),
        ours.map((face) => Array.from(face.embedding ?? [])),
        file,
      );
    }
  });

  void it('differs from the built-in engine when the manifest states another channel order (the manifest is obeyed)', async () => {
    const rgb = await createOnnxEngine({ workers: 1, pack: readModelPack(await writePack(withRecognition({ channels: 'RGB' }))) });
    try {
      const file = lfwPhoto('Bono', 1);
      const [[ours], [theirs]] = await Promise.all([builtIn.analyze(await load(file), OPTIONS), rgb.analyze(await load(file), OPTIONS)]);
      assert.notDeepEqual(Array.from(theirs?.embedding ?? []), Array.from(ours?.embedding ?? []));
    } finally {
      await rgb.close();
    }
  });

  void it('refuses at start-up a net whose output disagrees with dimensions, or that does not take the crop', async () => {
    await assert.rejects(createOnnxEngine({ workers: 1, pack: readModelPack(await writePack(withRecognition({ dimensions: 128 }))) }), invalid(/output has 512 values, but the manifest says dimensions 128/));
    const landmarkNet = path.join(modelDirectory(), 'fr_landmark.onnx');
    await assert.rejects(createOnnxEngine({ workers: 1, pack: readModelPack(await writePack(withRecognition({ file: landmarkNet }))) }), invalid(/does not take the 1x3x112x112 crop/));
  });
});
