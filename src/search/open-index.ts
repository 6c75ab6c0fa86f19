import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FacedbConfig } from '../config/config.js';
import { isPostgresUrl } from '../config/config.js';
import { FlatIndex, type EmbeddingRows } from '../core/flat-index.js';
import type { ModelInfo } from '../core/types.js';
import type { GalleryStore } from '../store/store.js';
import { AnnIndex, annOptionsFor, type AnnOptions } from './ann-index.js';
import { buildAnnIndexInWorker } from './build-in-worker.js';
import { loadIndex, removeIndex, saveIndex } from './index-file.js';
import type { SearchIndex } from './search-index.js';
import { sketchSettingsFor } from './sketch-settings.js';

/** The in-memory index and the gallery change number it reflects. */
export interface SyncedIndex {
  index: SearchIndex;
  changeSeq: number;
  /** changeSeq when last saved to disk (ANN only), so an unchanged index is not written again. */
  savedSeq?: number;
  /** Why a saved index could not be used, when one was looked for (for logs and tests). */
  rejected?: string;
  /**
   * The index of faces nobody named yet (personId UNNAMED_FACE), loaded on the first search over them
   * (`facedb search`) and kept in step by the same change log from the same changeSeq; identify never loads it.
   */
  unnamed?: SearchIndex;
  /**
   * True once a face was removed from this ANN index: usearch only marks a removed node, so its graph still holds
   * the removed embedding. It is then rebuilt from the gallery before it is saved (see persistSearchIndex).
   */
  holdsRemoved?: boolean;
}

export type IndexSettings = Pick<FacedbConfig, 'db' | 'index' | 'annThreshold' | 'indexCacheDir'> & Partial<Pick<FacedbConfig, 'annEfSearch'>>;

/** The kind of in-memory index the settings ask for, for `faces` embeddings (pgvector is not one: the store answers). */
function kindFor(settings: IndexSettings, faces: number): 'exact' | 'sketch' | 'ann' {
  if (settings.index === 'ann' || settings.index === 'sketch') return settings.index;
  return settings.index === 'auto' && faces >= settings.annThreshold ? 'sketch' : 'exact';
}

/** An in-memory index over `rows` that is not an HNSW graph: exact, or sketched when `kind` says so. */
function flatIndex(rows: EmbeddingRows, kind: 'exact' | 'sketch'): Promise<FlatIndex> | FlatIndex {
  return kind === 'sketch' ? FlatIndex.fromSnapshotSketched(rows, sketchSettingsFor(rows.dimensions)) : FlatIndex.fromSnapshot(rows);
}

/**
 * The search index for a gallery, as the settings ask: exact below the threshold, else the sketch search (built
 * from the gallery in seconds, never saved); with `ann`, an HNSW index loaded from its saved files when they match
 * this gallery (then brought up to date from the change log), or built from the gallery and saved. `modelIfEmpty`
 * sizes the index of a gallery not yet pinned to a model.
 */
export async function openSearchIndex(
  store: GalleryStore,
  settings: IndexSettings,
  modelIfEmpty: () => Promise<ModelInfo>,
  chosenOptions?: AnnOptions,
): Promise<SyncedIndex> {
  const model = await store.getModel();
  if (model === null) {
    const { dimensions } = await modelIfEmpty();
    return { index: settings.index === 'sketch' ? new FlatIndex(dimensions, undefined, { settings: sketchSettingsFor(dimensions) }) : new FlatIndex(dimensions), changeSeq: 0 };
  }
  const defaults = annOptionsFor(model.dimensions, await store.countFaces());
  const options = chosenOptions ?? { ...defaults, expansionSearch: settings.annEfSearch ?? defaults.expansionSearch };
  const savedPath = indexPath(settings, model);
  // Only `ann` saves its index. Files an earlier run saved in that mode (or an older release under `auto`) would go
  // stale here, holding faces erased meanwhile: they go.
  if (settings.index !== 'ann' && savedPath !== undefined) await removeIndex(savedPath);
  const base = settings.index === 'ann' ? savedPath : undefined;
  let rejected: string | undefined;
  if (base !== undefined) {
    const gallery = await galleryIdentity(store);
    const saved = await loadIndex(base, { model, options, gallery });
    if ('rejected' in saved) rejected = saved.rejected;
    else {
      const caughtUp = await catchUp(store, saved.index, saved.changeSeq);
      if (caughtUp !== undefined) {
        const synced: SyncedIndex = { index: saved.index, changeSeq: caughtUp.changeSeq, savedSeq: saved.changeSeq };
        // Faces erased since the save are still in the saved graph: it goes now, and is written again without them.
        if (caughtUp.removed > 0) await forgetSavedIndex(store, settings, synced);
        return synced;
      }
      rejected = 'the gallery changed in ways the change log no longer covers';
      await removeIndex(base);
    }
  }
  const snapshot = await store.loadEmbeddings();
  const { changeSeq } = snapshot;
  const kind = kindFor(settings, snapshot.faceIds.length);
  if (kind !== 'ann') return { index: await flatIndex(snapshot, kind), changeSeq, ...(rejected === undefined ? {} : { rejected }) };
  // The build worker writes its graph beside the saved index, so saving moves that file instead of writing it again.
  const builtGraph = base === undefined ? undefined : `${base}.graph.build-${process.pid}-${Date.now()}`;
  const index = await buildAnnIndexInWorker(snapshot.dimensions, snapshot, options, builtGraph);
  const synced: SyncedIndex = { index, changeSeq, ...(rejected === undefined ? {} : { rejected }) };
  await persistSearchIndex(store, settings, synced, builtGraph);
  return synced;
}

