import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { tempDir, testImage } from '../../test/fixtures.js';
import { ADMIN, admin, expectError, READ, reader, withAuth } from '../../test/http-inject.js';
import { loadConfig, type ConfigInput } from '../config/config.js';
import type { FaceEngine } from '../engine/engine.js';
import { ERROR_CODES, type ErrorCode } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { buildServer } from './app.js';
import { httpStatusFor } from './errors.js';
import * as wire from './wire.js';

/** Routes that need a key, with the scope they need, and a request that would otherwise be valid-looking. */
const PROTECTED: Array<{ method: InjectOptions['method']; url: string; scope: 'read' | 'admin' }> = [
  { method: 'POST', url: '/v1/identify', scope: 'read' },
  { method: 'POST', url: '/v1/verify', scope: 'read' },
  { method: 'POST', url: '/v1/analyze', scope: 'read' },
  { method: 'POST', url: '/v1/detect', scope: 'read' },
  { method: 'POST', url: '/v1/represent', scope: 'read' },
  { method: 'GET', url: '/v1/people', scope: 'read' },
  { method: 'GET', url: '/v1/people/1', scope: 'read' },
  { method: 'GET', url: '/v1/faces/1/image', scope: 'read' },
  { method: 'GET', url: '/metrics', scope: 'read' },
  { method: 'POST', url: '/v1/people', scope: 'admin' },
  { method: 'DELETE', url: '/v1/people/1', scope: 'admin' },
  { method: 'POST', url: '/v1/people/1/faces', scope: 'admin' },
  { method: 'DELETE', url: '/v1/faces/1', scope: 'admin' },
];

/**
 * The HTTP API's guards and error mapping: keys and scopes, Fastify's own failures, overload, a gallery of another
 * model, an engine that fails. The fake engine: what is tested is the server around the model, not the model
 * (app.test.ts runs the routes on real faces).
 */
