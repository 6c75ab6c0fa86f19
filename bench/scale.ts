/**
 * bench:scale — search at gallery sizes one machine's exact scan no longer covers, on synthetic galleries that cluster
 * like real faces (test/clustered-embeddings.ts): the sketch search FACEDB_INDEX=auto uses from FACEDB_ANN_THRESHOLD
 * faces (binary sketches, the nearest ranked exactly; src/search/sketch-settings.ts), the HNSW index of
 * FACEDB_INDEX=ann (usearch with exact re-ranking, src/search/ann-index.ts), both against exact search (FlatIndex),
 * and pgvector in PostgreSQL (PGlite). The prototype's SQL on the same galleries: research/prototype-sql.ts --clustered.
 *
 *   npm run bench:scale -- [--sizes 100k,1M] [--dims 128,512] [--indexes sketch,ann] [--probes 1000] [--pgvector 100k]
 *
 * What counts is identify's decision: the nearest person when within the threshold, else unknown. The threshold is
 * the one identify takes by default from the engine's calibration (per-pair FAR IDENTIFY_DEFAULT_FAR; 512-D: engine
 * v5, 128-D: v4). Mated probes are new photos of enrolled people (genuine distances as the generator draws them from
 * the LFW medians; the report sets their share within the threshold beside the LFW calibration's); non-mated probes
 * are photos of people not enrolled whom exact search finds nobody within the threshold for. For the sketch search
 * and the HNSW graph, each at the settings the product picks (sketchSettingsFor, annOptionsFor; other settings are
 * compared by research/sketch-search.ts and research/ann-graphs.ts): decision agreement with exact search for each
 * kind, p50/p99 of a top-10 search, recall@10 of people, build time, RSS growth, peak RSS, and the saved graph's size
 * and reload time.
 * Writes bench/out/scale.md.
 */
import pg from 'pg';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClusteredGallery, identifyDecision, shapeForDimensions } from '../test/clustered-embeddings.js';
import { startPgliteServer } from '../test/pglite-server.js';
import { thresholdForFar } from '../src/core/confidence.js';
import { euclideanDistance } from '../src/core/distance.js';
import { FlatIndex, type SketchSettings } from '../src/core/flat-index.js';
import type { PersonMatch } from '../src/core/search-index.js';
import * as v4 from '../src/engine/faceapi/calibration.js';
import * as v5 from '../src/engine/onnx/calibration.js';
import { AnnIndex, annOptionsFor, type AnnOptions } from '../src/search/ann-index.js';
import { indexFiles, loadIndex, saveIndex } from '../src/search/index-file.js';
import { sketchSettingsFor } from '../src/search/sketch-settings.js';
import { IDENTIFY_DEFAULT_FAR } from '../src/services/face-service.js';
import { openPostgresStore } from '../src/store/postgres/store.js';
import { encodeEmbedding } from '../src/store/rows.js';
import { loadAverage as load, machine, pct, percentile, writeReport } from './common.js';

