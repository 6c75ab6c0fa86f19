import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FlatIndex } from '../core/flat-index.js';
import type { ModelInfo } from '../core/types.js';
import { isFacedbError, type ErrorCode } from '../errors/errors.js';
import type { GalleryStore, NewFace } from './store.js';
import { runUnnamedFacesContract } from './unnamed.contract.js';
import { runCalibrationContract } from './calibration.contract.js';

/** How a driver's test makes the storage faults the contract checks, each as real as the driver allows. */
export interface StorageFaultFactories {
  /**
   * A new, empty, writable gallery, and a way to open the same gallery again as a store that cannot write
   * to it (a read-only file or mount, a read-only database role), as another process would get it.
   */
  openWithReadOnlyTwin?(): Promise<{ store: GalleryStore; openReadOnly: () => Promise<GalleryStore> }>;
  /**
   * Makes the gallery behind `store` full for its next writes (a real "disk full" error from the database);
   * resolves to a function that makes room again. Absent where the driver cannot be made full in a test.
   */
  fillUp?(store: GalleryStore): Promise<() => Promise<void>>;
}

/**
 * The behaviour every GalleryStore must have, written against the interface only. Each
 * implementation's test file calls this with factories: `open` must return a new, empty,
 * unpinned gallery on every call (each test closes the one it got), and `openTwice` two separate
 * connections to one new, empty gallery, as two processes would have; `faults` makes storage faults.
 */
