import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { fakeEngine, type FakeEngine } from '../../test/fake-engine.js';
import { tempDir, testImage } from '../../test/fixtures.js';
import { loadConfig } from '../config/config.js';
import type { ErrorCode } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import { JsonShapeGuard, MAX_JSON_DEPTH, MAX_JSON_VALUES } from './json-body.js';
import { MAX_IMAGES_PER_REQUEST } from './request-wire.js';
import * as wire from './wire.js';

/**
 * The upload reader and the JSON parser refuse excess as they read: image counts past the route's limit, files
 * in fields the route does not take, JSON nested too deep or holding too many values. The engine is the fake
 * one: what is checked is that the handler (and so the engine) never sees the excess.
 */
const ADMIN = 'uploads-admin-key-0000001';
const admin = { authorization: `Bearer ${ADMIN}` };
/** For bodies given as text: inject would call them text/plain. */
const json = { ...admin, 'content-type': 'application/json' };

function expectError(response: LightMyRequestResponse, status: number, code: ErrorCode, message?: RegExp): void {
  assert.equal(response.statusCode, status, response.body);
  const { error } = wire.errorEnvelope.parse(response.json());
  assert.equal(error.code, code, response.body);
  if (message) assert.match(error.message, message);
}

function multipart(files: Array<{ field: string; bytes: Uint8Array }>): InjectOptions {
  const boundary = '----uploads-test';
  const parts = files.flatMap(({ field, bytes }) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    Buffer.from(bytes),
    Buffer.from('\r\n'),
  ]);
  return {
    payload: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]),
    headers: { ...admin, 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

/** Feeds `text` to a guard in chunks; the index of the chunk it refused at, or -1 when it took everything. */
function refusedAtChunk(guard: JsonShapeGuard, text: string, chunkSize: number): { chunk: number; chunks: number; message: string } {
  const bytes = Buffer.from(text);
  const chunks = Math.ceil(bytes.length / chunkSize);
  for (let i = 0; i < chunks; i++) {
    try {
      guard.feed(bytes.subarray(i * chunkSize, (i + 1) * chunkSize));
    } catch (error) {
      return { chunk: i, chunks, message: (error as Error).message };
    }
  }
  return { chunk: -1, chunks, message: '' };
}

void describe('uploads are refused as they are read', () => {
  let service: FaceService;
  let engine: FakeEngine;
  let app: FastifyInstance;
  let photo: Buffer;
  let personId: number;

  before(async () => {
    const dir = await tempDir('facedb-uploads-');
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${ADMIN}` }, {});
    engine = await fakeEngine();
    service = await openFacedb({ ...config, engine });
    app = await buildServer(service, config);
    photo = await readFile(testImage('Bono_0002.jpg'));
    personId = wire.person.parse((await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name: 'Ada' } })).json()).id;
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('refuses a 60,000-item image array at its 21st item, before parsing, on both enroll routes', async () => {
    const body = JSON.stringify({ image: Array<string>(60_000).fill('') });
    for (const url of ['/v1/faces', `/v1/people/${personId}/faces`]) {
      const calls = engine.calls;
      const response = await app.inject({ method: 'POST', url, headers: json, payload: body });
      expectError(response, 400, 'validation_failed', new RegExp(`at most ${MAX_IMAGES_PER_REQUEST} images in "image"`));
      assert.equal(engine.calls, calls, 'nothing reached the engine');
    }
    // The guard stops within the first chunk: the 21st item is at byte ~70 of 240 KB.
    const refused = refusedAtChunk(new JsonShapeGuard({ image: MAX_IMAGES_PER_REQUEST }), body, 1024);
    assert.equal(refused.chunk, 0, `refused at chunk ${refused.chunk} of ${refused.chunks}`);
    // 20 images are taken; the same array under a field the route does not declare is held to the generic limits.
    assert.equal(refusedAtChunk(new JsonShapeGuard({ image: MAX_IMAGES_PER_REQUEST }), JSON.stringify({ image: Array(20).fill('') }), 7).chunk, -1);
    assert.match(refusedAtChunk(new JsonShapeGuard({}), body, 1024).message, /holds more than 64 values/);
  });

  void it(`refuses a deeply nested body at depth ${MAX_JSON_DEPTH + 1}, at its first bytes`, async () => {
    const deep = `{"image":${'['.repeat(10_000_000)}`;
    const refused = refusedAtChunk(new JsonShapeGuard({ image: 20 }), deep, 64 * 1024);
    assert.equal(refused.chunk, 0);
    assert.match(refused.message, new RegExp(`nests deeper than ${MAX_JSON_DEPTH} levels`));
    const ok = refusedAtChunk(new JsonShapeGuard(), '{"a":[[{"b":1}]]}', 3);
    assert.equal(ok.chunk, -1, 'depth 4 is taken');
    const response = await app.inject({ method: 'POST', url: '/v1/identify', headers: json, payload: deep });
    expectError(response, 400, 'validation_failed', /nests deeper/);
    const wide = JSON.stringify({ a: Array.from({ length: 40 }, () => Array<number>(40).fill(0)) });
    expectError(await app.inject({ method: 'POST', url: '/v1/people', headers: json, payload: wide }), 400, 'validation_failed', new RegExp(`more than ${MAX_JSON_VALUES} values`));
  });

  void it('refuses prototype keys and malformed JSON with 400, and parses strings with escapes and quotes right', async () => {
    expectError(await app.inject({ method: 'POST', url: '/v1/people', headers: json, payload: '{"__proto__": {"x": 1}, "name": "Eve"}' }), 400, 'validation_failed');
    expectError(await app.inject({ method: 'POST', url: '/v1/people', headers: json, payload: '{"name": "Eve",}' }), 400, 'validation_failed', /invalid JSON/);
    // Brackets and quotes inside strings are not structure.
    const tricky = await app.inject({ method: 'POST', url: '/v1/people', headers: json, payload: '{"name": "Eve \\"[[[[[{{{{\\\\"}' });
    assert.equal(tricky.statusCode, 201, tricky.body);
    assert.equal(wire.person.parse(tricky.json()).name, 'Eve "[[[[[{{{{\\');
  });

  void it('takes one image as {"image": base64} on /v1/faces, as documented', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/faces', headers: admin, payload: { image: photo.toString('base64') } });
    assert.equal(response.statusCode, 200, response.body);
  });

  void it('refuses a multipart file past the limit or in an unknown field before reading it', async () => {
    const calls = engine.calls;
    const many = Array.from({ length: MAX_IMAGES_PER_REQUEST + 1 }, () => ({ field: 'image', bytes: photo }));
    expectError(await app.inject({ method: 'POST', url: `/v1/people/${personId}/faces`, ...multipart(many) }), 400, 'validation_failed', /at most 20 images in "image"/);
    expectError(await app.inject({ method: 'POST', url: '/v1/identify', ...multipart([{ field: 'image', bytes: photo }, { field: 'image', bytes: photo }]) }), 400, 'validation_failed', /exactly one image/);
    expectError(await app.inject({ method: 'POST', url: '/v1/identify', ...multipart([{ field: 'photo', bytes: photo }]) }), 400, 'validation_failed', /unknown file field "photo"/);
    assert.equal(engine.calls, calls, 'nothing reached the engine');
  });

  void it('refuses unknown fields in JSON, form fields and the query string', async () => {
    const image = photo.toString('base64');
    expectError(await app.inject({ method: 'POST', url: '/v1/identify', headers: admin, payload: { image, top_kk: 3 } }), 400, 'validation_failed', /top_kk/);
    expectError(await app.inject({ method: 'POST', url: '/v1/analyze?top_k=3', headers: admin, payload: { image } }), 400, 'validation_failed', /top_k/);
    expectError(await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name: 'Eve', age: 3 } }), 400, 'validation_failed', /age/);
    expectError(await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name: 'Eve', images: [] } }), 400, 'validation_failed');
  });
});
