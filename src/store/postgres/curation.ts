import type pg from 'pg';
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
import { PRUNE_CHANGES, READ_SNAPSHOT, readModel, transaction } from './connection.js';
import type { PostgresPeople } from './people.js';
import { CLUSTER_LOCK } from './unnamed.js';

type Row = StoredFaceRow<Date>;
interface FaceState {
  id: number;
  person_id: number | null;
  cluster_id: number | null;
  content_hash: string;
  source_path: string | null;
}

const STATE_COLUMNS = 'id, person_id, cluster_id, content_hash, source_path';
const INSERT_CONSTRAINT = `INSERT INTO curation_constraints (kind, face_id, other_face_id, cluster_id, person_id)
  VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`;
const DELETE_EMPTY_CLUSTERS = 'DELETE FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = c.id)';
const LIFT_NOT_PERSON = "DELETE FROM curation_constraints WHERE kind = 'face_not_person' AND face_id = ANY($1::int[]) AND person_id = $2";
const time = (t: Date): string => t.toISOString();

/**
 * The PostgreSQL store's side of curation (see ../curation.ts and GalleryStore). Writes take the clustering lock,
 * so a clustering run never works on half a correction, and lock the faces they change.
 */
export class PostgresCuration {
  readonly #pool: pg.Pool;
  readonly #people: PostgresPeople;

  constructor(pool: pg.Pool, people: PostgresPeople) {
    this.#pool = pool;
    this.#people = people;
  }

  listFaces(filter: FaceFilter, page: FaceCursor): Promise<FaceListing> {
    checkFaceCursor(page);
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      if (filter.personId !== undefined && (await this.#people.byId(client, filter.personId)) === null) throw notFound('person', filter.personId);
      if (filter.clusterId !== undefined && (await client.query('SELECT 1 FROM clusters WHERE id = $1', [filter.clusterId])).rowCount === 0) {
        throw notFound('cluster', filter.clusterId);
      }
      const { rows } = await client.query<Row>(
        `SELECT ${STORED_FACE_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id
         WHERE f.id > $1
           AND ($2::int IS NULL OR f.person_id = $2)
           AND ($3::int IS NULL OR (f.cluster_id = $3 AND f.person_id IS NULL))
           AND (NOT $4::boolean OR f.person_id IS NULL)
         ORDER BY f.id LIMIT $5`,
        [page.afterId, filter.personId ?? null, filter.clusterId ?? null, filter.unnamed === true, page.limit + 1],
      );
      return toFaceListing(rows, page.limit, time);
    });
  }

