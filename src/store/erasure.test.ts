import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import sharp from 'sharp';
import type { ModelInfo } from '../core/types.js';
import { LFW_SUBSET, seededRandom, tempDir } from '../../test/fixtures.js';
import { findPostgresBinaries, startPostgres, type TestPostgres } from '../../test/postgres-server.js';
import { openPostgresStore } from './postgres/store.js';
import { openSqliteStore } from './sqlite/store.js';
import type { GalleryStore, NewFace } from './store.js';

/*
 * Erasure you can state: after a person, a face (named or unnamed) or a cluster is erased, none of its photo
 * bytes, crops or embeddings can be read back from any file of the gallery. Real LFW photos are enrolled with a
 * real JPEG crop of each and an embedding; after the erasures and closing, every file is scanned for every
 * 256-byte piece of what was erased, and, so that the scan is known to see stored bytes, of what was kept.
 */

const MODEL: ModelInfo = { id: 'erasure-test', version: '1', dimensions: 512, metric: 'euclidean', defaultThreshold: 1 };
const WINDOW = 256;

interface Enrolled {
  face: NewFace;
  id: number;
}

/** A face of a real photo: the photo's bytes (kept, as for an upload), a JPEG crop of its centre, an embedding. */
async function photoFace(path: string, seed: number): Promise<NewFace> {
  const photo = await readFile(path);
  const crop = await sharp(photo).extract({ left: 68, top: 68, width: 112, height: 112 }).jpeg({ quality: 90 }).toBuffer();
  const random = seededRandom(seed);
  return {
    sourcePath: null,
    contentHash: createHash('sha256').update(photo).digest('hex'),
    box: { x: 68, y: 68, width: 112, height: 112 },
    detectionScore: 0.99,
    embedding: Float32Array.from({ length: MODEL.dimensions }, () => random() * 2 - 1),
    crop: new Uint8Array(crop),
    photo: new Uint8Array(photo),
  };
}

/** Every 256-byte piece of the face's photo, crop and embedding. */
function pieces(faces: readonly NewFace[]): Buffer[] {
  return faces.flatMap((face) =>
    [face.photo!, face.crop!, new Uint8Array(face.embedding.buffer)].flatMap((bytes) => {
      const buffer = Buffer.from(bytes);
      return Array.from({ length: Math.floor(buffer.length / WINDOW) }, (_, i) => buffer.subarray(i * WINDOW, (i + 1) * WINDOW));
    }),
  );
}

/**
 * The pieces of the erased faces that no kept face has too: LFW's JPEGs share their first bytes (the same
 * encoder's header and quantisation tables), which rightly stay in the gallery with the kept photos.
 */
function erasedOnly(erased: readonly NewFace[], kept: readonly NewFace[]): Buffer[] {
  const keptPieces = new Set(pieces(kept).map((piece) => piece.toString('hex')));
  return pieces(erased).filter((piece) => !keptPieces.has(piece.toString('hex')));
}

function filesUnder(dir: string, skip: (path: string) => boolean = () => false): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (skip(path)) return [];
    return entry.isDirectory() ? filesUnder(path, skip) : [path];
  });
}

/** How many of `wanted` appear in any of the files, and in which files. */
function scan(files: readonly string[], wanted: readonly Buffer[]): { found: number; where: Set<string> } {
  const hit = new Set<number>();
  const where = new Set<string>();
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue; // removed meanwhile (a server's temporary file)
    }
    wanted.forEach((piece, i) => {
      if (bytes.includes(piece)) {
        hit.add(i);
        where.add(file);
      }
    });
  }
  return { found: hit.size, where };
}

/**
 * Enrolls three people and six unnamed faces in two clusters from real photos, then erases a person, one
 * face of another, an unnamed face and a cluster. Returns what was erased and what was kept.
 */
