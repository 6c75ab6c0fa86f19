import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ModelInfo } from '../core/types.js';
import { isFacedbError, type ErrorCode } from '../errors/errors.js';
import type { GalleryStore, NewFace } from './store.js';
import { storePerTest } from './contract-fixtures.js';

/**
 * The contract of unnamed faces and clusters (`enroll --unlabelled`, `cluster`, naming a cluster), run by
 * `runGalleryStoreContract` against every driver with the same factories.
 */
export function runUnnamedFacesContract(open: () => Promise<GalleryStore>, openTwice: () => Promise<[GalleryStore, GalleryStore]>): void {
  void describe('unnamed faces and clusters', () => {
    const store = storePerTest(open);

    void it('adds every face of a photo without a person, once, outside the search snapshot', async () => {
      await store.ensureModel(MODEL);
      await rejectsWith(store.addUnnamedFaces([face('x', 1, { embedding: new Float32Array(3) })]), 'invalid_input');
      const group = [face('group', 1, { sourcePath: '/p/group.jpg' }), face('group', 2), face('group', 3)];
      const added = await store.addUnnamedFaces([...group, face('solo', 4)]);
      assert.deepEqual(
        added.map((f) => [f.contentHash, f.clusterId, f.sourcePath]),
        [
          [hash('group'), null, '/p/group.jpg'],
          [hash('group'), null, null],
          [hash('group'), null, null],
          [hash('solo'), null, null],
        ],
      );
      assert.deepEqual(added[1]!.box, group[1]!.box);
      assert.ok(added.every((f, i) => i === 0 || f.id > added[i - 1]!.id));
      // Re-enrolling a photo adds nothing, even together with a new one.
      const again = await store.addUnnamedFaces([face('group', 1), face('new', 5)]);
      assert.deepEqual(again.map((f) => f.contentHash), [hash('new')]);

      assert.equal(await store.countFaces(), 0);
      assert.deepEqual(await store.countUnnamedFaces(), { total: 5, unclustered: 5 });
      assert.equal((await store.loadEmbeddings()).faceIds.length, 0);
      // Unnamed faces never reach the people's index, but the change log lists them for the search over unnamed faces.
      const logged = await store.embeddingChangesSince(0);
      assert.deepEqual([logged.added, logged.removed], [[], []]);
      assert.deepEqual(logged.unnamed.map((f) => f.faceId), [...added.map((f) => f.id), again[0]!.id]);
      assert.deepEqual(logged.unnamed[2]!.embedding, group[2]!.embedding);
      assert.equal(await store.getFace(added[0]!.id), null, 'getFace is for faces of people');
      assert.deepEqual(await store.getFaceCrop(added[0]!.id), group[0]!.crop);
      assert.equal((await store.enrolledContent()).size, 0);

      assert.equal(await store.hasUnnamedPhoto(hash('group')), true);
      assert.equal(await store.hasUnnamedPhoto(hash('never')), false);
      const listed = await store.listUnnamedFaces({ limit: 2, offset: 1 });
      assert.equal(listed.total, 5);
      assert.deepEqual(listed.items, [added[1], added[2]]);

      const unnamed = await store.loadUnnamedEmbeddings();
      assert.deepEqual(unnamed.map((f) => f.faceId), [...added.map((f) => f.id), again[0]!.id]);
      assert.deepEqual(unnamed[2]!.embedding, group[2]!.embedding);
      assert.ok(unnamed.every((f) => f.clusterId === null));

      await store.removeFace(added[3]!.id);
      assert.deepEqual(await store.countUnnamedFaces(), { total: 4, unclustered: 4 });
      const afterRemoval = await store.embeddingChangesSince(logged.changeSeq);
      assert.deepEqual([afterRemoval.removed, afterRemoval.unnamed], [[added[3]!.id], []]);
    });

    void it('refuses unnamed faces in an unpinned gallery', async () => {
      await rejectsWith(store.addUnnamedFaces([face('a', 1)]), 'invalid_input');
    });

    void it('saves clusters, lists them largest first with samples, and reuses ids that still exist', async () => {
      await store.ensureModel(MODEL);
      const faces = await store.addUnnamedFaces([face('a', 1), face('b', 2), face('c', 3), face('d', 4), face('e', 5)]);
      const [a, b, c, d, e] = faces.map((f) => f.id) as [number, number, number, number, number];
      const [small, big] = await store.saveClusters([
        { clusterId: null, faceIds: [a] },
        { clusterId: null, faceIds: [b, c, d] },
      ]);
      assert.ok(small !== undefined && big !== undefined && small !== big);
      assert.deepEqual(await store.countUnnamedFaces(), { total: 5, unclustered: 1 });

      const listed = await store.listClusters({ limit: 10, offset: 0 }, 2);
      assert.equal(listed.total, 2);
      assert.deepEqual(
        listed.items.map((cluster) => [cluster.id, cluster.size, cluster.samples.map((s) => s.id)]),
        [
          [big, 3, [b, c]],
          [small, 1, [a]],
        ],
      );
      assert.equal(listed.items[0]!.samples[0]!.clusterId, big);
      assert.deepEqual((await store.listClusters({ limit: 1, offset: 1 }, 0)).items.map((x) => [x.id, x.samples]), [[small, []]]);
      await rejectsWith(store.listClusters({ limit: 1, offset: 0 }, -1), 'invalid_input');
      await rejectsWith(store.listClusters({ limit: -1, offset: 0 }, 1), 'invalid_input');

      // The next run moves a into the big cluster and e into a new one; the emptied small cluster goes.
      const [kept, made] = await store.saveClusters([
        { clusterId: big, faceIds: [a, b, c, d] },
        { clusterId: small + big + 1000, faceIds: [e] },
      ]);
      assert.equal(kept, big);
      assert.ok(made !== undefined && made !== small && made !== big + small + 1000);
      assert.deepEqual(
        (await store.listClusters({ limit: 10, offset: 0 }, 10)).items.map((x) => [x.id, x.size]),
        [
          [big, 4],
          [made, 1],
        ],
      );
      assert.deepEqual(
        (await store.loadUnnamedEmbeddings()).map((f) => [f.faceId, f.clusterId]),
        [
          [a, big],
          [b, big],
          [c, big],
          [d, big],
          [e, made],
        ],
      );
      await rejectsWith(store.saveClusters([{ clusterId: null, faceIds: [a] }, { clusterId: null, faceIds: [a] }]), 'invalid_input');
      await rejectsWith(store.saveClusters([{ clusterId: 0, faceIds: [a] }]), 'invalid_input');
      await rejectsWith(store.nameCluster(small, 'Nobody'), 'not_found');
    });

    void it('names a cluster: its faces join the person, the search snapshot and the change log', async () => {
      await store.ensureModel(MODEL);
      const faces = await store.addUnnamedFaces([face('a', 1), face('b', 2), face('c', 3)]);
      const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: faces.map((f) => f.id) }]);
      assert.ok(cluster !== undefined);
      const { changeSeq } = await store.loadEmbeddings();
      await rejectsWith(store.nameCluster(cluster, '  '), 'invalid_input');
      await rejectsWith(store.nameCluster(cluster + 1000, 'Ada'), 'not_found');

      const named = await store.nameCluster(cluster, 'Ada');
      assert.equal(named.person.name, 'Ada');
      assert.equal(named.person.faceCount, 3);
      assert.deepEqual([named.facesNamed, named.facesLeft], [3, 0]);
      assert.equal(await store.countFaces(), 3);
      assert.deepEqual(await store.countUnnamedFaces(), { total: 0, unclustered: 0 });
      assert.equal((await store.listClusters({ limit: 10, offset: 0 }, 1)).total, 0);
      await rejectsWith(store.nameCluster(cluster, 'Ada'), 'not_found');
      const face0 = await store.getFace(faces[0]!.id);
      assert.equal(face0?.personName, 'Ada');

      const changes = await store.embeddingChangesSince(changeSeq);
      assert.deepEqual(
        changes.added.map((f) => [f.faceId, f.personId]),
        faces.map((f) => [f.id, named.person.id]),
      );
      assert.deepEqual(changes.added[1]!.embedding, embedding(2));
      const snapshot = await store.loadEmbeddings();
      assert.deepEqual([...snapshot.faceIds], faces.map((f) => f.id));
      assert.deepEqual([...snapshot.personIds], faces.map(() => named.person.id));
    });

    void it('naming into an existing person merges, one face per photo', async () => {
      await store.ensureModel(MODEL);
      const ada = await store.upsertPerson('Ada');
      const [own] = await store.addFaces(ada.id, [face('shared', 9)]);
      // A group photo Ada already has a face from, a photo with two faces, and a new photo.
      const faces = await store.addUnnamedFaces([face('shared', 1), face('pair', 2), face('pair', 3), face('new', 4)]);
      const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: faces.map((f) => f.id) }]);
      const named = await store.nameCluster(cluster!, 'Ada');
      assert.equal(named.person.id, ada.id);
      assert.deepEqual([named.facesNamed, named.facesLeft], [2, 2]);
      assert.equal(named.person.faceCount, 3);
      const page = await store.listFaces(ada.id, { limit: 10, offset: 0 });
      assert.deepEqual(page.items.map((f) => f.id), [own!.id, faces[1]!.id, faces[3]!.id]);
      // The faces left stay in the cluster, to be looked at (or removed) by hand.
      const left = await store.listClusters({ limit: 10, offset: 0 }, 10);
      assert.deepEqual(left.items.map((x) => [x.id, x.samples.map((s) => s.id)]), [[cluster, [faces[0]!.id, faces[2]!.id]]]);
      // Removing the person erases the faces it gained from the cluster too.
      assert.equal(await store.removePerson(ada.id), 3);
      assert.deepEqual(await store.countUnnamedFaces(), { total: 2, unclustered: 0 });
    });

    void it('erases an unnamed face, and a cluster with its faces; an emptied cluster goes', async () => {
      await store.ensureModel(MODEL);
      const [a1, a2, b, c] = (await store.addUnnamedFaces([face('a', 1), face('a', 2), face('b', 3), face('c', 4)])).map((f) => f.id);
      assert.ok(a1 && a2 && b && c);
      const [first, second] = await store.saveClusters([
        { clusterId: null, faceIds: [a1, b] },
        { clusterId: null, faceIds: [a2, c] },
      ]);
      assert.ok(first !== undefined && second !== undefined);
      await store.removeUnnamedFace(a1);
      await rejectsWith(store.removeUnnamedFace(a1), 'not_found');
      assert.deepEqual(await store.countUnnamedFaces(), { total: 3, unclustered: 0 });
      assert.deepEqual(await store.addUnnamedFaces([face('a', 1)]), [], 'photo a still has a face in the gallery');
      assert.equal(await store.removeCluster(second), 2);
      await rejectsWith(store.removeCluster(second), 'not_found');
      assert.deepEqual((await store.listClusters({ limit: 10, offset: 0 }, 0)).items.map((k) => k.id), [first]);
      await store.removeUnnamedFace(b);
      await rejectsWith(store.removeCluster(first), 'not_found');
      assert.deepEqual(await store.countUnnamedFaces(), { total: 0, unclustered: 0 });
      // A person's face is no unnamed face.
      const ada = await store.upsertPerson('Ada');
      const [named] = await store.addFaces(ada.id, [face('d', 5)]);
      await rejectsWith(store.removeUnnamedFace(named!.id), 'not_found');
      assert.equal(await store.countFaces(), 1);
    });

    void it('forgets a photo once all its faces are erased, named or not, so it can be enrolled again', async () => {
      await store.ensureModel(MODEL);
      const [p1, p2] = await store.addUnnamedFaces([face('p', 1), face('p', 2), face('q', 3)]);
      const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: [p1!.id] }]);
      const { person } = await store.nameCluster(cluster!, 'Ada');
      await store.removeUnnamedFace(p2!.id);
      assert.deepEqual(await store.addUnnamedFaces([face('p', 1)]), [], "photo p still has a face: Ada's");
      await store.removePerson(person.id);
      assert.equal((await store.addUnnamedFaces([face('p', 1), face('p', 2)])).length, 2, 'photo p is enrolled again');
      // The same through removeFace of a named face.
      const [q] = (await store.loadUnnamedEmbeddings()).filter((f) => f.embedding[0] === embedding(3)[0]);
      const [again] = await store.saveClusters([{ clusterId: null, faceIds: [q!.faceId] }]);
      const named = await store.nameCluster(again!, 'Grace');
      await store.removeFace(q!.faceId);
      assert.equal((await store.getPerson(named.person.id))?.faceCount, 0);
      assert.equal((await store.addUnnamedFaces([face('q', 3)])).length, 1, 'photo q is enrolled again');
    });

    void it("shows one connection's naming to another's search index", async () => {
      const [writer, reader] = await openTwice();
      try {
        await writer.ensureModel(MODEL);
        const faces = await writer.addUnnamedFaces([face('a', 1), face('b', 2)]);
        const { changeSeq } = await reader.loadEmbeddings();
        const [cluster] = await writer.saveClusters([{ clusterId: null, faceIds: faces.map((f) => f.id) }]);
        assert.deepEqual((await reader.embeddingChangesSince(changeSeq)).added, [], 'clustering alone changes no person');
        const { person } = await writer.nameCluster(cluster!, 'Grace');
        const seen = await reader.embeddingChangesSince(changeSeq);
        assert.deepEqual(
          seen.added.map((f) => [f.faceId, f.personId]),
          faces.map((f) => [f.id, person.id]),
        );
      } finally {
        await Promise.all([writer.close(), reader.close()]);
      }
    });
  });
}

const MODEL: ModelInfo = { id: 'contract-model', version: '1', dimensions: 8, metric: 'euclidean', defaultThreshold: 0.6 };

function hash(key: string): string {
  return Buffer.from(key).toString('hex').padEnd(64, '0');
}

function embedding(seed: number): Float32Array {
  return Float32Array.from({ length: MODEL.dimensions }, (_, i) => Math.cos(seed * 17 + i) / 3);
}

/** Face number `seed` of photo `photo`. */
function face(photo: string, seed: number, overrides: Partial<NewFace> = {}): NewFace {
  return {
    sourcePath: null,
    contentHash: hash(photo),
    box: { x: seed * 10, y: 5, width: 40 + seed, height: 50 },
    detectionScore: 0.9,
    embedding: embedding(seed),
    crop: Uint8Array.of(0xff, 0xd8, seed),
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFacedbError(error), `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}
