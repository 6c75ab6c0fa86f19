import type pg from 'pg';
import type { FaceMatch, PersonMatch } from '../../core/search-index.js';
import { FacedbError } from '../../errors/errors.js';
import { LITTLE_ENDIAN_HOST, swapFloat32Bytes } from '../rows.js';

/*
 * pgvector (FACEDB_INDEX=pgvector): every face's embedding also lives in a `vector` column with an HNSW index, and
 * `nearestPeople` searches in SQL. No numbered migration: the column and its indexes are created when the setting asks
 * for them and the server has the extension, sized to the pinned model, and filled from the float32 `embedding`
 * column, which stays the source of truth (faces written by a facedb without the setting are filled in before the
 * next search).
 */

/** Same lock as the schema migrations: servers opening one gallery take turns at the DDL. */
const MIGRATION_LOCK = 0x0fac_ed_b0;
const BACKFILL_PAGE = 4096;
/** pgvector's limit for hnsw.ef_search. */
const MAX_EF_SEARCH = 1000;
/**
 * Candidates the HNSW search keeps, at least; pgvector's default (40) gave recall@10 0.91 at 100,000 clustered 128-D
 * faces in bench:scale (run with 64), so this matches the in-memory index's ef_search instead.
 */
const MIN_EF_SEARCH = 256;
const FACES_PER_PERSON_ASKED = 4;
const MIN_FACES_ASKED = 32;

/** The quoted schema holding the extension, for qualified type and operator names (it need not be on the search_path). */
export type VectorSchema = string;

/**
 * Creates the extension, the column and the index that finds faces still to fill, if missing. Run it inside a
 * transaction. invalid_input when the server has no pgvector or the role may not create it.
 */
export async function ensureVectorColumn(client: pg.PoolClient, dimensions: number, where: string): Promise<VectorSchema> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  const available = await client.query("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'");
  if (available.rowCount === 0) {
    throw new FacedbError('invalid_input', `FACEDB_INDEX=pgvector, but the PostgreSQL server at ${where} has no vector extension (pgvector)`, {
      details: { url: where },
    });
  }
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS vector');
  } catch (error) {
    if ((error as { code?: unknown }).code !== '42501') throw error;
    throw new FacedbError('invalid_input', `FACEDB_INDEX=pgvector: the role connecting to ${where} may not create the vector extension; run CREATE EXTENSION vector as an administrator`, {
      cause: error,
      details: { url: where },
    });
  }
  const schema = (
    await client.query<{ schema: string }>(
      "SELECT quote_ident(n.nspname) AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'vector'",
    )
  ).rows[0]!.schema;
  await client.query(`ALTER TABLE faces ADD COLUMN IF NOT EXISTS embedding_vector ${schema}.vector(${dimensions})`);
  await client.query('CREATE INDEX IF NOT EXISTS faces_embedding_vector_missing ON faces (id) WHERE embedding_vector IS NULL');
  return schema;
}

/** The HNSW index; built after the first fill, which is faster than growing it row by row. Run it inside a transaction. */
export async function ensureVectorIndex(client: pg.PoolClient, schema: VectorSchema): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await client.query(`CREATE INDEX IF NOT EXISTS faces_embedding_hnsw ON faces USING hnsw (embedding_vector ${schema}.vector_l2_ops)`);
}

/** Fills the vector column of faces that lack it, a page at a time; returns how many. */
export async function fillVectors(db: pg.Pool | pg.PoolClient, schema: VectorSchema): Promise<number> {
  let filled = 0;
  for (;;) {
    const { rows } = await db.query<[number, Buffer]>({
      text: 'SELECT id, embedding FROM faces WHERE embedding_vector IS NULL ORDER BY id LIMIT $1',
      values: [BACKFILL_PAGE],
      rowMode: 'array',
    });
    if (rows.length === 0) return filled;
    await db.query(
      `UPDATE faces f SET embedding_vector = batch.v::${schema}.vector FROM unnest($1::int[], $2::text[]) AS batch (id, v) WHERE f.id = batch.id`,
      [rows.map((row) => row[0]), rows.map((row) => vectorLiteral(decodeFloat32(row[1])))],
    );
    filled += rows.length;
    if (rows.length < BACKFILL_PAGE) return filled;
  }
}

