/**
 * What erasing costs: the time of one person's erasure (removePerson: the deletion, then SQLite's WAL
 * checkpoint or PostgreSQL's VACUUM FULL of the tables that held the bytes) on a gallery of the shared LFW
 * subset, every photo enrolled with its bytes kept (as uploads are), a 16 KB crop and a 512-float embedding.
 *
 *   npm run bench:erasure            # SQLite, and PostgreSQL when installed
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { ModelInfo } from '../src/core/types.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import type { GalleryStore, NewFace } from '../src/store/store.js';
import { LFW_SUBSET, seededRandom, tempDir } from '../test/fixtures.js';
import { findPostgresBinaries, startPostgres } from '../test/postgres-server.js';
import { lfwPeople } from './common.js';

const MODEL: ModelInfo = { id: 'bench-erasure', version: '1', dimensions: 512, metric: 'euclidean', defaultThreshold: 1 };
const ERASURES = 5;

async function gallery(): Promise<Map<string, NewFace[]>> {
  const random = seededRandom(7);
  const people = new Map<string, NewFace[]>();
  for (const { person, files } of await lfwPeople()) {
    const faces: NewFace[] = [];
    for (const file of files) {
      const photo = await readFile(join(LFW_SUBSET, person, file));
      faces.push({
        sourcePath: null,
        contentHash: createHash('sha256').update(photo).digest('hex'),
        box: { x: 0, y: 0, width: 100, height: 100 },
        detectionScore: 1,
        embedding: Float32Array.from({ length: MODEL.dimensions }, () => random() * 2 - 1),
        crop: new Uint8Array(randomBytes(16 * 1024)),
        photo: new Uint8Array(photo),
      });
    }
    people.set(person, faces);
  }
  return people;
}

async function measure(name: string, store: GalleryStore, people: Map<string, NewFace[]>, size: () => Promise<string>): Promise<void> {
  await store.ensureModel(MODEL);
  const ids: number[] = [];
  for (const [person, faces] of people) {
    const { id } = await store.upsertPerson(person.replaceAll('_', ' '));
    await store.addFaces(id, faces);
    ids.push(id);
  }
  const times: number[] = [];
  // The people with the most photos, so each erasure deletes several faces.
  const byFaces = [...people.values()].map((faces, i) => ({ id: ids[i]!, faces: faces.length })).sort((a, b) => b.faces - a.faces);
  for (const { id } of byFaces.slice(0, ERASURES)) {
    const start = performance.now();
    await store.removePerson(id);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const faces = [...people.values()].reduce((sum, faces) => sum + faces.length, 0);
  console.log(
    `${name}: ${people.size} people, ${faces} faces, ${await size()}; person erasure median ${times[times.length >> 1]!.toFixed(0)} ms, ` +
      `max ${times[times.length - 1]!.toFixed(0)} ms (${ERASURES} erasures of the people with most photos: ${byFaces.slice(0, ERASURES).map((p) => p.faces).join(', ')} faces)`,
  );
  await store.close();
}

const people = await gallery();
const dir = await tempDir('facedb-bench-erasure-');
try {
  const path = join(dir, 'gallery.sqlite');
  await measure('SQLite', await openSqliteStore(path), people, async () => `${((await stat(path)).size / 1e6).toFixed(0)} MB file`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
const bin = findPostgresBinaries();
if (bin === undefined) {
  console.log('PostgreSQL: not installed, skipped');
} else {
  const server = await startPostgres(bin);
  try {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await measure('PostgreSQL', await openPostgresStore(server.url), people, async () => {
      const { rows } = await admin.query<{ mb: number }>(
        "SELECT (pg_total_relation_size('faces') + pg_total_relation_size('face_photos')) / 1e6 AS mb",
      );
      return `faces and photos tables ${Number(rows[0]!.mb).toFixed(0)} MB`;
    });
    await admin.end();
  } finally {
    await server.stop();
  }
}
