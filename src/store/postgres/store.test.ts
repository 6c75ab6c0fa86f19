import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { inspect } from 'node:util';
import pg from 'pg';
import type { ModelInfo } from '../../core/types.js';
import { isFacedbError } from '../../errors/errors.js';
import { openStore } from '../open.js';
import { SqliteGalleryStore } from '../sqlite/store.js';
import { runGalleryStoreContract } from '../store.contract.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { postgresFault } from './connection.js';
import { openPostgresStore, PostgresGalleryStore } from './store.js';
import { findPostgresBinaries, startPostgres, type TestPostgres } from '../../../test/postgres-server.js';

/*
 * Runs against FACEDB_TEST_POSTGRES_URL when set (its user needs the right to create schemas);
 * otherwise starts a throwaway cluster from the installed PostgreSQL binaries. Every gallery
 * gets its own schema, so tests never see each other's data.
 */

const MODEL: ModelInfo = { id: 'postgres-test', version: '1', dimensions: 4, metric: 'euclidean', defaultThreshold: 0.5 };
const PASSWORD = 's3cret-Pa55word';

const givenUrl = process.env.FACEDB_TEST_POSTGRES_URL || undefined;
const binaries = givenUrl === undefined ? findPostgresBinaries() : undefined;

if (givenUrl === undefined && binaries === undefined) {
  const why =
    'no PostgreSQL to test against: install it (apt-get install -y postgresql) so the tests can start a throwaway server, or set FACEDB_TEST_POSTGRES_URL';
  // CI must really test PostgreSQL, not pass by skipping it.
  if (process.env.CI) void it('has a PostgreSQL server to test against', () => assert.fail(why));
  else void it('PostgresGalleryStore', { skip: why }, () => {});
} else {
  let server: TestPostgres;
  let admin: pg.Client;
  const schemas: string[] = [];

  before(async () => {
    server =
      givenUrl === undefined
        ? await startPostgres(binaries)
        : { url: givenUrl, stopServer: () => Promise.resolve(), stop: () => Promise.resolve() };
    admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
  });
  after(async () => {
    // An external server outlives the tests: leave it as we found it.
    if (givenUrl !== undefined) {
      for (const schema of schemas) await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.query(`DROP ROLE IF EXISTS facedb_ro_${process.pid}`);
    }
    await admin.end();
    await server.stop();
  });

  /** A URL for a new, empty schema of its own. */
  const freshUrl = async (): Promise<string> => {
    const schema = `facedb_test_${process.pid}_${schemas.length + 1}`;
    schemas.push(schema);
    await admin.query(`CREATE SCHEMA ${schema}`);
    return withSearchPath(server.url, schema);
  };
  const schemaOf = (url: string): string => new URL(url).searchParams.get('options')!.replace('-c search_path=', '');

  /**
   * The same gallery as `url`, reached as a role whose transactions are read-only by default (ALTER ROLE … SET
   * default_transaction_read_only), as on a read-only database or replica. It has every privilege on the
   * schema, so its writes fail for being read-only (25006), not for lack of rights.
   */
  const readOnlyUrl = async (url: string): Promise<string> => {
    const schema = schemaOf(url);
    const role = `facedb_ro_${process.pid}`;
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (rowCount === 0) {
      await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`);
      await admin.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    }
    await admin.query(`GRANT ALL ON SCHEMA ${schema} TO ${role}`);
    await admin.query(`GRANT ALL ON ALL TABLES IN SCHEMA ${schema} TO ${role}`);
    await admin.query(`GRANT ALL ON ALL SEQUENCES IN SCHEMA ${schema} TO ${role}`);
    const readOnly = new URL(url);
    readOnly.username = role;
    readOnly.password = PASSWORD;
    return readOnly.href;
  };

  runGalleryStoreContract(
    'postgres',
    async () => openPostgresStore(await freshUrl()),
    async () => {
      const url = await freshUrl();
      return [await openPostgresStore(url), await openPostgresStore(url)];
    },
    {
      openWithReadOnlyTwin: async () => {
        const url = await freshUrl();
        const store = await openPostgresStore(url);
        return { store, openReadOnly: async () => openPostgresStore(await readOnlyUrl(url)) };
      },
      // No disk-full in a test: postgresFault's mapping of 53100 is unit-tested below.
    },
  );

  void describe('PostgresGalleryStore', () => {
    void it('migrates a fresh schema exactly once when several servers open it at once', async () => {
      const url = await freshUrl();
      const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore(url)));
      const { rows } = await admin.query<{ version: number }>(`SELECT version FROM ${schemaOf(url)}.facedb_migrations ORDER BY version`);
      assert.deepEqual(
        rows.map((r) => r.version),
        Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1),
      );
      await stores[0]!.ensureModel(MODEL);
      for (const store of stores) assert.deepEqual(await store.getModel(), MODEL);
      await Promise.all(stores.map((store) => store.close()));
    });

    void it('gives everyone the same person when several servers add the same name at once', async () => {
      const url = await freshUrl();
      const [first, second] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
      const people = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? first : second).upsertPerson('Ada')));
      assert.equal(new Set(people.map((p) => p.id)).size, 1);
      assert.equal((await first.listPeople({ limit: 10, offset: 0 })).total, 1);
      await Promise.all([first.close(), second.close()]);
    });

    void it('numbers changes in commit order, so a reader never skips a slow writer', async () => {
      const url = await freshUrl();
      const [writer, reader] = await Promise.all([openPostgresStore(url), openPostgresStore(url)]);
      const slow = new pg.Client({ connectionString: url });
      await slow.connect();
      try {
        await writer.ensureModel(MODEL);
        const ada = await writer.upsertPerson('Ada');
        const { changeSeq: start } = await reader.loadEmbeddings();
        // A writer that has inserted a face but not committed yet...
        await slow.query('BEGIN');
        const { rows } = await slow.query<{ id: number }>(
          `INSERT INTO faces (person_id, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, model_id, model_version)
           VALUES ($1, 'slow', 0, 0, 1, 1, 0.9, $2, $3, $4) RETURNING id`,
          [ada.id, Buffer.from(Float32Array.of(1, 2, 3, 4).buffer), MODEL.id, MODEL.version],
        );
        const slowId = rows[0]!.id;
        // ...and a fast one that starts later: it must wait for the slow one's commit rather than take a later
        // change number and commit first, which would let the reader move past the slow one's number.
        const fast = writer.addFaces(ada.id, [face('fast')]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const early = await reader.embeddingChangesSince(start);
        assert.deepEqual(early.added, [], 'nothing is visible while the first writer is open');
        await slow.query('COMMIT');
        const [fastFace] = await fast;
        const late = await reader.embeddingChangesSince(early.changeSeq);
        assert.deepEqual(late.added.map((f) => f.faceId).sort((a, b) => a - b), [slowId, fastFace!.id].sort((a, b) => a - b));
      } finally {
        await slow.end();
        await Promise.all([writer.close(), reader.close()]);
      }
    });

    void it('keeps everything across close and reopen', async () => {
      const url = await freshUrl();
      const first = await openPostgresStore(url);
      await first.ensureModel(MODEL);
      const ada = await first.upsertPerson('Ada');
      const faces = await first.addFaces(ada.id, [face('a'), face('b', Float32Array.of(1, 2, 3, 4))]);
      const snapshot = await first.loadEmbeddings();
      await first.close();

      const second = await openPostgresStore(url);
      assert.deepEqual(await second.getModel(), MODEL);
      assert.deepEqual(await second.findPersonByName('Ada'), { ...ada, faceCount: 2 });
      assert.deepEqual(await second.listFaces(ada.id, { limit: 10, offset: 0 }), { items: faces, total: 2 });
      assert.deepEqual(await second.loadEmbeddings(), snapshot);
      await rejectsWithCode(second.ensureModel({ ...MODEL, version: '2' }), 'model_mismatch', /postgres-test@1.*postgres-test@2/);
      await second.close();
    });

    void it('upgrades a schema-2 gallery to unnamed faces: faces kept, unnamed faces logged as unnamed', async () => {
      const url = await freshUrl();
      const raw = new pg.Client({ connectionString: url });
      await raw.connect();
      try {
        await raw.query(MIGRATIONS[0]!);
        await raw.query(MIGRATIONS[1]!);
        await raw.query('CREATE TABLE facedb_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
        await raw.query('INSERT INTO facedb_migrations (version) VALUES (1), (2)');
        await raw.query('INSERT INTO meta (model_id, model_version, dimensions, metric, threshold) VALUES ($1, $2, $3, $4, $5)', [
          MODEL.id,
          MODEL.version,
          MODEL.dimensions,
          MODEL.metric,
          MODEL.defaultThreshold,
        ]);
        await raw.query("INSERT INTO people (id, name) VALUES (1, 'Ada')");
        await raw.query(
          `INSERT INTO faces (person_id, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, model_id, model_version)
           VALUES (1, 'old', 0, 0, 1, 1, 0.9, $1, $2, $3)`,
          [Buffer.from(Float32Array.of(1, 2, 3, 4).buffer), MODEL.id, MODEL.version],
        );
      } finally {
        await raw.end();
      }
      const store = await openPostgresStore(url);
      try {
        const snapshot = await store.loadEmbeddings();
        assert.equal(snapshot.faceIds.length, 1);
        const [unnamed] = await store.addUnnamedFaces([face('photo')]);
        assert.ok(unnamed);
        // Since the unnamed faces' change-log step, an unnamed face is logged too, as unnamed (never as a person's).
        const logged = await store.embeddingChangesSince(snapshot.changeSeq);
        assert.deepEqual([logged.complete, logged.added, logged.removed, logged.unnamed.map((f) => f.faceId)], [true, [], [], [unnamed.id]]);
        const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: [unnamed.id] }]);
        await store.nameCluster(cluster!, 'Ada');
        const changes = await store.embeddingChangesSince(snapshot.changeSeq);
        assert.deepEqual(changes.added.map((f) => [f.faceId, f.personId]), [[unnamed.id, 1]]);
        assert.equal(await store.removePerson(1), 2);
        assert.equal((await store.embeddingChangesSince(snapshot.changeSeq)).removed.length, 2);
      } finally {
        await store.close();
      }
    });

    void it('loads embeddings spanning many read pages', async () => {
      const store = await openPostgresStore(await freshUrl());
      await store.ensureModel(MODEL);
      const total = 20_000;
      const firstIds: number[] = [];
      for (let batch = 0; batch < total / 2000; batch++) {
        const person = await store.upsertPerson(`person ${batch}`);
        const faces = Array.from({ length: 2000 }, (_, i) => face(`${batch}/${i}`, Float32Array.of(batch, i, -i / 3, 0.5)));
        firstIds.push((await store.addFaces(person.id, faces))[0]!.id);
      }
      const removed = firstIds[4]! + 100;
      await store.removeFace(removed);
      const snapshot = await store.loadEmbeddings();
      assert.equal(snapshot.faceIds.length, total - 1);
      assert.equal(snapshot.vectors.length, (total - 1) * MODEL.dimensions);
      snapshot.faceIds.forEach((faceId, row) => {
        // Each batch got consecutive ids, in the batch's order.
        const batch = firstIds.findLastIndex((first) => first <= faceId);
        const i = faceId - firstIds[batch]!;
        assert.equal(snapshot.personIds[row], snapshot.personIds[0]! + batch);
        assert.deepEqual(snapshot.vectors.slice(row * 4, row * 4 + 4), Float32Array.of(batch, i, -i / 3, 0.5));
      });
      assert.ok(!snapshot.faceIds.includes(removed));
      await store.close();
    });

    void it('refuses a schema written by a newer facedb', async () => {
      const url = await freshUrl();
      await (await openPostgresStore(url)).close();
      await admin.query(`INSERT INTO ${schemaOf(url)}.facedb_migrations (version) VALUES ($1)`, [SCHEMA_VERSION + 1]);
      await rejectsWithCode(openPostgresStore(url), 'invalid_input', /newer/);
    });

    void it("refuses a schema holding another program's tables, leaving it untouched", async () => {
      const url = await freshUrl();
      const schema = schemaOf(url);
      await admin.query(`CREATE TABLE ${schema}.people (who text)`);
      await rejectsWithCode(openPostgresStore(url), 'invalid_input', /not a facedb gallery/);
      const { rows } = await admin.query<{ table_name: string }>(
        'SELECT table_name FROM information_schema.tables WHERE table_schema = $1',
        [schema],
      );
      assert.deepEqual(
        rows.map((r) => r.table_name),
        ['people'],
      );
    });

    void it('refuses a malformed URL without repeating it', async () => {
      const error = await rejectsWithCode(openPostgresStore(`postgres://ada:${PASSWORD}@host:99999/db`), 'invalid_input', /malformed/);
      assertNoPassword(error);
    });

    void it('explains an unknown database without the password', async () => {
      const url = new URL(server.url);
      url.password = PASSWORD;
      url.pathname = '/facedb_no_such_database';
      const error = await rejectsWithCode(openPostgresStore(url.href), 'invalid_input', /cannot open gallery database postgres(ql)?:\/\/.*:\*\*\*@/);
      assertNoPassword(error);
    });

    void it('explains an unreachable server without the password', async () => {
      const url = `postgresql://ada:${PASSWORD}@127.0.0.1:${await closedPort()}/gallery?password=${PASSWORD}`;
      const error = await rejectsWithCode(
        openStore(url),
        'storage_unavailable',
        /cannot open gallery database postgresql:\/\/ada:\*\*\*@127\.0\.0\.1.*cannot be reached.*ECONNREFUSED/,
      );
      assertNoPassword(error);
    });

    void it('answers storage_unavailable, reads and writes alike, once its server has stopped', async (t) => {
      const bin = binaries ?? findPostgresBinaries();
      if (bin === undefined) {
        t.skip('needs the PostgreSQL binaries to start a server it can stop');
        return;
      }
      const own = await startPostgres(bin);
      let stopped = false;
      const store = await openPostgresStore(own.url);
      try {
        await store.ensureModel(MODEL);
        const ada = await store.upsertPerson('Ada');
        await store.ping();
        await own.stopServer();
        stopped = true;
        const calls = [
          () => store.ping(),
          () => store.listPeople({ limit: 10, offset: 0 }),
          () => store.upsertPerson('Grace'),
          () => store.addFaces(ada.id, [face('a')]),
        ];
        for (const call of calls) await rejectsWithCode(call(), 'storage_unavailable', /cannot be reached/);
      } finally {
        await store.close().catch(() => {});
        if (!stopped) await own.stopServer();
        await own.stop().catch(() => {});
      }
    });

    void it('maps the SQLSTATEs and socket errors of storage faults, and only those', () => {
      const cases: Array<[unknown, string | null]> = [
        [Object.assign(new Error('could not extend file: No space left on device'), { code: '53100' }), 'full'],
        [Object.assign(new Error('cannot execute INSERT in a read-only transaction'), { code: '25006' }), 'read_only'],
        [Object.assign(new Error('could not read block'), { code: '58030' }), 'io'],
        [Object.assign(new Error('invalid page in block'), { code: 'XX001' }), 'io'],
        [Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'unreachable'],
        [Object.assign(new Error('the database system is shutting down'), { code: '57P03' }), 'unreachable'],
        [Object.assign(new Error('connection failure'), { code: '08006' }), 'unreachable'],
        [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'unreachable'],
        [new Error('Connection terminated unexpectedly'), 'unreachable'],
        [Object.assign(new Error('duplicate key'), { code: '23505' }), null],
        [Object.assign(new Error('could not serialize access'), { code: '40001' }), null],
        [new Error('something else'), null],
      ];
      for (const [error, fault] of cases) {
        const mapped = postgresFault(error);
        assert.equal(mapped?.details?.fault ?? null, fault, (error as Error).message);
        if (mapped) assert.equal(mapped.code, 'storage_unavailable');
      }
    });

    void it('is what openStore picks for postgres:// and postgresql:// URLs, and only for them', async () => {
      const url = await freshUrl();
      for (const candidate of [url, url.replace(/^postgres:/, 'postgresql:'), url.replace(/^postgres:/, 'POSTGRES:')]) {
        const store = await openStore(candidate);
        assert.ok(store instanceof PostgresGalleryStore, candidate);
        await store.close();
      }
      const root = await mkdtemp(join(tmpdir(), 'facedb-open-'));
      const sqlite = await openStore(join(root, 'postgres.sqlite'));
      assert.ok(sqlite instanceof SqliteGalleryStore);
      await sqlite.close();
      await rm(root, { recursive: true, force: true });
    });
  });
}

function withSearchPath(url: string, schema: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
}

/** A local port nothing listens on: one the OS just handed out and we released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function face(key: string, embedding = Float32Array.of(0.25, -1, 1 / 3, 7)) {
  return { sourcePath: `/photos/${key}.jpg`, contentHash: key, box: { x: 1, y: 2, width: 3, height: 4 }, detectionScore: 0.9, embedding, crop: null };
}

function assertNoPassword(error: Error): void {
  // inspect() shows the cause chain and details too: the password must be in none of them.
  assert.ok(!inspect(error, { depth: 10 }).includes(PASSWORD), `the password leaked: ${error.message}`);
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, message: RegExp): Promise<Error> {
  let caught: Error | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFacedbError(error), `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    caught = error;
    return true;
  });
  return caught!;
}
