import { escapeInvisible } from '../core/names.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceCursor, FaceListing, GalleryConstraints, StoredFace } from './store.js';

/*
 * Curation: what a person corrects in the gallery (faces moved, unassigned, people renamed and merged, clusters
 * merged and rejected) and the constraints the system keeps because of it. The shapes and checks shared by both
 * drivers; each driver implements the GalleryStore methods below in its own curation.ts.
 *
 * The constraints live in one table, `curation_constraints` (both drivers, same columns), one row per constraint:
 * - `faces_apart` (face_id, other_face_id): never put into one cluster by clustering (a face taken out of a
 *   cluster is kept apart from the faces that stayed in it);
 * - `face_not_person` (face_id, person_id): a face taken from a person never goes back to them by itself
 *   (naming a cluster leaves it behind; suggestions skip that person for its cluster);
 * - `cluster_not_person` (cluster_id, person_id): "this cluster is not that person" (`facedb reject`).
 * Two faces of one photo are kept apart by their content hash, which needs no row. Rows go with the faces,
 * people and clusters they name (ON DELETE CASCADE).
 */

/** The table's name, for export/import and tooling. */
export const CONSTRAINTS_TABLE = 'curation_constraints';

export type { FaceCursor, FaceFilter, FaceListing, GalleryConstraints, MergedClusters, MergedPeople, MovedFaces, StoredFace } from './store.js';

/** Most faces one correction may name. */
export const MAX_FACES_PER_CHANGE = 1000;

/** Most faces a listing page may hold. */
export const MAX_FACES_PER_PAGE = 1000;

export function checkFaceIds(faceIds: readonly number[]): number[] {
  if (faceIds.length === 0) throw new FacedbError('invalid_input', 'name at least one face id');
  if (faceIds.length > MAX_FACES_PER_CHANGE) throw new FacedbError('invalid_input', `at most ${MAX_FACES_PER_CHANGE} faces per change, got ${faceIds.length}`);
  for (const id of faceIds) checkId('face', id);
  return [...new Set(faceIds)].sort((a, b) => a - b);
}

export function checkId(kind: string, id: number): void {
  if (!Number.isInteger(id) || id <= 0 || id > 2_147_483_647) throw new FacedbError('invalid_input', `${kind} id must be a positive integer, got ${id}`);
}

export function checkFaceCursor(page: FaceCursor): void {
  if (!Number.isInteger(page.limit) || page.limit < 0 || page.limit > MAX_FACES_PER_PAGE) {
    throw new FacedbError('invalid_input', `limit must be a whole number from 0 to ${MAX_FACES_PER_PAGE}, got ${page.limit}`);
  }
  if (!Number.isInteger(page.afterId) || page.afterId < 0) throw new FacedbError('invalid_input', `the cursor must be a face id, got ${page.afterId}`);
}

/** The face ids asked for that do not exist, as not_found (the first one named). */
export function missingFaces(asked: readonly number[], found: Iterable<number>): FacedbError | null {
  const present = new Set(found);
  const missing = asked.filter((id) => !present.has(id));
  if (missing.length === 0) return null;
  return new FacedbError('not_found', `no face with id ${missing.join(', ')}`, { details: { faceIds: missing } });
}

export function conflict(message: string, details?: Record<string, unknown>): FacedbError {
  return new FacedbError('conflict', message, details ? { details } : undefined);
}

/** The faces a change would put into a person together with another face of the same photo. */
export function samePhotoClash(
  moving: ReadonlyArray<{ id: number; content_hash: string }>,
  personFaces: ReadonlyArray<{ id: number; content_hash: string }>,
  person: { id: number; name: string },
): FacedbError | null {
  const byHash = new Map(personFaces.map((face) => [face.content_hash, face.id]));
  for (const face of moving) {
    const other = byHash.get(face.content_hash);
    if (other !== undefined && other !== face.id) {
      return conflict(
        `face ${face.id} comes from the same photo as face ${other}, which "${escapeInvisible(person.name)}" already has: ` +
          'a person keeps one face per photo (remove or unassign one of them first)',
        { faceId: face.id, otherFaceId: other, personId: person.id },
      );
    }
    byHash.set(face.content_hash, face.id);
  }
  return null;
}

export const STORED_FACE_COLUMNS = `f.id, f.person_id, p.name AS person_name, f.cluster_id, f.source_path, f.upload_name,
  f.box_x, f.box_y, f.box_w, f.box_h, f.detection_score, f.created_at`;

export interface StoredFaceRow<Time> {
  id: number;
  person_id: number | null;
  person_name: string | null;
  cluster_id: number | null;
  source_path: string | null;
  upload_name: string | null;
  box_x: number;
  box_y: number;
  box_w: number;
  box_h: number;
  detection_score: number;
  created_at: Time;
}

export function toStoredFace<Time>(row: StoredFaceRow<Time>, time: (t: Time) => string): StoredFace {
  return {
    id: row.id,
    personId: row.person_id,
    personName: row.person_name,
    clusterId: row.person_id === null ? row.cluster_id : null,
    sourcePath: row.source_path,
    uploadName: row.upload_name,
    box: { x: row.box_x, y: row.box_y, width: row.box_w, height: row.box_h },
    detectionScore: row.detection_score,
    createdAt: time(row.created_at),
  };
}

/** A page of rows fetched with one extra row (limit + 1), as a listing. */
export function toFaceListing<Time>(rows: ReadonlyArray<StoredFaceRow<Time>>, limit: number, time: (t: Time) => string): FaceListing {
  const items = rows.slice(0, limit).map((row) => toStoredFace(row, time));
  return { items, nextAfterId: rows.length > limit && items.length > 0 ? items[items.length - 1]!.id : null };
}

/** Constraint rows `[kind, a, b]` into their shape. */
export function toConstraints(rows: ReadonlyArray<readonly [string, number, number]>): GalleryConstraints {
  const constraints: GalleryConstraints = { facesApart: [], faceNotPerson: [], clusterNotPerson: [] };
  for (const [kind, a, b] of rows) {
    if (kind === 'faces_apart') constraints.facesApart.push([a, b]);
    else if (kind === 'face_not_person') constraints.faceNotPerson.push([a, b]);
    else if (kind === 'cluster_not_person') constraints.clusterNotPerson.push([a, b]);
  }
  return constraints;
}

/** Both drivers read constraints with this query, as `[kind, a, b]` rows. */
export const CONSTRAINT_ROWS = `SELECT kind,
    CASE WHEN kind = 'cluster_not_person' THEN cluster_id ELSE face_id END AS a,
    CASE WHEN kind = 'faces_apart' THEN other_face_id ELSE person_id END AS b
  FROM curation_constraints ORDER BY id`;

/** Constraints as table rows (the columns of curation_constraints), for inserting them (facedb import). */
export function constraintRows(constraints: GalleryConstraints): Array<{ kind: 'faces_apart' | 'face_not_person' | 'cluster_not_person'; face: number | null; other: number | null; cluster: number | null; person: number | null }> {
  return [
    ...constraints.facesApart.map(([a, b]) => ({ kind: 'faces_apart' as const, face: Math.min(a, b), other: Math.max(a, b), cluster: null, person: null })),
    ...constraints.faceNotPerson.map(([face, person]) => ({ kind: 'face_not_person' as const, face, other: null, cluster: null, person })),
    ...constraints.clusterNotPerson.map(([cluster, person]) => ({ kind: 'cluster_not_person' as const, face: null, other: null, cluster, person })),
  ];
}
