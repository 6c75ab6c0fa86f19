import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { lfwPhoto, tempDir } from '../../../test/fixtures.js';
import { loadConfig } from '../../config/config.js';
import { openFacedb } from '../../facedb.js';
import type { FaceService } from '../../services/face-service.js';
import { buildServer } from '../app.js';
import * as clusterWire from '../cluster-wire.js';
import * as wire from '../wire.js';

const ADMIN = 'admin-key-for-cluster-tests-1';
const READ = 'read-key-for-cluster-tests-01';
const admin = { authorization: `Bearer ${ADMIN}` };
const reader = { 'x-api-key': READ };

function multipart(files: Uint8Array[]): InjectOptions {
  const boundary = '----facedb-cluster-boundary';
  const chunks: Buffer[] = [];
  for (const file of files) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`));
    chunks.push(Buffer.from(file), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

void describe('cluster routes, on real faces, a real SQLite file and the real engine', () => {
  let service: FaceService;
  let app: FastifyInstance;
  const inject = (options: InjectOptions, headers: Record<string, string> = admin) =>
    app.inject({ ...options, headers: { ...options.headers, ...headers } });

  before(async () => {
    const dir = await tempDir('facedb-cluster-routes-');
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${ADMIN},read:${READ}` }, {});
    service = await openFacedb(config);
    app = await buildServer(service, config);
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('needs the admin scope to upload, name and cluster, and the read scope to list', async () => {
    for (const [method, url] of [
      ['POST', '/v1/faces'],
      ['POST', '/v1/clusters'],
      ['POST', '/v1/clusters/1/name'],
      ['DELETE', '/v1/clusters/1'],
      ['DELETE', '/v1/faces/1'],
    ] as const) {
      assert.equal((await app.inject({ method, url })).statusCode, 401, url);
      assert.equal((await inject({ method, url, payload: {} }, reader)).statusCode, 403, url);
    }
    assert.equal((await app.inject({ url: '/v1/clusters' })).statusCode, 401);
    const empty = await inject({ url: '/v1/clusters' }, reader);
    assert.equal(empty.statusCode, 200, empty.body);
    assert.deepEqual(clusterWire.clusterPage.parse(empty.json()), {
      items: [],
      total: 0,
      limit: 50,
      offset: 0,
      unnamed_faces: 0,
      unclustered_faces: 0,
    });
  });

  void it('uploads photos without names, lists their clusters with thumbnails, names one, and identify finds it', async () => {
    const photos = await Promise.all([1, 2, 3].map((i) => readFile(lfwPhoto('Britney_Spears', i))));
    const other = await readFile(lfwPhoto('Bill_Clinton', 1));
    const upload = await inject({ method: 'POST', url: '/v1/faces', ...multipart([...photos, other, Buffer.from('junk')]) });
    assert.equal(upload.statusCode, 200, upload.body);
    const body = clusterWire.unnamedEnrollResponse.parse(upload.json());
    assert.deepEqual(body.outcomes.map((o) => o.status), ['enrolled', 'enrolled', 'enrolled', 'enrolled', 'unreadable']);
    assert.ok(body.clustering && body.clustering.faces_clustered >= 4);
    const herFaces = body.outcomes.slice(0, 3).map((o) => o.face_ids[0]!);

    // JSON uploads work too; the same photo again adds nothing and runs no clustering (nor any analysis: no faces
    // are counted for a photo recognised by its content hash, as for named photos).
    const again = await inject({ method: 'POST', url: '/v1/faces', payload: { image: [photos[0]!.toString('base64')] } });
    assert.deepEqual(clusterWire.unnamedEnrollResponse.parse(again.json()), {
      outcomes: [{ status: 'already_enrolled', faces_found: 0, face_ids: [] }],
      clustering: null,
    });

    const listed = clusterWire.clusterPage.parse((await inject({ url: '/v1/clusters?samples=5' }, reader)).json());
    const hers = listed.items.find((c) => c.samples.some((s) => herFaces.includes(s.face_id)));
    assert.ok(hers);
    assert.deepEqual(hers.samples.map((s) => s.face_id).sort((a, b) => a - b), [...herFaces].sort((a, b) => a - b));
    assert.equal(hers.samples[0]!.photo, null, 'uploads have no file name');
    const thumbnail = await inject({ url: hers.samples[0]!.image_url }, reader);
    assert.equal(thumbnail.statusCode, 200);
    assert.equal(thumbnail.headers['content-type'], 'image/jpeg');
    assert.equal(listed.unnamed_faces, 4);
    const bad = await inject({ url: '/v1/clusters?samples=500' }, reader);
    assert.equal(bad.statusCode, 400);

    const probe = await readFile(lfwPhoto('Britney_Spears', 5));
    const identifyBefore = wire.identifyResponse.parse((await inject({ method: 'POST', url: '/v1/identify', ...multipart([probe]) }, reader)).json());
    assert.equal(identifyBefore.faces[0]?.match, null);

    assert.equal((await inject({ method: 'POST', url: `/v1/clusters/${hers.id}/name`, payload: { name: '  ' } })).statusCode, 400);
    assert.equal((await inject({ method: 'POST', url: '/v1/clusters/999999/name', payload: { name: 'X' } })).statusCode, 404);
    const named = await inject({ method: 'POST', url: `/v1/clusters/${hers.id}/name`, payload: { name: 'Britney Spears' } });
    assert.equal(named.statusCode, 200, named.body);
    const result = clusterWire.namedCluster.parse(named.json());
    assert.deepEqual([result.person.name, result.person.face_count, result.faces_named, result.faces_left], ['Britney Spears', 3, 3, 0]);

    const identified = wire.identifyResponse.parse((await inject({ method: 'POST', url: '/v1/identify', ...multipart([probe]) }, reader)).json());
    assert.equal(identified.faces[0]?.match?.person, 'Britney Spears');
    const people = wire.peoplePage.parse((await inject({ url: '/v1/people' }, reader)).json());
    assert.deepEqual(people.items.map((p) => p.name), ['Britney Spears']);
  });

  void it('re-clusters on request', async () => {
    const run = await inject({ method: 'POST', url: '/v1/clusters', payload: { full: true } });
    assert.equal(run.statusCode, 200, run.body);
    const body = clusterWire.clusterRun.parse(run.json());
    assert.equal(body.full, true);
    assert.equal(body.clusters, 1, "only Bill Clinton's face is left unnamed");
    assert.equal((await inject({ method: 'POST', url: '/v1/clusters', payload: { full: 'yes' } })).statusCode, 400);
  });

  void it('erases an unnamed face, a cluster with its faces, and a named face; unknown ids are 404 and change nothing', async () => {
    const listing = async () => clusterWire.clusterPage.parse((await inject({ url: '/v1/clusters?samples=20' }, reader)).json());
    const before = await listing();
    for (const url of ['/v1/clusters/999999', '/v1/faces/999999']) {
      const missing = await inject({ method: 'DELETE', url });
      assert.equal(missing.statusCode, 404, missing.body);
      assert.equal(missing.json<{ error: { code: string } }>().error.code, 'not_found');
    }
    assert.equal((await inject({ method: 'DELETE', url: '/v1/clusters/0' })).statusCode, 400);
    assert.deepEqual(await listing(), before, 'nothing changed');

    // Two more photos of him join his cluster as unnamed faces.
    const his = await Promise.all([2, 3].map((i) => readFile(lfwPhoto('Bill_Clinton', i))));
    const upload = clusterWire.unnamedEnrollResponse.parse((await inject({ method: 'POST', url: '/v1/faces', ...multipart(his) })).json());
    const added = upload.outcomes.flatMap((o) => o.face_ids);
    assert.equal(added.length, 2);
    const grown = await listing();
    const cluster = grown.items.find((c) => c.samples.some((s) => s.face_id === added[0]));
    assert.ok(cluster);
    assert.equal(grown.unnamed_faces, 3);

    const face = await inject({ method: 'DELETE', url: `/v1/faces/${added[0]}` });
    assert.equal(face.statusCode, 200, face.body);
    assert.deepEqual(wire.faceRemoved.parse(face.json()), { removed: true, named: false });
    assert.equal((await inject({ url: `/v1/faces/${added[0]}/image` }, reader)).statusCode, 404, 'its crop is gone');
    assert.equal((await listing()).unnamed_faces, 2);
    // The erased photo is forgotten: uploading it again enrolls it again.
    const back = clusterWire.unnamedEnrollResponse.parse((await inject({ method: 'POST', url: '/v1/faces', ...multipart([his[0]!]) })).json());
    assert.deepEqual(back.outcomes.map((o) => o.status), ['enrolled']);

    const size = (await listing()).items.find((c) => c.id === cluster.id)?.size;
    assert.ok(size !== undefined && size >= 2);
    const removed = await inject({ method: 'DELETE', url: `/v1/clusters/${cluster.id}` });
    assert.equal(removed.statusCode, 200, removed.body);
    assert.deepEqual(clusterWire.clusterRemoved.parse(removed.json()), { removed: true, faces_removed: size });
    const after = await listing();
    assert.equal(after.items.some((c) => c.id === cluster.id), false);
    assert.equal(after.unnamed_faces, 3 - size);
    assert.equal((await inject({ method: 'DELETE', url: `/v1/clusters/${cluster.id}` })).statusCode, 404, 'erased is gone');

    // A person's face through the same route: named, and out of their faces.
    const britney = wire.peoplePage.parse((await inject({ url: '/v1/people' }, reader)).json()).items[0]!;
    const detail = wire.personDetail.parse((await inject({ url: `/v1/people/${britney.id}` }, reader)).json());
    const named = await inject({ method: 'DELETE', url: `/v1/faces/${detail.faces[0]!.id}` });
    assert.deepEqual(wire.faceRemoved.parse(named.json()), { removed: true, named: true });
    const people = wire.peoplePage.parse((await inject({ url: '/v1/people' }, reader)).json());
    assert.equal(people.items[0]!.face_count, britney.face_count - 1);
  });

  void it('documents the routes in the OpenAPI document', async () => {
    const document = (await app.inject({ url: '/openapi.json' })).json<{ paths: Record<string, Record<string, unknown>> }>();
    const paths = Object.keys(document.paths);
    for (const path of ['/v1/faces', '/v1/clusters', '/v1/clusters/{id}/name', '/v1/clusters/{id}']) assert.ok(paths.includes(path), path);
    assert.ok(document.paths['/v1/clusters/{id}']?.delete, 'DELETE /v1/clusters/{id}');
  });
});