/**
 * Saves an ANN index that changed since it was last saved (at close, after a build). Exact indexes are not saved.
 * `builtGraph`: the graph file its build wrote and nothing has changed since (see saveIndex); removed in any case.
 */
export async function persistSearchIndex(store: GalleryStore, settings: IndexSettings, synced: SyncedIndex, builtGraph?: string): Promise<void> {
  const discard = async (): Promise<void> => {
    if (builtGraph !== undefined) await rm(builtGraph, { force: true });
  };
  if (!(synced.index instanceof AnnIndex) || (synced.savedSeq === synced.changeSeq && !synced.holdsRemoved)) return discard();
  const model = await store.getModel();
  const base = model === null ? undefined : indexPath(settings, model);
  if (model === null || base === undefined) return discard();
  if (synced.holdsRemoved) {
    // A removed node keeps its vector in the graph (usearch marks it only, and cannot compact): saving this graph
    // would write erased faces' embeddings to disk. The gallery's current faces are built into a fresh graph instead.
    await discard();
    const snapshot = await store.loadEmbeddings();
    const graph = `${base}.graph.build-${process.pid}-${Date.now()}`;
    const rebuilt = await buildAnnIndexInWorker(snapshot.dimensions, snapshot, synced.index.options, graph);
    await saveIndex(base, rebuilt, { model, gallery: await galleryIdentity(store), changeSeq: snapshot.changeSeq }, graph);
    Object.assign(synced, { index: rebuilt, changeSeq: snapshot.changeSeq, savedSeq: snapshot.changeSeq, holdsRemoved: false });
    return;
  }
  await saveIndex(base, synced.index, { model, gallery: await galleryIdentity(store), changeSeq: synced.changeSeq }, builtGraph);
  synced.savedSeq = synced.changeSeq;
}

/**
 * After a face is removed: the saved ANN files (which may hold its embedding) are deleted at once, and a loaded ANN
 * index is rebuilt before it is saved again. Without a loaded index (a CLI `remove`) only the files go; the next
 * start builds the index from the gallery.
 */
export async function forgetSavedIndex(store: GalleryStore, settings: IndexSettings, synced: SyncedIndex | undefined): Promise<void> {
  if (synced?.index instanceof AnnIndex) synced.holdsRemoved = true;
  // Also without an ANN index loaded: files an earlier run saved (before the gallery shrank, or another mode) go too.
  const model = await store.getModel();
  const base = model === null ? undefined : indexPath(settings, model);
  if (base !== undefined) await removeIndex(base);
}

/**
 * Replays the gallery's change log after `changeSeq` onto an index: the one place other writers' adds and removes
 * reach this process. Undefined when the log no longer reaches back that far (the index must be built again).
 */
