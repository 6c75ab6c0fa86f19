import type Database from 'better-sqlite3';
import { FacedbError } from '../../errors/errors.js';
import { escapeInvisible } from '../../core/names.js';
import {
  constraintRows,
  checkFaceCursor,
  checkFaceIds,
  checkId,
  conflict,
  CONSTRAINT_ROWS,
  missingFaces,
  samePhotoClash,
  STORED_FACE_COLUMNS,
  toConstraints,
  toFaceListing,
  toStoredFace,
  type FaceCursor,
  type FaceFilter,
  type FaceListing,
  type GalleryConstraints,
  type MergedClusters,
  type MergedPeople,
  type MovedFaces,
  type StoredFace,
  type StoredFaceRow,
} from '../curation.js';
import type { NewPerson } from '../lookalikes.js';
import { notFound } from '../rows.js';
import type { Person, UnnamedEmbedding } from '../store.js';
import { toUnnamedEmbedding } from '../unnamed-rows.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { now } from './connection.js';
import type { SqlitePeople } from './people.js';

type Row = StoredFaceRow<string>;
interface FaceState {
  id: number;
  person_id: number | null;
  cluster_id: number | null;
  content_hash: string;
  source_path: string | null;
}

/** The SQLite store's side of curation (see ../curation.ts and GalleryStore). Synchronous; the store wraps each call. */
export class SqliteCuration {
  readonly #db: Database.Database;
  readonly #people: SqlitePeople;
  readonly #sql: ReturnType<typeof prepare>;

  constructor(db: Database.Database, people: SqlitePeople) {
    this.#db = db;
    this.#people = people;
    this.#sql = prepare(db);
  }

