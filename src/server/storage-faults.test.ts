import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { fakeEngine, type FakeEngine } from '../../test/fake-engine.js';
import { LFW_SUBSET, tempDir } from '../../test/fixtures.js';
import { loadConfig } from '../config/config.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import type { SqliteGalleryStore } from '../store/sqlite/store.js';
import { buildServer } from './app.js';
import * as wire from './wire.js';

/*
 * Storage faults and erasure over HTTP, on a real SQLite file with real photos and a fake engine (the model is
 * not what is tested): 503 storage_unavailable instead of 500 or a 200 full of "internal error", /readyz
 * reporting the fault, and a person erased during an upload staying erased.
 */

const ADMIN = 'admin-key-for-storage-tests-01';
const admin = { authorization: `Bearer ${ADMIN}` };

function photos(count: number): string[] {
  const found: string[] = [];
  for (const person of readdirSync(LFW_SUBSET).sort()) {
    for (const file of readdirSync(join(LFW_SUBSET, person)).sort()) {
      found.push(join(LFW_SUBSET, person, file));
      if (found.length === count) return found;
    }
  }
  throw new Error(`the LFW subset has fewer than ${count} photos`);
}

function multipart(files: Buffer[]): InjectOptions {
  const boundary = '----facedb-storage-boundary';
  const chunks: Buffer[] = [];
  for (const [i, file] of files.entries()) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`));
    chunks.push(file, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { ...admin, 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

void describe('storage faults and erasure over HTTP', () => {
  let dir: string;
  let images: Buffer[];
  let galleries = 0;
  let file: string;
  let engine: FakeEngine;
  let service: FaceService;
  let app: FastifyInstance;

  async function start(): Promise<void> {
    file = join(dir, `gallery-${++galleries}.sqlite`);
    const config = loadConfig({ db: file, workers: 1, apiKeys: `admin:${ADMIN}` }, {});
    engine = await fakeEngine();
    service = await openFacedb({ ...config, engine });
    await service.engine();
    app = await buildServer(service, config);
  }
  async function stop(): Promise<void> {
    await app.close();
    await service.close();
  }
  const createPerson = async (name: string): Promise<number> => {
    const response = await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name } });
    assert.equal(response.statusCode, 201, response.body);
    return wire.person.parse(response.json()).id;
  };
  const readiness = async () => {
    const response = await app.inject({ url: '/readyz' });
    const body = response.json<Record<string, unknown>>();
    // Readiness also names the operating point in use (facedb evaluate); these tests are about storage.
    delete body.calibration;
    return { status: response.statusCode, body };
  };

  before(async () => {
    dir = await tempDir('facedb-storage-http-');
    images = await Promise.all(photos(12).map((path) => readFile(path)));
  });
  after(async () => {
    await stop();
  });

  void it('a person erased while their 12-photo upload is enrolled stays erased: the rest are not_found', async () => {
    await start();
    const id = await createPerson('Bono');
    const gate = engine.hold(6);
    const upload = app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart(images) });
    await gate.held;
    const erased = await app.inject({ method: 'DELETE', url: `/v1/people/${id}`, headers: admin });
    assert.equal(erased.statusCode, 200, erased.body);
    assert.equal(wire.personRemoved.parse(erased.json()).faces_removed, 5);
    gate.release();
    const response = await upload;
    assert.equal(response.statusCode, 200, response.body);
    const statuses = wire.enrollResponse.parse(response.json()).outcomes.map((o) => o.status);
    assert.deepEqual(statuses, [...Array<string>(5).fill('enrolled'), ...Array<string>(7).fill('not_found')]);
    const people = wire.peoplePage.parse((await app.inject({ url: '/v1/people', headers: admin })).json());
    assert.equal(people.total, 0, 'nobody was re-created');
    await stop();
  });

  void it('a full disk: enroll answers 503 storage_unavailable, /readyz reports it until a write succeeds', async () => {
    await start();
    const id = await createPerson('Ada');
    const first = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[0]!]) });
    assert.equal(first.statusCode, 200, first.body);
    assert.deepEqual((await readiness()).body, { status: 'ready', models: true, db: true });

    const db = (service.store as SqliteGalleryStore).database;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const full = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[1]!, images[2]!]) });
    assert.equal(full.statusCode, 503, full.body);
    assert.equal(wire.errorEnvelope.parse(full.json()).error.code, 'storage_unavailable');
    assert.deepEqual(await readiness(), { status: 503, body: { status: 'not_ready', models: true, db: false, storage: 'full' } });

    db.pragma('max_page_count = 1073741823');
    const again = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[1]!]) });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal((await readiness()).status, 200);
    await stop();
  });

  void it('a gallery file deleted under the server: not ready, and writes answer 503 instead of being lost', async () => {
    await start();
    const id = await createPerson('Ada');
    const before = await app.inject({ method: 'POST', url: '/v1/faces', ...multipart([images[1]!]) });
    assert.equal(before.statusCode, 200, before.body);
    await unlink(file);
    assert.deepEqual(await readiness(), { status: 503, body: { status: 'not_ready', models: true, db: false, storage: 'gone' } });
    const create = await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name: 'Grace' } });
    assert.equal(create.statusCode, 503, create.body);
    assert.equal(wire.errorEnvelope.parse(create.json()).error.code, 'storage_unavailable');
    const enroll = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[0]!]) });
    assert.equal(enroll.statusCode, 503, enroll.body);
    const remove = await app.inject({ method: 'DELETE', url: `/v1/people/${id}`, headers: admin });
    assert.equal(remove.statusCode, 503, remove.body);
    // Faces without a person and clustering write to the same file: refused the same way, not reported per photo.
    const unnamed = await app.inject({ method: 'POST', url: '/v1/faces', ...multipart([images[2]!]) });
    assert.equal(unnamed.statusCode, 503, unnamed.body);
    assert.equal(wire.errorEnvelope.parse(unnamed.json()).error.code, 'storage_unavailable');
    const cluster = await app.inject({ method: 'POST', url: '/v1/clusters', headers: admin, payload: { full: true } });
    assert.equal(cluster.statusCode, 503, cluster.body);
    // The details (the file's path) stay in the log: /readyz is public.
    assert.ok(!JSON.stringify((await readiness()).body).includes(dir));
  });

  void it('a duplicate upload for the same person costs no inference', async () => {
    await stop();
    await start();
    const id = await createPerson('Bono');
    const first = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[0]!]) });
    assert.equal(wire.enrollResponse.parse(first.json()).outcomes[0]?.status, 'enrolled');
    const calls = engine.calls;
    const again = await app.inject({ method: 'POST', url: `/v1/people/${id}/faces`, ...multipart([images[0]!]) });
    assert.equal(wire.enrollResponse.parse(again.json()).outcomes[0]?.status, 'already_enrolled');
    assert.equal(engine.calls, calls, 'the duplicate was not analysed');
  });

  void it('refuses names that break the name rules or look like an existing person, with 400', async () => {
    await stop();
    await start();
    await createPerson('Bono');
    for (const name of ['Bono\u200b', 'B\u043eno', 'BONO', 'Bo\u0000no', '\u202eonoB', 'x'.repeat(101)]) {
      const response = await app.inject({ method: 'POST', url: '/v1/people', headers: admin, payload: { name } });
      assert.equal(response.statusCode, 400, `${JSON.stringify(name)}: ${response.body}`);
    }
    const people = wire.peoplePage.parse((await app.inject({ url: '/v1/people', headers: admin })).json());
    assert.deepEqual(people.items.map((p) => p.name), ['Bono']);
  });
});
