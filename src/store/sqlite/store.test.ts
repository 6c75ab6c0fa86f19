import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import type { ModelInfo } from '../../core/types.js';
import { isFacedbError } from '../../errors/errors.js';
import { runGalleryStoreContract } from '../store.contract.js';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { SQLITE_CURATION_MIGRATION } from '../curation-migration.js';
import { openSqliteStore, SqliteGalleryStore } from './store.js';

const MODEL: ModelInfo = { id: 'sqlite-test', version: '1', dimensions: 4, metric: 'euclidean', defaultThreshold: 0.5 };

let root: string;
let counter = 0;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'facedb-sqlite-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshPath(): string {
  return join(root, `gallery-${++counter}.sqlite`);
}

runGalleryStoreContract(
  'sqlite',
  () => openSqliteStore(freshPath()),
  async () => {
    const path = freshPath();
    return [await openSqliteStore(path), await openSqliteStore(path)];
  },
  {
    // Opened read-only as it would be on a read-only file or mount (see also the read-only mount test below).
    openWithReadOnlyTwin: async () => {
      const path = freshPath();
      return { store: await openSqliteStore(path), openReadOnly: () => openSqliteStore(path, { readOnly: true }) };
    },
    // A real SQLITE_FULL: the database may not grow past the pages it has now.
    fillUp: (store) => {
      const db = (store as SqliteGalleryStore).database;
      const pages = db.pragma('page_count', { simple: true }) as number;
      db.pragma(`max_page_count = ${pages}`);
      return Promise.resolve(() => {
        db.pragma('max_page_count = 1073741823');
        return Promise.resolve();
      });
    },
  },
);

