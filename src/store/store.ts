import type { PersonMatch } from '../core/search-index.js';
import type { Box, ModelInfo } from '../core/types.js';

export interface Person {
  id: number;
  name: string;
  faceCount: number;
  createdAt: string;
}

export interface Face {
  id: number;
  personId: number;
  personName: string;
  /** Where the photo came from when enrolled from disk; null for uploads. */
  sourcePath: string | null;
  /** SHA-256 (hex) of the photo's bytes: re-enrolling the same file is skipped. */
  contentHash: string;
  box: Box;
  detectionScore: number;
  modelId: string;
  modelVersion: string;
  createdAt: string;
}

export interface NewFace {
  sourcePath: string | null;
  contentHash: string;
  box: Box;
  detectionScore: number;
  embedding: Float32Array;
  /** JPEG of the aligned crop, kept for thumbnails. */
  crop: Uint8Array | null;
}

/** Every enrolled embedding in one contiguous block, row i belonging to faceIds[i] / personIds[i]. */
export interface EmbeddingSnapshot {
  dimensions: number;
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
  /** The gallery's change number when the snapshot was read; `embeddingChangesSince` continues from it. */
  changeSeq: number;
}

/**
 * What changed in the gallery's embeddings after a change number, whoever changed them (another process enrolling
 * into the same SQLite file, another server on the same PostgreSQL database).
 */
export interface EmbeddingChanges {
  /** The newest change number included: pass it to the next call. */
  changeSeq: number;
  /**
   * False when the change log no longer reaches back to the number asked for (it keeps the newest
   * CHANGE_LOG_KEPT changes) or the gallery went back in time (restored from a backup): reload the snapshot.
   */
  complete: boolean;
  /** Faces added after the number asked for that still exist. Face and person ids are never reused. */
  added: Array<{ faceId: number; personId: number; embedding: Float32Array }>;
  /** Faces removed after the number asked for. */
  removed: number[];
}

/** Changes the log keeps; a reader further behind reloads the whole snapshot. */
export const CHANGE_LOG_KEPT = 100_000;

export interface Page {
  limit: number;
  offset: number;
}

export interface PageOf<T> {
  items: T[];
  total: number;
}

/**
 * The gallery. One interface, one implementation per database (SQLite now, PostgreSQL later),
 * all held to the same contract test suite (`store.contract.ts`).
 * Every method that writes is atomic: it either fully happens or leaves the gallery unchanged.
 */
export interface GalleryStore {
  /** The model the gallery is pinned to, or null while it is empty and unpinned. */
  getModel(): Promise<ModelInfo | null>;
  /**
   * Pins an unpinned gallery to `model`; a gallery pinned to the same id+version is left alone.
   * Throws FacedbError('model_mismatch') when pinned to another model.
   */
  ensureModel(model: ModelInfo): Promise<void>;

  /** Finds a person by exact name, creating them if needed. */
  upsertPerson(name: string): Promise<Person>;
  getPerson(id: number): Promise<Person | null>;
  findPersonByName(name: string): Promise<Person | null>;
  listPeople(page: Page): Promise<PageOf<Person>>;
  /** Deletes a person with all their faces and embeddings; returns the number of faces removed. Throws not_found. */
  removePerson(id: number): Promise<number>;

  /** Adds faces to a person in one transaction. Faces whose contentHash the person already has are skipped. */
  addFaces(personId: number, faces: NewFace[]): Promise<Face[]>;
  getFace(id: number): Promise<Face | null>;
  listFaces(personId: number, page: Page): Promise<PageOf<Face>>;
  /** Throws not_found. */
  removeFace(id: number): Promise<void>;
  getFaceCrop(id: number): Promise<Uint8Array | null>;
  /** Content hash → names of the people who have that photo (for skipping files on re-runs). */
  enrolledContent(): Promise<Map<string, Set<string>>>;
  countFaces(): Promise<number>;

  /** All embeddings, to build the in-memory search index. */
  loadEmbeddings(): Promise<EmbeddingSnapshot>;
  /** Embeddings added and removed after `changeSeq`, to keep that index in sync with other writers. */
  embeddingChangesSince(changeSeq: number): Promise<EmbeddingChanges>;
  /**
   * Only stores that search in the database (PostgreSQL with pgvector, FACEDB_INDEX=pgvector): the `k` people
   * nearest to `query`, each scored by their closest face, nearest first, as the in-memory index would answer.
   */
  nearestPeople?(query: Float32Array, k: number): Promise<PersonMatch[]>;

  /** Cheap round trip, for readiness checks. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
