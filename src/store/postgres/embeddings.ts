import type pg from 'pg';
import type { FaceMatch, PersonMatch } from '../../core/search-index.js';
import { FacedbError } from '../../errors/errors.js';
import { copyEmbeddingPage, LITTLE_ENDIAN_HOST, noChangesSince, snapshotTarget, swapFloat32Bytes, toEmbeddingChanges } from '../rows.js';
import type { EmbeddingChanges, EmbeddingSnapshot } from '../store.js';
import { count, onlyRow, READ_SNAPSHOT, readModel, transaction } from './connection.js';
import { ensureVectorColumn, ensureVectorIndex, fillVectors, nearestFacesInSql, nearestPeopleInSql, type VectorSchema } from './vector.js';

const EMBEDDING_PAGE = 8192;

/** bigint comes back as text from pg; change numbers stay far below 2^53, so float8 is exact. */
const CHANGE_BOUNDS = 'SELECT COALESCE(MAX(seq), 0)::float8 AS latest, MIN(seq)::float8 AS oldest FROM face_changes';

interface ChangeBounds {
  latest: number;
  oldest: number | null;
}

/**
 * The PostgreSQL store's embeddings of people, for the search index: the snapshot, the change log, and, when
 * asked for (FACEDB_INDEX=pgvector), a pgvector column searched in SQL.
 */
export class PostgresEmbeddings {
  readonly #pool: pg.Pool;
  /** Where the gallery is (redacted), when pgvector search was asked for. */
  readonly #vectorWhere: string | undefined;
  #vectorSchema: Promise<VectorSchema | null> | undefined;

  constructor(pool: pg.Pool, vectorWhere: string | undefined) {
    this.#pool = pool;
    this.#vectorWhere = vectorWhere;
  }

  snapshot(): Promise<EmbeddingSnapshot> {
    return transaction(this.#pool, READ_SNAPSHOT, async (client): Promise<EmbeddingSnapshot> => {
      const dimensions = (await readModel(client))?.dimensions ?? 0;
      const total = await count(client, 'SELECT COUNT(*)::int AS n FROM faces WHERE person_id IS NOT NULL');
      const target = snapshotTarget(total, dimensions);
      let row = 0;
      // Keyset pages on the primary key: memory stays bounded by one page however large the gallery.
      for (let after = 0; row < total; ) {
        const { rows: page } = await client.query<[number, number, Buffer]>({
          text: 'SELECT id, person_id, embedding FROM faces WHERE id > $1 AND person_id IS NOT NULL ORDER BY id LIMIT $2',
          values: [after, EMBEDDING_PAGE],
          rowMode: 'array',
        });
        if (page.length === 0) break;
        row = copyEmbeddingPage(page, target, row);
        after = page[page.length - 1]![0];
      }
      if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(target.bytes);
      const changeSeq = (await onlyRow(client.query<ChangeBounds>(CHANGE_BOUNDS))).latest;
      return { dimensions, faceIds: target.faceIds, personIds: target.personIds, vectors: target.vectors, changeSeq };
    });
  }

  async changesSince(changeSeq: number): Promise<EmbeddingChanges> {
    // Nearly every call (one per search) finds nothing new: one round trip instead of a transaction's five.
    if ((await onlyRow(this.#pool.query<ChangeBounds>(CHANGE_BOUNDS))).latest === changeSeq) return noChangesSince(changeSeq);
    return transaction(this.#pool, READ_SNAPSHOT, async (client): Promise<EmbeddingChanges> => {
      const { latest, oldest } = await onlyRow(client.query<ChangeBounds>(CHANGE_BOUNDS));
      const { rows } = await client.query<[number, number | null, Buffer | null]>({
        text: `SELECT c.face_id, f.person_id, f.embedding
               FROM (SELECT DISTINCT face_id FROM face_changes WHERE seq > $1 AND seq <= $2) c LEFT JOIN faces f ON f.id = c.face_id`,
        values: [changeSeq, latest],
        rowMode: 'array',
      });
      const dimensions = (await readModel(client))?.dimensions ?? 0;
      return toEmbeddingChanges(rows, { after: changeSeq, latest, oldest }, dimensions);
    });
  }

  /** GalleryStore.nearestPeople, for a store opened with pgvector search. */
  async nearestPeople(query: Float32Array, k: number): Promise<PersonMatch[]> {
    const schema = await this.#readyToSearch(query, k);
    if (schema === null || k === 0) return [];
    return transaction(this.#pool, 'BEGIN READ ONLY', (client) => nearestPeopleInSql(client, schema, query, k));
  }

  /** GalleryStore.nearestFaces, for a store opened with pgvector search. */
  async nearestFaces(query: Float32Array, k: number, unnamedOnly: boolean): Promise<FaceMatch[]> {
    const schema = await this.#readyToSearch(query, k);
    if (schema === null || k === 0) return [];
    return transaction(this.#pool, 'BEGIN READ ONLY', (client) => nearestFacesInSql(client, schema, query, k, unnamedOnly));
  }

  /** The vector schema once the query is checked and every face has its vector; null when not searchable. */
  async #readyToSearch(query: Float32Array, k: number): Promise<VectorSchema | null> {
    if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
    const schema = await this.vectors();
    if (schema === null || k === 0) return null;
    const dimensions = (await readModel(this.#pool))?.dimensions;
    if (query.length !== dimensions) {
      throw new FacedbError('invalid_input', `embedding has ${query.length} dimensions, the gallery holds ${dimensions}-dimensional embeddings`);
    }
    // Faces written by a facedb without pgvector search have no vector yet.
    await fillVectors(this.#pool, schema);
    return schema;
  }

  /**
   * The vector column's extension schema once set up; null while the gallery is unpinned (no dimensions yet)
   * or when pgvector search was not asked for.
   */
  vectors(): Promise<VectorSchema | null> {
    const where = this.#vectorWhere;
    if (where === undefined) return Promise.resolve(null);
    this.#vectorSchema ??= (async () => {
      const model = await readModel(this.#pool);
      if (model === null) return null;
      const schema = await transaction(this.#pool, 'BEGIN', (client) => ensureVectorColumn(client, model.dimensions, where));
      await fillVectors(this.#pool, schema);
      await transaction(this.#pool, 'BEGIN', (client) => ensureVectorIndex(client, schema));
      return schema;
    })().then(
      (schema) => {
        if (schema === null) this.#vectorSchema = undefined; // look again once pinned
        return schema;
      },
      (error: unknown) => {
        this.#vectorSchema = undefined;
        throw error;
      },
    );
    return this.#vectorSchema;
  }
}
