import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import type { FastifyInstance } from 'fastify';
import { fakeEngine, type FakeEngine } from '../../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../../test/fixtures.js';
import { loadConfig } from '../../config/config.js';
import type { FaceEngine } from '../../engine/engine.js';
import { openFacedb } from '../../facedb.js';
import type { FaceService } from '../../services/face-service.js';
import { buildServer } from '../app.js';
import * as clusterWire from '../cluster-wire.js';

/*
 * POST /v1/faces (photos without a name) held to the same bounds as identify: admitted through the inference gate
 * (FACEDB_MAX_QUEUE answers 503), decoded within the size cap, and a photo already stored is not analysed again.
 * A fake engine (the model is not what is tested) that records the pixel size it is given.
 */
const ADMIN = 'admin-key-for-faces-admission-1';
const headers = { authorization: `Bearer ${ADMIN}` };

describe('POST /v1/faces: admission, size cap, duplicates', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let inner: FakeEngine;
  const sides: number[] = [];
  const upload = (images: Buffer[]) => app.inject({ method: 'POST', url: '/v1/faces', headers, payload: { image: images.map((image) => image.toString('base64')) } });

  before(async () => {
    inner = await fakeEngine();
    const recording: FaceEngine = {
      model: inner.model,
      landmarkLayout: inner.landmarkLayout,
      calibration: inner.calibration,
      get queueDepth() {
        return inner.queueDepth;
      },
      analyze: (image, options) => {
        sides.push(Math.max(image.width, image.height));
        return inner.analyze(image, options);
      },
      close: () => inner.close(),
    };
    const config = loadConfig({ db: join(await tempDir(), 'gallery.sqlite'), workers: 1, maxQueue: 1, maxImageSide: 256, apiKeys: `admin:${ADMIN}` }, {});
    service = await openFacedb({ ...config, engine: recording });
    app = await buildServer(service, config);
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  it('decodes a large photo shrunk to FACEDB_MAX_IMAGE_SIDE, as identify does', async () => {
    const large = await sharp(lfwPhoto('Bono', 1)).resize(1600, 1600).png().toBuffer();
    const response = await upload([large]);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(clusterWire.unnamedEnrollResponse.parse(response.json()).outcomes[0]?.status, 'enrolled');
    assert.ok(sides.length > 0 && Math.max(...sides) <= 256, `the engine was given ${Math.max(...sides)} px`);
  });

  it('answers a photo already stored without analysing it', async () => {
    const photo = await readFile(lfwPhoto('Bono', 2));
    assert.equal(clusterWire.unnamedEnrollResponse.parse((await upload([photo])).json()).outcomes[0]?.status, 'enrolled');
    const calls = inner.calls;
    const again = await upload([photo]);
    assert.deepEqual(clusterWire.unnamedEnrollResponse.parse(again.json()).outcomes, [{ status: 'already_enrolled', faces_found: 0, face_ids: [] }]);
    assert.equal(inner.calls, calls, 'no inference for a stored photo');
  });

  it('answers 503 once the gate is full (FACEDB_MAX_QUEUE), and the admitted uploads still finish', async () => {
    // One worker: two photos run at once, one more waits (FACEDB_MAX_QUEUE=1); the next request is refused.
    const photos = await Promise.all([1, 2, 3].map((n) => readFile(lfwPhoto('Boris_Becker', n))));
    const before = inner.calls;
    const { held, release } = inner.hold();
    const admitted = photos.map((photo) => upload([photo]));
    await held;
    for (let tries = 0; inner.calls < before + 2 && tries < 100; tries++) await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 100)); // the third request reaches the gate's queue
    const refused = await upload([await readFile(lfwPhoto('Boris_Yeltsin', 1))]);
    assert.equal(refused.statusCode, 503, refused.body);
    release();
    for (const response of await Promise.all(admitted)) assert.equal(response.statusCode, 200, response.body);
  });
});
