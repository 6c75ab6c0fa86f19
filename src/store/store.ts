import type { FaceMatch, PersonMatch } from '../core/search-index.js';
import type { Box, ModelInfo } from '../core/types.js';
import type { GalleryCalibration } from './calibration.js';

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
  /**
   * The photo's own bytes, kept when there is no source path to read it from again (uploads), so the face can be
   * re-embedded by another model later (`facedb reembed`). Removed with the face.
   */
  photo?: Uint8Array | null;
  /** The file name an upload came with (none for photos read from disk). */
  uploadName?: string | null;
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
  /**
   * Faces of people added (or given to a person) after the number asked for that still exist. Face and person ids
   * are never reused.
   */
  added: Array<{ faceId: number; personId: number; embedding: Float32Array }>;
  /**
   * Faces without a person added (or taken from their person) after the number asked for that still exist: the
   * search over unnamed faces (`facedb search`) follows them as the people's index follows `added`.
   */
  unnamed: Array<{ faceId: number; embedding: Float32Array }>;
  /** Faces removed after the number asked for. */
  removed: number[];
}

/** Changes the log keeps; a reader further behind reloads the whole snapshot. */
export const CHANGE_LOG_KEPT = 100_000;

/** A face enrolled without a person (`enroll --unlabelled`), waiting to be clustered and named. */
export interface UnnamedFace {
  id: number;
  /** Its candidate person from the last clustering; null until then. */
  clusterId: number | null;
  sourcePath: string | null;
  contentHash: string;
  box: Box;
  detectionScore: number;
  createdAt: string;
}

/** A stored face with everything a copy of the gallery needs (`facedb export`). */
export interface FaceRecord extends StoredFace {
  contentHash: string;
  embedding: Float32Array;
  crop: Uint8Array | null;
  /** Whether photo bytes are kept with it (getFacePhoto). */
  hasPhoto: boolean;
}

/** An unnamed face's embedding and cluster, what clustering works on. */
export interface UnnamedEmbedding {
  faceId: number;
  clusterId: number | null;
  /** Its photo's content hash: two faces of one photo are never clustered together. */
  contentHash: string;
  embedding: Float32Array;
}

/** A candidate person: unnamed faces that clustering grouped together. */
export interface Cluster {
  id: number;
  /** Unnamed faces in it. */
  size: number;
  /** Its first faces (lowest ids), for thumbnails. */
  samples: UnnamedFace[];
  createdAt: string;
}

/** One group of a clustering run, to be written. */
export interface ClusterUpdate {
  /** The cluster this group continues; a new cluster is made when null or when that cluster is gone. */
  clusterId: number | null;
  faceIds: number[];
}

export interface NamedCluster {
  person: Person;
  /** Faces that now belong to the person. */
  facesNamed: number;
  /** Faces left in the cluster: photos the person already has a face from (one face per photo and person). */
  facesLeft: number;
}

// ---- curation (see store/curation.ts for the rules and the constraints table)

/** Every constraint stored, by kind, as id pairs. */
export interface GalleryConstraints {
  facesApart: Array<[faceId: number, otherFaceId: number]>;
  faceNotPerson: Array<[faceId: number, personId: number]>;
  clusterNotPerson: Array<[clusterId: number, personId: number]>;
}

/** A stored face of any kind: a person's, or unnamed (in a cluster or not). No embedding. */
export interface StoredFace {
  id: number;
  personId: number | null;
  personName: string | null;
  /** Only for unnamed faces. */
  clusterId: number | null;
  sourcePath: string | null;
  /** The file name an upload came with, when it had one (faces enrolled over HTTP). */
  uploadName: string | null;
  box: Box;
  detectionScore: number;
  createdAt: string;
}

/** Which faces to list: a person's, a cluster's, or every unnamed one; all faces when empty. */
export interface FaceFilter {
  personId?: number;
  clusterId?: number;
  unnamed?: boolean;
}

/** Keyset paging by face id: faces after `afterId`, at most `limit`. */
export interface FaceCursor {
  limit: number;
  afterId: number;
}

export interface FaceListing {
  items: StoredFace[];
  /** The `afterId` of the next page, or null when this was the last. */
  nextAfterId: number | null;
}