async function enrollAndErase(store: GalleryStore): Promise<{ erased: NewFace[]; kept: NewFace[] }> {
  const people = (await readdir(LFW_SUBSET)).sort().slice(0, 9);
  const photos = await Promise.all(people.map(async (person, i) => photoFace(join(LFW_SUBSET, person, (await readdir(join(LFW_SUBSET, person))).sort()[0]!), i)));
  await store.ensureModel(MODEL);
  const add = async (name: string, faces: NewFace[]): Promise<Enrolled[]> => {
    const person = await store.upsertPerson(name);
    return (await store.addFaces(person.id, faces)).map((face, i) => ({ face: faces[i]!, id: face.id }));
  };
  const ada = await store.upsertPerson('Ada');
  await add('Ada', photos.slice(0, 2));
  const bob = await add('Bob', photos.slice(2, 4));
  const kept = await add('Keep', photos.slice(4, 5));
  const unnamed = (await store.addUnnamedFaces(photos.slice(5, 9))).map((face, i) => ({ face: photos[5 + i]!, id: face.id }));
  const [clusterA] = await store.saveClusters([
    { clusterId: null, faceIds: [unnamed[0]!.id, unnamed[1]!.id] },
    { clusterId: null, faceIds: [unnamed[2]!.id, unnamed[3]!.id] },
  ]);

  assert.equal(await store.removePerson(ada.id), 2);
  await store.removeFace(bob[0]!.id);
  await store.removeUnnamedFace(unnamed[2]!.id);
  assert.equal(await store.removeCluster(clusterA!), 2);
  return {
    erased: [...photos.slice(0, 2), bob[0]!.face, unnamed[0]!.face, unnamed[1]!.face, unnamed[2]!.face],
    kept: [bob[1]!.face, kept[0]!.face, unnamed[3]!.face],
  };
}

function assertErased(files: readonly string[], erased: readonly NewFace[], kept: readonly NewFace[]): void {
  // Pieces that straddle a page boundary are split in the file: most, not all, of what is kept is found whole.
  const keptPieces = pieces(kept);
  const found = scan(files, keptPieces).found;
  assert.ok(found > keptPieces.length / 2, `the scan finds most pieces of the faces that were kept: ${found} of ${keptPieces.length}`);
  const left = scan(files, erasedOnly(erased, kept));
  assert.equal(left.found, 0, `${left.found} of ${erasedOnly(erased, kept).length} erased 256-byte pieces are still in ${[...left.where].join(', ')}`);
}

void describe('erasure leaves no erased bytes in the gallery files', () => {
  void it('SQLite: the database file, its -wal and -shm', async () => {
    const dir = await tempDir('facedb-erasure-');
    try {
      const path = join(dir, 'gallery.sqlite');
      const store = await openSqliteStore(path);
      const { erased, kept } = await enrollAndErase(store);
      // Scanned while still open too: the -wal file then exists beside the database.
      assertErased(filesUnder(dir), erased, kept);
      await store.close();
      assertErased(filesUnder(dir), erased, kept);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void describe('PostgreSQL', () => {
    const bin = findPostgresBinaries();
    let server: TestPostgres | undefined;
    before(async () => {
      if (bin !== undefined) server = await startPostgres(bin);
    });
    after(async () => {
      await server?.stop();
    });

    void it('the table files of the data directory, and the WAL once the operator has recycled it', async (t) => {
      if (server === undefined) return t.skip('PostgreSQL is not installed');
      const dataDir = join(new URL(server.url).searchParams.get('host')!, 'data');
      const admin = new pg.Client({ connectionString: server.url });
      await admin.connect();
      try {
        const store = await openPostgresStore(server.url);
        const { erased, kept } = await enrollAndErase(store);
        await store.close();
        // Everything the server holds in memory written to the files, as it would be by the next checkpoint.
        await admin.query('CHECKPOINT');
        assertErased(filesUnder(dataDir, (path) => path.endsWith('pg_wal')), erased, kept);
        // The WAL still holds the inserts until its segments are recycled: what docs/erasure.md tells the operator.
        await admin.query('ALTER SYSTEM SET wal_recycle = off');
        await admin.query('SELECT pg_reload_conf()');
        for (let i = 0; i < 2; i++) {
          await admin.query('SELECT pg_switch_wal()');
          await admin.query('CHECKPOINT');
        }
        const left = scan(filesUnder(join(dataDir, 'pg_wal')), erasedOnly(erased, kept));
        assert.equal(left.found, 0, `${left.found} erased pieces are still in ${[...left.where].join(', ')}`);
      } finally {
        await admin.end();
      }
    });
  });
});