export function runGalleryStoreContract(
  name: string,
  open: () => Promise<GalleryStore>,
  openTwice: () => Promise<[GalleryStore, GalleryStore]>,
  faults: StorageFaultFactories,
): void {
  void describe(`GalleryStore contract: ${name}`, () => {
    let store: GalleryStore;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    /** A pinned gallery with one person, the starting point of most face tests. */
    async function withPerson(personName = 'Ada'): Promise<number> {
      await store.ensureModel(MODEL);
      return (await store.upsertPerson(personName)).id;
    }

    void describe('model pinning', () => {
      void it('starts unpinned and pins to the first model', async () => {
        assert.equal(await store.getModel(), null);
        await store.ensureModel(MODEL);
        assert.deepEqual(await store.getModel(), MODEL);
      });

      void it('accepts the same model again', async () => {
        await store.ensureModel(MODEL);
        await store.ensureModel({ ...MODEL });
        assert.deepEqual(await store.getModel(), MODEL);
      });

      void it('refuses another model, naming both, and keeps the pin', async () => {
        await store.ensureModel(MODEL);
        for (const other of [
          { ...MODEL, version: '2' },
          { ...MODEL, id: 'other-model' },
          { ...MODEL, dimensions: 16 },
        ]) {
          const error = await rejectsWith(store.ensureModel(other), 'model_mismatch');
          assert.match(error.message, new RegExp(`${MODEL.id}.*${MODEL.version}`));
          assert.match(error.message, new RegExp(`${other.id}.*${other.version}`));
        }
        assert.deepEqual(await store.getModel(), MODEL);
      });

      void it('refuses a malformed model', async () => {
        await rejectsWith(store.ensureModel({ ...MODEL, dimensions: 0 }), 'invalid_input');
        await rejectsWith(store.ensureModel({ ...MODEL, id: '' }), 'invalid_input');
        assert.equal(await store.getModel(), null);
      });
    });

    void describe('people', () => {
      void it('upserts by name, refusing a look-alike of an existing person and naming them', async () => {
        const ada = await store.upsertPerson('Ada');
        assert.equal(ada.name, 'Ada');
        assert.equal(ada.faceCount, 0);
        assert.ok(!Number.isNaN(Date.parse(ada.createdAt)), `createdAt ${ada.createdAt} is a date`);
        assert.deepEqual(await store.upsertPerson('Ada'), ada);
        const bono = await store.upsertPerson('Bono');
        // Case, Cyrillic о (U+043E), Greek Ο (U+039F), a zero for the o, fullwidth letters.
        for (const lookalike of ['ada', 'ADA', 'B\u043eno', 'B\u039fNO', 'B0no', '\uff22\uff4f\uff4e\uff4f']) {
          const error = await rejectsWith(store.upsertPerson(lookalike), 'invalid_input');
          assert.match(error.message, /looks like the existing person "(Ada|Bono)"/);
        }
        assert.deepEqual((await store.listPeople({ limit: 10, offset: 0 })).items.map((p) => p.id), [ada.id, bono.id]);
        // Accents are not look-alikes: these are different names.
        const jose = await store.upsertPerson('Jose');
        const joseAccent = await store.upsertPerson('José');
        assert.notEqual(jose.id, joseAccent.id);
      });

      void it('stores names NFC-normalised with single spaces, and finds them by either form', async () => {
        const decomposed = '  Jose\u0301\u00a0 Pitt ';
        const person = await store.upsertPerson(decomposed);
        assert.equal(person.name, 'Jos\u00e9 Pitt');
        assert.equal((await store.upsertPerson('José Pitt')).id, person.id);
        assert.equal((await store.findPersonByName(decomposed))?.id, person.id);
        assert.equal((await store.findPersonByName('José Pitt'))?.id, person.id);
      });

      void it('refuses control and format characters, lone surrogates, noncharacters and over-long names', async () => {
        const refused = [
          'Bono\u0000', // NUL (PostgreSQL text cannot even hold it)
          'Bono\u001b[31m', // ESC: terminal escape sequence
          'Bono\nVox', // newline
          'Bono\u200b', // zero-width space
          '\u202eonoB', // right-to-left override
          'Bo\u2066no\u2069', // bidi isolates
          'Bono\ufeff', // BOM
          'Bono\ud800', // lone high surrogate
          'Bono\udc00', // lone low surrogate
          'Bono\ufdd0', // noncharacter
          'Bono\uffff', // noncharacter
          'Bono\ue000', // private use
          'x'.repeat(101),
          '\u00a0 \u3000',
        ];
        for (const name of refused) {
          const error = await rejectsWith(store.upsertPerson(name), 'invalid_input');
          // The message names the character by code point and never echoes it.
          assert.ok(![...error.message].some((char) => /[\p{Cc}\p{Cf}\p{Cs}]/u.test(char)), `the message echoes the name: ${JSON.stringify(error.message)}`);
          assert.equal(await store.findPersonByName(name), null);
        }
        assert.equal((await store.listPeople({ limit: 10, offset: 0 })).total, 0);
        // Exactly at the limit, counted in code points (each 😀 is two UTF-16 units).
        const longest = await store.upsertPerson('😀'.repeat(100));
        assert.equal([...longest.name].length, 100);
      });

      void it('sees a look-alike another connection created, and forgets one that was removed', async () => {
        const [first, second] = await openTwice();
        try {
          await first.upsertPerson('Zed'); // `first` has now read the names it knows of
          const bono = await second.upsertPerson('Bono');
          await rejectsWith(first.upsertPerson('B\u043eno'), 'invalid_input');
          await second.removePerson(bono.id);
          const cyrillic = await first.upsertPerson('B\u043eno');
          assert.equal(cyrillic.name, 'B\u043eno');
          await rejectsWith(second.upsertPerson('Bono'), 'invalid_input');
        } finally {
          await Promise.all([first.close(), second.close()]);
        }
      });

      void it('gets and finds people, null when unknown', async () => {
        const ada = await store.upsertPerson('Ada Lovelace');
        assert.deepEqual(await store.getPerson(ada.id), ada);
        assert.deepEqual(await store.findPersonByName('Ada Lovelace'), ada);
        assert.equal(await store.findPersonByName('ADA LOVELACE'), null);
        assert.equal(await store.findPersonByName('Ada'), null);
        assert.equal(await store.getPerson(ada.id + 1000), null);
      });

      void it('refuses an empty name', async () => {
        await rejectsWith(store.upsertPerson(''), 'invalid_input');
        await rejectsWith(store.upsertPerson('   '), 'invalid_input');
      });

      void it('lists people in creation order, page by page', async () => {
        const names = ['Zoe', 'Ada', 'Marie', 'Émilie', 'Grace'];
        for (const n of names) await store.upsertPerson(n);
        const seen: string[] = [];
        for (let offset = 0; offset < names.length; offset += 2) {
          const page = await store.listPeople({ limit: 2, offset });
          assert.equal(page.total, names.length);
          assert.ok(page.items.length <= 2);
          seen.push(...page.items.map((p) => p.name));
        }
        assert.deepEqual(seen, names);
        assert.deepEqual(await store.listPeople({ limit: 10, offset: 10 }), { items: [], total: 5 });
        assert.deepEqual(await store.listPeople({ limit: 0, offset: 0 }), { items: [], total: 5 });
      });

      void it('refuses a malformed page', async () => {
        await rejectsWith(store.listPeople({ limit: -1, offset: 0 }), 'invalid_input');
        await rejectsWith(store.listPeople({ limit: 10, offset: 1.5 }), 'invalid_input');
      });

      void it('counts faces per person', async () => {
        const id = await withPerson();
        await store.addFaces(id, [newFace('a'), newFace('b')]);
        assert.equal((await store.getPerson(id))?.faceCount, 2);
        assert.equal((await store.listPeople({ limit: 10, offset: 0 })).items[0]?.faceCount, 2);
      });
    });

    void describe('faces', () => {
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

    void describe('embeddings', () => {
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
      const sorted = (ids: Iterable<number>): number[] => [...ids].sort((a, b) => a - b);

      void it('lists the faces added and removed after a change number, with their embeddings', async () => {
        const ada = await withPerson();
        const grace = (await store.upsertPerson('Grace')).id;
        const start = await store.loadEmbeddings();
        assert.equal(start.changeSeq, 0);
        assert.deepEqual(await store.embeddingChangesSince(0), { changeSeq: 0, complete: true, added: [], removed: [] });

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

    void it('answers ping', async () => {
      await store.ping();
    });

    runUnnamedFacesContract(open, openTwice);
    runCalibrationContract(open, openTwice);
    void describe('storage faults', () => {
      void it('reads a gallery it cannot write, and refuses every write with storage_unavailable', async (t) => {
        if (faults.openWithReadOnlyTwin === undefined) {
          t.skip('this driver has no read-only twin in a test (the same store code is tested read-only on another)');
          return;
        }
        const { store: writer, openReadOnly } = await faults.openWithReadOnlyTwin();
        let reader: GalleryStore | undefined;
        try {
          await writer.ensureModel(MODEL);
          const ada = await writer.upsertPerson('Ada');
          const [face] = await writer.addFaces(ada.id, [newFace('a')]);
          assert.ok(face);
          reader = await openReadOnly();
          assert.deepEqual(await reader.getModel(), MODEL);
          assert.deepEqual((await reader.listPeople({ limit: 10, offset: 0 })).items.map((p) => p.name), ['Ada']);
          assert.equal((await reader.findPersonByName('Ada'))?.id, ada.id);
          assert.deepEqual([...(await reader.loadEmbeddings()).faceIds], [face.id]);
          assert.deepEqual(await reader.getFaceCrop(face.id), newFace('a').crop);
          await reader.ping();
          const readOnly = reader;
          const refusals: Array<() => Promise<unknown>> = [
            () => readOnly.ensureModel(MODEL),
            () => readOnly.upsertPerson('Grace'),
            () => readOnly.addFaces(ada.id, [newFace('b')]),
            () => readOnly.removeFace(face.id),
            () => readOnly.removePerson(ada.id),
          ];
          for (const refusal of refusals) {
            const error = await rejectsWith(refusal(), 'storage_unavailable');
            assert.match(error.message, /read-only/);
          }
          // Opened read-only, it is working as opened: still ready.
          await reader.ping();
          assert.equal(await writer.countFaces(), 1);
          assert.equal((await writer.listPeople({ limit: 10, offset: 0 })).total, 1);
        } finally {
          await reader?.close();
          await writer.close();
        }
      });

      void it('answers a full disk with storage_unavailable, keeps the gallery intact, and reports it until a write succeeds', async (t) => {
        if (faults.fillUp === undefined) {
          t.skip('this driver cannot be filled up in a test; its disk-full code is mapped and unit-tested');
          return;
        }
        const id = await withPerson();
        await store.addFaces(id, [newFace('a')]);
        const makeRoom = await faults.fillUp(store);
        const big = (key: string): NewFace => newFace(key, { crop: new Uint8Array(256 * 1024) });
        const error = await rejectsWith(store.addFaces(id, [big('b'), big('c')]), 'storage_unavailable');
        assert.match(error.message, /full/);
        await rejectsWith(store.ping(), 'storage_unavailable');
        assert.equal(await store.countFaces(), 1);
        assert.equal((await store.loadEmbeddings()).faceIds.length, 1);
        await makeRoom();
        await store.addFaces(id, [big('b')]);
        await store.ping();
        assert.equal(await store.countFaces(), 2);
      });
    });
  });
}

const MODEL: ModelInfo = {
  id: 'contract-model',
  version: '1',
  dimensions: 8,
  metric: 'euclidean',
  defaultThreshold: 0.6,
};

function hash(key: string): string {
  // Any string works as a hash for the store; this looks like the SHA-256 hex it really gets.
  return Buffer.from(key).toString('hex').padEnd(64, '0');
}

/** Deterministic embedding per seed, with values that are not exact in float64 terms. */
function embedding(seed: number): Float32Array {
  return Float32Array.from({ length: MODEL.dimensions }, (_, i) => Math.sin(seed * 31 + i) / 3);
}

function newFace(key: string, overrides: Partial<NewFace> & { seed?: number } = {}): NewFace {
  const { seed = key.length * 1000 + key.charCodeAt(0), ...rest } = overrides;
  return {
    sourcePath: null,
    contentHash: hash(key),
    box: { x: 10, y: 20.5, width: 64, height: 80 },
    detectionScore: 0.987,
    embedding: embedding(seed),
    crop: Uint8Array.of(0xff, 0xd8, seed & 0xff),
    ...rest,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFacedbError(error), `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    caught = error;
    return true;
  });
  return caught as Error;
}
