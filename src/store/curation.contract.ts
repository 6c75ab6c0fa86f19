import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { galleryDigest } from '../../test/gallery-digest.js';
import { hash, MODEL, newFace, rejectsWith, type OpenStore, type OpenTwice } from './contract-fixtures.js';
import type { GalleryStore } from './store.js';

/**
 * The contract of curation (store/curation.ts): faces listed as objects, moved, unassigned; people renamed and
 * merged; clusters merged and rejected; the constraints kept. A refused change leaves the gallery's digest as it was.
 */
export function runCurationContract(open: OpenStore, openTwice: OpenTwice): void {
  void describe('curation', () => {
    let store: GalleryStore;
    beforeEach(async () => {
      store = await open();
      await store.ensureModel(MODEL);
    });
    afterEach(async () => {
      await store.close();
    });

    /** Ada with two faces, Bob with one, and a cluster of two unnamed faces of two photos plus a second face of one. */
    async function gallery() {
      const ada = await store.upsertPerson('Ada');
      const bob = await store.upsertPerson('Bob');
      const adaFaces = await store.addFaces(ada.id, [newFace('a1', { sourcePath: '/photos/a1.jpg', uploadName: null }), newFace('a2', { uploadName: 'a2.jpg' })]);
      const bobFaces = await store.addFaces(bob.id, [newFace('b1')]);
      const unnamed = await store.addUnnamedFaces([newFace('u1', { seed: 1 }), newFace('u1', { seed: 2 }), newFace('u2', { seed: 3 })]);
      const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: unnamed.map((f) => f.id) }]);
      return { ada, bob, adaFaces, bobFaces, unnamed, cluster: cluster! };
    }

    void it('lists faces of every kind, filtered and in keyset pages', async () => {
      const g = await gallery();
      const all = await store.listStoredFaces({}, { limit: 100, afterId: 0 });
      assert.equal(all.items.length, 6);
      assert.equal(all.nextAfterId, null);
      const first = all.items[0]!;
      assert.deepEqual(
        [first.personId, first.personName, first.clusterId, first.sourcePath, first.uploadName],
        [g.ada.id, 'Ada', null, '/photos/a1.jpg', null],
      );
      assert.equal(all.items[1]!.uploadName, 'a2.jpg');
      assert.deepEqual(first.box, newFace('a1').box);
      const ofAda = await store.listStoredFaces({ personId: g.ada.id }, { limit: 100, afterId: 0 });
      assert.deepEqual(ofAda.items.map((f) => f.id), g.adaFaces.map((f) => f.id));
      const ofCluster = await store.listStoredFaces({ clusterId: g.cluster }, { limit: 100, afterId: 0 });
      assert.deepEqual(ofCluster.items.map((f) => [f.id, f.clusterId, f.personId]), g.unnamed.map((f) => [f.id, g.cluster, null]));
      const unnamed = await store.listStoredFaces({ unnamed: true }, { limit: 2, afterId: 0 });
      assert.deepEqual(unnamed.items.map((f) => f.id), g.unnamed.slice(0, 2).map((f) => f.id));
      const rest = await store.listStoredFaces({ unnamed: true }, { limit: 2, afterId: unnamed.nextAfterId! });
      assert.deepEqual(rest.items.map((f) => f.id), [g.unnamed[2]!.id]);
      assert.equal(rest.nextAfterId, null);
      await rejectsWith(store.listStoredFaces({ personId: 999_999 }, { limit: 10, afterId: 0 }), 'not_found');
      await rejectsWith(store.listStoredFaces({ clusterId: 999_999 }, { limit: 10, afterId: 0 }), 'not_found');
      assert.deepEqual((await store.getStoredFaces([g.bobFaces[0]!.id, 999_999])).map((f) => f.id), [g.bobFaces[0]!.id]);
      // A cluster's first faces with their embeddings, for suggestions.
      const embedded = await store.loadClusterEmbeddings([g.cluster, 999_999], 2);
      assert.deepEqual(embedded.map((e) => [e.faceId, e.clusterId, e.contentHash]), g.unnamed.slice(0, 2).map((f) => [f.id, g.cluster, hash('u1')]));
      assert.deepEqual([...embedded[0]!.embedding], [...newFace('u1', { seed: 1 }).embedding]);
    });

    void it('moves named and unnamed faces, creating a person for a new name, through the change log', async () => {
      const g = await gallery();
      const seq = (await store.loadEmbeddings()).changeSeq;
      const moved = await store.moveFaces([g.adaFaces[1]!.id, g.unnamed[2]!.id], 'Cleo');
      assert.equal(moved.moved, 2);
      assert.equal(moved.created, true);
      assert.equal(moved.person.faceCount, 2);
      const changes = await store.embeddingChangesSince(seq);
      assert.deepEqual(changes.added.map((c) => [c.faceId, c.personId]).sort(), [[g.adaFaces[1]!.id, moved.person.id], [g.unnamed[2]!.id, moved.person.id]].sort());
      assert.equal((await store.getPerson(g.ada.id))!.faceCount, 1);
      const again = await store.moveFaces([g.unnamed[0]!.id], 'Bob');
      assert.deepEqual([again.created, again.person.id, again.person.faceCount], [false, g.bob.id, 2]);
    });

    void it('refuses bad moves, changing nothing', async () => {
      const g = await gallery();
      const before = await galleryDigest(store);
      await rejectsWith(store.moveFaces([g.adaFaces[0]!.id], 'Ada'), 'conflict');
      await rejectsWith(store.moveFaces([g.unnamed[0]!.id, 999_999], 'Newcomer'), 'not_found');
      // Two faces of one photo never go to one person.
      await rejectsWith(store.moveFaces([g.unnamed[0]!.id, g.unnamed[1]!.id], 'Newcomer'), 'conflict');
      await rejectsWith(store.moveFaces([g.unnamed[0]!.id], 'ADA'), 'invalid_input'); // a look-alike of Ada
      assert.equal(await galleryDigest(store), before);
      assert.equal(await store.findPersonByName('Newcomer'), null);
    });

    void it('unassigns faces for good: their own cluster, never named back into the person they left', async () => {
      const g = await gallery();
      const face = g.adaFaces[0]!.id;
      assert.equal(await store.unassignFaces([face, g.unnamed[0]!.id]), 2);
      const [taken, left] = await store.getStoredFaces([face, g.unnamed[0]!.id]);
      assert.equal(taken!.personId, null);
      assert.ok(taken!.clusterId !== null && left!.clusterId !== null && taken!.clusterId !== left!.clusterId && left!.clusterId !== g.cluster);
      const constraints = await store.listConstraints();
      assert.deepEqual(constraints.faceNotPerson, [[face, g.ada.id]]);
      assert.deepEqual(constraints.facesApart.sort(), [[g.unnamed[0]!.id, g.unnamed[1]!.id], [g.unnamed[0]!.id, g.unnamed[2]!.id]]);
      assert.equal((await store.loadEmbeddings()).faceIds.includes(face), false);
      // Naming the face's new cluster after Ada leaves the face behind; a move by hand lifts the constraint.
      const named = await store.nameCluster(taken!.clusterId, 'Ada');
      assert.deepEqual([named.facesNamed, named.facesLeft], [0, 1]);
      await store.moveFaces([face], 'Ada');
      assert.deepEqual((await store.listConstraints()).faceNotPerson, []);
      const before = await galleryDigest(store);
      await rejectsWith(store.unassignFaces([999_999]), 'not_found');
      await store.unassignFaces([face]);
      const loose = (await store.addUnnamedFaces([newFace('loose')]))[0]!.id;
      const withLoose = await galleryDigest(store);
      await rejectsWith(store.unassignFaces([loose]), 'conflict');
      assert.equal(await galleryDigest(store), withLoose);
      assert.notEqual(withLoose, before);
    });

    void it('renames under the name rules and logs the person for other processes', async () => {
      const g = await gallery();
      const seq = (await store.loadEmbeddings()).changeSeq;
      const renamed = await store.renamePerson(g.ada.id, '  Ada  Lovelace ');
      assert.deepEqual([renamed.id, renamed.name, renamed.faceCount], [g.ada.id, 'Ada Lovelace', 2]);
      assert.deepEqual((await store.embeddingChangesSince(seq)).added.map((c) => c.personId), [g.ada.id, g.ada.id]);
      assert.equal((await store.findPersonByName('Ada Lovelace'))!.id, g.ada.id);
      assert.equal((await store.renamePerson(g.ada.id, 'ada lovelace')).name, 'ada lovelace'); // its own look-alike: fine
      const before = await galleryDigest(store);
      await rejectsWith(store.renamePerson(g.ada.id, 'ada lovelace'), 'conflict');
      await rejectsWith(store.renamePerson(g.ada.id, 'Bob'), 'conflict');
      await rejectsWith(store.renamePerson(g.ada.id, 'BOB'), 'conflict');
      await rejectsWith(store.renamePerson(999_999, 'Zed'), 'not_found');
      await rejectsWith(store.renamePerson(g.ada.id, ' '), 'invalid_input');
      assert.equal(await galleryDigest(store), before);
    });

    void it('merges people and clusters, carrying rejections over; refuses merging into itself', async () => {
      const g = await gallery();
      const other = (await store.addUnnamedFaces([newFace('u3')]))[0]!.id;
      const [second] = await store.saveClusters([{ clusterId: null, faceIds: [other] }]);
      await store.rejectCluster(g.cluster, g.bob.id);
      await store.rejectCluster(g.cluster, g.bob.id); // once
      await store.rejectCluster(second!, g.ada.id);
      const before = await galleryDigest(store);
      await rejectsWith(store.mergePeople(g.ada.id, g.ada.id), 'conflict');
      await rejectsWith(store.mergePeople(g.ada.id, 999_999), 'not_found');
      await rejectsWith(store.mergeClusters(g.cluster, g.cluster), 'conflict');
      await rejectsWith(store.mergeClusters(999_999, g.cluster), 'not_found');
      await rejectsWith(store.rejectCluster(999_999, g.ada.id), 'not_found');
      await rejectsWith(store.rejectCluster(g.cluster, 999_999), 'not_found');
      assert.equal(await galleryDigest(store), before);

      const merged = await store.mergePeople(g.bob.id, g.ada.id);
      assert.deepEqual([merged.mergedFaces, merged.into.id, merged.into.faceCount], [1, g.ada.id, 3]);
      assert.equal(await store.getPerson(g.bob.id), null);
      assert.deepEqual((await store.listConstraints()).clusterNotPerson.sort(), [[g.cluster, g.ada.id], [second!, g.ada.id]].sort());
      const clusters = await store.mergeClusters(second!, g.cluster);
      assert.deepEqual(clusters, { mergedFaces: 1, into: g.cluster });
      assert.equal((await store.listClusters({ limit: 10, offset: 0 }, 0)).total, 1);
      // Constraints go with what they name.
      await store.removeCluster(g.cluster);
      assert.deepEqual(await store.listConstraints(), { facesApart: [], faceNotPerson: [], clusterNotPerson: [] });
    });

    void it('adds constraints (import) once each, refusing any that names nothing stored', async () => {
      const g = await gallery();
      const constraints = {
        facesApart: [[g.unnamed[2]!.id, g.unnamed[0]!.id]] as Array<[number, number]>,
        faceNotPerson: [[g.unnamed[1]!.id, g.ada.id]] as Array<[number, number]>,
        clusterNotPerson: [[g.cluster, g.bob.id]] as Array<[number, number]>,
      };
      await store.addConstraints(constraints);
      await store.addConstraints(constraints);
      assert.deepEqual(await store.listConstraints(), { ...constraints, facesApart: [[g.unnamed[0]!.id, g.unnamed[2]!.id]] });
      const before = await galleryDigest(store);
      await rejectsWith(store.addConstraints({ facesApart: [], faceNotPerson: [[g.unnamed[0]!.id, 999_999]], clusterNotPerson: [[g.cluster, g.ada.id]] }), 'not_found');
      assert.equal(await galleryDigest(store), before);
    });

    void it('refuses a merge that would give a person two faces of one photo', async () => {
      const g = await gallery();
      await store.addFaces(g.bob.id, [newFace('a1')]);
      const before = await galleryDigest(store);
      await rejectsWith(store.mergePeople(g.bob.id, g.ada.id), 'conflict');
      assert.equal(await galleryDigest(store), before);
    });

    void it("shows one connection's move to another through the change log", async () => {
      await store.close();
      const [one, two] = await openTwice();
      store = one;
      try {
        await one.ensureModel(MODEL);
        const ada = await one.upsertPerson('Ada');
        const [face] = await one.addFaces(ada.id, [newFace('shared')]);
        const seq = (await two.loadEmbeddings()).changeSeq;
        const moved = await one.moveFaces([face!.id], 'Bea');
        const changes = await two.embeddingChangesSince(seq);
        assert.deepEqual(changes.added.map((c) => [c.faceId, c.personId]), [[face!.id, moved.person.id]]);
        await one.unassignFaces([face!.id]);
        // Unassigned: out of the people's index, into the unnamed faces' (the change log lists it as unnamed).
        const unassigned = await two.embeddingChangesSince(changes.changeSeq);
        assert.deepEqual([unassigned.removed, unassigned.unnamed.map((f) => f.faceId)], [[], [face!.id]]);
      } finally {
        await two.close();
      }
    });
  });
}
