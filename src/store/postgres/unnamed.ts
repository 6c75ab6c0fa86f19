import type pg from 'pg';
import { FacedbError } from '../../errors/errors.js';
import { newFaceColumns, notFound } from '../rows.js';
import type { NewPerson } from '../lookalikes.js';
import type { Cluster, ClusterUpdate, NamedCluster, NewFace, Page, PageOf, Person, UnnamedEmbedding, UnnamedFace } from '../store.js';
import { CHANGE_LOG_KEPT } from '../store.js';
import { checkClusterUpdates, checkSamples, toUnnamedEmbedding, toUnnamedFace, UNNAMED_FACE_COLUMNS, type UnnamedFaceRow } from '../unnamed-rows.js';
import { checkNewFaces, checkPage } from '../validation.js';
import { PRUNE_CHANGES, READ_SNAPSHOT, readModel, transaction } from './connection.js';
import type { Erasure } from './erasure.js';
import type { PostgresPeople } from './people.js';

type FaceRow = UnnamedFaceRow<Date>;
/** Clustering writes and cluster naming take turns (per database), so neither works on the other's half-done state. */
export const CLUSTER_LOCK = 0x0fac_ec10;

/** The PostgreSQL store's unnamed faces and clusters (see GalleryStore). */
export class PostgresUnnamedFaces {
  readonly #pool: pg.Pool;
  readonly #people: PostgresPeople;
  readonly #erasure: Erasure;

  constructor(pool: pg.Pool, people: PostgresPeople, erasure: Erasure) {
    this.#pool = pool;
    this.#people = people;
    this.#erasure = erasure;
  }

