import { endianness } from 'node:os';
import { FacedbError } from '../errors/errors.js';
import type { ModelInfo } from '../core/types.js';
import type { EmbeddingChanges, Face, FaceRecord, NewFace, Person } from './store.js';

/** Row shapes and conversions shared by the SQLite and PostgreSQL stores (same columns in both). */

/** Embeddings are stored as little-endian float32; only big-endian hosts convert. */
export const LITTLE_ENDIAN_HOST = endianness() === 'LE';

export interface PersonRow<Time> {
  id: number;
  name: string;
  created_at: Time;
  face_count: number;
}

export interface FaceRow<Time> {
  id: number;
  person_id: number;
  person_name: string;
  source_path: string | null;
  content_hash: string;
  box_x: number;
  box_y: number;
  box_w: number;
  box_h: number;
  detection_score: number;
  model_id: string;
  model_version: string;
  created_at: Time;
}

export interface MetaRow {
  model_id: string;
  model_version: string;
  dimensions: number;
  metric: string;
  threshold: number;
}

/** The model a gallery is pinned to, from its meta row. */
export function toModelInfo(row: MetaRow): ModelInfo {
  return {
    id: row.model_id,
    version: row.model_version,
    dimensions: row.dimensions,
    metric: row.metric as ModelInfo['metric'],
    defaultThreshold: row.threshold,
  };
}

/** The face columns every face query selects, in FaceRow's shape (people joined as `p`). */
export const FACE_COLUMNS = `f.id, f.person_id, p.name AS person_name, f.source_path, f.content_hash,
  f.box_x, f.box_y, f.box_w, f.box_h, f.detection_score, f.model_id, f.model_version, f.created_at`;

export function notFound(kind: 'person' | 'face' | 'cluster', id: number): FacedbError {
  return new FacedbError('not_found', `no ${kind} with id ${id}`, { details: { [`${kind}Id`]: id } });
}

export function encodeEmbedding(embedding: Float32Array): Buffer {
  const bytes = Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength);
  if (LITTLE_ENDIAN_HOST) return bytes;
  const copy = Buffer.from(bytes);
  swapFloat32Bytes(copy);
  return copy;
}

/**
 * A new face's column values by column name (SQLite's named parameters), all but its person: the same for a
 * person's face and an unnamed one.
 */
export function newFaceRow(face: NewFace, model: ModelInfo, createdAt: string) {
  return {
    source_path: face.sourcePath,
    content_hash: face.contentHash,
    box_x: face.box.x,
    box_y: face.box.y,
    box_w: face.box.width,
    box_h: face.box.height,
    detection_score: face.detectionScore,
    embedding: encodeEmbedding(face.embedding),
    crop: face.crop,
    upload_name: face.uploadName ?? null,
    model_id: model.id,
    model_version: model.version,
    created_at: createdAt,
  };
}

/**
 * New faces' values as one array per column, in the order source_path, content_hash, box_x, box_y, box_w, box_h,
 * detection_score, embedding, crop, upload_name (PostgreSQL's batch insert through unnest).
 */
export function newFaceColumns(faces: readonly NewFace[]): unknown[][] {
  return [
    faces.map((f) => f.sourcePath),
    faces.map((f) => f.contentHash),
    faces.map((f) => f.box.x),
    faces.map((f) => f.box.y),
    faces.map((f) => f.box.width),
    faces.map((f) => f.box.height),
    faces.map((f) => f.detectionScore),
    faces.map((f) => encodeEmbedding(f.embedding)),
    faces.map((f) => f.crop),
    faces.map((f) => f.uploadName ?? null),
  ];
}

export function swapFloat32Bytes(bytes: Uint8Array): void {
  for (let i = 0; i + 3 < bytes.length; i += 4) {
    [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]] = [bytes[i + 3]!, bytes[i + 2]!, bytes[i + 1]!, bytes[i]!];
  }
}

export function toPerson<Time>(row: PersonRow<Time>, time: (t: Time) => string): Person {
  return { id: row.id, name: row.name, faceCount: row.face_count, createdAt: time(row.created_at) };
}

/** The Face a store hands back for a NewFace it has just inserted as face `id`. */
export function insertedFace(
  face: NewFace,
  id: number,
  person: { id: number; name: string },
  model: ModelInfo,
  createdAt: string,
): Face {
  return {
    id,
    personId: person.id,
    personName: person.name,
    sourcePath: face.sourcePath,
    contentHash: face.contentHash,
    box: { ...face.box },
    detectionScore: face.detectionScore,
    modelId: model.id,
    modelVersion: model.version,
    createdAt,
  };
}

/** What `embeddingChangesSince` answers when the log has nothing after `changeSeq`. */
export function noChangesSince(changeSeq: number): EmbeddingChanges {
  return { changeSeq, complete: true, added: [], unnamed: [], removed: [] };
}

