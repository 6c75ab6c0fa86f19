import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MODEL, hash, embedding, newFace, rejectsWith, type OpenStore, type OpenTwice, pinnedPerson, storePerTest } from './contract-fixtures.js';

/** The faces part of the GalleryStore contract (adding, reading, removing a person's faces), run by `runGalleryStoreContract`. */
export function runFacesContract(open: OpenStore, openTwice: OpenTwice): void {
  void describe('faces', () => {
    const store = storePerTest(open);

    const withPerson = (personName?: string): Promise<number> => pinnedPerson(store, personName);

    void it('adds faces and reads them back', async () => {
      const id = await withPerson();
      const input = newFace('a', { sourcePath: '/photos/ada.jpg' });
      const [face] = await store.addFaces(id, [input]);
      assert.ok(face);
      assert.equal(face.personId, id);
      assert.equal(face.personName, 'Ada');
      assert.equal(face.sourcePath, '/photos/ada.jpg');
      assert.equal(face.contentHash, input.contentHash);
      assert.deepEqual(face.box, input.box);
      assert.equal(face.detectionScore, input.detectionScore);
      assert.equal(face.modelId, MODEL.id);
      assert.equal(face.modelVersion, MODEL.version);
      assert.deepEqual(await store.getFace(face.id), face);
      assert.equal(await store.getFace(face.id + 1000), null);
      assert.equal(await store.countFaces(), 1);
    });

    void it('adds nothing when any face of the batch is invalid', async () => {
      const id = await withPerson();
      const bad = [
        newFace('c', { embedding: new Float32Array(MODEL.dimensions + 1) }),
        newFace('c', { embedding: embedding(1).fill(Number.NaN, 0, 1) }),
        newFace('c', { contentHash: '' }),
        newFace('c', { box: { x: 0, y: 0, width: -1, height: 10 } }),
      ];
      for (const face of bad) {
        await rejectsWith(store.addFaces(id, [newFace('a'), newFace('b'), face]), 'invalid_input');
      }
      assert.equal(await store.countFaces(), 0);
      assert.equal((await store.enrolledContent()).size, 0);
      assert.equal((await store.loadEmbeddings()).faceIds.length, 0);
    });

    void it('never adds to a person another connection removed, nor brings them back', async () => {
      const [enroller, eraser] = await openTwice();
      try {
        await enroller.ensureModel(MODEL);
        const bono = await enroller.upsertPerson('Bono');
        await enroller.addFaces(bono.id, [newFace('a'), newFace('b')]);
        const { changeSeq } = await eraser.loadEmbeddings();
        assert.equal(await eraser.removePerson(bono.id), 2);
        await rejectsWith(enroller.addFaces(bono.id, [newFace('c'), newFace('d')]), 'not_found');
        for (const view of [enroller, eraser]) {
          assert.equal(await view.getPerson(bono.id), null);
          assert.equal(await view.findPersonByName('Bono'), null);
          assert.equal((await view.listPeople({ limit: 10, offset: 0 })).total, 0);
          assert.equal(await view.countFaces(), 0);
          assert.equal(await view.hasPhoto(bono.id, hash('c')), false);
        }
        const changes = await enroller.embeddingChangesSince(changeSeq);
        assert.deepEqual(changes.added, []);
      } finally {
        await Promise.all([enroller.close(), eraser.close()]);
      }
    });

    void it('says whether a person already has a photo', async () => {
      const id = await withPerson();
      const other = await store.upsertPerson('Grace');
      await store.addFaces(id, [newFace('a')]);
      assert.equal(await store.hasPhoto(id, hash('a')), true);
      assert.equal(await store.hasPhoto(id, hash('b')), false);
      assert.equal(await store.hasPhoto(other.id, hash('a')), false);
    });

    void it('refuses faces for an unknown person or an unpinned gallery', async () => {
      const unpinned = await store.upsertPerson('Ada');
      await rejectsWith(store.addFaces(unpinned.id, [newFace('a')]), 'invalid_input');
      await store.ensureModel(MODEL);
      await rejectsWith(store.addFaces(unpinned.id + 1000, [newFace('a')]), 'not_found');
      assert.equal(await store.countFaces(), 0);
    });

    void it('skips photos the person already has, within and across batches', async () => {
      const id = await withPerson();
      const first = await store.addFaces(id, [newFace('a'), newFace('b'), newFace('a', { seed: 9 })]);
      assert.deepEqual(
        first.map((f) => f.contentHash),
        [hash('a'), hash('b')],
      );
      const second = await store.addFaces(id, [newFace('b'), newFace('c')]);
      assert.deepEqual(
        second.map((f) => f.contentHash),
        [hash('c')],
      );
      assert.deepEqual(await store.addFaces(id, []), []);
      // The same photo may belong to someone else (a group photo).
      const grace = await store.upsertPerson('Grace');
      assert.equal((await store.addFaces(grace.id, [newFace('a')])).length, 1);
      assert.equal(await store.countFaces(), 4);
      assert.deepEqual(
        await store.enrolledContent(),
        new Map([
          [hash('a'), new Set(['Ada', 'Grace'])],
          [hash('b'), new Set(['Ada'])],
          [hash('c'), new Set(['Ada'])],
        ]),
      );
    });

    void it('lists a person’s faces page by page', async () => {
      const id = await withPerson();
      const added = await store.addFaces(id, ['a', 'b', 'c'].map((k) => newFace(k)));
      const other = await store.upsertPerson('Grace');
      await store.addFaces(other.id, [newFace('d')]);
      const first = await store.listFaces(id, { limit: 2, offset: 0 });
      const rest = await store.listFaces(id, { limit: 2, offset: 2 });
      assert.equal(first.total, 3);
      assert.equal(rest.total, 3);
      assert.deepEqual([...first.items, ...rest.items], added);
      await rejectsWith(store.listFaces(id + 1000, { limit: 2, offset: 0 }), 'not_found');
    });

    void it('removes a face', async () => {
      const id = await withPerson();
      const [a, b] = await store.addFaces(id, [newFace('a'), newFace('b')]);
      assert.ok(a && b);
      await store.removeFace(a.id);
      assert.equal(await store.getFace(a.id), null);
      assert.equal(await store.getFaceCrop(a.id), null);
      assert.equal(await store.countFaces(), 1);
      assert.deepEqual(await store.enrolledContent(), new Map([[hash('b'), new Set(['Ada'])]]));
      await rejectsWith(store.removeFace(a.id), 'not_found');
      assert.deepEqual(await store.getFace(b.id), b);
    });

    void it('removes a person with all their faces', async () => {
      const ada = await withPerson();
      const grace = (await store.upsertPerson('Grace')).id;
      await store.addFaces(ada, [newFace('a'), newFace('b')]);
      const [kept] = await store.addFaces(grace, [newFace('c')]);
      assert.ok(kept);
      assert.equal(await store.removePerson(ada), 2);
      assert.equal(await store.getPerson(ada), null);
      assert.equal(await store.countFaces(), 1);
      assert.deepEqual(await store.enrolledContent(), new Map([[hash('c'), new Set(['Grace'])]]));
      const snapshot = await store.loadEmbeddings();
      assert.deepEqual([...snapshot.faceIds], [kept.id]);
      assert.deepEqual([...snapshot.personIds], [grace]);
      await rejectsWith(store.removePerson(ada), 'not_found');
      assert.equal((await store.listPeople({ limit: 10, offset: 0 })).total, 1);
      assert.equal(await store.removePerson(grace), 1);
    });

    void it('round-trips crops byte for byte', async () => {
      const id = await withPerson();
      const crop = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) & 0xff);
      const [withCrop, without, empty] = await store.addFaces(id, [
        newFace('a', { crop }),
        newFace('b', { crop: null }),
        newFace('c', { crop: new Uint8Array(0) }),
      ]);
      assert.ok(withCrop && without && empty);
      assert.deepEqual(await store.getFaceCrop(withCrop.id), crop);
      assert.equal(await store.getFaceCrop(without.id), null);
      assert.equal((await store.getFaceCrop(empty.id))?.length ?? 0, 0);
      assert.equal(await store.getFaceCrop(withCrop.id + 1000), null);
    });

    void it('keeps an upload’s photo bytes with its face and drops them with it', async () => {
      const id = await withPerson();
      const photo = Uint8Array.from({ length: 5000 }, (_, i) => (i * 13) & 0xff);
      const [uploaded, fromDisk, again] = await store.addFaces(id, [
        newFace('a', { sourcePath: null, photo }),
        newFace('b'),
        newFace('a', { sourcePath: null, photo: Uint8Array.of(1, 2, 3) }), // the same photo again: skipped
      ]);
      assert.ok(uploaded && fromDisk);
      assert.equal(again, undefined);
      assert.deepEqual(await store.getFacePhoto(uploaded.id), photo);
      assert.equal(await store.getFacePhoto(fromDisk.id), null);
      assert.equal(await store.getFacePhoto(uploaded.id + 1000), null);
      // A later batch with the same photo for the same person changes nothing.
      assert.deepEqual(await store.addFaces(id, [newFace('a', { sourcePath: null, photo: Uint8Array.of(9) })]), []);
      assert.deepEqual(await store.getFacePhoto(uploaded.id), photo);
      await store.removeFace(uploaded.id);
      assert.equal(await store.getFacePhoto(uploaded.id), null);
      const [second] = await store.addFaces(id, [newFace('c', { sourcePath: null, photo })]);
      assert.ok(second);
      await store.removePerson(id);
      assert.equal(await store.getFacePhoto(second.id), null);
    });
  });
}