  add(faces: NewFace[]): Promise<UnnamedFace[]> {
    return transaction(this.#pool, 'BEGIN', async (client) => {
      const model = await readModel(client);
      if (model === null) throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
      checkNewFaces(faces, model.dimensions);
      if (faces.length === 0) return [];
      const photos = [...new Map(faces.map((face) => [face.contentHash, face.sourcePath])).entries()];
      // Photos recorded now are new; a photo another enrollment recorded first (before or concurrently) is skipped.
      const { rows: fresh } = await client.query<{ content_hash: string }>(
        `INSERT INTO unnamed_photos (content_hash, source_path) SELECT * FROM unnest($1::text[], $2::text[])
         ON CONFLICT DO NOTHING RETURNING content_hash`,
        [photos.map(([hash]) => hash), photos.map(([, path]) => path)],
      );
      const freshHashes = new Set(fresh.map((row) => row.content_hash));
      const batch = faces.filter((face) => freshHashes.has(face.contentHash));
      if (batch.length === 0) return [];
      const { rows } = await client.query<{ id: number; created_at: Date }>(
        `INSERT INTO faces (person_id, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score,
           embedding, crop, upload_name, model_id, model_version)
         SELECT NULL, source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, upload_name, $1, $2
         FROM unnest($3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[],
                     $10::bytea[], $11::bytea[], $12::text[])
           WITH ORDINALITY AS batch (source_path, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, crop, upload_name, position)
         ORDER BY position
         RETURNING id, created_at`,
        [model.id, model.version, ...newFaceColumns(batch)],
      );
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      // RETURNING follows the insertion order (ORDER BY position), ids ascending.
      const ids = rows.map((row) => row.id).sort((a, b) => a - b);
      return batch.map((face, i) => ({
        id: ids[i]!,
        clusterId: null,
        sourcePath: face.sourcePath,
        contentHash: face.contentHash,
        box: { ...face.box },
        detectionScore: face.detectionScore,
        createdAt: rows[0]!.created_at.toISOString(),
      }));
    });
  }

  loadEmbeddings(): Promise<UnnamedEmbedding[]> {
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const dimensions = (await readModel(client))?.dimensions ?? 0;
      const { rows } = await client.query<[number, number | null, string, Buffer]>({
        text: 'SELECT id, cluster_id, content_hash, embedding FROM faces WHERE person_id IS NULL ORDER BY id',
        rowMode: 'array',
      });
      return rows.map(([id, cluster, hash, blob]) => toUnnamedEmbedding(id, cluster, hash, blob, dimensions));
    });
  }

  saveClusters(groups: ClusterUpdate[]): Promise<number[]> {
    checkClusterUpdates(groups);
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const wanted = groups.flatMap((group) => (group.clusterId === null ? [] : [group.clusterId]));
      const { rows: existing } = await client.query<{ id: number }>('SELECT id FROM clusters WHERE id = ANY($1::int[])', [wanted]);
      const alive = new Set(existing.map((row) => row.id));
      const missing = groups.filter((group) => group.clusterId === null || !alive.has(group.clusterId)).length;
      const { rows: made } = await client.query<{ id: number }>(
        'INSERT INTO clusters (created_at) SELECT now() FROM generate_series(1, $1::int) RETURNING id',
        [missing],
      );
      const fresh = made.map((row) => row.id).sort((a, b) => a - b);
      let nextFresh = 0;
      const ids = groups.map((group) => (group.clusterId !== null && alive.has(group.clusterId) ? group.clusterId : fresh[nextFresh++]!));
      await client.query(
        `UPDATE faces f SET cluster_id = g.cluster_id
         FROM unnest($1::int[], $2::int[]) AS g (face_id, cluster_id)
         WHERE f.id = g.face_id AND f.person_id IS NULL`,
        [groups.flatMap((group) => group.faceIds), groups.flatMap((group, i) => group.faceIds.map(() => ids[i]!))],
      );
      await client.query('DELETE FROM clusters c WHERE NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = c.id)');
      return ids;
    });
  }

  listClusters(page: Page, samples: number): Promise<PageOf<Cluster>> {
    checkPage(page);
    checkSamples(samples);
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const { rows } = await client.query<{ id: number; size: number; created_at: Date }>(
        `SELECT c.id, COUNT(*)::int AS size, c.created_at
         FROM clusters c JOIN faces f ON f.cluster_id = c.id AND f.person_id IS NULL
         GROUP BY c.id ORDER BY size DESC, c.id LIMIT $1 OFFSET $2`,
        [page.limit, page.offset],
      );
      const sampled = new Map<number, UnnamedFace[]>(rows.map((row) => [row.id, []]));
      if (samples > 0 && rows.length > 0) {
        const { rows: faces } = await client.query<FaceRow>(
          `SELECT ${UNNAMED_FACE_COLUMNS} FROM (
             SELECT f.*, row_number() OVER (PARTITION BY f.cluster_id ORDER BY f.id) AS position
             FROM faces f WHERE f.person_id IS NULL AND f.cluster_id = ANY($1::int[])
           ) f WHERE f.position <= $2 ORDER BY f.cluster_id, f.id`,
          [rows.map((row) => row.id), samples],
        );
        for (const face of faces) sampled.get(face.cluster_id!)?.push(toUnnamedFace(face, (t) => t.toISOString()));
      }
      const total = (
        await client.query<{ n: number }>(
          'SELECT COUNT(DISTINCT cluster_id)::int AS n FROM faces WHERE person_id IS NULL AND cluster_id IS NOT NULL',
        )
      ).rows[0]!.n;
      return {
        items: rows.map((row) => ({ id: row.id, size: row.size, samples: sampled.get(row.id) ?? [], createdAt: row.created_at.toISOString() })),
        total,
      };
    });
  }

  async hasPhoto(contentHash: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('SELECT 1 FROM unnamed_photos WHERE content_hash = $1', [contentHash]);
    return (rowCount ?? 0) > 0;
  }

  list(page: Page): Promise<PageOf<UnnamedFace>> {
    checkPage(page);
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const { rows } = await client.query<UnnamedFaceRow<Date>>(
        `SELECT ${UNNAMED_FACE_COLUMNS} FROM faces f WHERE f.person_id IS NULL ORDER BY f.id LIMIT $1 OFFSET $2`,
        [page.limit, page.offset],
      );
      const { rows: counted } = await client.query<{ total: number }>('SELECT COUNT(*)::int AS total FROM faces WHERE person_id IS NULL');
      return { items: rows.map((row) => toUnnamedFace(row, (t) => t.toISOString())), total: counted[0]!.total };
    });
  }

  countUnnamed(): Promise<{ total: number; unclustered: number }> {
    return transaction(this.#pool, READ_SNAPSHOT, async (client) => {
      const { rows } = await client.query<{ total: number; unclustered: number }>(
        `SELECT COUNT(*)::int AS total, COUNT(*) FILTER (WHERE cluster_id IS NULL)::int AS unclustered
         FROM faces WHERE person_id IS NULL`,
      );
      return rows[0]!;
    });
  }

  /**
   * Gives a cluster's faces to an existing person, or to a new one inserted now (the name rules chose which, see
   * ../lookalikes.ts); null, changing nothing, when that person is gone or the new one's name or key was taken.
   * Throws not_found for an unknown or empty cluster.
   */
  nameCluster(clusterId: number, to: Person | NewPerson): Promise<NamedCluster | null> {
    return transaction(this.#pool, 'BEGIN', async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const size = (
        await client.query<{ size: number }>(
          `SELECT (SELECT COUNT(*)::int FROM faces f WHERE f.cluster_id = c.id AND f.person_id IS NULL) AS size
           FROM clusters c WHERE c.id = $1`,
          [clusterId],
        )
      ).rows[0]?.size;
      if (size === undefined || size === 0) throw notFound('cluster', clusterId);
      // FOR UPDATE: nobody adds or removes an existing person's faces meanwhile.
      const person =
        'id' in to ? (await client.query('SELECT 1 FROM people WHERE id = $1 FOR UPDATE', [to.id])).rowCount === 0 ? null : to : await this.#people.insert(client, to);
      if (person === null) return null;
      const personId = person.id;
      // One face per photo and person: a photo the person already has, or a second face of one photo, stays behind.
      const { rowCount } = await client.query(
        `UPDATE faces SET person_id = $1, cluster_id = NULL
         WHERE id IN (
           SELECT MIN(f.id) FROM faces f
           WHERE f.cluster_id = $2 AND f.person_id IS NULL
             AND NOT EXISTS (SELECT 1 FROM faces g WHERE g.person_id = $1 AND g.content_hash = f.content_hash)
             -- A face taken from this person never goes back by itself (store/curation.ts).
             AND NOT EXISTS (SELECT 1 FROM curation_constraints c WHERE c.kind = 'face_not_person' AND c.face_id = f.id AND c.person_id = $1)
           GROUP BY f.content_hash
         )`,
        [personId, clusterId],
      );
      const facesNamed = rowCount ?? 0;
      const facesLeft = size - facesNamed;
      if (facesLeft === 0) await client.query('DELETE FROM clusters WHERE id = $1', [clusterId]);
      await client.query(PRUNE_CHANGES, [CHANGE_LOG_KEPT]);
      return { person: (await this.#people.byId(client, personId))!, facesNamed, facesLeft };
    });
  }

  /** Erases an unnamed face; its cluster goes too when left empty. Throws not_found. */
  removeFace(id: number): Promise<void> {
    return this.#erasure.erase(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const { rows } = await client.query<{ cluster_id: number | null }>('DELETE FROM faces WHERE id = $1 AND person_id IS NULL RETURNING cluster_id', [id]);
      if (rows[0] === undefined) throw notFound('face', id);
      const clusterId = rows[0].cluster_id;
      if (clusterId !== null) {
        await client.query('DELETE FROM clusters c WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM faces f WHERE f.cluster_id = c.id)', [clusterId]);
      }
    });
  }

  /** Erases a cluster and its unnamed faces; returns how many faces went. Throws not_found. */
  removeCluster(id: number): Promise<number> {
    return this.#erasure.erase(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1)', [CLUSTER_LOCK]);
      const { rowCount } = await client.query('SELECT 1 FROM clusters WHERE id = $1', [id]);
      if (rowCount === 0) throw notFound('cluster', id);
      const faces = (await client.query('DELETE FROM faces WHERE cluster_id = $1 AND person_id IS NULL', [id])).rowCount ?? 0;
      await client.query('DELETE FROM clusters WHERE id = $1', [id]);
      return faces;
    });
  }
}
