import type { FaceMatch, PersonMatch } from '../core/search-index.js';
import type { ModelInfo } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import type { GalleryStore } from '../store/store.js';
import {
  forgetSavedIndex,
  openSearchIndex,
  openUnnamedIndex,
  outgrewExactIndex,
  persistSearchIndex,
  replayChanges,
  type IndexSettings,
  type SyncedIndex,
} from './open-index.js';

/** Which faces a search over faces looks at: every stored face, or only those nobody named yet. */
export type FaceScope = 'all' | 'unnamed';

/**
 * The one owner of searching a gallery. Services ask it for answers (`nearestPeople`) and tell it of this process's
 * own adds and removes; it decides which index answers (exact, sketch, HNSW, or the database with FACEDB_INDEX=pgvector),
 * loads it on the first search, keeps it in step with other writers through the gallery's change log, and saves it
 * at close.
 *
 * Nothing is loaded until the first search: a queue worker or a server that has not searched yet never holds the
 * gallery in memory, and this process's writes then only reach the gallery (an index built later reads them).
 */
export class GallerySearch {
  readonly #store: GalleryStore;
  readonly #settings: IndexSettings;
  readonly #modelIfEmpty: () => Promise<ModelInfo>;
  /** The in-memory index once asked for; null when the database searches. */
  #loading: Promise<SyncedIndex | null> | undefined;
  #syncing: Promise<SyncedIndex | null> | undefined;
  /** Set by the first search over faces: from then on every sync also keeps the index of unnamed faces. */
  #wantUnnamed = false;
  readonly #onPeopleChanged: (personIds: ReadonlySet<number>) => void;

  /**
   * `modelIfEmpty` sizes the index of a gallery not yet pinned to a model (normally: the engine's model);
   * `onPeopleChanged` hears of people whose faces or name other writers changed (to forget cached names).
   */
  constructor(
    store: GalleryStore,
    settings: IndexSettings,
    modelIfEmpty: () => Promise<ModelInfo>,
    onPeopleChanged: (personIds: ReadonlySet<number>) => void = () => undefined,
  ) {
    this.#store = store;
    this.#settings = settings;
    this.#modelIfEmpty = modelIfEmpty;
    this.#onPeopleChanged = onPeopleChanged;
  }

  /** True once a search has loaded the index (or started to). */
  get loaded(): boolean {
    return this.#loading !== undefined;
  }

  /** The `k` people nearest to `query`, each scored by their closest face, nearest first. */
  async nearestPeople(query: Float32Array, k: number): Promise<PersonMatch[]> {
    return (await this.searcher())(query, k);
  }

  /**
   * Loads and syncs the index once, and answers any number of queries from that state (every face of one photo),
   * so a photo with several faces costs one sync.
   */
  async searcher(): Promise<(query: Float32Array, k: number) => Promise<PersonMatch[]>> {
    const synced = await this.#synced();
    if (synced !== null) {
      const { index } = synced;
      return (query, k) => Promise.resolve(index.searchPeople(query, k));
    }
    const store = this.#store;
    if (!store.nearestPeople) throw new FacedbError('internal', 'this gallery database cannot search embeddings');
    return (query, k) => store.nearestPeople!(query, k);
  }

  /**
   * Like `searcher`, for searches over faces ("where else does this face appear"): the `k` faces nearest to a query,
   * of people and unnamed alike (scope 'all') or unnamed only, nearest first, from the same indexes identify uses
   * (the unnamed faces get an index of the same kind, loaded on the first such search).
   */
  async faceSearcher(): Promise<(query: Float32Array, k: number, scope: FaceScope) => Promise<FaceMatch[]>> {
    this.#wantUnnamed = true;
    let synced = await this.#synced();
    // A sync that started before this call did not load the unnamed faces: the next one does.
    if (synced !== null && synced.unnamed === undefined) synced = await this.#synced();
    if (synced === null) {
      const store = this.#store;
      if (!store.nearestFaces) throw new FacedbError('internal', 'this gallery database cannot search embeddings');
      return (query, k, scope) => store.nearestFaces!(query, k, scope === 'unnamed');
    }
    const { index, unnamed } = synced;
    if (unnamed === undefined) throw new FacedbError('internal', 'the index of unnamed faces did not load');
    return (query, k, scope) => {
      const nobodys: FaceMatch[] = unnamed.searchFaces(query, k).map(({ faceId, distance }) => ({ faceId, personId: null, distance }));
      if (scope === 'unnamed') return Promise.resolve(nobodys);
      const all = [...index.searchFaces(query, k), ...nobodys].sort((a, b) => a.distance - b.distance);
      return Promise.resolve(all.slice(0, k));
    };
  }

