/**
 * The Python prototype's search against facedb's exact index: the prototype stored one SQLite row per embedding
 * dimension and ranked faces with a GROUP BY summing squared differences. Both search the same seeded synthetic
 * gallery; the SQL side runs on a real SQLite file in the temp folder and must find the same nearest face.
 *
 *   node --import tsx research/prototype-sql.ts [--sizes 10k,100k,1M]
 *       a seeded uniform 128-D gallery (about 10 faces per person), 20 / 5 / 3 SQL queries by size; a size whose SQL
 *       build and queries would take more than 4 minutes is extrapolated from the largest measured one (build linear in rows,
 *       search n log n);
 *   node --import tsx research/prototype-sql.ts --clustered --sizes 100k --dims 128,512
 *       bench:scale's face-shaped galleries (test/clustered-embeddings.ts), 2 SQL queries (50 for FlatIndex), nothing
 *       extrapolated.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { ClusteredGallery, shapeForDimensions } from '../test/clustered-embeddings.js';
import { FlatIndex } from '../src/core/flat-index.js';
import { seededRandom as prng } from '../test/fixtures.js';
import { percentile } from '../bench/common.js';

const DIMENSIONS = 128;
const FACES_PER_PERSON = 10;
const INDEX_QUERIES = 50;

interface Gallery {
  dimensions: number;
  people: number;
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
}

/** People as random centres, their faces scattered around them, roughly on face-api's value scale. */
function syntheticGallery(faces: number, seed: number): Gallery {
  const random = prng(seed);
  const people = Math.ceil(faces / FACES_PER_PERSON);
  const centre = new Float32Array(DIMENSIONS);
  const vectors = new Float32Array(faces * DIMENSIONS);
  const faceIds = new Int32Array(faces);
  const personIds = new Int32Array(faces);
  for (let row = 0; row < faces; row++) {
    if (row % FACES_PER_PERSON === 0) for (let j = 0; j < DIMENSIONS; j++) centre[j] = (random() - 0.5) * 0.4;
    faceIds[row] = row + 1;
    personIds[row] = Math.floor(row / FACES_PER_PERSON) + 1;
    for (let j = 0; j < DIMENSIONS; j++) vectors[row * DIMENSIONS + j] = centre[j]! + (random() - 0.5) * 0.1;
  }
  return { dimensions: DIMENSIONS, people, faceIds, personIds, vectors };
}

/** Queries close to enrolled faces, as new photos of known people would be. */
function nearQueries(gallery: Gallery, count = INDEX_QUERIES): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const random = prng(1000 + i);
    const row = Math.floor(random() * gallery.faceIds.length);
    return Float32Array.from(gallery.vectors.subarray(row * DIMENSIONS, (row + 1) * DIMENSIONS), (v) => v + (random() - 0.5) * 0.05);
  });
}

/** Builds the index from the gallery, then times a top-10 search per query (after 5 warm-up searches). */
function measureIndex(gallery: Gallery, queries: Float32Array[]): { buildMs: number; p50Ms: number; p95Ms: number; topFaces: number[] } {
  let start = performance.now();
  const index = FlatIndex.fromSnapshot(gallery);
  const buildMs = performance.now() - start;
  // Warm-up, so the JIT has compiled the search loop before it is timed.
  for (const query of queries.slice(0, 5)) index.searchPeople(query, 10);
  const times: number[] = [];
  const topFaces: number[] = [];
  for (const query of queries) {
    start = performance.now();
    const matches = index.searchPeople(query, 10);
    times.push(performance.now() - start);
    topFaces.push(matches[0]!.faceId);
  }
  return { buildMs, p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95), topFaces };
}

const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

interface SqlTiming {
  buildMs: number;
  p50Ms: number;
  p95Ms: number;
}

interface Row {
  faces: number;
  dims: number;
  people: number;
  indexP50Ms: number;
  sql: SqlTiming;
  sqlQueries: number;
  /** False when the SQL figures are extrapolated from the largest measured size. */
  sqlMeasured: boolean;
}

/** Above this estimate (build + queries) the SQL side of a size is extrapolated instead of run. */
const SQL_BUDGET_MS = 240_000;

/** The prototype's schema and query, as it ran them. */
async function measureSql(path: string, gallery: Gallery, queries: Float32Array[], expectedTop: number[]): Promise<SqlTiming> {
  const dims = gallery.dimensions;
  const db = new Database(path);
  try {
    // Only to build faster; the searches read the finished file either way.
    db.pragma('journal_mode = OFF');
    db.pragma('synchronous = OFF');
    db.exec(`
      CREATE TABLE face_meta (id INTEGER PRIMARY KEY, img_name TEXT);
      CREATE TABLE face_embeddings (face_id INTEGER, dimension INTEGER, value REAL);
    `);
    let start = performance.now();
    const insertMeta = db.prepare('INSERT INTO face_meta (id, img_name) VALUES (?, ?)');
    // One statement per face (one row per dimension) instead of per value: the build is ~5x faster.
    const insertFace = db.prepare(`INSERT INTO face_embeddings (face_id, dimension, value) VALUES ${Array.from({ length: dims }, () => '(?, ?, ?)').join(', ')}`);
    const params = new Array<number>(dims * 3);
    db.transaction(() => {
      for (let row = 0; row < gallery.faceIds.length; row++) {
        const id = gallery.faceIds[row]!;
        insertMeta.run(id, `person${gallery.personIds[row]}/${id}.jpg`);
        for (let j = 0; j < dims; j++) {
          params[3 * j] = id;
          params[3 * j + 1] = j;
          params[3 * j + 2] = gallery.vectors[row * dims + j]!;
        }
        insertFace.run(params);
      }
    })();
    const buildMs = performance.now() - start;

    db.exec('CREATE TEMP TABLE target (dimension INTEGER, value REAL)');
    const clearTarget = db.prepare('DELETE FROM target');
    const insertTarget = db.prepare('INSERT INTO target (dimension, value) VALUES (?, ?)');
    const search = db.prepare(`
      SELECT e.face_id, SUM((e.value - t.value) * (e.value - t.value)) AS d
      FROM face_embeddings e JOIN target t ON e.dimension = t.dimension
      GROUP BY e.face_id ORDER BY d LIMIT 10`);
    const times: number[] = [];
    queries.forEach((query, q) => {
      start = performance.now();
      db.transaction(() => {
        clearTarget.run();
        query.forEach((value, dimension) => insertTarget.run(dimension, value));
      })();
      const top = search.all() as Array<{ face_id: number; d: number }>;
      times.push(performance.now() - start);
      // Both must find the same nearest face, or the comparison means nothing.
      if (top[0]?.face_id !== expectedTop[q]) throw new Error(`SQL found face ${top[0]?.face_id} nearest to query ${q}, FlatIndex found ${expectedTop[q]}`);
    });
    return { buildMs, p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95) };
  } finally {
    db.close();
    await rm(path, { force: true });
  }
}

