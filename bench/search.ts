/**
 * Search speed: the in-memory FlatIndex against the prototype's SQL search, which stored one row
 * per embedding dimension and summed squared differences in a GROUP BY. Both run on the same
 * seeded synthetic gallery; the SQL side uses a real SQLite file in the temp folder.
 *
 *   node --import tsx bench/search.ts [faces ...]     (default: 10000 100000 1000000)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { FlatIndex } from '../src/core/flat-index.js';
import { seededRandom as prng } from '../test/fixtures.js';

export interface Row {
  faces: number;
  people: number;
  indexBuildMs: number;
  indexP50Ms: number;
  indexP95Ms: number;
  sqlBuildMs: number;
  sqlP50Ms: number;
  sqlP95Ms: number;
  sqlQueries: number;
  /** False when the SQL figures are extrapolated from the largest measured size. */
  sqlMeasured: boolean;
  /** SQL p50 / FlatIndex p50. */
  ratio: number;
}

const DIMENSIONS = 128;
const DEFAULT_DIMENSIONS = DIMENSIONS;
const FACES_PER_PERSON = 10;
const INDEX_QUERIES = 50;
/** Above this estimate (build + queries) the SQL side of a size is extrapolated instead of run. */
const SQL_BUDGET_MS = 240_000;

export async function runSearchBenchmark(sizes: number[]): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'facedb-bench-search-'));
  try {
    let lastMeasured: Row | undefined;
    for (const faces of [...sizes].sort((a, b) => a - b)) {
      const gallery = syntheticGallery(faces, 42);
      const queries = Array.from({ length: INDEX_QUERIES }, (_, i) => nearQuery(gallery, 1000 + i));
      const index = measureIndex(gallery, queries);

      const sqlQueries = faces <= 10_000 ? 20 : faces <= 100_000 ? 5 : 3;
      const projected = lastMeasured === undefined ? undefined : extrapolateSql(lastMeasured, faces);
      const estimate = projected === undefined ? 0 : projected.buildMs + projected.p50Ms * sqlQueries;
      let sql: SqlTiming;
      let sqlMeasured = true;
      if (projected === undefined || estimate <= SQL_BUDGET_MS) {
        sql = await measureSql(join(dir, `prototype-${faces}.sqlite`), gallery, queries.slice(0, sqlQueries), index.topFaces);
      } else {
        sql = projected;
        sqlMeasured = false;
        console.error(`${faces} faces: SQL estimated at ${(estimate / 1000).toFixed(0)} s, extrapolating instead`);
      }
      const row: Row = {
        faces,
        people: gallery.people,
        indexBuildMs: index.buildMs,
        indexP50Ms: index.p50Ms,
        indexP95Ms: index.p95Ms,
        sqlBuildMs: sql.buildMs,
        sqlP50Ms: sql.p50Ms,
        sqlP95Ms: sql.p95Ms,
        sqlQueries: sqlMeasured ? sqlQueries : 0,
        sqlMeasured,
        ratio: sql.p50Ms / index.p50Ms,
      };
      if (sqlMeasured) lastMeasured = row;
      rows.push(row);
      console.error(`${faces} faces done`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

export function formatTable(rows: Row[]): string {
  const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));
  const lines = [
    '| faces | people | FlatIndex build ms | FlatIndex p50 ms | FlatIndex p95 ms | SQL build s | SQL p50 ms | SQL p95 ms | SQL queries | SQL / FlatIndex (p50) |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const mark = r.sqlMeasured ? '' : ' *';
      return `| ${r.faces.toLocaleString('en')} | ${r.people.toLocaleString('en')} | ${ms(r.indexBuildMs)} | ${ms(r.indexP50Ms)} | ${ms(r.indexP95Ms)} | ${(r.sqlBuildMs / 1000).toFixed(1)}${mark} | ${ms(r.sqlP50Ms)}${mark} | ${ms(r.sqlP95Ms)}${mark} | ${r.sqlMeasured ? r.sqlQueries : '-'} | ${Math.round(r.ratio).toLocaleString('en')}×${mark} |`;
    }),
  ];
  if (rows.some((r) => !r.sqlMeasured)) {
    lines.push('', '\\* extrapolated from the largest measured size (build linearly, searches as n log n): measuring it would exceed the time budget.');
  }
  return lines.join('\n');
}