const list = (value: string): string[] => (value === '' || value === 'none' ? [] : value.split(','));
const fail = (message: string): never => {
  throw new Error(message);
};
function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`bad size ${text} (e.g. 100k, 1M)`);
  return Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1));
}
function parseArgs(argv: string[]) {
  const args = { sizes: [100_000, 1_000_000], dims: [128, 512], indexes: ['sketch', 'ann'], probes: 1000, pgvector: [100_000] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value = ''] = [argv[i]!, argv[i + 1]];
    if (flag === '--dims') args.dims = list(value).map(Number);
    else if (flag === '--sizes' || flag === '--pgvector') args[flag === '--sizes' ? 'sizes' : 'pgvector'] = list(value).map(parseSize);
    else if (flag === '--indexes') args.indexes = list(value).map((kind) => (kind === 'sketch' || kind === 'ann' ? kind : fail(`--indexes: sketch and/or ann, not ${kind}`)));
    else if (flag === '--probes') args.probes = Number(value);
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

const K = 10;
const PG_BATCH = 5000;
/** FlatIndex lives in WebAssembly memory (4 GiB); leave room for its bookkeeping. */
const EXACT_LIMIT_BYTES = 3.5 * 2 ** 30;

const engineFor = (dims: number): typeof v5 | typeof v4 => (dims === 512 ? v5 : v4);
/** The threshold identify takes by default for embeddings of `dims` dimensions (512-D: engine v5, 128-D: v4). */
export function identifyThreshold(dims: number): number {
  const engine = engineFor(dims);
  return thresholdForFar(engine.CALIBRATION, IDENTIFY_DEFAULT_FAR, engine.CALIBRATION_MODEL);
}
/** The face-shaped synthetic gallery bench:scale measures on (the same seed everywhere, so galleries are comparable). */
export const scaleGallery = (dims: number): ClusteredGallery => new ClusteredGallery(shapeForDimensions(dims), 20261129);
/** recall@k of people: the share of exact search's people (`truth`, per probe) that `answers` also return. */
export function recallOf(answers: readonly PersonMatch[][], truth: readonly PersonMatch[][]): number {
  let found = 0;
  let wanted = 0;
  answers.forEach((answer, p) => {
    const got = new Set(answer.map((m) => m.personId));
    wanted += truth[p]!.length;
    found += truth[p]!.filter((m) => got.has(m.personId)).length;
  });
  return found / wanted;
}

/**
 * bench:scale's probes over the first `people` identities of `gallery`: `count` mated probes (new photos of enrolled
 * people, person `matedIdentity(p)` for probe p) and `count` strangers (people past the last enrolled one), of whom
 * the non-mated probes are those exact search names nobody for.
 */
export function scaleProbes(gallery: ClusteredGallery, people: number, count: number): { mated: Float32Array[]; nonMated: Float32Array[]; matedIdentity: (p: number) => number } {
  const matedIdentity = (p: number): number => 1 + ((p * 7919) % people);
  return {
    mated: Array.from({ length: count }, (_, p) => gallery.probe(matedIdentity(p), p)),
    nonMated: Array.from({ length: count }, (_, p) => gallery.photo(people + 1 + p, 0)),
    matedIdentity,
  };
}

function timedAll(probes: Float32Array[], search: (probe: Float32Array) => PersonMatch[]): { answers: PersonMatch[][]; times: number[] } {
  for (const probe of probes.slice(0, 5)) search(probe);
  const times: number[] = [];
  const answers = probes.map((probe) => {
    const start = performance.now();
    const answer = search(probe);
    times.push(performance.now() - start);
    return answer;
  });
  return { answers, times };
}
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/** An index built after a GC: the index, the build time and the RSS it added per face. */
function timedBuild<T>(faces: number, build: () => T): { index: T; buildS: number; rssBytesPerFace: number } {
  gc();
  const rssBefore = process.memoryUsage().rss;
  const buildStart = performance.now();
  const index = build();
  return { index, buildS: (performance.now() - buildStart) / 1000, rssBytesPerFace: (process.memoryUsage().rss - rssBefore) / faces };
}

/** A gallery, its probes and exact search's answers to them: what every index is measured against. */
interface Measured {
  faces: number;
  dims: number;
  threshold: number;
  built: ReturnType<ClusteredGallery['build']>;
  mated: Float32Array[];
  nonMated: Float32Array[];
  matedTruth: PersonMatch[][];
  nonMatedTruth: PersonMatch[][];
}

/** FlatIndex over the gallery: exact search, or with `sketch` settings the sketch search. */
const flatIndex = (m: Pick<Measured, 'dims' | 'built'>, sketch?: SketchSettings): FlatIndex =>
  FlatIndex.fromSnapshot({ dimensions: m.dims, ...m.built, faceIds: m.built.faceIds.slice() }, sketch);

/** How an index's answers compare with exact search's, and how long its searches take. */
function measureSearch(m: Measured, search: (probe: Float32Array) => PersonMatch[]) {
  const matedRun = timedAll(m.mated, search);
  const nonMatedRun = timedAll(m.nonMated, search);
  /** The share of probes (those exact search names somebody for, or nobody, or all) answered alike. */
  const agree = (answers: PersonMatch[][], truth: PersonMatch[][], named: boolean | null): number => {
    let counted = 0;
    let same = 0;
    answers.forEach((answer, p) => {
      const wanted = identifyDecision(truth[p]!, m.threshold);
      if (named !== null && (wanted !== null) !== named) return;
      counted++;
      if (identifyDecision(answer, m.threshold) === wanted) same++;
    });
    return same / Math.max(1, counted);
  };
  const times = [...matedRun.times, ...nonMatedRun.times];
  return {
    p50Ms: percentile(times, 0.5),
    p99Ms: percentile(times, 0.99),
    recallAt10: recallOf([...matedRun.answers, ...nonMatedRun.answers], [...m.matedTruth, ...m.nonMatedTruth]),
    matedAgree: agree(matedRun.answers, m.matedTruth, null),
    /** Strangers exact search finds nobody within the threshold for (the non-mated probes) that the index too calls unknown. */
    nonMatedAgree: agree(nonMatedRun.answers, m.nonMatedTruth, false),
    /** Strangers exact search names somebody for (a false match at this threshold) that the index names alike. */
    strangersNamedAgree: agree(nonMatedRun.answers, m.nonMatedTruth, true),
    peakRssGiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 30,
    load: load(),
  };
}
type SearchMeasures = ReturnType<typeof measureSearch>;
/** What both kinds of index report: the gallery, what building the index cost and how its searches compare. */
type IndexRow = Pick<Measured, 'faces' | 'dims'> & { buildS: number; rssBytesPerFace: number } & SearchMeasures;
type SketchRow = IndexRow & SketchSettings;
type AnnRow = IndexRow & { options: AnnOptions; fileBytesPerFace: number; reloadS: number };

const agreement = (r: SearchMeasures): string =>
  `mated ${pct(r.matedAgree)}, non-mated ${pct(r.nonMatedAgree)}, strangers named ${pct(r.strangersNamedAgree)}, ` +
  `p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, recall@10 ${r.recallAt10.toFixed(4)} (load ${r.load})`;

/** The sketch search as the product runs it (FlatIndex with sketchSettingsFor's settings): build time, memory and answers. */
function measureSketch(m: Measured): SketchRow {
  const settings = sketchSettingsFor(m.dims);
  const { index, buildS, rssBytesPerFace } = timedBuild(m.faces, () => flatIndex(m, settings));
  const row = { faces: m.faces, dims: m.dims, ...settings, buildS, rssBytesPerFace, ...measureSearch(m, (probe) => index.searchPeople(probe, K)) };
  console.error(`  sketch ${settings.bits} bits, ${settings.candidates} candidates: built in ${buildS.toFixed(1)} s, ${agreement(row)}`);
  return row;
}

/** Builds the gallery and its probes and asks exact search; notes what the gallery is like beside LFW. */
export function prepare(faces: number, dims: number, probes: number, notes: string[]): Measured {
  const engine = engineFor(dims);
  const threshold = identifyThreshold(dims);
  const gallery = scaleGallery(dims);
  const started = performance.now();
  const built = gallery.build(faces);
  console.error(`${faces} × ${dims}-D: ${built.people} people in ${((performance.now() - started) / 1000).toFixed(1)} s; threshold ${threshold}`);
  if (faces * dims * 4 > EXACT_LIMIT_BYTES) throw new Error(`${faces} × ${dims}-D does not fit exact search's 4 GiB: no agreement to measure`);
  const { mated, nonMated, matedIdentity } = scaleProbes(gallery, built.people, probes);
  const exact = flatIndex({ dims, built });
  const exactRun = (probes: Float32Array[]): ReturnType<typeof timedAll> => timedAll(probes, (probe) => exact.searchPeople(probe, K));
  const [matedTruth, nonMatedTruth] = [exactRun(mated), exactRun(nonMated)];
  const unknownToExact = nonMatedTruth.answers.filter((answer) => identifyDecision(answer, threshold) === null).length;
  // The generator's genuine and impostor pair distances at the threshold, beside LFW's (the calibration's ROC).
  let genuine = 0;
  let genuineIn = 0;
  let impostorIn = 0;
  const impostors = 1000;
  mated.forEach((probe, p) => {
    const identity = matedIdentity(p);
    for (let photo = 0; photo < gallery.photosOf(identity); photo++, genuine++) if (euclideanDistance(probe, gallery.photo(identity, photo)) <= threshold) genuineIn++;
    for (let i = 0; i < impostors; i++) {
      const row = (p * 104_729 + i * 7_919) % faces;
      if (built.personIds[row] !== identity && euclideanDistance(probe, built.vectors.subarray(row * dims, (row + 1) * dims)) <= threshold) impostorIn++;
    }
  });
  const lfw = engine.CALIBRATION.roc.find((point) => point.threshold === threshold);
  notes.push(
    `${faces.toLocaleString('en')} × ${dims}-D: ${built.people.toLocaleString('en')} people; threshold ${threshold} (${engine.CALIBRATION_MODEL}, per-pair FAR ${IDENTIFY_DEFAULT_FAR}). ` +
      `Genuine pairs within it: ${pct(genuineIn / genuine)} (LFW: ${lfw ? pct(lfw.tar) : '?'}); impostor pairs: ${(impostorIn / (impostors * mated.length)).toExponential(1)} (LFW: ${lfw?.far.toExponential(1) ?? '?'}). ` +
      `Mated probes exact search names correctly: ${pct(matedTruth.answers.filter((a, p) => identifyDecision(a, threshold) === matedIdentity(p)).length / mated.length)}; ` +
      `strangers exact search names nobody for (non-mated probes): ${unknownToExact} of ${nonMated.length}. Exact top-10 p50 ${percentile(matedTruth.times, 0.5).toFixed(1)} ms, p99 ${percentile(matedTruth.times, 0.99).toFixed(1)} ms (load ${load()}).`,
  );
  return { faces, dims, threshold, built, mated, nonMated, matedTruth: matedTruth.answers, nonMatedTruth: nonMatedTruth.answers };
}

/**
 * The HNSW index (FACEDB_INDEX=ann) at the settings the product picks for this size (annOptionsFor): built, saved,
 * dropped and loaded back, as a restart finds it, then searched. Other graphs and ef_search: research/ann-graphs.ts.
 */
async function measureAnn(m: Measured, dir: string): Promise<AnnRow> {
  const { faces, dims, threshold, built } = m;
  const options = annOptionsFor(dims, faces);
  const base = join(dir, `scale-${faces}-${dims}`);
  const model = { id: 'bench-scale', version: '1', dimensions: dims, metric: 'euclidean' as const, defaultThreshold: threshold };
  // The built index goes when this returns: the search below runs on the one loaded back.
  const { buildS, rssBytesPerFace } = await (async ({ index, ...measured }) => {
    await saveIndex(base, index, { model, gallery: 'bench', changeSeq: faces });
    return measured;
  })(timedBuild(faces, () => AnnIndex.build(dims, built, options)));
  console.error(`  ${options.precision} M=${options.connectivity} ef_add=${options.expansionAdd}: built in ${buildS.toFixed(1)} s (load ${load()})`);
  const files = indexFiles(base);
  const fileBytesPerFace = ((await stat(files.graph)).size + (await stat(files.faces)).size) / faces;
  gc();
  const reloadStart = performance.now();
  const loaded = await loadIndex(base, { model, options, gallery: 'bench' });
  const reloadS = (performance.now() - reloadStart) / 1000;
  if ('rejected' in loaded) throw new Error(`reload rejected: ${loaded.rejected}`);
  const row: AnnRow = {
    faces, dims, options: loaded.index.options, buildS, rssBytesPerFace, fileBytesPerFace, reloadS,
    ...measureSearch(m, (probe) => loaded.index.searchPeople(probe, K)),
  };
  console.error(`    ef ${options.expansionSearch} candidates ${options.candidates}: ${agreement(row)}`);
  for (const file of Object.values(files)) await rm(file, { force: true });
  return row;
}

/**
 * pgvector: the gallery written into PGlite (with its bundled vector extension), then opened by the PostgreSQL store
 * with FACEDB_INDEX=pgvector, which fills the vector column and builds the HNSW index, then searched for the mated
 * probes through `nearestPeople`, the path `identify` takes. Rows are written with one statement per batch
 * (PG_BATCH rows) rather than through addFaces, which would cost a transaction per person.
 */
async function measurePgvector({ faces, dims, built, mated, matedTruth }: Measured) {
  const server = await startPgliteServer();
  try {
    const plain = await openPostgresStore(server.url);
    await plain.ensureModel({ id: 'bench-scale', version: '1', dimensions: dims, metric: 'euclidean', defaultThreshold: 1 });
    await plain.close();
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await client.query('INSERT INTO people (id, name) SELECT id, $2 || id FROM generate_series(1, $1::int) AS id', [built.people, 'person ']);
      for (let start = 0; start < faces; start += PG_BATCH) {
        const end = Math.min(faces, start + PG_BATCH);
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

/** A markdown table: the header's cells (right-aligned, but for those in `left`), then one line per row. */
function markdownTable(header: string[], rows: Array<Array<string | number>>, left: string[] = []): string {
  const line = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
  return [line(header), `|${header.map((cell) => (left.includes(cell) ? '---' : '---:')).join('|')}|`, ...rows.map(line)].join('\n');
}
/** The columns the sketch and HNSW tables share: agreement with exact search, latency, recall and what building cost. */
const DECISION = ['mated agree', 'non-mated agree', 'strangers named: agree', 'p50 ms', 'p99 ms', 'recall@10', 'build s', 'RSS B/face'];
const decisionCells = (r: IndexRow): Array<string | number> => [
  pct(r.matedAgree), pct(r.nonMatedAgree), pct(r.strangersNamedAgree), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.recallAt10.toFixed(4),
  r.buildS.toFixed(1), Math.round(r.rssBytesPerFace),
];

const sketchTable = (rows: SketchRow[]): string =>
  markdownTable(
    ['faces', 'dims', 'bits', 'candidates', ...DECISION, 'peak RSS GiB', 'load'],
    rows.map((r) => [r.faces.toLocaleString('en'), r.dims, r.bits, r.candidates.toLocaleString('en'), ...decisionCells(r), r.peakRssGiB.toFixed(1), r.load]),
  );

const annTable = (rows: AnnRow[]): string =>
  markdownTable(
    ['faces', 'dims', 'storage', 'M', 'ef_add', 'ef_search', 'candidates', ...DECISION, 'file B/face', 'reload s', 'peak RSS GiB', 'load'],
    rows.map(({ options: o, ...r }) => [
      r.faces.toLocaleString('en'), r.dims, o.precision, o.connectivity, o.expansionAdd, o.expansionSearch, o.candidates,
      ...decisionCells(r), Math.round(r.fileBytesPerFace), r.reloadS.toFixed(1), r.peakRssGiB.toFixed(1), r.load,
    ]),
    ['storage'],
  );

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'facedb-bench-scale-'));
  const lines: string[] = [
    `# bench:scale (${new Date().toISOString()})`,
    '',
    `Command: \`npm run bench:scale -- ${process.argv.slice(2).join(' ')}\`; node ${process.version}; ${args.probes} mated and up to ${args.probes} non-mated probes, top ${K} people.`,
    `Machine: ${machine()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average at start ${load()} — **under load** unless that is below the core count.`,
    '',
  ];
  try {
    const sketchRows: SketchRow[] = [];
    const annRows: AnnRow[] = [];
    const notes: string[] = [];
    for (const dims of args.dims) {
      for (const faces of [...args.sizes].sort((a, b) => a - b)) {
        const measured = prepare(faces, dims, args.probes, notes);
        gc();
        if (args.indexes.includes('sketch')) sketchRows.push(measureSketch(measured));
        if (args.indexes.includes('ann')) annRows.push(await measureAnn(measured, dir));
        gc();
      }
    }
    if (notes.length > 0) lines.push("## Identify's decision against exact search (FlatIndex)", '', ...notes.map((n) => `- ${n}`), '');
    if (sketchRows.length > 0) lines.push('### The sketch search (FACEDB_INDEX=auto from FACEDB_ANN_THRESHOLD faces): the nearest sketches ranked exactly', '', sketchTable(sketchRows), '');
    if (annRows.length > 0) lines.push('### The HNSW index (FACEDB_INDEX=ann; usearch, exact re-ranking)', '', annTable(annRows), '');

    const pgRows = [];
    // Its own gallery and exact search's answers, after the indexes above (PGlite's memory is not theirs).
    for (const faces of args.pgvector) for (const dims of args.dims) pgRows.push(await measurePgvector(prepare(faces, dims, Math.min(args.probes, 100), [])));
    if (pgRows.length > 0) {
      const pgTable = markdownTable(
        ['faces', 'dims', 'fill column + HNSW build s', 'p50 ms', 'p99 ms', 'recall@10'],
        pgRows.map((r) => [r.faces.toLocaleString('en'), r.dims, r.fillS.toFixed(1), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2), r.recallAt10.toFixed(4)]),
      );
      lines.push('## pgvector (PGlite 0.4 + vector, through the PostgreSQL store and the pg driver over pglite-socket)', '', pgTable, '');
    }

    lines.push(`Total ${((performance.now() - started) / 1000).toFixed(0)} s; load average at the end ${load()}.`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const report = lines.join('\n') + '\n';
  await writeReport('scale.md', report);
  console.log(report);
}

// Run as a script; imported (research/sketch-search.ts) for its gallery, probes and measures.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
