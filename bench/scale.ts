/**
 * bench:scale — search at gallery sizes one machine's exact scan no longer covers: the ANN index (usearch HNSW)
 * against exact search (FlatIndex) on synthetic galleries that cluster like real faces (test/clustered-embeddings.ts),
 * pgvector in PostgreSQL (PGlite with its bundled vector extension, through the real store and the `pg` driver), and
 * the prototype's one-row-per-dimension SQL search for the ratio.
 *
 *   npm run bench:scale -- [--sizes 100k,1M,5M] [--dims 128,512] [--precisions f16] [--probes 200]
 *                          [--connectivity 16,32] [--expansion-add 128,256] [--ef 256,512,1024]
 *                          [--pgvector 100k] [--sql 100k] [--out bench/out/scale.md]
 *
 * --connectivity and --expansion-add build one graph per combination (with each precision) instead of the settings
 * annOptionsFor picks; --ef then reloads each saved graph with every listed ef_search (the sweep table).
 *
 * Per size and dimension: ANN build time, memory (RSS growth and saved bytes per face), top-10 people p50/p99,
 * recall@10 of people against exact search, top-1 agreement, worst distance error, save and reload time (reload
 * includes checking the files' SHA-256). Exact search is skipped where its block would not fit WebAssembly's 4 GiB.
 */
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { ClusteredGallery, shapeForDimensions } from '../test/clustered-embeddings.js';
import { FlatIndex } from '../src/core/flat-index.js';
import type { PersonMatch } from '../src/core/search-index.js';
import { AnnIndex, annOptionsFor, type AnnPrecision } from '../src/search/ann-index.js';
import { indexFiles, loadIndex, saveIndex } from '../src/search/index-file.js';
import { measureSql } from './search.js';
import { measurePgvector } from './scale-pgvector.js';

interface Args {
  sizes: number[];
  dims: number[];
  precisions: AnnPrecision[];
  probes: number;
  pgvector: number[];
  sql: number[];
  /** ef_search values to sweep on the saved graph (loaded again with each). */
  efs: number[];
  /** Graph settings to build instead of annOptionsFor's (empty: its choice). */
  connectivities: number[];
  expansionAdds: number[];
  out: string;
}

function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`bad size ${text} (e.g. 100k, 1M)`);
  const unit = match[2]!.toLowerCase() === 'k' ? 1e3 : match[2]!.toLowerCase() === 'm' ? 1e6 : 1;
  return Math.round(Number(match[1]) * unit);
}

function parseArgs(argv: string[]): Args {
  const args: Args = { sizes: [100_000, 1_000_000], dims: [128, 512], precisions: ['f16'], probes: 200, pgvector: [100_000], sql: [100_000], efs: [], connectivities: [], expansionAdds: [], out: 'bench/out/scale.md' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i] ?? '';
    const list = value === '' || value === 'none' ? [] : value.split(',');
    if (flag === '--sizes') args.sizes = list.map(parseSize);
    else if (flag === '--dims') args.dims = list.map(Number);
    else if (flag === '--precisions') args.precisions = list as AnnPrecision[];
    else if (flag === '--probes') args.probes = Number(value);
    else if (flag === '--pgvector') args.pgvector = list.map(parseSize);
    else if (flag === '--sql') args.sql = list.map(parseSize);
    else if (flag === '--ef') args.efs = list.map(Number);
    else if (flag === '--connectivity') args.connectivities = list.map(Number);
    else if (flag === '--expansion-add') args.expansionAdds = list.map(Number);
    else if (flag === '--out') args.out = value;
    else throw new Error(`unknown option ${flag}`);
  }
  return args;
}

const K = 10;
/** FlatIndex lives in WebAssembly memory (4 GiB); leave room for its bookkeeping. */
const EXACT_LIMIT_BYTES = 3.5 * 2 ** 30;

