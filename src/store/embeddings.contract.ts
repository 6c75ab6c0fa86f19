import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlatIndex } from '../core/flat-index.js';
import { MODEL, hash, embedding, newFace, rejectsWith, type OpenStore, type OpenTwice, pinnedPerson, storePerTest } from './contract-fixtures.js';

/** The embeddings part of the GalleryStore contract (the search snapshot, the change log, search in the database), run by `runGalleryStoreContract`. */
export function runEmbeddingsContract(open: OpenStore, openTwice: OpenTwice): void {
  void describe('embeddings', () => {
    const store = storePerTest(open);

    const withPerson = (personName?: string): Promise<number> => pinnedPerson(store, personName);

    void it('is empty before anything is enrolled', async () => {
      const snapshot = await store.loadEmbeddings();
      assert.equal(snapshot.faceIds.length, 0);
      assert.equal(snapshot.personIds.length, 0);
      assert.equal(snapshot.vectors.length, 0);
      await store.ensureModel(MODEL);
      assert.equal((await store.loadEmbeddings()).dimensions, MODEL.dimensions);
    });

    void it('round-trips float32 values exactly', async () => {
      const id = await withPerson();
      const special = Float32Array.from([0.1, -0, 1e-45, -3.4028234663852886e38, 1 / 3, 0.5, -1, 123.456]);
      const [face] = await store.addFaces(id, [newFace('a', { embedding: special })]);
      assert.ok(face);
      const snapshot = await store.loadEmbeddings();
      assert.equal(snapshot.dimensions, MODEL.dimensions);
      assert.deepEqual([...snapshot.faceIds], [face.id]);
      assert.deepEqual([...snapshot.personIds], [id]);
      assert.deepEqual(
        new Uint8Array(snapshot.vectors.buffer, snapshot.vectors.byteOffset, snapshot.vectors.byteLength),
        new Uint8Array(special.buffer),
      );
    });

    void it('keeps vectors in step with face and person ids after removals', async () => {
      await store.ensureModel(MODEL);
      const expected = new Map<number, { personId: number; embedding: Float32Array }>();
      const people: number[] = [];
      for (let p = 0; p < 6; p++) {
        const personId = (await store.upsertPerson(`person ${p}`)).id;
        people.push(personId);
        const faces = Array.from({ length: 5 }, (_, f) => newFace(`${p}/${f}`, { seed: p * 10 + f }));
        const added = await store.addFaces(personId, faces);
        added.forEach((face, i) => expected.set(face.id, { personId, embedding: faces[i]!.embedding }));
      }
      const ids = [...expected.keys()];
      for (const faceId of [ids[0]!, ids[7]!, ids[ids.length - 1]!]) {
        await store.removeFace(faceId);
        expected.delete(faceId);
      }
      await store.removePerson(people[2]!);
      for (const [faceId, face] of expected) if (face.personId === people[2]) expected.delete(faceId);

      const snapshot = await store.loadEmbeddings();
      assert.equal(snapshot.faceIds.length, expected.size);
      assert.equal(snapshot.personIds.length, expected.size);
      assert.equal(snapshot.vectors.length, expected.size * MODEL.dimensions);
      assert.equal(await store.countFaces(), expected.size);
      snapshot.faceIds.forEach((faceId, row) => {
        const face = expected.get(faceId);
        assert.ok(face, `face ${faceId} is still enrolled`);
        assert.equal(snapshot.personIds[row], face.personId);
        const start = row * MODEL.dimensions;
        assert.deepEqual(snapshot.vectors.slice(start, start + MODEL.dimensions), face.embedding);
      });
      assert.equal(new Set(snapshot.faceIds).size, expected.size);
    });
  });

  void describe('change log', () => {
    const store = storePerTest(open);

    const withPerson = (personName?: string): Promise<number> => pinnedPerson(store, personName);

    const sorted = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => a - b);

    void it('lists the faces added and removed after a change number, with their embeddings', async () => {
      const ada = await withPerson();
      const grace = (await store.upsertPerson('Grace')).id;
      const start = await store.loadEmbeddings();
      assert.equal(start.changeSeq, 0);
      assert.deepEqual(await store.embeddingChangesSince(0), { changeSeq: 0, complete: true, added: [], unnamed: [], removed: [] });

      const [a, b] = await store.addFaces(ada, [newFace('a', { seed: 1 }), newFace('b', { seed: 2 })]);
      const [c] = await store.addFaces(grace, [newFace('c', { seed: 3 })]);
      assert.ok(a && b && c);
      const afterAdding = await store.embeddingChangesSince(0);
      assert.equal(afterAdding.complete, true);
      assert.ok(afterAdding.changeSeq > 0);
      assert.deepEqual(afterAdding.removed, []);
      assert.deepEqual(
        afterAdding.added.sort((x, y) => x.faceId - y.faceId),
        [
          { faceId: a.id, personId: ada, embedding: newFace('a', { seed: 1 }).embedding },
          { faceId: b.id, personId: ada, embedding: newFace('b', { seed: 2 }).embedding },
          { faceId: c.id, personId: grace, embedding: newFace('c', { seed: 3 }).embedding },
        ],
      );
      assert.equal((await store.loadEmbeddings()).changeSeq, afterAdding.changeSeq);
      // Nothing since the latest number; a skipped photo (already enrolled) is no change.
      await store.addFaces(ada, [newFace('a', { seed: 1 })]);
      assert.deepEqual(await store.embeddingChangesSince(afterAdding.changeSeq), {
        changeSeq: afterAdding.changeSeq,
        complete: true,
        added: [],
        unnamed: [],
        removed: [],
      });

      await store.removeFace(c.id);
      const [d] = await store.addFaces(grace, [newFace('d', { seed: 4 })]);
      assert.ok(d);
      await store.removePerson(ada);
      const later = await store.embeddingChangesSince(afterAdding.changeSeq);
      assert.equal(later.complete, true);
      assert.deepEqual(sorted(later.removed), sorted([a.id, b.id, c.id]));
      assert.deepEqual(later.added, [{ faceId: d.id, personId: grace, embedding: newFace('d', { seed: 4 }).embedding }]);
      // From the start, a face added then removed is only removed.
      const all = await store.embeddingChangesSince(0);
      assert.deepEqual(sorted(all.removed), sorted([a.id, b.id, c.id]));
      assert.deepEqual(all.added.map((f) => f.faceId), [d.id]);
    });

    void it('never hands out a removed face or person id again', async () => {
      const ada = await withPerson();
      const [a] = await store.addFaces(ada, [newFace('a')]);
      assert.ok(a);
      await store.removeFace(a.id);
      const [b] = await store.addFaces(ada, [newFace('b')]);
      assert.ok(b && b.id > a.id);
      await store.removePerson(ada);
      assert.ok((await store.upsertPerson('Grace')).id > ada);
    });

    void it('says the log is incomplete for a change number from the future (a restored gallery)', async () => {
      const ada = await withPerson();
      await store.addFaces(ada, [newFace('a')]);
      const { changeSeq } = await store.embeddingChangesSince(0);
      const future = await store.embeddingChangesSince(changeSeq + 5);
      assert.equal(future.complete, false);
      assert.deepEqual([future.added, future.removed], [[], []]);
    });

    void it("shows one connection's writes to another", async () => {
      const [writer, reader] = await openTwice();
      try {
        await writer.ensureModel(MODEL);
        const { changeSeq } = await reader.loadEmbeddings();
        const ada = await writer.upsertPerson('Ada');
        const [a, b] = await writer.addFaces(ada.id, [newFace('a', { seed: 5 }), newFace('b', { seed: 6 })]);
        assert.ok(a && b);
        const seen = await reader.embeddingChangesSince(changeSeq);
        assert.deepEqual(seen.added.map((f) => f.faceId).sort((x, y) => x - y), sorted([a.id, b.id]));
        await writer.removeFace(a.id);
        const next = await reader.embeddingChangesSince(seen.changeSeq);
        assert.deepEqual(next.removed, [a.id]);
        assert.deepEqual(next.added, []);
      } finally {
        await Promise.all([writer.close(), reader.close()]);
      }
    });

    void it('keeps one face when two connections add the same photo for one person at once', async () => {
      // Two queue workers running the same job (one thought dead, still running): the second must be a no-op.
      const [first, second] = await openTwice();
      try {
        await first.ensureModel(MODEL);
        const ada = await first.upsertPerson('Ada');
        const added = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? first : second).addFaces(ada.id, [newFace('same')])),
        );
        assert.equal(added.flat().length, 1, 'exactly one call added the face; the others skipped it');
        assert.equal(await second.countFaces(), 1);
        assert.deepEqual(await first.enrolledContent(), new Map([[hash('same'), new Set(['Ada'])]]));
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });
  });

  void describe('database search (stores with nearestPeople: PostgreSQL with pgvector)', () => {
    const store = storePerTest(open);

    const noSearch = 'this store searches in memory, not in the database';

    void it('ranks people by their closest face, as exact search does', async (t) => {
      if (!store.nearestPeople) return t.skip(noSearch);
      await store.ensureModel(MODEL);
      const exact = new FlatIndex(MODEL.dimensions);
      for (let p = 0; p < 12; p++) {
        const personId = (await store.upsertPerson(`person ${p}`)).id;
        const faces = Array.from({ length: 1 + (p % 4) }, (_, f) => newFace(`${p}/${f}`, { seed: 100 + p * 7 + f }));
        (await store.addFaces(personId, faces)).forEach((face, i) => exact.add(face.id, personId, faces[i]!.embedding));
      }
      for (const seed of [3, 100, 140, 171]) {
        const query = embedding(seed);
        const want = exact.searchPeople(query, 5);
        const got = await store.nearestPeople(query, 5);
        assert.deepEqual(got.map((m) => [m.personId, m.faceId]), want.map((m) => [m.personId, m.faceId]));
        got.forEach((m, i) => assert.ok(Math.abs(m.distance - want[i]!.distance) < 1e-5, `${m.distance} vs ${want[i]!.distance}`));
      }
      assert.deepEqual(await store.nearestPeople(embedding(3), 0), []);
      assert.equal((await store.nearestPeople(embedding(3), 50)).length, 12);
      await rejectsWith(store.nearestPeople(new Float32Array(3), 5), 'invalid_input');
    });

    void it('never returns removed faces or people, and finds faces another connection adds', async (t) => {
      if (!store.nearestPeople) return t.skip(noSearch);
      const [writer, reader] = await openTwice();
      try {
        await writer.ensureModel(MODEL);
        const ada = (await writer.upsertPerson('Ada')).id;
        const grace = (await writer.upsertPerson('Grace')).id;
        const [a1, a2] = await writer.addFaces(ada, [newFace('a1', { seed: 1 }), newFace('a2', { seed: 2 })]);
        const [g1] = await writer.addFaces(grace, [newFace('g1', { seed: 3 })]);
        assert.ok(a1 && a2 && g1);
        assert.equal((await reader.nearestPeople!(embedding(1), 1))[0]?.faceId, a1.id);
        await writer.removeFace(a1.id);
        const afterFace = await reader.nearestPeople!(embedding(1), 5);
        assert.ok(afterFace.every((m) => m.faceId !== a1.id));
        assert.equal(afterFace.find((m) => m.personId === ada)?.faceId, a2.id);
        await writer.removePerson(ada);
        assert.deepEqual((await reader.nearestPeople!(embedding(1), 5)).map((m) => m.personId), [grace]);
      } finally {
        await Promise.all([writer.close(), reader.close()]);
      }
    });
  });
}