export function toFace<Time>(row: FaceRow<Time>, time: (t: Time) => string): Face {
  return {
    id: row.id,
    personId: row.person_id,
    personName: row.person_name,
    sourcePath: row.source_path,
    contentHash: row.content_hash,
    box: { x: row.box_x, y: row.box_y, width: row.box_w, height: row.box_h },
    detectionScore: row.detection_score,
    modelId: row.model_id,
    modelVersion: row.model_version,
    createdAt: time(row.created_at),
  };
}

/** The arrays of a snapshot of `count` faces, with a byte view of the vectors to copy blobs into. */
export interface SnapshotTarget {
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
  /** Blobs are copied byte-wise: the drivers' Buffers need not be 4-byte aligned. */
  bytes: Uint8Array;
  rowBytes: number;
}

export function snapshotTarget(count: number, dimensions: number): SnapshotTarget {
  const vectors = new Float32Array(count * dimensions);
  return {
    faceIds: new Int32Array(count),
    personIds: new Int32Array(count),
    vectors,
    bytes: new Uint8Array(vectors.buffer),
    rowBytes: dimensions * 4,
  };
}

/**
 * Copies one page of `[id, personId, embedding blob]` rows into the snapshot arrays from `row` on;
 * returns the next free row. Both stores page by id, so this is their whole inner loop.
 */
export function copyEmbeddingPage(page: ReadonlyArray<readonly [number, number, Uint8Array]>, target: SnapshotTarget, row: number): number {
  let next = row;
  for (const [id, personId, blob] of page) {
    if (blob.length !== target.rowBytes) {
      throw new FacedbError('internal', `face ${id} has a ${blob.length}-byte embedding, expected ${target.rowBytes}`);
    }
    target.faceIds[next] = id;
    target.personIds[next] = personId;
    target.bytes.set(blob, next * target.rowBytes);
    next++;
  }
  return next;
}

/**
 * Turns the change log's rows (`[faceId, personId | null, embedding | null]`, one per face changed, null when the
 * face no longer exists) into EmbeddingChanges. Both stores read the log with the same query.
 */
export function toEmbeddingChanges(
  rows: ReadonlyArray<readonly [number, number | null, Uint8Array | null]>,
  bounds: { after: number; latest: number; oldest: number | null },
  dimensions: number,
): EmbeddingChanges {
  const { after, latest, oldest } = bounds;
  // A number beyond the latest means the gallery was replaced or restored: nothing about it can be trusted.
  const complete = after <= latest && (oldest === null || after >= oldest - 1);
  const changes: EmbeddingChanges = { changeSeq: latest, complete, added: [], unnamed: [], removed: [] };
  if (!complete) return changes;
  for (const [faceId, personId, blob] of rows) {
    if (blob === null) {
      changes.removed.push(faceId);
      continue;
    }
    if (blob.length !== dimensions * 4) {
      throw new FacedbError('internal', `face ${faceId} has a ${blob.length}-byte embedding, expected ${dimensions * 4}`);
    }
    // Copied byte-wise into a fresh buffer: the driver's Buffers need not be 4-byte aligned.
    const bytes = new Uint8Array(blob);
    if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(bytes);
    const embedding = new Float32Array(bytes.buffer);
    if (personId === null) changes.unnamed.push({ faceId, embedding });
    else changes.added.push({ faceId, personId, embedding });
  }
  return changes;
}

/** The columns of a FaceRecord (people left-joined as `p`, face_photos as `fp`). */
export const FACE_RECORD_COLUMNS = `f.id, f.person_id, p.name AS person_name, f.cluster_id, f.source_path, f.upload_name, f.content_hash, f.box_x, f.box_y, f.box_w, f.box_h, f.detection_score,
  f.created_at, f.embedding, f.crop, fp.face_id IS NOT NULL AS has_photo`;

export interface FaceRecordRow<Time> {
  id: number;
  person_id: number | null;
  person_name: string | null;
  cluster_id: number | null;
  source_path: string | null;
  upload_name: string | null;
  content_hash: string;
  box_x: number;
  box_y: number;
  box_w: number;
  box_h: number;
  detection_score: number;
  created_at: Time;
  embedding: Uint8Array;
  crop: Uint8Array | null;
  has_photo: boolean | number;
}

export function toFaceRecord<Time>(row: FaceRecordRow<Time>, time: (t: Time) => string, dimensions: number): FaceRecord {
  if (row.embedding.length !== dimensions * 4) {
    throw new FacedbError('internal', `face ${row.id} has a ${row.embedding.length}-byte embedding, expected ${dimensions * 4}`);
  }
  const bytes = new Uint8Array(row.embedding); // a fresh, aligned copy
  if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(bytes);
  return {
    id: row.id,
    personId: row.person_id,
    personName: row.person_name,
    clusterId: row.cluster_id,
    sourcePath: row.source_path,
    uploadName: row.upload_name,
    contentHash: row.content_hash,
    box: { x: row.box_x, y: row.box_y, width: row.box_w, height: row.box_h },
    detectionScore: row.detection_score,
    createdAt: time(row.created_at),
    embedding: new Float32Array(bytes.buffer),
    crop: row.crop === null ? null : new Uint8Array(row.crop),
    hasPhoto: row.has_photo === true || row.has_photo === 1,
  };
}