export interface ScaleRow {
  faces: number;
  dims: number;
  people: number;
  precision: AnnPrecision;
  connectivity: number;
  expansionAdd: number;
  ef: number;
  generateS: number;
  exactP50Ms: number | null;
  exactP99Ms: number | null;
  buildS: number;
  rssBytesPerFace: number;
  fileBytesPerFace: number;
  p50Ms: number;
  p99Ms: number;
  recallAt10: number | null;
  top1Agreement: number | null;
  worstDistanceError: number | null;
  saveS: number;
  reloadS: number;
  reloadSame: boolean;
  /** Same graph loaded with other ef_search values. */
  sweep: Array<{ ef: number; p50Ms: number; p99Ms: number; recallAt10: number | null; top1Agreement: number | null }>;
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

function timed<T>(work: () => T): { value: T; ms: number } {
  const start = performance.now();
  const value = work();
  return { value, ms: performance.now() - start };
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Recall@10 of people and top-1 agreement against exact answers. */
function agreement(answers: PersonMatch[][], truth: PersonMatch[][] | null): { recall: number | null; top1: number | null } {
  if (truth === null) return { recall: null, top1: null };
  let found = 0;
  let wanted = 0;
  let agree = 0;
  answers.forEach((answer, p) => {
    const expected = truth[p]!;
    const got = new Set(answer.map((m) => m.personId));
    wanted += expected.length;
    found += expected.filter((m) => got.has(m.personId)).length;
    if (answer[0]?.personId === expected[0]?.personId) agree++;
  });
  return { recall: found / wanted, top1: agree / answers.length };
}

async function measureAnn(
  faces: number,
  dims: number,
  precisions: AnnPrecision[],
  probeCount: number,
  dir: string,
  efs: number[] = [],
  graphs: { connectivities: number[]; expansionAdds: number[] } = { connectivities: [], expansionAdds: [] },
): Promise<ScaleRow[]> {
  const gallery = new ClusteredGallery(shapeForDimensions(dims), 20261129);
  const generated = timed(() => gallery.build(faces));
  const built = generated.value;
  const probes = Array.from({ length: probeCount }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
  console.error(`${faces} × ${dims}-D: ${built.people} people generated in ${(generated.ms / 1000).toFixed(1)} s`);

  let truth: PersonMatch[][] | null = null;
  let exactTimes: number[] = [];
  if (faces * dims * 4 <= EXACT_LIMIT_BYTES) {
    const exact = FlatIndex.fromSnapshot({ dimensions: dims, ...built, faceIds: built.faceIds.slice() });
    for (const probe of probes.slice(0, 5)) exact.searchPeople(probe, K);
    truth = probes.map((probe) => {
      const { value, ms } = timed(() => exact.searchPeople(probe, K));
      exactTimes.push(ms);
      return value;
    });
  } else {
    exactTimes = [];
    console.error(`  exact search skipped: ${((faces * dims * 4) / 2 ** 30).toFixed(1)} GiB does not fit WebAssembly memory`);
  }
  gc();

  const rows: ScaleRow[] = [];
  const chosen = annOptionsFor(dims, faces);
  const variants = precisions.flatMap((precision) =>
    (graphs.connectivities.length > 0 ? graphs.connectivities : [chosen.connectivity]).flatMap((connectivity) =>
      (graphs.expansionAdds.length > 0 ? graphs.expansionAdds : [chosen.expansionAdd]).map((expansionAdd) => ({
        ...chosen,
        precision,
        connectivity,
        expansionAdd,
      })),
    ),
  );
  for (const options of variants) {
    const { precision, connectivity, expansionAdd } = options;
    const label = `${precision} M=${connectivity} ef_add=${expansionAdd}`;
    gc();
    const rssBefore = process.memoryUsage().rss;
    const { value: ann, ms: buildMs } = timed(() => AnnIndex.build(dims, built, options));
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    console.error(`  ${label}: built in ${(buildMs / 1000).toFixed(1)} s, RSS +${Math.round(rssGrowth / faces)} B/face`);
    for (const probe of probes.slice(0, 5)) ann.searchPeople(probe, K);
    const times: number[] = [];
    const answers = probes.map((probe) => {
      const { value, ms } = timed(() => ann.searchPeople(probe, K));
      times.push(ms);
      return value;
    });
    let recall: number | null = null;
    let top1: number | null = null;
    let worst: number | null = null;
    if (truth !== null) {
      let found = 0;
      let wanted = 0;
      let agree = 0;
      worst = 0;
      answers.forEach((answer, p) => {
        const expected = truth[p]!;
        const got = new Set(answer.map((m) => m.personId));
        wanted += expected.length;
        found += expected.filter((m) => got.has(m.personId)).length;
        if (answer[0]?.personId === expected[0]?.personId) agree++;
        for (const match of answer) {
          const row = built.vectors.subarray((match.faceId - 1) * dims, match.faceId * dims);
          let sum = 0;
          for (let d = 0; d < dims; d++) sum += (probes[p]![d]! - row[d]!) ** 2;
          worst = Math.max(worst!, Math.abs(Math.sqrt(sum) - match.distance));
        }
      });
      recall = found / wanted;
      top1 = agree / answers.length;
    }

    const base = join(dir, `scale-${faces}-${dims}-${precision}-${connectivity}-${expansionAdd}`);
    const model = { id: 'bench-scale', version: '1', dimensions: dims, metric: 'euclidean' as const, defaultThreshold: 1 };
    const saveStart = performance.now();
    await saveIndex(base, ann, { model, gallery: 'bench', changeSeq: faces });
    const saveMs = performance.now() - saveStart;
    const files = indexFiles(base);
    const fileBytes = (await stat(files.graph)).size + (await stat(files.faces)).size;
    const reloadStart = performance.now();
    const reloaded = await loadIndex(base, { model, options, gallery: 'bench' });
    const reloadMs = performance.now() - reloadStart;
    if ('rejected' in reloaded) throw new Error(`reload rejected: ${reloaded.rejected}`);
    const reloadSame = probes
      .slice(0, 20)
      .every((probe, p) => JSON.stringify(reloaded.index.searchPeople(probe, K)) === JSON.stringify(answers[p]));
    const sweep: ScaleRow['sweep'] = [];
    for (const ef of efs) {
      const loaded = await loadIndex(base, { model, options: { ...options, expansionSearch: ef }, gallery: 'bench' });
      if ('rejected' in loaded) throw new Error(`reload rejected: ${loaded.rejected}`);
      for (const probe of probes.slice(0, 5)) loaded.index.searchPeople(probe, K);
      const efTimes: number[] = [];
      const efAnswers = probes.map((probe) => {
        const { value, ms } = timed(() => loaded.index.searchPeople(probe, K));
        efTimes.push(ms);
        return value;
      });
      const { recall: efRecall, top1: efTop1 } = agreement(efAnswers, truth);
      sweep.push({ ef, p50Ms: percentile(efTimes, 0.5), p99Ms: percentile(efTimes, 0.99), recallAt10: efRecall, top1Agreement: efTop1 });
      console.error(`  ${label} ef ${ef}: p50 ${percentile(efTimes, 0.5).toFixed(3)} ms, recall@10 ${efRecall?.toFixed(4) ?? 'n/a'}`);
    }
    await rm(files.graph, { force: true });
    await rm(files.faces, { force: true });
    await rm(files.stamp, { force: true });

    rows.push({
      faces,
      dims,
      people: built.people,
      precision,
      connectivity,
      expansionAdd,
      ef: options.expansionSearch,
      generateS: generated.ms / 1000,
      exactP50Ms: exactTimes.length > 0 ? percentile(exactTimes, 0.5) : null,
      exactP99Ms: exactTimes.length > 0 ? percentile(exactTimes, 0.99) : null,
      buildS: buildMs / 1000,
      rssBytesPerFace: rssGrowth / faces,
      fileBytesPerFace: fileBytes / faces,
      p50Ms: percentile(times, 0.5),
      p99Ms: percentile(times, 0.99),
      recallAt10: recall,
      top1Agreement: top1,
      worstDistanceError: worst,
      saveS: saveMs / 1000,
      reloadS: reloadMs / 1000,
      reloadSame,
      sweep,
    });
    console.error(`  ${label} ef ${options.expansionSearch}: p50 ${percentile(times, 0.5).toFixed(3)} ms, p99 ${percentile(times, 0.99).toFixed(3)} ms, recall@10 ${recall?.toFixed(4) ?? 'n/a'}`);
  }
  return rows;
}

function annTable(rows: ScaleRow[]): string {
  const f = (v: number | null, digits = 2): string => (v === null ? 'n/a' : v.toFixed(digits));
  return [
    '| faces | dims | people | storage | M | ef_add | ef_search | build s | RSS B/face | file B/face | ANN p50 ms | ANN p99 ms | recall@10 | top-1 same | max Δdistance | exact p50 ms | exact p99 ms | save s | reload s | reload same answers |',
    '|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.faces.toLocaleString('en')} | ${r.dims} | ${r.people.toLocaleString('en')} | ${r.precision} | ${r.connectivity} | ${r.expansionAdd} | ${r.ef} | ${f(r.buildS, 1)} | ${Math.round(r.rssBytesPerFace)} | ${Math.round(r.fileBytesPerFace)} | ${f(r.p50Ms, 3)} | ${f(r.p99Ms, 3)} | ${f(r.recallAt10, 4)} | ${f(r.top1Agreement, 3)} | ${f(r.worstDistanceError, 4)} | ${f(r.exactP50Ms)} | ${f(r.exactP99Ms)} | ${f(r.saveS, 1)} | ${f(r.reloadS, 1)} | ${r.reloadSame ? 'yes' : 'NO'} |`,
    ),
  ].join('\n');
}

interface SqlRow {
  faces: number;
  dims: number;
  buildS: number;
  p50Ms: number;
  queries: number;
}

async function measurePrototypeSql(faces: number, dims: number, dir: string): Promise<SqlRow> {
  const gallery = new ClusteredGallery(shapeForDimensions(dims), 20261129);
  const built = gallery.build(faces);
  const queries = [gallery.probe(1), gallery.probe(2)];
  const exact = FlatIndex.fromSnapshot({ dimensions: dims, ...built, faceIds: built.faceIds.slice() });
  const expectedTop = queries.map((q) => exact.searchPeople(q, 1)[0]!.faceId);
  const timing = await measureSql(join(dir, `prototype-${faces}-${dims}.sqlite`), built, queries, expectedTop, dims);
  return { faces, dims, buildS: timing.buildMs / 1000, p50Ms: timing.p50Ms, queries: queries.length };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const dir = await mkdtemp(join(tmpdir(), 'facedb-bench-scale-'));
  const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' / ');
  const lines: string[] = [
    `# bench:scale (${new Date().toISOString()})`,
    '',
    `Command: \`npm run bench:scale -- ${process.argv.slice(2).join(' ')}\`; node ${process.version}; usearch HNSW with the settings annOptionsFor picks ` +
      `(${[128, 512].map((d) => { const o = annOptionsFor(d, 100_000); return `${d}-D: ${o.precision}, M=${o.connectivity}, ef_construction=${o.expansionAdd}, ef_search ${o.expansionSearch} at 100,000 faces`; }).join('; ')}; ef_search grows with size) ` +
      `unless the table says otherwise; ${args.probes} probes (a new photo of an enrolled person each), top ${K} people.`,
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB; load average at start ${load()} — **under load** unless that is below the core count.`,
    '',
  ];
  try {
    const annRows: ScaleRow[] = [];
    for (const dims of args.dims) {
      for (const faces of [...args.sizes].sort((a, b) => a - b)) {
        annRows.push(...(await measureAnn(faces, dims, args.precisions, args.probes, dir, args.efs, args)));
        gc();
      }
    }
    if (annRows.length > 0) lines.push('## ANN (usearch) vs exact (FlatIndex)', '', annTable(annRows), '');
    const swept = annRows.filter((r) => r.sweep.length > 0);
    if (swept.length > 0) {
      const f = (v: number | null, digits: number): string => (v === null ? 'n/a' : v.toFixed(digits));
      lines.push(
        '## ef_search sweep (the same saved graph loaded with each value)',
        '',
        '| faces | dims | storage | M | ef_add | build s | RSS B/face | ef_search | p50 ms | p99 ms | recall@10 | top-1 same |',
        '|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
        ...swept.flatMap((r) =>
          r.sweep.map(
            (s) =>
              `| ${r.faces.toLocaleString('en')} | ${r.dims} | ${r.precision} | ${r.connectivity} | ${r.expansionAdd} | ${f(r.buildS, 1)} | ${Math.round(r.rssBytesPerFace)} | ${s.ef} | ${f(s.p50Ms, 3)} | ${f(s.p99Ms, 3)} | ${f(s.recallAt10, 4)} | ${f(s.top1Agreement, 3)} |`,
          ),
        ),
        '',
      );
    }

    const pgRows = [];
    for (const faces of args.pgvector) for (const dims of args.dims) pgRows.push(await measurePgvector(faces, dims, Math.min(args.probes, 100)));
    if (pgRows.length > 0) {
      lines.push(
        '## pgvector (PGlite 0.4 + vector, through the PostgreSQL store and the pg driver over pglite-socket)',
        '',
        '| faces | dims | fill column + HNSW build s | p50 ms | p99 ms | recall@10 |',
        '|---:|---:|---:|---:|---:|---:|',
        ...pgRows.map(
          (r) =>
            `| ${r.faces.toLocaleString('en')} | ${r.dims} | ${r.fillS.toFixed(1)} | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${r.recallAt10.toFixed(4)} |`,
        ),
        '',
      );
    }

    const sqlRows: SqlRow[] = [];
    for (const faces of args.sql) for (const dims of args.dims) sqlRows.push(await measurePrototypeSql(faces, dims, dir));
    if (sqlRows.length > 0) {
      lines.push(
        "## The prototype's one-row-per-dimension SQL (SQLite), for the ratio",
        '',
        '| faces | dims | build s | p50 ms | queries | vs ANN p50 |',
        '|---:|---:|---:|---:|---:|---:|',
        ...sqlRows.map((r) => {
          const ann = annRows.find((a) => a.faces === r.faces && a.dims === r.dims);
          const ratio = ann === undefined ? 'n/a' : `${Math.round(r.p50Ms / ann.p50Ms).toLocaleString('en')}×`;
          return `| ${r.faces.toLocaleString('en')} | ${r.dims} | ${r.buildS.toFixed(1)} | ${r.p50Ms.toFixed(0)} | ${r.queries} | ${ratio} |`;
        }),
        '',
        'Larger sizes are not run: the build alone grows linearly (rows = faces × dims) and each search scans and sorts every row.',
        '',
      );
    }

    lines.push(
      '## Enrollment throughput over the queue (1 and 2 workers, one PostgreSQL)',
      '',
      'Filled in by the distributed-enrollment work (`facedb worker`); not measured by this script.',
      '',
      `Total ${((performance.now() - started) / 1000).toFixed(0)} s; load average at the end ${load()}.`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const report = lines.join('\n') + '\n';
  await mkdir(join(args.out, '..'), { recursive: true });
  await writeFile(args.out, report);
  console.log(report);
}

await main();