function face(key: string, embedding = Float32Array.of(0.25, -1, 1 / 3, 7)) {
  return { sourcePath: `/photos/${key}.jpg`, contentHash: key, box: { x: 1, y: 2, width: 3, height: 4 }, detectionScore: 0.9, embedding, crop: null };
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFacedbError(error), `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.match(error.message, message);
    return true;
  });
}

void describe('SqliteGalleryStore', () => {
  void it('creates missing parent folders', async () => {
    const store = await openSqliteStore(join(root, 'nested', 'deeper', 'gallery.sqlite'));
    await store.ping();
    await store.close();
  });

  void it('keeps everything across close and reopen', async () => {
    const path = freshPath();
    const first = await openSqliteStore(path);
    await first.ensureModel(MODEL);
    const ada = await first.upsertPerson('Ada');
    const faces = await first.addFaces(ada.id, [face('a'), face('b', Float32Array.of(1, 2, 3, 4))]);
    const snapshot = await first.loadEmbeddings();
    await first.close();

    const second = await openSqliteStore(path);
    assert.deepEqual(await second.getModel(), MODEL);
    assert.deepEqual(await second.findPersonByName('Ada'), { ...ada, faceCount: 2 });
    assert.deepEqual(await second.listFaces(ada.id, { limit: 10, offset: 0 }), { items: faces, total: 2 });
    assert.deepEqual(await second.loadEmbeddings(), snapshot);
    await rejectsWithCode(second.ensureModel({ ...MODEL, version: '2' }), 'model_mismatch', /sqlite-test@1.*sqlite-test@2/);
    await second.close();
  });

  void it('runs in WAL mode with foreign keys on', async () => {
    const store = await openSqliteStore(freshPath());
    assert.equal(store.database.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(store.database.pragma('foreign_keys', { simple: true }), 1);
    await store.close();
  });

  void it('migrates an empty database to the current schema version, once', async () => {
    const path = freshPath();
    const raw = new Database(path);
    assert.equal(raw.pragma('user_version', { simple: true }), 0);
    raw.close();

    const store = await openSqliteStore(path);
    assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const tables = store.database.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").pluck().all();
    assert.deepEqual(tables, [
      'clusters',
      'curation_constraints',
      'face_changes',
      'face_photos',
      'faces',
      'gallery_calibration',
      'meta',
      'people',
      'sqlite_sequence',
      'unnamed_photos',
    ]);
    await store.ensureModel(MODEL);
    await store.close();

    // Reopening must not try to create the tables again.
    const again = await openSqliteStore(path);
    assert.deepEqual(await again.getModel(), MODEL);
    await again.close();
  });

  void it('upgrades a gallery from before curation in place: faces kept, without upload names or constraints', async () => {
    const path = freshPath();
    const older = await openSqliteStore(path);
    await older.ensureModel(MODEL);
    const ada = await older.upsertPerson('Ada');
    const box = { x: 1, y: 2, width: 3, height: 4 };
    const kept = { sourcePath: '/p/kept.jpg', contentHash: 'ab'.repeat(32), box, detectionScore: 0.9, embedding: new Float32Array(4).fill(0.5), crop: null };
    const [face] = await older.addFaces(ada.id, [kept]);
    await older.close();
    const raw = new Database(path);
    raw.exec('DROP TABLE curation_constraints; ALTER TABLE faces DROP COLUMN upload_name;');
    // The schema as it was just before the curation step (later steps run again after it).
    raw.pragma(`user_version = ${MIGRATIONS.indexOf(SQLITE_CURATION_MIGRATION)}`);
    raw.close();
    const store = await openSqliteStore(path);
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const [stored] = await store.getStoredFaces([face!.id]);
      assert.deepEqual([stored?.personName, stored?.uploadName], ['Ada', null]);
      assert.deepEqual(await store.listConstraints(), { facesApart: [], faceNotPerson: [], clusterNotPerson: [] });
    } finally {
      await store.close();
    }
  });

  void it('upgrades a schema-1 gallery in place: faces kept, changes logged from then on', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec(MIGRATIONS[0]!);
    raw.pragma('user_version = 1');
    raw.prepare('INSERT INTO meta VALUES (1, ?, ?, ?, ?, ?)').run(MODEL.id, MODEL.version, MODEL.dimensions, MODEL.metric, MODEL.defaultThreshold);
    raw.prepare("INSERT INTO people (id, name, created_at) VALUES (1, 'Ada', '2026-01-01T00:00:00Z')").run();
    raw.prepare(`INSERT INTO faces (id, person_id, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, model_id, model_version, created_at)
      VALUES (7, 1, 'old', 0, 0, 1, 1, 0.9, ?, ?, ?, '2026-01-01T00:00:00Z')`).run(Buffer.from(Float32Array.of(1, 2, 3, 4).buffer), MODEL.id, MODEL.version);
    raw.close();

    const store = await openSqliteStore(path);
    try {
      assert.equal(store.database.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      const snapshot = await store.loadEmbeddings();
      assert.deepEqual([...snapshot.faceIds], [7]);
      assert.deepEqual([...snapshot.vectors], [1, 2, 3, 4]);
      assert.equal(snapshot.changeSeq, 0);
      const old = await store.getFace(7);
      assert.equal(old?.personName, 'Ada');
      assert.equal(old.contentHash, 'old');
      const [added] = await store.addFaces(1, [face('new')]);
      const changes = await store.embeddingChangesSince(snapshot.changeSeq);
      assert.deepEqual(changes.added.map((f) => f.faceId), [added!.id]);
      // The rebuilt tables never hand out an id twice, not even the highest one after it is removed.
      await store.removeFace(added!.id);
      const [next] = await store.addFaces(1, [face('newer')]);
      assert.ok(next!.id > added!.id);
      assert.equal(store.database.pragma('foreign_keys', { simple: true }), 1);
      await assert.rejects(store.addFaces(999, [face('orphan')]));
    } finally {
      await store.close();
    }
  });

  void it('upgrades a schema-2 gallery to unnamed faces: faces, triggers and the id high-water mark kept', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec(MIGRATIONS[0]!);
    raw.exec(MIGRATIONS[1]!);
    raw.pragma('user_version = 2');
    raw.prepare('INSERT INTO meta VALUES (1, ?, ?, ?, ?, ?)').run(MODEL.id, MODEL.version, MODEL.dimensions, MODEL.metric, MODEL.defaultThreshold);
    raw.prepare("INSERT INTO people (id, name, created_at) VALUES (1, 'Ada', '2026-01-01T00:00:00Z')").run();
    const insert = raw.prepare(`INSERT INTO faces (id, person_id, content_hash, box_x, box_y, box_w, box_h, detection_score, embedding, model_id, model_version, created_at)
      VALUES (?, 1, ?, 0, 0, 1, 1, 0.9, ?, ?, ?, '2026-01-01T00:00:00Z')`);
    insert.run(3, 'kept', Buffer.from(Float32Array.of(1, 2, 3, 4).buffer), MODEL.id, MODEL.version);
    insert.run(9, 'gone', Buffer.from(Float32Array.of(1, 2, 3, 4).buffer), MODEL.id, MODEL.version);
    raw.prepare('DELETE FROM faces WHERE id = 9').run();
    raw.close();

    const store = await openSqliteStore(path);
    try {
      const { changeSeq } = await store.loadEmbeddings();
      assert.deepEqual([...(await store.loadEmbeddings()).faceIds], [3]);
      // Face 9 was removed before the rebuild: its id is still never handed out again.
      const [unnamed] = await store.addUnnamedFaces([face('photo')]);
      assert.ok(unnamed && unnamed.id > 9);
      const [cluster] = await store.saveClusters([{ clusterId: null, faceIds: [unnamed.id] }]);
      await store.nameCluster(cluster!, 'Ada');
      const changes = await store.embeddingChangesSince(changeSeq);
      assert.deepEqual(changes.added.map((f) => [f.faceId, f.personId]), [[unnamed.id, 1]]);
      await store.removePerson(1);
      assert.deepEqual((await store.embeddingChangesSince(changeSeq)).removed.sort((a, b) => a - b), [3, unnamed.id]);
      assert.deepEqual(store.database.pragma('foreign_key_check'), []);
    } finally {
      await store.close();
    }
  });

  void it('upgrades a schema-4 gallery to look-alike keys: names stored before the rules keep their people', async () => {
    const path = freshPath();
    const raw = new Database(path);
    for (const step of MIGRATIONS.slice(0, 4)) raw.exec(step);
    raw.pragma('user_version = 4');
    // Stored before the name rules: un-normalised, and two look-alikes of each other.
    const insert = raw.prepare("INSERT INTO people (id, name, created_at) VALUES (?, ?, '2026-01-01T00:00:00Z')");
    insert.run(1, 'Ada  Lovelace ');
    insert.run(2, 'Bono');
    insert.run(3, 'BONO');
    raw.close();

    const store = await openSqliteStore(path);
    try {
      assert.equal((await store.upsertPerson('Ada Lovelace')).id, 1);
      assert.equal((await store.upsertPerson('Bono')).id, 2);
      assert.equal((await store.findPersonByName('BONO'))?.id, 3);
      const error = await store.upsertPerson('B\u043eno').then(() => null, (caught: unknown) => caught);
      assert.ok(isFacedbError(error) && error.code === 'invalid_input' && /"Bono" \(#2\)/.test(error.message), String(error));
      assert.equal((await store.listPeople({ limit: 10, offset: 0 })).total, 3);
    } finally {
      await store.close();
    }
  });

  void it('says the change log is incomplete for a reader behind its pruned start', async () => {
    const store = await openSqliteStore(freshPath());
    try {
      await store.ensureModel(MODEL);
      const ada = await store.upsertPerson('Ada');
      const ids = [];
      for (const key of ['a', 'b', 'c']) ids.push((await store.addFaces(ada.id, [face(key)]))[0]!.id);
      const { changeSeq: latest } = await store.embeddingChangesSince(0);
      // What pruning does once more than CHANGE_LOG_KEPT changes pile up, here for all but the newest.
      store.database.prepare('DELETE FROM face_changes WHERE seq < ?').run(latest);
      const behind = await store.embeddingChangesSince(latest - 2);
      assert.equal(behind.complete, false);
      const justInTime = await store.embeddingChangesSince(latest - 1);
      assert.equal(justInTime.complete, true);
      assert.deepEqual(justInTime.added.map((f) => f.faceId), [ids[2]]);
    } finally {
      await store.close();
    }
  });

  void it('refuses a database written by a newer facedb', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    await rejectsWithCode(openSqliteStore(path), 'invalid_input', /newer/);
  });

  void it('refuses a file that is not a SQLite database, leaving it untouched', async () => {
    for (const content of [Buffer.from('name,embedding\nada,0.1 0.2\n'), Buffer.alloc(8192, 0x5a)]) {
      const path = freshPath();
      await writeFile(path, content);
      await rejectsWithCode(openSqliteStore(path), 'invalid_input', /not a facedb gallery/);
      assert.deepEqual(await readFile(path), content);
    }
  });

  void it('refuses another program\'s SQLite database, leaving it untouched', async () => {
    const path = freshPath();
    const raw = new Database(path);
    raw.exec("CREATE TABLE people (who TEXT); INSERT INTO people VALUES ('someone')");
    raw.close();
    await rejectsWithCode(openSqliteStore(path), 'invalid_input', /not a facedb gallery/);
    const again = new Database(path);
    assert.deepEqual(again.prepare('SELECT name FROM sqlite_schema').pluck().all(), ['people']);
    assert.equal(again.pragma('user_version', { simple: true }), 0);
    assert.equal(again.pragma('journal_mode', { simple: true }), 'delete');
    again.close();
  });

  void it('refuses embeddings of the wrong size for the pinned model', async () => {
    const store = await openSqliteStore(freshPath());
    await store.ensureModel(MODEL);
    const ada = await store.upsertPerson('Ada');
    await rejectsWithCode(store.addFaces(ada.id, [face('a', new Float32Array(128))]), 'invalid_input', /128 dimensions/);
    await store.close();
  });

  void it('loads embeddings spanning many read pages', async () => {
    const store = await openSqliteStore(freshPath());
    await store.ensureModel(MODEL);
    const total = 10_000;
    for (let batch = 0; batch < total / 1000; batch++) {
      const person = await store.upsertPerson(`person ${batch}`);
      const faces = Array.from({ length: 1000 }, (_, i) => face(`${batch}/${i}`, Float32Array.of(batch, i, -i / 3, 0.5)));
      await store.addFaces(person.id, faces);
    }
    await store.removeFace(4096);
    const snapshot = await store.loadEmbeddings();
    assert.equal(snapshot.faceIds.length, total - 1);
    assert.equal(snapshot.vectors.length, (total - 1) * MODEL.dimensions);
    snapshot.faceIds.forEach((faceId, row) => {
      const index = faceId - 1; // ids were handed out in insertion order
      const batch = Math.floor(index / 1000);
      const i = index % 1000;
      assert.deepEqual(snapshot.vectors.slice(row * 4, row * 4 + 4), Float32Array.of(batch, i, -i / 3, 0.5));
    });
    assert.ok(!snapshot.faceIds.includes(4096));
    await store.close();
  });

  void it('stays consistent when a writer is killed mid-way', { timeout: 60_000 }, async () => {
    const path = freshPath();
    const batchSize = 50;
    const { acknowledged, signal, stderr } = await runAndKillWriter(path, batchSize, 300 + Math.random() * 200);
    assert.equal(signal, 'SIGKILL', `the writer died on its own: ${stderr}`);

    const store = await openSqliteStore(path);
    const db = store.database;
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    const orphans = db.prepare('SELECT COUNT(*) FROM faces f LEFT JOIN people p ON p.id = f.person_id WHERE p.id IS NULL');
    assert.equal(orphans.pluck().get(), 0);

    // Each batch is one person's faces: a batch is either all there or not at all.
    const perPerson = db.prepare('SELECT COUNT(f.id) FROM people p LEFT JOIN faces f ON f.person_id = p.id GROUP BY p.id').pluck().all() as number[];
    for (const count of perPerson) assert.ok(count === 0 || count === batchSize, `a person has ${count} faces`);
    const batches = perPerson.filter((count) => count === batchSize).length;
    // Every acknowledged batch survived; at most one more committed before its acknowledgement was read.
    assert.ok(batches >= acknowledged && batches <= acknowledged + 1, `${batches} batches, ${acknowledged} acknowledged`);
    assert.equal(await store.countFaces(), batches * batchSize);
    assert.equal((await store.loadEmbeddings()).faceIds.length, batches * batchSize);
    await store.close();
  });
});

/** Starts a process that enrolls batches forever, printing a line per committed batch, and SIGKILLs it. */
async function runAndKillWriter(
  path: string,
  batchSize: number,
  killAfterMs: number,
): Promise<{ acknowledged: number; signal: NodeJS.Signals | null; stderr: string }> {
  const storeUrl = pathToFileURL(join(import.meta.dirname, 'store.ts')).href;
  const script = `
    import { openSqliteStore } from ${JSON.stringify(storeUrl)};
    const store = await openSqliteStore(process.env.FACEDB_CRASH_DB);
    await store.ensureModel(${JSON.stringify({ ...MODEL, dimensions: 128 })});
    const crop = new Uint8Array(2048).fill(7);
    for (let batch = 0; ; batch++) {
      const person = await store.upsertPerson('person ' + batch);
      const faces = Array.from({ length: ${batchSize} }, (_, i) => ({
        sourcePath: null, contentHash: batch + '/' + i, box: { x: 0, y: 0, width: 10, height: 10 },
        detectionScore: 1, embedding: new Float32Array(128).fill(i), crop,
      }));
      await store.addFaces(person.id, faces);
      process.stdout.write('committed\\n');
    }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: { ...process.env, FACEDB_CRASH_DB: path },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let acknowledged = 0;
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    // Killing a while after an acknowledgement, not on it, lands the kill inside a transaction.
    if (acknowledged === 0) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    acknowledged += chunk.toString().split('\n').length - 1;
  });
  // 'close' rather than 'exit': it waits for stdout to drain, so no acknowledgement is missed.
  const signal = await new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, exitSignal) => resolve(exitSignal)));
  return { acknowledged, signal, stderr };
}
