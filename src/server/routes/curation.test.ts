import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import sharp from 'sharp';
import { fakeEngine } from '../../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../../test/fixtures.js';
import { galleryDigest } from '../../../test/gallery-digest.js';
import { loadConfig } from '../../config/config.js';
import { openFacedb } from '../../facedb.js';
import type { FaceService } from '../../services/face-service.js';
import { buildServer } from '../app.js';
import * as clusterWire from '../cluster-wire.js';
import * as curationWire from '../curation-wire.js';
import * as wire from '../wire.js';

const ADMIN = 'admin-key-for-curation-tests';
const READ = 'read-key-for-curation-tests1';
const admin = { authorization: `Bearer ${ADMIN}` };
const reader = { 'x-api-key': READ };

/** The curation routes over a real HTTP stack (inject), a real SQLite file and the fake engine. */
void describe('curation routes', () => {
  let service: FaceService;
  let app: FastifyInstance;
  const inject = (options: InjectOptions, headers: Record<string, string> = admin) => app.inject({ ...options, headers: { ...options.headers, ...headers } });
  const base64 = async (path: string): Promise<string> => (await readFile(path)).toString('base64');
  let ada: number;
  let adaFace: number;
  let nearCluster: number;
  let farCluster: number;

  /** The answer's status and error code, and whether the gallery stayed as it was. */
  async function refused(options: InjectOptions): Promise<[number, string, boolean]> {
    const before = await galleryDigest(service.store);
    const response = await inject(options);
    const body = response.json<{ error?: { code: string } }>();
    return [response.statusCode, body.error?.code ?? '', (await galleryDigest(service.store)) === before];
  }

  before(async () => {
    const dir = await tempDir('facedb-curation-routes-');
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${ADMIN},read:${READ}` }, {});
    service = await openFacedb({ ...config, engine: await fakeEngine() });
    app = await buildServer(service, config);
    ada = wire.person.parse((await inject({ method: 'POST', url: '/v1/people', payload: { name: 'Ada' } })).json()).id;
    const photo = lfwPhoto('Britney_Spears', 1);
    const enrolled = wire.enrollResponse.parse((await inject({ method: 'POST', url: `/v1/people/${ada}/faces`, payload: { image: await base64(photo) } })).json());
    adaFace = enrolled.outcomes[0]!.face_id!;
    // A lossless copy of Ada's photo (the same face to the fake engine) and a stranger, without names.
    const copy = (await sharp(await readFile(photo)).png().toBuffer()).toString('base64');
    const unnamed = await inject({ method: 'POST', url: '/v1/faces', payload: { image: [copy, await base64(lfwPhoto('Andre_Agassi', 2))] } });
    const [near, far] = clusterWire.unnamedEnrollResponse.parse(unnamed.json()).outcomes.map((o) => o.face_ids[0]!);
    const listed = curationWire.facesPage.parse((await inject({ url: '/v1/faces?unnamed=true' }, reader)).json());
    nearCluster = listed.items.find((f) => f.id === near)!.cluster!;
    farCluster = listed.items.find((f) => f.id === far)!.cluster!;
  });
  after(async () => {
    await app.close();
    await service.close();
  });

  void it('needs the read scope to list and the admin scope to change', async () => {
    for (const url of ['/v1/faces', `/v1/people/${ada}/faces`]) {
      assert.equal((await app.inject({ url })).statusCode, 401, url);
      assert.equal((await inject({ url }, reader)).statusCode, 200, url);
    }
    for (const [method, url] of [
      ['POST', '/v1/faces/move'],
      ['POST', '/v1/faces/unassign'],
      ['PATCH', `/v1/people/${ada}`],
      ['POST', `/v1/people/${ada}/merge`],
      ['POST', `/v1/clusters/${nearCluster}/merge`],
      ['POST', `/v1/clusters/${nearCluster}/reject`],
    ] as const) {
      assert.equal((await inject({ method, url, payload: {} }, reader)).statusCode, 403, url);
    }
  });

  void it("lists faces as objects with their person or cluster and source, and serves a named face's crop", async () => {
    const page = curationWire.facesPage.parse((await inject({ url: `/v1/people/${ada}/faces?limit=10` }, reader)).json());
    assert.deepEqual(page.next_cursor, null);
    const [face] = page.items;
    assert.deepEqual([face!.id, face!.person, face!.cluster, face!.source], [adaFace, { id: ada, name: 'Ada' }, null, { path: null, upload_name: null }]);
    assert.ok(face!.detection_score > 0 && face!.box.width > 0 && face!.added_at !== '');
    const crop = await inject({ url: face!.image_url }, reader);
    assert.deepEqual([crop.statusCode, crop.headers['content-type']], [200, 'image/jpeg']);
    const first = curationWire.facesPage.parse((await inject({ url: '/v1/faces?limit=2' }, reader)).json());
    const rest = curationWire.facesPage.parse((await inject({ url: `/v1/faces?limit=2&cursor=${first.next_cursor}` }, reader)).json());
    assert.deepEqual([first.items.length, rest.items.length, rest.next_cursor], [2, 1, null]);
    const ofCluster = curationWire.facesPage.parse((await inject({ url: `/v1/faces?cluster=${farCluster}` }, reader)).json());
    assert.deepEqual(ofCluster.items.map((f) => [f.person, f.cluster]), [[null, farCluster]]);
    assert.equal((await inject({ url: '/v1/faces?person=999999' }, reader)).statusCode, 404);
  });

  void it("keeps an upload's file name, without its folders", async () => {
    const boundary = '----facedb-curation-boundary';
    const photo = await readFile(lfwPhoto('Britney_Spears', 2));
    const payload = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="C:\\holiday\\ada 2.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      photo,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const enrolled = await inject({ method: 'POST', url: `/v1/people/${ada}/faces`, payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
    const faceId = wire.enrollResponse.parse(enrolled.json()).outcomes[0]!.face_id!;
    const listed = curationWire.facesPage.parse((await inject({ url: `/v1/people/${ada}/faces` }, reader)).json());
    assert.deepEqual(listed.items.find((f) => f.id === faceId)?.source, { path: null, upload_name: 'ada 2.jpg' });
    assert.equal((await inject({ method: 'DELETE', url: `/v1/faces/${faceId}` })).statusCode, 200);
  });

  void it('shows suggestions with clusters; naming far or rejected answers 409 unless forced', async () => {
    const listing = clusterWire.clusterPage.parse((await inject({ url: '/v1/clusters' }, reader)).json());
    assert.equal(listing.items.find((c) => c.id === nearCluster)?.suggestion?.person.id, ada);
    assert.equal(listing.items.find((c) => c.id === farCluster)?.suggestion, null);
    assert.deepEqual(await refused({ method: 'POST', url: `/v1/clusters/${farCluster}/name`, payload: { name: 'Ada' } }), [409, 'conflict', true]);
    const rejected = await inject({ method: 'POST', url: `/v1/clusters/${nearCluster}/reject`, payload: { person: 'Ada' } });
    assert.deepEqual(curationWire.rejectedCluster.parse(rejected.json()), { cluster: nearCluster, person: { id: ada, name: 'Ada' } });
    const after = clusterWire.clusterPage.parse((await inject({ url: '/v1/clusters' }, reader)).json());
    assert.equal(after.items.find((c) => c.id === nearCluster)?.suggestion, null);
    assert.deepEqual(await refused({ method: 'POST', url: `/v1/clusters/${nearCluster}/name`, payload: { name: 'Ada' } }), [409, 'conflict', true]);
    const merged = await inject({ method: 'POST', url: `/v1/clusters/${farCluster}/merge`, payload: { into: nearCluster } });
    assert.deepEqual(curationWire.mergedClusters.parse(merged.json()), { merged_faces: 1, into: nearCluster });
    const forced = await inject({ method: 'POST', url: `/v1/clusters/${nearCluster}/name`, payload: { name: 'Ada', force: true } });
    assert.equal(clusterWire.namedCluster.parse(forced.json()).faces_named, 2);
  });

  void it('moves, unassigns, renames and merges, answering the contract', async () => {
    const moved = curationWire.movedFaces.parse((await inject({ method: 'POST', url: '/v1/faces/move', payload: { faces: [adaFace], to: 'Bea' } })).json());
    assert.deepEqual([moved.moved, moved.person.name, moved.person.created], [1, 'Bea', true]);
    const renamed = wire.person.parse((await inject({ method: 'PATCH', url: `/v1/people/${moved.person.id}`, payload: { name: 'Beatrice' } })).json());
    assert.equal(renamed.name, 'Beatrice');
    const merged = curationWire.mergedPeople.parse((await inject({ method: 'POST', url: `/v1/people/${renamed.id}/merge`, payload: { into: ada } })).json());
    assert.deepEqual(merged, { merged_faces: 1, into: { id: ada, name: 'Ada' } });
    const unassigned = await inject({ method: 'POST', url: '/v1/faces/unassign', payload: { faces: [adaFace] } });
    assert.deepEqual(curationWire.unassignedFaces.parse(unassigned.json()), { unassigned: 1 });
  });

  void it('refuses bad input with a distinct status and changes nothing', async () => {
    const [face] = curationWire.facesPage.parse((await inject({ url: `/v1/people/${ada}/faces` }, reader)).json()).items;
    const other = wire.person.parse((await inject({ method: 'POST', url: '/v1/people', payload: { name: 'Other' } })).json()).id;
    assert.deepEqual(await refused({ method: 'POST', url: '/v1/faces/move', payload: { faces: [face!.id], to: 'Ada' } }), [409, 'conflict', true]);
    assert.deepEqual(await refused({ method: 'POST', url: '/v1/faces/move', payload: { faces: [999_999], to: 'Ada' } }), [404, 'not_found', true]);
    assert.deepEqual(await refused({ method: 'POST', url: '/v1/faces/unassign', payload: { faces: [999_999] } }), [404, 'not_found', true]);
    assert.deepEqual(await refused({ method: 'POST', url: `/v1/people/${ada}/merge`, payload: { into: ada } }), [409, 'conflict', true]);
    assert.deepEqual(await refused({ method: 'PATCH', url: `/v1/people/${other}`, payload: { name: 'Ada' } }), [409, 'conflict', true]);
    assert.deepEqual(await refused({ method: 'PATCH', url: `/v1/people/${other}`, payload: { name: 'ADA' } }), [409, 'conflict', true]);
    assert.deepEqual(await refused({ method: 'PATCH', url: '/v1/people/999999', payload: { name: 'Zed' } }), [404, 'not_found', true]);
    assert.deepEqual(await refused({ method: 'POST', url: '/v1/clusters/999999/merge', payload: { into: 999_998 } }), [404, 'not_found', true]);
    assert.deepEqual(await refused({ method: 'POST', url: '/v1/faces/move', payload: { faces: [], to: 'Ada' } }), [400, 'validation_failed', true]);
  });
});
