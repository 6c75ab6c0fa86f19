import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import sharp from 'sharp';
import { lfwPhoto, pngDeclaring, SHARED_DATA, tempDir, testImage } from '../../test/fixtures.js';
import { ADMIN, admin, expectError, multipart, READ, reader, withAuth } from '../../test/http-inject.js';
import { loadConfig, type ConfigInput } from '../config/config.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import * as wire from './wire.js';

void describe('HTTP API in process, on real faces, a real SQLite file and the real engine', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let dir: string;
  const photo = (path: string): Promise<Buffer> => readFile(path);
  const config = (overrides: ConfigInput = {}) =>
    loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${ADMIN},read:${READ}`, ...overrides }, {});
  const inject = (options: InjectOptions, headers: Record<string, string> = admin) => app.inject(withAuth(options, headers));

  before(async () => {
    dir = await tempDir('facedb-server-');
    service = await openFacedb(config());
    app = await buildServer(service, config());
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('answers health at once and readiness once the models are loaded', async () => {
    const health = await app.inject({ url: '/healthz' });
    assert.deepEqual(health.json(), { status: 'ok' });
    const before = await app.inject({ url: '/readyz' });
    assert.equal(before.statusCode, 503);
    assert.deepEqual(before.json(), { status: 'not_ready', models: false, db: true });
    await service.engine();
    const ready = await app.inject({ url: '/readyz' });
    const { calibration, ...readiness } = ready.json<{ calibration?: { source: string; text: string } }>();
    assert.deepEqual(readiness, { status: 'ready', models: true, db: true });
    // Where identify's default threshold comes from: no gallery calibration here, so the engine's (or the model's).
    assert.ok(calibration && ['engine', 'model_default'].includes(calibration.source), JSON.stringify(calibration));
  });

  void it('puts a request id on every response, keeping a plain one sent by the caller', async () => {
    const own = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'trace-42' } });
    assert.equal(own.headers['x-request-id'], 'trace-42');
    const hostile = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'a\tb'.repeat(40) } });
    assert.match(String(hostile.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const missing = await app.inject({ url: '/nowhere' });
    expectError(missing, 404, 'not_found');
  });

  let bono = 0;
  void it('creates people: 201 for a new name, 200 with the same person for an existing one', async () => {
    const created = await inject({ method: 'POST', url: '/v1/people', payload: { name: 'Bono' } });
    assert.equal(created.statusCode, 201);
    bono = wire.person.parse(created.json()).id;
    const again = await inject({ method: 'POST', url: '/v1/people', payload: { name: '  Bono ' } });
    assert.equal(again.statusCode, 200);
    assert.equal(wire.person.parse(again.json()).id, bono);
    expectError(await inject({ method: 'POST', url: '/v1/people', payload: { name: '' } }), 400, 'validation_failed');
    expectError(await inject({ method: 'POST', url: '/v1/people', payload: { name: 7 } }), 400, 'validation_failed');
  });

  void it('enrolls uploads, one outcome per photo, multipart and base64', async () => {
    const upload = multipart([
      { name: 'image', file: await photo(lfwPhoto('Bono', 1)), type: 'image/jpeg' },
      { name: 'image', file: await photo(lfwPhoto('Bono', 3)), type: 'image/jpeg' },
      { name: 'image', file: await photo(testImage('Blank_image.jpg')) },
      { name: 'image', file: Buffer.from('not a photo') },
    ]);
    const response = await inject({ method: 'POST', url: `/v1/people/${bono}/faces`, ...upload });
    assert.equal(response.statusCode, 200, response.body);
    const statuses = wire.enrollResponse.parse(response.json()).outcomes.map((o) => o.status);
    assert.deepEqual(statuses, ['enrolled', 'enrolled', 'no_face', 'unreadable']);

    const again = await inject({
      method: 'POST',
      url: `/v1/people/${bono}/faces`,
      payload: { image: [(await photo(lfwPhoto('Bono', 1))).toString('base64')] },
    });
    assert.equal(wire.enrollResponse.parse(again.json()).outcomes[0]?.status, 'already_enrolled');

    const brad = wire.person.parse((await inject({ method: 'POST', url: '/v1/people', payload: { name: 'Brad Pitt' } })).json());
    const bradFaces = await inject({
      method: 'POST',
      url: `/v1/people/${brad.id}/faces`,
      payload: { image: [`data:image/jpeg;base64,${(await photo(lfwPhoto('Brad_Pitt', 1))).toString('base64')}`] },
    });
    assert.equal(wire.enrollResponse.parse(bradFaces.json()).outcomes[0]?.status, 'enrolled');
    expectError(await inject({ method: 'POST', url: '/v1/people/999999/faces', payload: { image: ['AAAA'] } }), 404, 'not_found');
    expectError(await inject({ method: 'POST', url: `/v1/people/${bono}/faces`, payload: { image: [] } }), 400, 'validation_failed');
  });

  void it('lists people and shows one with their faces and crops', async () => {
    const page = wire.peoplePage.parse((await inject({ url: '/v1/people?limit=1&offset=0' }, reader)).json());
    assert.equal(page.total, 2);
    assert.equal(page.items.length, 1);
    assert.equal(page.limit, 1);
    const detail = wire.personDetail.parse((await inject({ url: `/v1/people/${bono}` }, reader)).json());
    assert.equal(detail.face_count, 2);
    assert.equal(detail.faces.length, 2);
    const crop = await inject({ url: detail.faces[0]?.image_url ?? '' }, reader);
    assert.equal(crop.statusCode, 200);
    assert.equal(crop.headers['content-type'], 'image/jpeg');
    assert.deepEqual([...crop.rawPayload.subarray(0, 3)], [0xff, 0xd8, 0xff]);
    expectError(await inject({ url: '/v1/people/424242' }), 404, 'not_found');
    expectError(await inject({ url: '/v1/people/abc' }), 400, 'validation_failed');
    expectError(await inject({ url: '/v1/people?limit=0' }), 400, 'validation_failed');
    expectError(await inject({ url: '/v1/faces/424242/image' }), 404, 'not_found');
  });

  void it('identifies a photo sent as multipart, with options as fields', async () => {
    const upload = multipart([
      { name: 'top_k', value: '1' },
      // An enrolled photo: this tests the API, face-service.test.ts tests recognition of unseen photos.
      { name: 'image', file: await photo(lfwPhoto('Bono', 3)), type: 'image/jpeg' },
    ]);
    const response = await inject({ method: 'POST', url: '/v1/identify', ...upload }, reader);
    assert.equal(response.statusCode, 200, response.body);
    const result = wire.identifyResponse.parse(response.json());
    assert.equal(result.image.format, 'jpeg');
    assert.equal(result.faces[0]?.match?.person, 'Bono');
    assert.equal(result.faces[0]?.candidates.length, 1);
    const scores = Object.values(result.faces[0]?.emotion?.scores ?? {});
    assert.ok(Math.abs(scores.reduce((a, b) => a + b, 0) - 100) < 1e-6);
    assert.ok(result.took_ms > 0);
  });

  void it('identifies a photo sent as base64 JSON, with options in the query', async () => {
    const image = (await photo(testImage('group.jpg'))).toString('base64');
    const response = await inject({ method: 'POST', url: '/v1/identify?max_faces=2', payload: { image } }, reader);
    const result = wire.identifyResponse.parse(response.json());
    assert.equal(result.faces.length, 2);
    for (const face of result.faces) assert.equal(face.match, null, 'nobody in group.jpg is enrolled');
    expectError(await inject({ method: 'POST', url: '/v1/identify?max_faces=5000', payload: { image } }), 400, 'validation_failed');
    expectError(await inject({ method: 'POST', url: '/v1/identify?top_k=x', payload: { image } }), 400, 'validation_failed');
  });

  void it('verifies two photos', async () => {
    const same = await inject({
      method: 'POST',
      url: '/v1/verify',
      ...multipart([
        { name: 'image_a', file: await photo(lfwPhoto('Bono', 1)) },
        { name: 'image_b', file: await photo(testImage('Bono_0002.jpg')) },
      ]),
    });
    const verdict = wire.verifyResponse.parse(same.json());
    assert.equal(verdict.verified, true);
    assert.ok(verdict.distance <= verdict.threshold);
    const different = await inject({
      method: 'POST',
      url: '/v1/verify',
      payload: {
        image_a: (await photo(lfwPhoto('Bono', 1))).toString('base64'),
        image_b: (await photo(testImage('Brad_Pitt_0001.jpg'))).toString('base64'),
        threshold: 0.3,
      },
    });
    const other = wire.verifyResponse.parse(different.json());
    assert.equal(other.verified, false);
    assert.equal(other.threshold, 0.3);
    const blank = await inject({
      method: 'POST',
      url: '/v1/verify',
      ...multipart([
        { name: 'image_a', file: await photo(lfwPhoto('Bono', 1)) },
        { name: 'image_b', file: await photo(testImage('Blank_image.jpg')) },
      ]),
    });
    expectError(blank, 422, 'no_face');
    const one = await inject({ method: 'POST', url: '/v1/verify', ...multipart([{ name: 'image_a', file: await photo(lfwPhoto('Bono', 1)) }]) });
    expectError(one, 400, 'validation_failed');
  });

  void it('analyzes, detects and represents every face of a group photo', async () => {
    const group = await photo(testImage('group.jpg'));
    const analysis = wire.analyzeResponse.parse(
      (await inject({ method: 'POST', url: '/v1/analyze', ...multipart([{ name: 'image', file: group }]) }, reader)).json(),
    );
    assert.ok(analysis.faces.length >= 5, `found ${analysis.faces.length} faces`);
    const detection = wire.detectResponse.parse(
      (await inject({ method: 'POST', url: '/v1/detect', ...multipart([{ name: 'image', file: group }]) }, reader)).json(),
    );
    assert.equal(detection.faces.length, analysis.faces.length);
    assert.deepEqual(Object.keys(detection.faces[0] ?? {}).sort(), ['box', 'detection_score']);
    const represented = wire.representResponse.parse(
      (await inject({ method: 'POST', url: '/v1/represent', payload: { image: group.toString('base64'), max_faces: 1 } }, reader)).json(),
    );
    assert.equal(represented.faces.length, 1);
    assert.equal(represented.faces[0]?.embedding.length, (await service.engine()).model.dimensions);
  });

  void it('takes a face crop whole with detect=false (query, multipart field or JSON) on analyze, represent, identify and verify', async () => {
    // A 48x48 FER crop in which the ONNX detector finds no face.
    const crop = await readFile(join(SHARED_DATA, 'emotion-fer/happy/PublicTest_11107518.jpg'));
    const whole = { x: 0, y: 0, width: 48, height: 48 };
    const detected = wire.analyzeResponse.parse((await inject({ method: 'POST', url: '/v1/analyze', ...multipart([{ name: 'image', file: crop }]) }, reader)).json());
    assert.equal(detected.faces.length, 0);
    const analysis = wire.analyzeResponse.parse(
      (await inject({ method: 'POST', url: '/v1/analyze?detect=false', ...multipart([{ name: 'image', file: crop }]) }, reader)).json(),
    );
    assert.deepEqual(analysis.faces.map((face) => face.box), [whole]);
    const represented = wire.representResponse.parse(
      (await inject({ method: 'POST', url: '/v1/represent', ...multipart([{ name: 'image', file: crop }, { name: 'detect', value: 'false' }]) }, reader)).json(),
    );
    assert.deepEqual(represented.faces.map((face) => face.box), [whole]);
    const identified = wire.identifyResponse.parse((await inject({ method: 'POST', url: '/v1/identify', payload: { image: crop.toString('base64'), detect: false } }, reader)).json());
    assert.equal(identified.faces.length, 1);
    const verified = await inject({ method: 'POST', url: '/v1/verify', payload: { image_a: crop.toString('base64'), image_b: crop.toString('base64'), detect: false } }, reader);
    assert.equal(wire.verifyResponse.parse(verified.json()).distance, 0);
    expectError(await inject({ method: 'POST', url: '/v1/analyze?detect=maybe', ...multipart([{ name: 'image', file: crop }]) }, reader), 400, 'validation_failed');
  });

  void it('computes only the attributes asked for (multipart field, query or JSON), documented in OpenAPI; unknown ones are 400', async () => {
    const bono = await photo(lfwPhoto('Bono', 3));
    const keysOf = (face: object | undefined): string[] => Object.keys(face ?? {}).sort();
    const named = wire.identifyResponse.parse(
      (await inject({ method: 'POST', url: '/v1/identify', ...multipart([{ name: 'attributes', value: 'none' }, { name: 'image', file: bono }]) }, reader)).json(),
    );
    assert.equal(named.faces[0]?.match?.person, 'Bono');
    assert.deepEqual(keysOf(named.faces[0]), ['box', 'candidates', 'detection_score', 'match']);
    const aged = wire.analyzeResponse.parse((await inject({ method: 'POST', url: '/v1/analyze?attributes=age', ...multipart([{ name: 'image', file: bono }]) }, reader)).json());
    assert.deepEqual(keysOf(aged.faces[0]), ['age', 'box', 'detection_score']);
    const image = bono.toString('base64');
    const verified = wire.verifyResponse.parse(
      (await inject({ method: 'POST', url: '/v1/verify', payload: { image_a: image, image_b: image, attributes: ['emotion', 'gender'] } }, reader)).json(),
    );
    assert.deepEqual(verified.faces.map(keysOf), [0, 1].map(() => ['box', 'detection_score', 'emotion', 'gender', 'gender_probability']));
    const all = wire.analyzeResponse.parse((await inject({ method: 'POST', url: '/v1/analyze', payload: { image, attributes: '' } }, reader)).json());
    assert.deepEqual(keysOf(all.faces[0]), ['age', 'box', 'detection_score', 'emotion', 'gender', 'gender_probability'], 'blank: every attribute');
    for (const bad of [{ attributes: 'mood' }, { attributes: ['age', 'none'] }, { attributes: 'none,age' }, { attributes: 7 }]) {
      const response = await inject({ method: 'POST', url: '/v1/identify', payload: { image, ...bad } }, reader);
      expectError(response, 400, 'validation_failed');
      assert.match(wire.errorEnvelope.parse(response.json()).error.message, /^attributes/, JSON.stringify(bad));
    }
    assert.match((await inject({ method: 'POST', url: '/v1/analyze?attributes=mood', payload: { image } }, reader)).json<{ error: { message: string } }>().error.message, /unknown attribute "mood": give emotion, age, gender/);

    type Schema = { properties?: Record<string, { type?: string; items?: { enum?: string[] } }>; required?: string[] };
    type Faces = { items: Schema & { anyOf?: Schema[] } };
    const openapi = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> }; responses: Record<string, { content?: Record<string, { schema: Schema & { properties: { faces: Faces } } }> }> } }> }>();
    for (const route of ['/v1/identify', '/v1/verify', '/v1/analyze']) {
      const { post } = openapi.paths[route]!;
      const field = post.requestBody.content['application/json']?.schema.properties?.attributes;
      assert.deepEqual(field?.items?.enum, ['emotion', 'age', 'gender'], `${route} documents attributes`);
      const items = post.responses['200']?.content?.['application/json']?.schema.properties.faces.items;
      const face = items?.anyOf?.[0] ?? items; // verify's pair is a tuple
      assert.ok(face?.properties?.emotion && face.properties.gender_probability, `${route} documents the attributes`);
      for (const optional of ['emotion', 'age', 'gender', 'gender_probability']) assert.ok(!face?.required?.includes(optional), `${route}: ${optional} is optional`);
    }
  });

  void it('refuses bad images with the right codes', async () => {
    const post = (file: Uint8Array) => inject({ method: 'POST', url: '/v1/identify', ...multipart([{ name: 'image', file }]) });
    expectError(await post(Buffer.from('plain text, not a photo')), 400, 'invalid_image');
    expectError(await post(new Uint8Array()), 400, 'invalid_image');
    expectError(await post(pngDeclaring(30000, 30000)), 413, 'image_too_large');
    expectError(await post(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"></svg>')), 415, 'unsupported_media_type');
    const jpeg = await photo(testImage('Bono_0002.jpg'));
    expectError(await post(jpeg.subarray(0, jpeg.length / 2)), 400, 'invalid_image');
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: { image: '%%%not base64%%%' } }), 400, 'invalid_image');
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: { image: 42 } }), 400, 'validation_failed');
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: {} }), 400, 'validation_failed');
  });

  void it('finds every face of a large photo shrunk while decoding, with boxes in its own pixels', async () => {
    // group.jpg (450×280) made 8 times larger, then decoded at most 1024 wide: the same seven faces, boxes ×8.
    const engine = await service.engine();
    const capped = await openFacedb({ ...config(), db: join(dir, 'capped.sqlite'), engine, maxImageSide: 1024 });
    const cappedApp = await buildServer(capped, capped.config);
    try {
      const original = await photo(testImage('group.jpg'));
      const large = await sharp(original).resize(3600, 2240, { fit: 'fill', kernel: 'lanczos3' }).jpeg({ quality: 95 }).toBuffer();
      const detect = async (target: FastifyInstance, bytes: Buffer) => {
        const response = await target.inject({ method: 'POST', url: '/v1/detect', payload: { image: bytes.toString('base64') }, headers: admin });
        assert.equal(response.statusCode, 200, response.body);
        return wire.detectResponse.parse(response.json());
      };
      const small = await detect(app, original);
      const big = await detect(cappedApp, large);
      assert.deepEqual(big.image, { width: 3600, height: 2240, format: 'jpeg' });
      assert.equal(small.faces.length, 7);
      assert.equal(big.faces.length, 7);
      for (const face of small.faces) {
        const centre = { x: (face.box.x + face.box.width / 2) * 8, y: (face.box.y + face.box.height / 2) * 8 };
        const match = big.faces.find((b) => Math.hypot(b.box.x + b.box.width / 2 - centre.x, b.box.y + b.box.height / 2 - centre.y) < face.box.width * 8 * 0.15);
        assert.ok(match, `the face at ${JSON.stringify(face.box)} is found at ${JSON.stringify(centre)} in the large photo`);
        assert.ok(Math.abs(match.box.width / (face.box.width * 8) - 1) < 0.2, `box width ${match.box.width} vs ${face.box.width * 8}`);
      }
    } finally {
      await cappedApp.close();
      await capped.store.close();
    }
  });

  void it('serves metrics, the OpenAPI document, the docs and the web page', async () => {
    const metrics = await inject({ url: '/metrics' }, reader);
    assert.match(String(metrics.headers['content-type']), /text\/plain/);
    assert.match(metrics.body, /facedb_http_requests_total\{method="POST",route="\/v1\/identify",status="200"\} \d+/);
    assert.match(metrics.body, /facedb_http_request_duration_seconds_bucket\{/);
    assert.match(metrics.body, /facedb_gallery_people 2/);
    assert.match(metrics.body, /facedb_gallery_faces 3/);
    assert.match(metrics.body, /facedb_engine_queue_depth 0/);

    const openapi = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    for (const path of ['/v1/identify', '/v1/verify', '/v1/analyze', '/v1/detect', '/v1/represent', '/v1/people', '/v1/people/{id}', '/v1/people/{id}/faces', '/v1/faces/{id}', '/v1/faces/{id}/image', '/healthz', '/readyz']) {
      assert.ok(openapi.paths[path], `${path} is documented`);
    }
    const docs = await app.inject({ url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger-ui/i);
    assert.equal((await app.inject({ url: '/docs/static/swagger-ui-bundle.js' })).statusCode, 200, 'the docs work offline');
    if (existsSync(new URL('../web/static/index.html', import.meta.url))) {
      const page = await app.inject({ url: '/' });
      assert.equal(page.statusCode, 200);
      assert.match(String(page.headers['content-type']), /text\/html/);
    }
  });

  void it('removes a face, then a person', async () => {
    const detail = wire.personDetail.parse((await inject({ url: `/v1/people/${bono}` })).json());
    const faceId = detail.faces[0]?.id ?? 0;
    assert.deepEqual((await inject({ method: 'DELETE', url: `/v1/faces/${faceId}` })).json(), { removed: true, named: true });
    expectError(await inject({ method: 'DELETE', url: `/v1/faces/${faceId}` }), 404, 'not_found');
    assert.deepEqual((await inject({ method: 'DELETE', url: `/v1/people/${bono}` })).json(), { removed: true, faces_removed: 1 });
    expectError(await inject({ method: 'DELETE', url: `/v1/people/${bono}` }), 404, 'not_found');
    const identify = await inject({ method: 'POST', url: '/v1/identify', ...multipart([{ name: 'image', file: await photo(testImage('Bono_0002.jpg')) }]) });
    assert.notEqual(wire.identifyResponse.parse(identify.json()).faces[0]?.match?.person, 'Bono');
  });

});
