import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { GalleryStore, NewFace } from './store.js';
import { MODEL, newFace, rejectsWith, type OpenStore, type OpenTwice, pinnedPerson } from './contract-fixtures.js';
import { runEmbeddingsContract } from './embeddings.contract.js';
import { runFacesContract } from './faces.contract.js';
import { runPeopleContract } from './people.contract.js';
import { runUnnamedFacesContract } from './unnamed.contract.js';
import { runCalibrationContract } from './calibration.contract.js';
import { runCurationContract } from './curation.contract.js';

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
 * The behaviour every GalleryStore must have, written against the interface only, in parts by what is stored
 * (people, faces, embeddings, unnamed faces) like the drivers. Each implementation's test file calls this with
 * factories: `open` must return a new, empty, unpinned gallery on every call (each test closes the one it got),
 * and `openTwice` two separate connections to one new, empty gallery, as two processes would have; `faults`
 * makes storage faults.
 */
export function runGalleryStoreContract(name: string, open: OpenStore, openTwice: OpenTwice, faults: StorageFaultFactories): void {
  void describe(`GalleryStore contract: ${name}`, () => {
    void describe('model pinning', () => {
      let store: GalleryStore;
      beforeEach(async () => {
        store = await open();
      });
      afterEach(async () => {
        await store.close();
      });

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

    runPeopleContract(open, openTwice);
    runFacesContract(open, openTwice);
    runEmbeddingsContract(open, openTwice);
    runUnnamedFacesContract(open, openTwice);
    runCalibrationContract(open, openTwice);
    runCurationContract(open, openTwice);

    void describe('readiness', () => {
      let store: GalleryStore;
      beforeEach(async () => {
        store = await open();
      });
      afterEach(async () => {
        await store.close();
      });

      void it('answers ping', async () => {
        await store.ping();
      });
    });

    void describe('storage faults', () => {
      let store: GalleryStore;
      beforeEach(async () => {
        store = await open();
      });
      afterEach(async () => {
        await store.close();
      });

      const withPerson = (personName?: string): Promise<number> => pinnedPerson(store, personName);

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