  /** Brings a loaded index up to date with other writers (before a batch of writes); loads nothing. */
  async refresh(): Promise<void> {
    if (this.loaded) await this.#synced();
  }

  /** This process added a face to the gallery: a loaded index gets it at once. */
  async added(faceId: number, personId: number, embedding: Float32Array): Promise<void> {
    const synced = await this.#current();
    // A sync running meanwhile may have picked the new face up from the change log already.
    if (synced && !synced.index.has(faceId)) synced.index.add(faceId, personId, embedding);
  }

  /** This process removed a face from the gallery. */
  async removed(faceId: number): Promise<void> {
    const synced = await this.#current();
    synced?.index.remove(faceId);
    await forgetSavedIndex(this.#store, this.#settings, synced ?? undefined);
  }

  /** This process removed a person with every face. */
  async removedPerson(personId: number): Promise<void> {
    const synced = await this.#current();
    synced?.index.removePerson(personId);
    await forgetSavedIndex(this.#store, this.#settings, synced ?? undefined);
  }

  /**
   * Saves an ANN index that changed, so the next start loads it instead of rebuilding it. A failed save only costs
   * that rebuild. The store stays open (its owner closes it).
   */
  async close(): Promise<void> {
    const synced = await this.#current();
    this.#loading = undefined;
    if (synced) await persistSearchIndex(this.#store, this.#settings, synced).catch(() => undefined);
  }

  /** The loaded index as it is (no sync), or null/undefined when none is loaded or its load failed. */
  async #current(): Promise<SyncedIndex | null | undefined> {
    return this.#loading?.catch(() => undefined);
  }

  /**
   * The index, first brought up to date with what other processes wrote to the gallery (a CLI enrolling into the
   * file a server reads, several servers on one PostgreSQL database). This process's own writes reach the index at
   * once; the change log replays them too, which is harmless. Concurrent callers share one sync.
   */
  #synced(): Promise<SyncedIndex | null> {
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #sync(): Promise<SyncedIndex | null> {
    let synced = await this.#load();
    if (synced === null) return null;
    const replayed = await replayChanges(this.#store, synced.index, synced.changeSeq, synced.unnamed);
    if (replayed === undefined || outgrewExactIndex(this.#settings, synced.index)) {
      // Too far behind for the change log (or restored from a backup), or grown past the exact index: start again.
      this.#loading = undefined;
      synced = await this.#load();
      if (synced === null) return null;
    } else {
      synced.changeSeq = replayed.changeSeq;
      if (replayed.people.size > 0) this.#onPeopleChanged(replayed.people);
      if (replayed.removed > 0) await forgetSavedIndex(this.#store, this.#settings, synced);
      if (synced.unnamed !== undefined && outgrewExactIndex(this.#settings, synced.unnamed)) delete synced.unnamed;
    }
    if (this.#wantUnnamed && synced.unnamed === undefined) await this.#attachUnnamed(synced);
    return synced;
  }

  /**
   * Loads the index of unnamed faces beside a synced index. Inside a sync, so no other replay runs meanwhile; what
   * was read may be newer than synced.changeSeq, and replaying from there onto both indexes is harmless.
   */
  async #attachUnnamed(synced: SyncedIndex): Promise<void> {
    const unnamed = await openUnnamedIndex(this.#store, this.#settings, synced.index.dimensions);
    synced.unnamed = unnamed;
    const replayed = await replayChanges(this.#store, synced.index, synced.changeSeq, unnamed);
    if (replayed === undefined) return; // the next sync finds the log moved on too, and starts again
    synced.changeSeq = replayed.changeSeq;
    if (replayed.people.size > 0) this.#onPeopleChanged(replayed.people);
    if (replayed.removed > 0) await forgetSavedIndex(this.#store, this.#settings, synced);
  }

  #load(): Promise<SyncedIndex | null> {
    this.#loading ??= this.#open().catch((error: unknown) => {
      this.#loading = undefined; // a failed load (e.g. a busy database) must not poison later calls
      throw error;
    });
    return this.#loading;
  }

  async #open(): Promise<SyncedIndex | null> {
    if (this.#settings.index === 'pgvector') return null; // the gallery's own rows are the index
    return openSearchIndex(this.#store, this.#settings, this.#modelIfEmpty);
  }
}
