import assert from 'node:assert/strict';
import { copyFile, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusteredGallery, FACEAPI_128 } from '../../test/clustered-embeddings.js';
import { tempDir } from '../../test/fixtures.js';
import { FlatIndex } from '../core/flat-index.js';
import type { SearchIndex } from './search-index.js';
import type { ModelInfo } from '../core/types.js';
import { openSqliteStore } from '../store/sqlite/store.js';
import type { GalleryStore } from '../store/store.js';
import { AnnIndex, annOptionsFor } from './ann-index.js';
import { indexPath, openSearchIndex, persistSearchIndex } from './open-index.js';
import { sketchSettingsFor } from './sketch-settings.js';

/*
 * Which index a real SQLite gallery gets, and what happens to a saved ANN index that no longer matches the gallery
 * beside it: each case must end with an index that answers as exact search over the gallery as it is now.
 */
const MODEL: ModelInfo = { id: 'open-index-test', version: '1', dimensions: 128, metric: 'euclidean', defaultThreshold: 0.4 };
const gallery = new ClusteredGallery(FACEAPI_128, 77);
const noModel = (): Promise<ModelInfo> => Promise.reject(new Error('the gallery is pinned'));

/** Enrolls people first..last (their gallery photos) into the store. */
async function enroll(store: GalleryStore, first: number, last: number): Promise<void> {
  await store.ensureModel(MODEL);
  for (let identity = first; identity <= last; identity++) {
    const person = await store.upsertPerson(`person ${identity}`);
    const faces = Array.from({ length: gallery.photosOf(identity) }, (_, photo) => ({
      sourcePath: null,
      contentHash: `${identity}-${photo}`.padEnd(64, '0'),
      box: { x: 0, y: 0, width: 100, height: 100 },
      detectionScore: 0.9,
      embedding: gallery.photo(identity, photo),
      crop: null,
    }));
    await store.addFaces(person.id, faces);
  }
}

/** The index answers as exact search over the store's current embeddings, for probes of people first..last. */
async function assertAnswersAsExact(store: GalleryStore, index: SearchIndex, first: number, last: number): Promise<void> {
  const exact = FlatIndex.fromSnapshot(await store.loadEmbeddings());
  assert.equal(index.size, exact.size);
  for (let identity = first; identity <= last; identity += 7) {
    const probe = gallery.probe(identity);
    assert.deepEqual(
      index.searchPeople(probe, 3).map((m) => m.personId),
      exact.searchPeople(probe, 3).map((m) => m.personId),
    );
  }
}

/** The HNSW index (`ann`), saved beside the gallery; `auto` with the threshold for the cases where the kind depends on size. */
const settings = (db: string) => ({ db, index: 'ann' as const, annThreshold: 100_000, indexCacheDir: undefined });
const auto = (db: string, annThreshold: number) => ({ db, index: 'auto' as const, annThreshold, indexCacheDir: undefined });