export async function replayChanges(
  store: GalleryStore,
  index: SearchIndex,
  changeSeq: number,
  unnamed?: SearchIndex,
): Promise<{ changeSeq: number; removed: number; people: Set<number> } | undefined> {
  const changes = await store.embeddingChangesSince(changeSeq);
  if (!changes.complete) return undefined;
  let removed = 0;
  // People whose faces or name changed (a face moved away or to them, a rename): their cached names are stale.
  const people = new Set<number>();
  for (const faceId of changes.removed) {
    const person = index.personOf(faceId);
    if (person !== undefined) people.add(person);
    if (index.remove(faceId)) removed += 1;
    unnamed?.remove(faceId);
  }
  for (const { faceId, personId, embedding } of changes.added) {
    unnamed?.remove(faceId); // a cluster named, an unnamed face moved to a person
    people.add(personId);
    const indexedUnder = index.personOf(faceId);
    if (indexedUnder === personId) continue; // this process's own add, or a rename: already right
    if (indexedUnder !== undefined) {
      // Moved to another person (facedb move, merge): indexed again under the new one.
      people.add(indexedUnder);
      index.remove(faceId); // not erased, only moved: no saved index has to go for it
    }
    index.add(faceId, personId, embedding);
  }
  for (const { faceId, embedding } of changes.unnamed) {
    // A face taken from its person (facedb unassign): out of the people's index, into the unnamed faces'.
    const person = index.personOf(faceId);
    if (person !== undefined) people.add(person);
    if (index.remove(faceId)) removed += 1;
    if (unnamed && !unnamed.has(faceId)) unnamed.add(faceId, UNNAMED_FACE, embedding);
  }
  return { changeSeq: Math.max(changeSeq, changes.changeSeq), removed, people };
}

/** The person id the index of unnamed faces files every face under (real person ids start at 1). */
export const UNNAMED_FACE = 0;

/**
 * The index of the gallery's unnamed faces, of the kind the settings ask for at its size (exact below the
 * threshold, else the sketch search; with `ann` an HNSW graph built in a worker). Not saved to disk: it is built
 * again at each start. The caller replays the change log from a number read before this (re-applying a change is
 * harmless).
 */
export async function openUnnamedIndex(store: GalleryStore, settings: IndexSettings, dimensions: number): Promise<SearchIndex> {
  const faces = await store.loadUnnamedEmbeddings();
  const rows = {
    dimensions,
    faceIds: Int32Array.from(faces, (face) => face.faceId),
    personIds: new Int32Array(faces.length).fill(UNNAMED_FACE),
    vectors: new Float32Array(faces.length * dimensions),
  };
  faces.forEach((face, row) => rows.vectors.set(face.embedding, row * dimensions));
  const kind = kindFor(settings, faces.length);
  if (kind !== 'ann') return flatIndex(rows, kind);
  const defaults = annOptionsFor(dimensions, faces.length);
  return buildAnnIndexInWorker(dimensions, rows, { ...defaults, expansionSearch: settings.annEfSearch ?? defaults.expansionSearch });
}

/**
 * True when `auto` should move a growing exact index over to the sketch search (at the next sync); the move rebuilds
 * from the gallery. Shrinking back is not worth a rebuild.
 */
export function outgrewExactIndex(settings: IndexSettings, index: SearchIndex): boolean {
  return settings.index === 'auto' && index instanceof FlatIndex && index.sketch === undefined && index.size >= settings.annThreshold;
}

/**
 * Where a gallery's ANN index is saved: beside a SQLite file, or in the cache directory (required for PostgreSQL,
 * optional for SQLite). Undefined when it cannot be saved (an in-memory SQLite gallery, PostgreSQL without a cache
 * directory).
 */
export function indexPath(settings: Pick<IndexSettings, 'db' | 'indexCacheDir'>, model: ModelInfo): string | undefined {
  const modelTag = `${model.id}@${model.version}`.replace(/[^A-Za-z0-9@._-]/g, '_');
  const postgres = isPostgresUrl(settings.db);
  if (settings.indexCacheDir !== undefined) {
    // The URL or path names the gallery; its hash keeps passwords out of file names.
    const where = createHash('sha256').update(settings.db).digest('hex').slice(0, 16);
    return join(settings.indexCacheDir, `facedb-ann-${where}-${modelTag}`);
  }
  if (postgres || settings.db === ':memory:' || settings.db === '') return undefined;
  return `${settings.db}.ann-${modelTag}`;
}

/**
 * What tells this gallery from another one at the same path or URL (a deleted and re-created file, a restored
 * dump): the oldest remaining person's id, name and creation time. A change makes a saved index unusable, which only
 * costs a rebuild.
 */
export async function galleryIdentity(store: GalleryStore): Promise<string> {
  const first = (await store.listPeople({ limit: 1, offset: 0 })).items[0];
  const text = first === undefined ? 'empty' : `${first.id}\u0000${first.name}\u0000${first.createdAt}`;
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Replays the change log onto a loaded index; undefined when the log no longer reaches back that far, or the face
 * count then disagrees with the gallery's (the saved index is not this gallery's).
 */
async function catchUp(store: GalleryStore, index: AnnIndex, changeSeq: number): Promise<{ changeSeq: number; removed: number } | undefined> {
  const replayed = await replayChanges(store, index, changeSeq);
  if (replayed === undefined || index.size !== (await store.countFaces())) return undefined;
  return replayed;
}