/** The build is linear in rows; a search scans every row, then sorts them all into the GROUP BY B-tree: n log n. */
function extrapolateSql(measured: Row, faces: number): SqlTiming {
  const rows = (n: number): number => n * measured.dims;
  const nLogN = (rows(faces) * Math.log(rows(faces))) / (rows(measured.faces) * Math.log(rows(measured.faces)));
  return { buildMs: (measured.sql.buildMs * faces) / measured.faces, p50Ms: measured.sql.p50Ms * nLogN, p95Ms: measured.sql.p95Ms * nLogN };
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`bad size ${text} (e.g. 100k, 1M)`);
  return Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1));
}

const { values } = parseArgs({ options: { sizes: { type: 'string' }, dims: { type: 'string', default: '128' }, clustered: { type: 'boolean', default: false } } });
const clustered = values.clustered;
const sizes = (values.sizes ?? (clustered ? '100k' : '10k,100k,1M')).split(',').map(parseSize).sort((a, b) => a - b);
const dimsList = clustered ? values.dims.split(',').map(Number) : [128];
const started = performance.now();
const dir = await mkdtemp(join(tmpdir(), 'facedb-prototype-sql-'));
const rows: Row[] = [];
try {
  for (const dims of dimsList) {
    let lastMeasured: Row | undefined;
    for (const faces of sizes) {
      let gallery: Gallery;
      let queries: Float32Array[];
      let sqlQueries: number;
      if (clustered) {
        const generator = new ClusteredGallery(shapeForDimensions(dims), 20261129);
        gallery = { dimensions: dims, ...generator.build(faces) };
        // The first two for SQL (bench:scale's), all fifty for FlatIndex's p50.
        queries = Array.from({ length: 50 }, (_, p) => generator.probe(1 + p));
        sqlQueries = 2;
      } else {
        gallery = syntheticGallery(faces, 42);
        queries = nearQueries(gallery);
        sqlQueries = faces <= 10_000 ? 20 : faces <= 100_000 ? 5 : 3;
      }
      const index = measureIndex(gallery, queries);
      const projected = clustered || lastMeasured === undefined ? undefined : extrapolateSql(lastMeasured, faces);
      const estimate = projected === undefined ? 0 : projected.buildMs + projected.p50Ms * sqlQueries;
      const sqlMeasured = projected === undefined || estimate <= SQL_BUDGET_MS;
      if (!sqlMeasured) console.error(`${faces} faces: SQL estimated at ${(estimate / 1000).toFixed(0)} s, extrapolating instead`);
      const sql = projected !== undefined && !sqlMeasured ? projected : await measureSql(join(dir, `prototype-${faces}-${dims}.sqlite`), gallery, queries.slice(0, sqlQueries), index.topFaces);
      const row: Row = { faces, dims, people: gallery.people, indexP50Ms: index.p50Ms, sql, sqlQueries: sqlMeasured ? sqlQueries : 0, sqlMeasured };
      if (sqlMeasured) lastMeasured = row;
      rows.push(row);
      console.error(`${faces} × ${dims}-D done`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const mark = (r: Row): string => (r.sqlMeasured ? '' : ' *');
console.log(`The prototype's SQL search vs FlatIndex, ${clustered ? 'face-shaped clustered galleries' : '128-D, ~10 faces per person'}, top 10; node ${process.version}\n`);
console.log('| faces | dims | people | FlatIndex p50 ms | SQL build s | SQL p50 ms | SQL p95 ms | SQL queries | SQL / FlatIndex (p50) |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(
    `| ${r.faces.toLocaleString('en')} | ${r.dims} | ${r.people.toLocaleString('en')} | ${ms(r.indexP50Ms)} | ${(r.sql.buildMs / 1000).toFixed(1)}${mark(r)} | ${ms(r.sql.p50Ms)}${mark(r)} | ${ms(r.sql.p95Ms)}${mark(r)} | ${r.sqlMeasured ? r.sqlQueries : '-'} | ${Math.round(r.sql.p50Ms / r.indexP50Ms).toLocaleString('en')}×${mark(r)} |`,
  );
}
if (rows.some((r) => !r.sqlMeasured)) console.log('\n\\* extrapolated from the largest measured size (build linearly, searches as n log n): measuring it would exceed the time budget.');
// Other work on the machine inflates every timing here, so say how busy it was.
console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${loadavg().map((l) => l.toFixed(1)).join(' / ')} on ${availableParallelism()} cores)`);