describe('openSearchIndex on a real SQLite gallery', () => {
  it('gives, with auto, the exact index below the threshold and the sketch search from it on, neither saved', async () => {
    const db = join(await tempDir(), 'g.sqlite');
    const store = await openSqliteStore(db);
    try {
      await enroll(store, 1, 30);
      const faces = await store.countFaces();
      const below = await openSearchIndex(store, auto(db, faces + 1), noModel);
      assert.ok(below.index instanceof FlatIndex && below.index.sketch === undefined);
      const above = await openSearchIndex(store, auto(db, faces), noModel);
      assert.ok(above.index instanceof FlatIndex);
      assert.deepEqual(above.index.sketch, sketchSettingsFor(MODEL.dimensions));
      await assertAnswersAsExact(store, above.index, 1, 30);
      await persistSearchIndex(store, auto(db, faces), above);
      assert.deepEqual((await readdir(dirname(db))).filter((f) => f.includes('.ann-')), []);
    } finally {
      await store.close();
    }
  });

  it('gives, with ann, the HNSW index, saved beside the file, and auto removes what it saved', async () => {
    const db = join(await tempDir(), 'g.sqlite');
    const store = await openSqliteStore(db);
    try {
      await enroll(store, 1, 30);
      const faces = await store.countFaces();
      const above = await openSearchIndex(store, settings(db), noModel);
      assert.ok(above.index instanceof AnnIndex);
      assert.equal(above.savedSeq, above.changeSeq);
      // The build worker's graph file became the saved graph: nothing else is left beside the gallery.
      assert.deepEqual((await readdir(dirname(db))).filter((f) => f.includes('.ann-')).sort(), ['.graph', '.faces', '.json'].map((ext) => `${basename(indexPath(settings(db), MODEL)!)}${ext}`).sort());
      await assertAnswersAsExact(store, above.index, 1, 30);
      const loaded = await openSearchIndex(store, settings(db), noModel);
      assert.equal(loaded.rejected, undefined);
      assert.equal(loaded.savedSeq, above.changeSeq);
      assert.deepEqual((loaded.index as AnnIndex).faces(), above.index.faces());
      assert.equal(above.index.options.expansionSearch, 256);
      const wider = await openSearchIndex(store, { ...settings(db), annEfSearch: 700 }, noModel);
      assert.equal(wider.rejected, undefined, 'ef_search is no reason to rebuild');
      assert.equal((wider.index as AnnIndex).options.expansionSearch, 700);
      assert.equal(indexPath({ db: ':memory:', indexCacheDir: undefined }, MODEL), undefined);
      assert.equal(indexPath({ db: 'postgres://u:pw@h/db', indexCacheDir: undefined }, MODEL), undefined);
      assert.ok(!indexPath({ db: 'postgres://u:pw@h/db', indexCacheDir: '/cache' }, MODEL)!.includes('pw'));
      // Only `ann` keeps its files: under auto they would go stale (and hold faces erased meanwhile).
      await openSearchIndex(store, auto(db, faces), noModel);
      assert.deepEqual((await readdir(dirname(db))).filter((f) => f.includes('.ann-')), []);
    } finally {
      await store.close();
    }
  });

  it('catches a stale saved index up from the change log', async () => {
    const db = join(await tempDir(), 'g.sqlite');
    const store = await openSqliteStore(db);
    try {
      await enroll(store, 1, 40);
      await openSearchIndex(store, settings(db), noModel);
      await enroll(store, 41, 60);
      await store.removePerson((await store.findPersonByName('person 3'))!.id);
      const loaded = await openSearchIndex(store, settings(db), noModel);
      assert.equal(loaded.rejected, undefined);
      assert.ok(loaded.changeSeq > loaded.savedSeq!);
      await assertAnswersAsExact(store, loaded.index, 1, 60);
      await persistSearchIndex(store, settings(db), loaded);
      assert.equal(loaded.savedSeq, loaded.changeSeq);
    } finally {
      await store.close();
    }
  });

  it('rebuilds for a gallery restored from an older copy (the index is from its future)', async () => {
    const dir = await tempDir();
    const db = join(dir, 'g.sqlite');
    let store = await openSqliteStore(db);
    await enroll(store, 1, 40);
    await store.close();
    await copyFile(db, join(dir, 'backup.sqlite'));
    store = await openSqliteStore(db);
    await enroll(store, 41, 60);
    await openSearchIndex(store, settings(db), noModel);
    await store.close();
    await copyFile(join(dir, 'backup.sqlite'), db);
    store = await openSqliteStore(db);
    try {
      const reopened = await openSearchIndex(store, settings(db), noModel);
      assert.equal(reopened.rejected, 'the gallery changed in ways the change log no longer covers');
      await assertAnswersAsExact(store, reopened.index, 1, 40);
    } finally {
      await store.close();
    }
  });

  it('rebuilds an index saved with other graph settings (an older release’s defaults) and saves it with the current ones', async () => {
    const db = join(await tempDir(), 'g.sqlite');
    const store = await openSqliteStore(db);
    try {
      await enroll(store, 1, 40);
      const current = annOptionsFor(MODEL.dimensions, await store.countFaces());
      const older = { ...current, connectivity: current.connectivity / 2, expansionAdd: current.expansionAdd / 2 };
      const saved = await openSearchIndex(store, settings(db), noModel, older);
      assert.deepEqual((saved.index as AnnIndex).options, older);
      const reopened = await openSearchIndex(store, settings(db), noModel);
      assert.equal(reopened.rejected, 'other index settings');
      assert.deepEqual((reopened.index as AnnIndex).options, current);
      await assertAnswersAsExact(store, reopened.index, 1, 40);
      const again = await openSearchIndex(store, settings(db), noModel);
      assert.equal(again.rejected, undefined, 'the rebuilt index was saved with the current settings');
      assert.deepEqual((again.index as AnnIndex).options, current);
    } finally {
      await store.close();
    }
  });

  it('rebuilds for another gallery created at the same path', async () => {
    const db = join(await tempDir(), 'g.sqlite');
    let store = await openSqliteStore(db);
    await enroll(store, 1, 40);
    await openSearchIndex(store, settings(db), noModel);
    await store.close();
    await rm(db);
    store = await openSqliteStore(db);
    try {
      await enroll(store, 101, 140);
      const reopened = await openSearchIndex(store, settings(db), noModel);
      assert.equal(reopened.rejected, 'another gallery');
      await assertAnswersAsExact(store, reopened.index, 101, 140);
    } finally {
      await store.close();
    }
  });
});