/**
 * The `k` people nearest to `query` through the HNSW index: faces come back nearest first, several per wanted
 * person, and more are asked for when a few people's many photos fill the answer. Run it inside a transaction
 * (for SET LOCAL).
 */
export async function nearestPeopleInSql(client: pg.PoolClient, schema: VectorSchema, query: Float32Array, k: number): Promise<PersonMatch[]> {
  if (k === 0) return [];
  const literal = vectorLiteral(query);
  let asked = Math.max(MIN_FACES_ASKED, k * FACES_PER_PERSON_ASKED);
  for (;;) {
    await client.query(`SET LOCAL hnsw.ef_search = ${Math.min(MAX_EF_SEARCH, Math.max(MIN_EF_SEARCH, asked))}`);
    const { rows } = await client.query<[number, number | null, number]>({
      text: `SELECT id, person_id, embedding_vector OPERATOR(${schema}.<->) $1::${schema}.vector AS distance
             FROM faces WHERE embedding_vector IS NOT NULL
             ORDER BY embedding_vector OPERATOR(${schema}.<->) $1::${schema}.vector LIMIT $2`,
      values: [literal, asked],
      rowMode: 'array',
    });
    const matches: PersonMatch[] = [];
    const seen = new Set<number>();
    for (const [faceId, personId, distance] of rows) {
      // Unnamed faces have vectors too (for nearestFaces); they are nobody's match.
      if (personId === null || seen.has(personId)) continue;
      seen.add(personId);
      matches.push({ personId, faceId, distance });
      if (matches.length === k) return matches;
    }
    // Fewer rows than asked: the gallery (or what the graph search reaches) is exhausted.
    if (rows.length < asked || asked >= MAX_EF_SEARCH * 8) return matches;
    asked *= 4;
  }
}

/**
 * The `k` faces nearest to `query` through the HNSW index, of people and unnamed alike or (unnamedOnly) only faces
 * without a person; the graph search is filtered afterwards, so more faces are asked for until enough pass.
 */
export async function nearestFacesInSql(client: pg.PoolClient, schema: VectorSchema, query: Float32Array, k: number, unnamedOnly: boolean): Promise<FaceMatch[]> {
  if (k === 0) return [];
  const literal = vectorLiteral(query);
  let asked = Math.max(MIN_FACES_ASKED, k * (unnamedOnly ? FACES_PER_PERSON_ASKED : 1));
  for (;;) {
    await client.query(`SET LOCAL hnsw.ef_search = ${Math.min(MAX_EF_SEARCH, Math.max(MIN_EF_SEARCH, asked))}`);
    const { rows } = await client.query<[number, number | null, number]>({
      text: `SELECT id, person_id, embedding_vector OPERATOR(${schema}.<->) $1::${schema}.vector AS distance
             FROM faces WHERE embedding_vector IS NOT NULL
             ORDER BY embedding_vector OPERATOR(${schema}.<->) $1::${schema}.vector LIMIT $2`,
      values: [literal, asked],
      rowMode: 'array',
    });
    const matches = rows
      .filter(([, personId]) => !unnamedOnly || personId === null)
      .slice(0, k)
      .map(([faceId, personId, distance]): FaceMatch => ({ faceId, personId, distance }));
    if (matches.length === k || rows.length < asked || asked >= MAX_EF_SEARCH * 8) return matches;
    asked *= 4;
  }
}

function decodeFloat32(blob: Uint8Array): Float32Array {
  // Copied into a fresh buffer: the driver's Buffers need not be 4-byte aligned.
  const bytes = new Uint8Array(blob);
  if (!LITTLE_ENDIAN_HOST) swapFloat32Bytes(bytes);
  return new Float32Array(bytes.buffer);
}

/** pgvector's text form. A float32 printed by JavaScript parses back to the same float32. */
function vectorLiteral(vector: Float32Array): string {
  for (const value of vector) {
    if (!Number.isFinite(value)) throw new FacedbError('invalid_input', 'embedding contains NaN or infinite values');
  }
  return `[${vector.join(',')}]`;
}