  listFaces(filter: FaceFilter, page: FaceCursor): FaceListing {
    checkFaceCursor(page);
    return this.#db.transaction(() => {
      if (filter.personId !== undefined && this.#people.byId(filter.personId) === null) throw notFound('person', filter.personId);
      if (filter.clusterId !== undefined && this.#sql.clusterExists.get(filter.clusterId) === undefined) throw notFound('cluster', filter.clusterId);
      const rows = this.#sql.list.all({
        after: page.afterId,
        person: filter.personId ?? null,
        cluster: filter.clusterId ?? null,
        unnamed: filter.unnamed === true ? 1 : 0,
        limit: page.limit + 1,
      }) as Row[];
      return toFaceListing(rows, page.limit, (t) => t);
    })();
  }

  getFaces(faceIds: number[]): StoredFace[] {
    return (this.#sql.byIds.all(JSON.stringify(faceIds)) as Row[]).map((row) => toStoredFace(row, (t) => t));
  }

  move(faceIds: number[], to: Person | NewPerson): MovedFaces | null {
    const ids = checkFaceIds(faceIds);
    return this.#db
      .transaction(() => {
        const faces = this.#states(ids);
        const person = 'id' in to ? this.#people.byId(to.id) : this.#people.insert(to);
        if (person === null) return null;
        const already = faces.find((face) => face.person_id === person.id);
        if (already) throw conflict(`face ${already.id} already belongs to "${escapeInvisible(person.name)}"`, { faceId: already.id, personId: person.id });
        const clash = samePhotoClash(faces, this.#sql.personPhotos.all(person.id) as FaceState[], person);
        if (clash) throw clash;
        for (const face of faces) {
          this.#sql.setPerson.run(person.id, face.id);
          this.#sql.liftNotPerson.run(face.id, person.id);
        }
        this.#sql.deleteEmptyClusters.run();
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return { moved: faces.length, person: this.#people.byId(person.id)!, created: !('id' in to) };
      })
      .immediate();
  }

  unassign(faceIds: number[]): number {
    const ids = checkFaceIds(faceIds);
    return this.#db
      .transaction(() => {
        const faces = this.#states(ids);
        const loose = faces.find((face) => face.person_id === null && face.cluster_id === null);
        if (loose) throw conflict(`face ${loose.id} belongs to no person and no cluster: there is nothing to take it out of`, { faceId: loose.id });
        const createdAt = now();
        for (const face of faces) {
          if (face.person_id !== null) {
            this.#sql.insertConstraint.run({ kind: 'face_not_person', face: face.id, other: null, cluster: null, person: face.person_id, at: createdAt });
            this.#sql.rememberUnnamedPhoto.run(face.content_hash, face.source_path, createdAt);
          } else {
            for (const other of this.#sql.clusterFaceIds.all(face.cluster_id, face.id) as number[]) {
              const [a, b] = face.id < other ? [face.id, other] : [other, face.id];
              this.#sql.insertConstraint.run({ kind: 'faces_apart', face: a, other: b, cluster: null, person: null, at: createdAt });
            }
          }
          const cluster = Number(this.#sql.insertCluster.run(createdAt).lastInsertRowid);
          this.#sql.setUnnamed.run(cluster, face.id);
        }
        this.#sql.deleteEmptyClusters.run();
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return faces.length;
      })
      .immediate();
  }

  /** Stores a person's new name and key; null, changing nothing, when either is taken. Throws not_found. */
  rename(personId: number, to: NewPerson): Person | null {
    return this.#db
      .transaction(() => {
        if (this.#people.byId(personId) === null) throw notFound('person', personId);
        if (this.#sql.rename.run(to.name, to.lookalikeKey, personId).changes === 0) return null;
        // Every process holding the person's name (answers name people from a cache) re-reads it.
        this.#sql.logPersonFaces.run(personId);
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return this.#people.byId(personId);
      })
      .immediate();
  }

  mergePeople(fromId: number, intoId: number): MergedPeople {
    checkId('person', fromId);
    checkId('person', intoId);
    return this.#db
      .transaction(() => {
        const from = this.#people.byId(fromId);
        if (from === null) throw notFound('person', fromId);
        const into = this.#people.byId(intoId);
        if (into === null) throw notFound('person', intoId);
        if (fromId === intoId) throw conflict(`cannot merge "${escapeInvisible(from.name)}" into themselves`, { personId: fromId });
        const moving = this.#sql.personPhotos.all(fromId) as FaceState[];
        const clash = samePhotoClash(moving, this.#sql.personPhotos.all(intoId) as FaceState[], into);
        if (clash) throw clash;
        for (const face of moving) this.#sql.liftNotPerson.run(face.id, intoId);
        const mergedFaces = this.#sql.movePersonFaces.run(intoId, fromId).changes;
        this.#sql.carryRejections.run({ into: intoId, from: fromId, at: now() });
        this.#sql.deletePerson.run(fromId);
        this.#sql.pruneChanges.run(CHANGE_LOG_KEPT);
        return { mergedFaces, into: this.#people.byId(intoId)! };
      })
      .immediate();
  }

  mergeClusters(fromId: number, intoId: number): MergedClusters {
    checkId('cluster', fromId);
    checkId('cluster', intoId);
    return this.#db
      .transaction(() => {
        for (const id of [fromId, intoId]) if (this.#sql.clusterExists.get(id) === undefined) throw notFound('cluster', id);
        if (fromId === intoId) throw conflict(`cannot merge cluster ${fromId} into itself`, { clusterId: fromId });
        const mergedFaces = this.#sql.moveClusterFaces.run(intoId, fromId).changes;
        this.#sql.carryClusterRejections.run({ into: intoId, from: fromId, at: now() });
        this.#sql.deleteCluster.run(fromId);
        return { mergedFaces, into: intoId };
      })
      .immediate();
  }

  reject(clusterId: number, personId: number): void {
    checkId('cluster', clusterId);
    checkId('person', personId);
    this.#db
      .transaction(() => {
        if (this.#sql.clusterExists.get(clusterId) === undefined) throw notFound('cluster', clusterId);
        if (this.#people.byId(personId) === null) throw notFound('person', personId);
        this.#sql.insertConstraint.run({ kind: 'cluster_not_person', face: null, other: null, cluster: clusterId, person: personId, at: now() });
      })
      .immediate();
  }

  /** GalleryStore.addConstraints: each once (pairs stored already are skipped); how many were new. */
  addConstraints(constraints: GalleryConstraints): number {
    return this.#db
      .transaction(() => {
        const at = now();
        let added = 0;
        try {
          for (const row of constraintRows(constraints)) added += this.#sql.insertConstraint.run({ ...row, at }).changes;
        } catch (error) {
          throw constraintFailure(error);
        }
        return added;
      })
      .immediate();
  }

  clusterEmbeddings(clusterIds: number[], perCluster: number, dimensions: number): UnnamedEmbedding[] {
    const rows = this.#sql.clusterEmbeddings.all(JSON.stringify(clusterIds), perCluster) as Array<[number, number, string, Buffer]>;
    return rows.map(([id, cluster, hash, blob]) => toUnnamedEmbedding(id, cluster, hash, blob, dimensions));
  }

  constraints(): GalleryConstraints {
    return toConstraints(this.#sql.constraints.all() as Array<[string, number, number]>);
  }

  /** The faces asked for, each as it is now; not_found naming any that do not exist. */
  #states(ids: number[]): FaceState[] {
    const faces = this.#sql.states.all(JSON.stringify(ids)) as FaceState[];
    const missing = missingFaces(ids, faces.map((face) => face.id));
    if (missing) throw missing;
    return faces;
  }
}

/** A constraint naming nothing that exists (a foreign key), or a malformed one (a CHECK), as the caller's error. */
function constraintFailure(error: unknown): unknown {
  const code = (error as { code?: unknown }).code;
  if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') return new FacedbError('not_found', 'a constraint names a face, person or cluster that is not in the gallery');
  if (code === 'SQLITE_CONSTRAINT_CHECK') return new FacedbError('invalid_input', 'a constraint is malformed (a face kept apart from itself?)');
  return error;
}

function prepare(db: Database.Database) {
  return {
    list: db.prepare(`SELECT ${STORED_FACE_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id
      WHERE f.id > @after
        AND (@person IS NULL OR f.person_id = @person)
        AND (@cluster IS NULL OR (f.cluster_id = @cluster AND f.person_id IS NULL))
        AND (@unnamed = 0 OR f.person_id IS NULL)
      ORDER BY f.id LIMIT @limit`),
    byIds: db.prepare(`SELECT ${STORED_FACE_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id
      WHERE f.id IN (SELECT value FROM json_each(?)) ORDER BY f.id`),
    states: db.prepare(`SELECT id, person_id, cluster_id, content_hash, source_path FROM faces
      WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`),
    personPhotos: db.prepare('SELECT id, person_id, cluster_id, content_hash, source_path FROM faces WHERE person_id = ? ORDER BY id'),
    clusterExists: db.prepare('SELECT 1 FROM clusters WHERE id = ?'),
    clusterFaceIds: db.prepare('SELECT id FROM faces WHERE cluster_id = ? AND person_id IS NULL AND id <> ?').pluck(),
    setPerson: db.prepare('UPDATE faces SET person_id = ?, cluster_id = NULL WHERE id = ?'),
    setUnnamed: db.prepare('UPDATE faces SET person_id = NULL, cluster_id = ? WHERE id = ?'),
    insertCluster: db.prepare('INSERT INTO clusters (created_at) VALUES (?)'),
    deleteEmptyClusters: db.prepare('DELETE FROM clusters WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = clusters.id)'),
    deleteCluster: db.prepare('DELETE FROM clusters WHERE id = ?'),
    rememberUnnamedPhoto: db.prepare('INSERT INTO unnamed_photos (content_hash, source_path, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING'),
    insertConstraint: db.prepare(`INSERT INTO curation_constraints (kind, face_id, other_face_id, cluster_id, person_id, created_at)
      VALUES (@kind, @face, @other, @cluster, @person, @at) ON CONFLICT DO NOTHING`),
    liftNotPerson: db.prepare("DELETE FROM curation_constraints WHERE kind = 'face_not_person' AND face_id = ? AND person_id = ?"),
    rename: db.prepare('UPDATE OR IGNORE people SET name = ?, name_key = ? WHERE id = ?'),
    logPersonFaces: db.prepare('INSERT INTO face_changes (face_id) SELECT id FROM faces WHERE person_id = ? ORDER BY id'),
    movePersonFaces: db.prepare('UPDATE faces SET person_id = ? WHERE person_id = ?'),
    carryRejections: db.prepare(`INSERT INTO curation_constraints (kind, cluster_id, person_id, created_at)
      SELECT 'cluster_not_person', cluster_id, @into, @at FROM curation_constraints WHERE kind = 'cluster_not_person' AND person_id = @from
      ON CONFLICT DO NOTHING`),
    carryClusterRejections: db.prepare(`INSERT INTO curation_constraints (kind, cluster_id, person_id, created_at)
      SELECT 'cluster_not_person', @into, person_id, @at FROM curation_constraints WHERE kind = 'cluster_not_person' AND cluster_id = @from
      ON CONFLICT DO NOTHING`),
    deletePerson: db.prepare('DELETE FROM people WHERE id = ?'),
    moveClusterFaces: db.prepare('UPDATE faces SET cluster_id = ? WHERE cluster_id = ? AND person_id IS NULL'),
    constraints: db.prepare(CONSTRAINT_ROWS).raw(),
    clusterEmbeddings: db
      .prepare(
        `SELECT id, cluster_id, content_hash, embedding FROM (
           SELECT f.*, row_number() OVER (PARTITION BY f.cluster_id ORDER BY f.id) AS position
           FROM faces f WHERE f.person_id IS NULL AND f.cluster_id IN (SELECT value FROM json_each(?))
         ) WHERE position <= ? ORDER BY id`,
      )
      .raw(),
    pruneChanges: db.prepare('DELETE FROM face_changes WHERE seq <= (SELECT MAX(seq) FROM face_changes) - ?'),
  };
}