export interface MovedFaces {
  moved: number;
  person: Person;
  /** True when the person was created by this move. */
  created: boolean;
}

export interface MergedPeople {
  mergedFaces: number;
  into: Person;
}

export interface MergedClusters {
  mergedFaces: number;
  into: number;
}

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
 * Storage faults (disk full, read-only, I/O errors, a lost server or file) throw storage_unavailable.
 */
export interface GalleryStore {
  /** The model the gallery is pinned to, or null while it is empty and unpinned. */
  getModel(): Promise<ModelInfo | null>;
  /**
   * Pins an unpinned gallery to `model`; a gallery pinned to the same id+version is left alone.
   * Throws FacedbError('model_mismatch') when pinned to another model.
   */
  ensureModel(model: ModelInfo): Promise<void>;

  /**
   * Finds a person by name, creating them if needed. The name is held to the name rules (core/names.ts) and
   * stored normalised; invalid_input when it breaks them, or when creating it would make a look-alike of an
   * existing person (`Bono`, `BONO`, `Bоno` with a Cyrillic о), naming that person.
   */
  upsertPerson(name: string): Promise<Person>;
  getPerson(id: number): Promise<Person | null>;
  /** By the name as given (names stored before the name rules), else by its normalised form. */
  findPersonByName(name: string): Promise<Person | null>;
  listPeople(page: Page): Promise<PageOf<Person>>;
  /** Deletes a person with all their faces and embeddings; returns the number of faces removed. Throws not_found. */
  removePerson(id: number): Promise<number>;

  /**
   * Adds faces to a person in one transaction. Faces whose contentHash the person already has are skipped.
   * Throws not_found, adding nothing, when the person no longer exists (removed meanwhile, by anyone).
   */
  addFaces(personId: number, faces: NewFace[]): Promise<Face[]>;
  /** Whether the person already has a face from the photo with this content hash. */
  hasPhoto(personId: number, contentHash: string): Promise<boolean>;
  getFace(id: number): Promise<Face | null>;
  listFaces(personId: number, page: Page): Promise<PageOf<Face>>;
  /** Throws not_found. */
  removeFace(id: number): Promise<void>;
  getFaceCrop(id: number): Promise<Uint8Array | null>;
  /** Up to `limit` faces, of people or unnamed, with ids above `afterId`, in id order: the whole gallery a page at a time. */
  facesAfter(afterId: number, limit: number): Promise<FaceRecord[]>;
  /** The photo bytes kept with a face (see NewFace.photo), or null. */
  getFacePhoto(id: number): Promise<Uint8Array | null>;
  /** Content hash → names of the people who have that photo (for skipping files on re-runs). */
  enrolledContent(): Promise<Map<string, Set<string>>>;
  /** Faces that belong to a person (unnamed faces are not counted). */
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
  /** Only stores that search in the database, as nearestPeople: the `k` faces nearest to `query`, of people and unnamed, or unnamed only. */
  nearestFaces?(query: Float32Array, k: number, unnamedOnly: boolean): Promise<FaceMatch[]>;

  // ---- unnamed faces and their clusters (faces with no person never reach loadEmbeddings or the change log's added;
  //      the log lists them under `unnamed`)

  /**
   * Adds faces that belong to nobody yet, every face of each photo. Photos (by contentHash) enrolled this way
   * before are skipped whole, so re-running an unlabelled enrollment adds nothing twice.
   */
  addUnnamedFaces(faces: NewFace[]): Promise<UnnamedFace[]>;
  /** Whether a photo with this content hash was enrolled without a person before (addUnnamedFaces would skip it). */
  hasUnnamedPhoto(contentHash: string): Promise<boolean>;
  /** Faces without a person, in face id order (no embeddings), a page at a time. */
  listUnnamedFaces(page: Page): Promise<PageOf<UnnamedFace>>;
  /** Every face without a person, with its embedding and cluster, in face id order. */
  loadUnnamedEmbeddings(): Promise<UnnamedEmbedding[]>;
  /**
   * Writes a clustering run's groups in one transaction; returns each group's cluster id, in order. Faces that
   * were named or removed meanwhile are left alone; clusters left without faces are deleted.
   */
  saveClusters(groups: ClusterUpdate[]): Promise<number[]>;
  /** Clusters with at least one face, largest first, each with up to `samples` faces. */
  listClusters(page: Page, samples: number): Promise<PageOf<Cluster>>;
  /** Faces with no person, and how many of them no clustering has seen yet. */
  countUnnamedFaces(): Promise<{ total: number; unclustered: number }>;
  /**
   * Gives a cluster's faces to the person of that name (created if needed; an existing person gains them).
   * Throws not_found for an unknown or empty cluster.
   */
  nameCluster(clusterId: number, personName: string): Promise<NamedCluster>;
  /** Erases a face that belongs to nobody yet, with its crop and embedding. Throws not_found when there is no such unnamed face. */
  removeUnnamedFace(id: number): Promise<void>;
  /** Erases a cluster with every unnamed face in it; returns the number of faces erased. Throws not_found. */
  removeCluster(id: number): Promise<number>;