  async getFaces(faceIds: number[]): Promise<StoredFace[]> {
    const { rows } = await this.#pool.query<Row>(
      `SELECT ${STORED_FACE_COLUMNS} FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE f.id = ANY($1::int[]) ORDER BY f.id`,
      [faceIds],
    );
    return rows.map((row) => toStoredFace(row, time));
  }

  move(faceIds: number[], to: Person | NewPerson): Promise<MovedFaces | null> {
    const ids = checkFaceIds(faceIds);
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const faces = await states(client, ids);
      const person = 'id' in to ? await this.#lockedPerson(client, to.id) : await this.#people.insert(client, to);
      if (person === null) return null;
      const already = faces.find((face) => face.person_id === person.id);
      if (already) throw conflict(`face ${already.id} already belongs to "${escapeInvisible(person.name)}"`, { faceId: already.id, personId: person.id });
      const clash = samePhotoClash(faces, await personFaces(client, person.id), person);
      if (clash) throw clash;
      await client.query('UPDATE faces SET person_id = $1, cluster_id = NULL WHERE id = ANY($2::int[])', [person.id, ids]);
      await client.query(LIFT_NOT_PERSON, [ids, person.id]);
      await client.query(DELETE_EMPTY_CLUSTERS);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return { moved: faces.length, person: (await this.#people.byId(client, person.id))!, created: !('id' in to) };
    });
  }

  unassign(faceIds: number[]): Promise<number> {
    const ids = checkFaceIds(faceIds);
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const faces = await states(client, ids);
      const loose = faces.find((face) => face.person_id === null && face.cluster_id === null);
      if (loose) throw conflict(`face ${loose.id} belongs to no person and no cluster: there is nothing to take it out of`, { faceId: loose.id });
      for (const face of faces) {
        if (face.person_id !== null) {
          await client.query(INSERT_CONSTRAINT, ['face_not_person', face.id, null, null, face.person_id]);
          await client.query('INSERT INTO unnamed_photos (content_hash, source_path) VALUES ($1, $2) ON CONFLICT DO NOTHING', [face.content_hash, face.source_path]);
        } else {
          await client.query(
            `INSERT INTO curation_constraints (kind, face_id, other_face_id)
             SELECT 'faces_apart', LEAST($1::int, f.id), GREATEST($1::int, f.id) FROM faces f
             WHERE f.cluster_id = $2 AND f.person_id IS NULL AND f.id <> $1
             ON CONFLICT DO NOTHING`,
            [face.id, face.cluster_id],
          );
        }
        const { rows } = await client.query<{ id: number }>('INSERT INTO clusters (created_at) VALUES (now()) RETURNING id');
        await client.query('UPDATE faces SET person_id = NULL, cluster_id = $1 WHERE id = $2', [rows[0]!.id, face.id]);
      }
      await client.query(DELETE_EMPTY_CLUSTERS);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return faces.length;
    });
  }

  /** Stores a person's new name and key; null, changing nothing, when either is taken. Throws not_found. */
  async rename(personId: number, to: NewPerson): Promise<Person | null> {
    try {
      return await transaction(this.#pool, 'BEGIN', async (client) => {
        if ((await this.#lockedPerson(client, personId)) === null) throw notFound('person', personId);
        await client.query('UPDATE people SET name = $1, name_key = $2 WHERE id = $3', [to.name, to.lookalikeKey, personId]);
        // Every process holding the person's name (answers name people from a cache) re-reads it.
        await client.query('LOCK TABLE face_changes IN SHARE ROW EXCLUSIVE MODE');
        await client.query('INSERT INTO face_changes (face_id) SELECT id FROM faces WHERE person_id = $1 ORDER BY id', [personId]);
        await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
        return this.#people.byId(client, personId);
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === '23505') return null; // name or key taken meanwhile
      throw error;
    }
  }

  mergePeople(fromId: number, intoId: number): Promise<MergedPeople> {
    checkId('person', fromId);
    checkId('person', intoId);
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const from = await this.#lockedPerson(client, fromId);
      if (from === null) throw notFound('person', fromId);
      const into = await this.#lockedPerson(client, intoId);
      if (into === null) throw notFound('person', intoId);
      if (fromId === intoId) throw conflict(`cannot merge "${escapeInvisible(from.name)}" into themselves`, { personId: fromId });
      const moving = await personFaces(client, fromId);
      const clash = samePhotoClash(moving, await personFaces(client, intoId), into);
      if (clash) throw clash;
      await client.query(LIFT_NOT_PERSON, [moving.map((face) => face.id), intoId]);
      const mergedFaces = (await client.query('UPDATE faces SET person_id = $1 WHERE person_id = $2', [intoId, fromId])).rowCount ?? 0;
      await client.query(
        `INSERT INTO curation_constraints (kind, cluster_id, person_id)
         SELECT 'cluster_not_person', cluster_id, $1 FROM curation_constraints WHERE kind = 'cluster_not_person' AND person_id = $2
         ON CONFLICT DO NOTHING`,
        [intoId, fromId],
      );
      await client.query('DELETE FROM people WHERE id = $1', [fromId]);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return { mergedFaces, into: (await this.#people.byId(client, intoId))! };
    });
  }

  mergeClusters(fromId: number, intoId: number): Promise<MergedClusters> {
    checkId('cluster', fromId);
    checkId('cluster', intoId);
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      for (const id of [fromId, intoId]) {
        if ((await client.query('SELECT 1 FROM clusters WHERE id = $1', [id])).rowCount === 0) throw notFound('cluster', id);
      }
      if (fromId === intoId) throw conflict(`cannot merge cluster ${fromId} into itself`, { clusterId: fromId });
      const mergedFaces = (await client.query('UPDATE faces SET cluster_id = $1 WHERE cluster_id = $2 AND person_id IS NULL', [intoId, fromId])).rowCount ?? 0;
      await client.query(
        `INSERT INTO curation_constraints (kind, cluster_id, person_id)
         SELECT 'cluster_not_person', $1, person_id FROM curation_constraints WHERE kind = 'cluster_not_person' AND cluster_id = $2
         ON CONFLICT DO NOTHING`,
        [intoId, fromId],
      );
      await client.query('DELETE FROM clusters WHERE id = $1', [fromId]);
      return { mergedFaces, into: intoId };
    });
  }

  async reject(clusterId: number, personId: number): Promise<void> {
    checkId('cluster', clusterId);
    checkId('person', personId);
    await transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      if ((await client.query('SELECT 1 FROM clusters WHERE id = $1', [clusterId])).rowCount === 0) throw notFound('cluster', clusterId);
      if ((await this.#lockedPerson(client, personId)) === null) throw notFound('person', personId);
      await client.query(INSERT_CONSTRAINT, ['cluster_not_person', null, null, clusterId, personId]);
    });
  }

  /** GalleryStore.addConstraints: each once (pairs stored already are skipped); how many were new. */
  async addConstraints(constraints: GalleryConstraints): Promise<number> {
    try {
      return await transaction(this.#pool, 'BEGIN', async (client) => {
        let added = 0;
        for (const row of constraintRows(constraints)) {
          added += (await client.query(INSERT_CONSTRAINT, [row.kind, row.face, row.other, row.cluster, row.person])).rowCount ?? 0;
        }
        return added;
      });
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === '23503') throw new FacedbError('not_found', 'a constraint names a face, person or cluster that is not in the gallery');
      if (code === '23514') throw new FacedbError('invalid_input', 'a constraint is malformed (a face kept apart from itself?)');
      throw error;
    }
  }

  async clusterEmbeddings(clusterIds: number[], perCluster: number): Promise<UnnamedEmbedding[]> {
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const dimensions = (await readModel(client))?.dimensions ?? 0;
      const { rows } = await client.query<[number, number, string, Buffer]>({
        text: `SELECT id, cluster_id, content_hash, embedding FROM (
                 SELECT f.*, row_number() OVER (PARTITION BY f.cluster_id ORDER BY f.id) AS position
                 FROM faces f WHERE f.person_id IS NULL AND f.cluster_id = ANY($1::int[])
               ) f WHERE position <= $2 ORDER BY id`,
        values: [clusterIds, perCluster],
        rowMode: 'array',
      });
      return rows.map(([id, cluster, hash, blob]) => toUnnamedEmbedding(id, cluster, hash, blob, dimensions));
    });
  }

  async constraints(): Promise<GalleryConstraints> {
    const { rows } = await this.#pool.query<[string, number, number]>({ text: CONSTRAINT_ROWS, rowMode: 'array' });
    return toConstraints(rows);
  }

  /** The person, locked so nobody removes them or adds their faces meanwhile; null when gone. */
  async #lockedPerson(client: pg.PoolClient, id: number): Promise<Person | null> {
    if ((await client.query('SELECT 1 FROM people WHERE id = $1 FOR UPDATE', [id])).rowCount === 0) return null;
    return this.#people.byId(client, id);
  }
}

/** The faces asked for, locked, each as it is now; not_found naming any that do not exist. */
async function states(client: pg.PoolClient, ids: number[]): Promise<FaceState[]> {
  const { rows } = await client.query<FaceState>(`SELECT ${STATE_COLUMNS} FROM faces WHERE id = ANY($1::int[]) ORDER BY id FOR UPDATE`, [ids]);
  const missing = missingFaces(ids, rows.map((face) => face.id));
  if (missing) throw missing;
  return rows;
}

async function personFaces(client: pg.PoolClient, personId: number): Promise<FaceState[]> {
  return (await client.query<FaceState>(`SELECT ${STATE_COLUMNS} FROM faces WHERE person_id = $1 ORDER BY id`, [personId])).rows;
}