void describe('HTTP API guards and error mapping, in process, a real SQLite file and the fake engine', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let dir: string;
  const photo = (path: string): Promise<Buffer> => readFile(path);
  const config = (overrides: ConfigInput = {}) =>
    loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, engine: 'fake', testEngines: true, apiKeys: `admin:${ADMIN},read:${READ}`, ...overrides }, {});
  const inject = (options: InjectOptions, headers: Record<string, string> = admin) => app.inject(withAuth(options, headers));

  before(async () => {
    dir = await tempDir('facedb-server-guards-');
    service = await openFacedb(config());
    app = await buildServer(service, config());
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it("maps Fastify's own failures into the envelope", async () => {
    const json = { 'content-type': 'application/json' };
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: '{"image":', headers: json }), 400, 'validation_failed');
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: '', headers: json }), 400, 'validation_failed');
    expectError(
      await inject({ method: 'POST', url: '/v1/identify', payload: 'hello', headers: { 'content-type': 'text/plain' } }),
      415,
      'unsupported_media_type',
    );
    expectError(
      await inject({ method: 'POST', url: '/v1/identify', payload: Buffer.alloc(10), headers: { 'content-type': 'image/jpeg' } }),
      415,
      'unsupported_media_type',
    );
    const big = 'A'.repeat(service.config.bodyLimitBytes + 10);
    expectError(await inject({ method: 'POST', url: '/v1/identify', payload: `{"image":"${big}"}`, headers: json }), 413, 'image_too_large');
    expectError(await inject({ method: 'PATCH', url: '/v1/people' }), 404, 'not_found');
  });

  void it('refuses a missing or wrong key (401) and a read key on admin routes (403)', async () => {
    for (const [i, route] of PROTECTED.entries()) {
      const name = `${route.method} ${route.url}`;
      const missing = await app.inject({ method: route.method, url: route.url });
      expectError(missing, 401, 'unauthorized');
      // Wrong keys from one network are rate limited (hardening.test.ts): each route's guesses come from its own.
      const remoteAddress = `10.9.${i + 1}.1`;
      const wrong = await app.inject({ method: route.method, url: route.url, remoteAddress, headers: { authorization: 'Bearer not-a-key-of-ours' } });
      expectError(wrong, 401, 'unauthorized');
      const wrongHeader = await app.inject({ method: route.method, url: route.url, remoteAddress, headers: { 'x-api-key': `${READ}x` } });
      expectError(wrongHeader, 401, 'unauthorized');
      if (route.scope === 'admin') {
        expectError(await app.inject({ method: route.method, url: route.url, headers: reader }), 403, 'forbidden');
      } else {
        const allowed = await app.inject({ method: route.method, url: route.url, headers: reader });
        assert.ok(![401, 403].includes(allowed.statusCode), `${name} refused a read key`);
      }
    }
    for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs']) {
      assert.ok(![401, 403].includes((await app.inject({ url })).statusCode), `${url} must be open`);
    }
  });

  void it('accepts pre-hashed keys and refuses to serve beyond loopback without keys', async () => {
    const { createHash } = await import('node:crypto');
    const hashed = config({ apiKeys: `read:sha256:${createHash('sha256').update('hashed-key-000000001').digest('hex')}` });
    const other = await buildServer(service, hashed);
    try {
      assert.equal((await other.inject({ url: '/v1/people', headers: { 'x-api-key': 'hashed-key-000000001' } })).statusCode, 200);
    } finally {
      await other.close();
    }
    await assert.rejects(buildServer(service, config({ apiKeys: '', host: '0.0.0.0' })), /refusing to serve on 0\.0\.0\.0/);
    const open = await buildServer(service, config({ apiKeys: '', host: '127.0.0.1' }));
    try {
      assert.equal((await open.inject({ url: '/v1/people' })).statusCode, 200);
    } finally {
      await open.close();
    }
  });

  void it('answers 503 overloaded with Retry-After when the queue is full or a request runs too long', async () => {
    const engine = await service.engine();
    const busy: FaceEngine = { model: engine.model, landmarkLayout: engine.landmarkLayout, calibration: engine.calibration, queueDepth: 5, analyze: (image, options) => engine.analyze(image, options), close: async () => {} };
    const busyService = await openFacedb({ ...config(), db: join(dir, 'busy.sqlite'), engine: busy });
    const busyApp = await buildServer(busyService, config({ maxQueue: 5 }));
    const slowApp = await buildServer(busyService, config({ maxQueue: 100, requestTimeoutMs: 1 }));
    try {
      await busyService.engine();
      const payload = { image: (await photo(testImage('Bono_0002.jpg'))).toString('base64') };
      const full = await busyApp.inject({ method: 'POST', url: '/v1/identify', payload, headers: admin });
      expectError(full, 503, 'overloaded');
      assert.equal(full.headers['retry-after'], '1');
      const slow = await slowApp.inject({ method: 'POST', url: '/v1/identify', payload, headers: admin });
      expectError(slow, 503, 'overloaded');
      assert.match(slow.json<wire.ErrorWire>().error.message, /did not finish/);
    } finally {
      await busyApp.close();
      await slowApp.close();
      await busyService.close();
    }
  });

  void it('answers 409 model_mismatch for a gallery pinned to another model, and 500 without internals', async () => {
    const engine = await service.engine();
    const pinned = await openFacedb({ ...config(), db: join(dir, 'other-model.sqlite'), engine });
    await pinned.store.ensureModel({ ...engine.model, id: 'some-other-model' });
    const broken: FaceEngine = {
      model: engine.model,
      landmarkLayout: engine.landmarkLayout,
      calibration: engine.calibration,
      queueDepth: 0,
      analyze: () => Promise.reject(new Error('tensor shape [1,2,3] at /secret/path/worker.js:10')),
      close: async () => {},
    };
    const brokenService = await openFacedb({ ...config(), db: join(dir, 'broken.sqlite'), engine: broken });
    const pinnedApp = await buildServer(pinned, config());
    const brokenApp = await buildServer(brokenService, config());
    try {
      const payload = { image: (await photo(testImage('Bono_0002.jpg'))).toString('base64') };
      expectError(await pinnedApp.inject({ method: 'POST', url: '/v1/identify', payload, headers: admin }), 409, 'model_mismatch');
      const failed = await brokenApp.inject({ method: 'POST', url: '/v1/analyze', payload, headers: admin });
      expectError(failed, 500, 'internal');
      assert.doesNotMatch(failed.body, /secret|tensor/);
    } finally {
      await pinnedApp.close();
      await brokenApp.close();
      // The shared engine belongs to the main service: close only these stores.
      await pinned.store.close();
      await brokenService.close();
    }
  });

  void it('maps every error code to the status in the contract', () => {
    const contract: Record<ErrorCode, number> = {
      invalid_image: 400,
      image_too_large: 413,
      unsupported_media_type: 415,
      no_face: 422,
      not_found: 404,
      invalid_input: 400,
      validation_failed: 400,
      model_mismatch: 409,
      unauthorized: 401,
      forbidden: 403,
      overloaded: 503,
      storage_unavailable: 503,
      rate_limited: 429,
      request_timeout: 408,
      insufficient_data: 422,
      internal: 500,
      unreachable: 502,
      conflict: 409,
    };
    for (const code of ERROR_CODES) assert.equal(httpStatusFor(code), contract[code], code);
  });
});
