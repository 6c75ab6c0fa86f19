import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startPgliteServer, type PgliteServer } from '../../../test/pglite-server.js';
import type { ModelInfo } from '../../core/types.js';
import { runGalleryStoreContract } from '../store.contract.js';
import { openPostgresStore } from './store.js';

/*
 * The PostgreSQL store with FACEDB_INDEX=pgvector, held to the same contract as every store, against PGlite with its
 * bundled vector extension (Debian's PostgreSQL here has no pgvector) served over a loopback socket, so the store's
 * own `pg` pool and SQL run unchanged. The plain PostgreSQL path is tested against the real server in store.test.ts.
 * PGlite is one database: each gallery starts from an emptied `public` schema.
 */
let server: PgliteServer;
before(async () => {
  server = await startPgliteServer();
});
after(async () => {
  await server.stop();
});

async function emptyGallery(): Promise<string> {
  await server.db.exec('DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;');
  return server.url;
}

runGalleryStoreContract(
  'postgres + pgvector (PGlite)',
  async () => openPostgresStore(await emptyGallery(), { vector: true }),
  async () => {
    const url = await emptyGallery();
    return [await openPostgresStore(url, { vector: true }), await openPostgresStore(url, { vector: true })];
  },
  // PGlite has one role and one database: the read-only and disk-full cases run on the real server (store.test.ts).
  {},
);

const MODEL: ModelInfo = { id: 'pgvector-test', version: '1', dimensions: 3, metric: 'euclidean', defaultThreshold: 0.5 };

void describe('pgvector column', () => {
  void it('is added to an existing gallery, sized to its model, and filled from the stored embeddings', async () => {
    const url = await emptyGallery();
    const plain = await openPostgresStore(url);
    await plain.ensureModel(MODEL);
    const ada = await plain.upsertPerson('Ada');
    const faces = [0, 1, 2].map((i) => ({
      sourcePath: null,
      contentHash: String(i).repeat(64),
      box: { x: 0, y: 0, width: 10, height: 10 },
      detectionScore: 0.9,
      embedding: Float32Array.from([i, 0.5, -i / 3]),
      crop: null,
    }));
    await plain.addFaces(ada.id, faces);
    await plain.close();

    const store = await openPostgresStore(url, { vector: true });
    try {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const column = await client.query<{ type: string }>(
          "SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = 'faces'::regclass AND attname = 'embedding_vector'",
        );
        assert.match(column.rows[0]!.type, /vector\(3\)/);
        const filled = await client.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM faces WHERE embedding_vector IS NOT NULL');
        assert.equal(filled.rows[0]!.n, 3);
        const index = await client.query("SELECT 1 FROM pg_indexes WHERE tablename = 'faces' AND indexdef ILIKE '%hnsw%'");
        assert.equal(index.rowCount, 1);
      } finally {
        await client.end();
      }
      const [nearest] = await store.nearestPeople!(Float32Array.from([2, 0.5, -0.6]), 1);
      assert.equal(nearest?.personId, ada.id);
      assert.ok(Math.abs(nearest.distance - Math.abs(-2 / 3 + 0.6)) < 1e-6);
      // Opening again finds the column and index in place.
      await (await openPostgresStore(url, { vector: true })).close();
    } finally {
      await store.close();
    }
  });

  void it('is not searched by a store opened without the setting', async () => {
    const store = await openPostgresStore(await emptyGallery());
    try {
      assert.equal(store.nearestPeople, undefined);
    } finally {
      await store.close();
    }
  });
});