  // ---- curation (see store/curation.ts): corrections a person makes, and the constraints they leave behind.
  // Each is one transaction; a refused one (not_found, conflict) changes nothing. Faces changing person reach every
  // process's search index through the change log.

  /** Faces of any kind, in id order, a keyset page at a time. not_found for an unknown person or cluster in the filter. */
  listStoredFaces(filter: FaceFilter, page: FaceCursor): Promise<FaceListing>;
  /** The faces with these ids that exist, in id order. */
  getStoredFaces(faceIds: number[]): Promise<StoredFace[]>;
  /**
   * Gives faces (a person's or unnamed) to the person of that name, created if needed under the name rules.
   * not_found for an unknown face; conflict when one is that person's already, or the person would get two faces of
   * one photo. Lifts "not this person" for those faces and that person; clusters left empty go.
   */
  moveFaces(faceIds: number[], personName: string): Promise<MovedFaces>;
  /**
   * Takes faces out of their person or cluster: each becomes an unnamed face in a cluster of its own, and is kept
   * from going back (face_not_person, faces_apart with the cluster's other faces). not_found for an unknown face,
   * conflict for a face in no person and no cluster. Returns how many were taken out.
   */
  unassignFaces(faceIds: number[]): Promise<number>;
  /** Renames a person under the name rules (lookalikes.renamePerson). not_found, conflict. */
  renamePerson(personId: number, name: string): Promise<Person>;
  /**
   * Gives every face of `fromId` to `intoId` and deletes `fromId` (their rejections carry over). not_found; conflict
   * when they are the same person or both have a face of one photo.
   */
  mergePeople(fromId: number, intoId: number): Promise<MergedPeople>;
  /** Puts every face of cluster `fromId` into `intoId` and deletes `fromId`. not_found; conflict when the same. */
  mergeClusters(fromId: number, intoId: number): Promise<MergedClusters>;
  /** Records that a cluster is not that person (once). not_found for an unknown cluster or person. */
  rejectCluster(clusterId: number, personId: number): Promise<void>;
  /** Every constraint stored. */
  listConstraints(): Promise<GalleryConstraints>;
  /**
   * Stores constraints (facedb import) in one transaction, each once: pairs already stored are skipped. Returns how many
   * were new; not_found, storing none, when one names a face, person or cluster that does not exist.
   */
  addConstraints(constraints: GalleryConstraints): Promise<number>;
  /** The first `perCluster` faces (lowest ids) of each of these clusters, with embeddings, in face id order. */
  loadClusterEmbeddings(clusterIds: number[], perCluster: number): Promise<UnnamedEmbedding[]>;

  // ---- the gallery's own calibration (facedb evaluate --apply; see store/calibration.ts)

  /** The stored calibration, or null when the gallery uses its engine's. */
  getCalibration(): Promise<GalleryCalibration | null>;
  /** Stores (replaces) it. model_mismatch when measured with another model than the pin; invalid_input when unpinned. */
  setCalibration(calibration: GalleryCalibration): Promise<void>;
  /** Removes it; false when there was none. */
  clearCalibration(): Promise<boolean>;

  /**
   * Cheap round trip, for readiness checks. Throws storage_unavailable when the database cannot be reached,
   * its file was deleted or replaced, or the last write hit a storage fault (disk full, read-only, I/O error)
   * and none has succeeded since (remembered for FAULT_MEMORY_MS).
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}
