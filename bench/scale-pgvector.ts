/**
 * bench:scale's pgvector part: a synthetic gallery written into PGlite (with its bundled vector extension), then
 * opened by the PostgreSQL store with FACEDB_INDEX=pgvector, which fills the vector column and builds the HNSW index,
 * then searched through `nearestPeople`, the path `identify` takes. Rows are written with one statement per batch
 * rather than through addFaces, which would cost a transaction per person.
 */
import pg from 'pg';
import { startPgliteServer } from '../test/pglite-server.js';
import type { PersonMatch } from '../src/core/search-index.js';
import { encodeEmbedding } from '../src/store/rows.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { percentile } from './common.js';
import type { Measured } from './scale.js';
import { recallOf } from './search.js';

const K = 10;
const BATCH = 5000;

/** bench:scale's gallery (`built`) searched for its mated probes in PGlite, against exact search's answers. */
export async function measurePgvector({ faces, dims, built, mated, matedTruth }: Measured) {
  const server = await startPgliteServer();
  try {
    const plain = await openPostgresStore(server.url);
    await plain.ensureModel({ id: 'bench-scale', version: '1', dimensions: dims, metric: 'euclidean', defaultThreshold: 1 });
    await plain.close();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query('INSERT INTO people (id, name) SELECT id, $2 || id FROM generate_series(1, $1::int) AS id', [built.people, 'person ']);
      for (let start = 0; start < faces; start += BATCH) {
        const end = Math.min(faces, start + BATCH);
        const rows = Array.from({ length: end - start }, (_, i) => start + i);
        await client.query(
          `INSERT INTO faces (id, person_id, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, model_id, model_version)
           SELECT id, person_id, md5(id::text), 0, 0, 100, 100, 0.9, embedding, 'bench-scale', '1'
           FROM unnest($1::int[], $2::int[], $3::bytea[]) AS batch (id, person_id, embedding)`,
          [
            rows.map((row) => built.faceIds[row]!),
            rows.map((row) => built.personIds[row]!),
            rows.map((row) => encodeEmbedding(built.vectors.subarray(row * dims, (row + 1) * dims))),
          ],
        );
      }
    } finally {
      await client.end();
    }
    console.error(`pgvector ${faces} × ${dims}-D: rows written, filling the vector column and building HNSW`);
    const opened = performance.now();
    const store = await openPostgresStore(server.url, { vector: true });
    /** Opening with pgvector: filling the vector column and building the HNSW index. */
    const fillS = (performance.now() - opened) / 1000;
    try {
      const times: number[] = [];
      const answers: PersonMatch[][] = [];
      for (const probe of mated) {
        const start = performance.now();
        answers.push(await store.nearestPeople!(probe, K));
        times.push(performance.now() - start);
      }
      return { faces, dims, fillS, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), recallAt10: recallOf(answers, matedTruth) };
    } finally {
      await store.close();
    }
  } finally {
    await server.stop();
  }
}