export interface Gallery {
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
  return { people, faceIds, personIds, vectors };
}

/** A query close to some enrolled face, as a new photo of a known person would be. */
function nearQuery(gallery: Gallery, seed: number): Float32Array {
  const random = prng(seed);
  const row = Math.floor(random() * gallery.faceIds.length);
  return Float32Array.from(gallery.vectors.subarray(row * DIMENSIONS, (row + 1) * DIMENSIONS), (v) => v + (random() - 0.5) * 0.05);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function measureIndex(
  gallery: Gallery,
  queries: Float32Array[],
): { buildMs: number; p50Ms: number; p95Ms: number; topFaces: number[] } {
  let start = performance.now();
  const index = FlatIndex.fromSnapshot({ dimensions: DIMENSIONS, ...gallery });
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

export interface SqlTiming {
  buildMs: number;
  p50Ms: number;
  p95Ms: number;
}

/**
 * The build is linear in rows; a search scans every row, then sorts them all into the GROUP BY
 * B-tree, so it is scaled as n log n.
 */
function extrapolateSql(measured: Row, faces: number): SqlTiming {
  const rows = (n: number): number => n * DIMENSIONS;
  const linear = faces / measured.faces;
  const nLogN = (rows(faces) * Math.log(rows(faces))) / (rows(measured.faces) * Math.log(rows(measured.faces)));
  return { buildMs: measured.sqlBuildMs * linear, p50Ms: measured.sqlP50Ms * nLogN, p95Ms: measured.sqlP95Ms * nLogN };
}

/** The prototype's schema and query, as it ran them (bench:scale runs it at other sizes and dimensions too). */
export async function measureSql(
  path: string,
  gallery: Gallery,
  queries: Float32Array[],
  expectedTop: number[],
  DIMENSIONS = DEFAULT_DIMENSIONS,
): Promise<SqlTiming> {
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
    // One statement per face (128 rows) instead of per value: the build is ~5x faster.
    const insertFace = db.prepare(
      `INSERT INTO face_embeddings (face_id, dimension, value) VALUES ${Array.from({ length: DIMENSIONS }, () => '(?, ?, ?)').join(', ')}`,
    );
    const params = new Array<number>(DIMENSIONS * 3);
    db.transaction(() => {
      for (let row = 0; row < gallery.faceIds.length; row++) {
        const id = gallery.faceIds[row]!;
        insertMeta.run(id, `person${gallery.personIds[row]}/${id}.jpg`);
        for (let j = 0; j < DIMENSIONS; j++) {
          params[3 * j] = id;
          params[3 * j + 1] = j;
          params[3 * j + 2] = gallery.vectors[row * DIMENSIONS + j]!;
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
      if (top[0]?.face_id !== expectedTop[q]) {
        throw new Error(`SQL found face ${top[0]?.face_id} nearest to query ${q}, FlatIndex found ${expectedTop[q]}`);
      }
    });
    return { buildMs, p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95) };
  } finally {
    db.close();
    await rm(path, { force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2).map(Number);
  const sizes = args.length > 0 ? args : [10_000, 100_000, 1_000_000];
  const started = performance.now();
  const rows = await runSearchBenchmark(sizes);
  console.log(`Search, ${DIMENSIONS}-D, ~${FACES_PER_PERSON} faces per person, top 10 people; node ${process.version}\n`);
  console.log(formatTable(rows));
  // Other work on the machine inflates every timing here, so say how busy it was.
  const load = loadavg().map((l) => l.toFixed(1)).join(' / ');
  console.log(`\n(total ${((performance.now() - started) / 1000).toFixed(0)} s; load average ${load} on ${availableParallelism()} cores)`);
}
