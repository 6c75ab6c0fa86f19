/**
 * npm run bench:speed [-- --engine faceapi,onnx] [-- --limit N]
 * For each engine (default: both, side by side):
 *  - engine alone: decoded LFW photos through `analyze` with what enrollment asks for (embedding + crop), with one
 *    worker (the first 150 photos) and with the default pool; identify's engine step (decode + embedding + exact
 *    search of the subset) for one 250×250 photo, p50/p95 of 60 calls;
 *  - the service: enrollment images/s on the shared LFW subset into a new SQLite gallery, with
 *    one worker and with the default pool, and identify latency p50/p95 for one 250×250 photo against it, with every
 *    attribute (the default) and with none (`attributes: []`: detection, embedding and search only).
 * Search alone at 100k and 1M faces, exact and indexed: bench:scale.
 * Writes bench/out/speed.md. Numbers taken while other work shares the cores are indicative only.
 */
import { rm } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { FlatIndex } from '../src/core/flat-index.js';
import type { AnalyzeOptions, FaceEngine } from '../src/engine/engine.js';
import { openFacedb } from '../src/facedb.js';
import { readImageFile } from '../src/image/decode.js';
import { scanLfwLayout } from '../src/image/scan.js';
import { runInLanes } from '../src/services/batch.js';
import type { FaceService } from '../src/services/face-service.js';
import { LFW_SUBSET, tempDir, testImage } from '../test/fixtures.js';
import { analyzeOptions, limits, numberOption, percentile, writeReport } from './common.js';
import { engineList, startEngine, type EngineName } from './engines.js';

const { values } = parseArgs({
  options: {
    engine: { type: 'string' },
    limit: { type: 'string' },
  },
});
const engines = engineList(values.engine);
const limit = numberOption(values.limit, 'limit');
const IDENTIFY = analyzeOptions();
const ENROLL: AnalyzeOptions = { ...IDENTIFY, needs: { ...IDENTIFY.needs, crop: true } };
/** Photos enrolled with one worker. */
const SINGLE_LIMIT = 150;
const cores = availableParallelism();

/** p50 and p95 of 60 calls of `once`, after 5 warm-up calls. */
async function timed(once: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 5; i++) await once();
  const times: number[] = [];
  for (let i = 0; i < 60; i++) {
    const started = performance.now();
    await once();
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

/** The subset's photos as enrollment lists them, the first `count` only. */
const lfwPhotos = async (count: number | undefined) => (await scanLfwLayout(LFW_SUBSET)).slice(0, count);

/** Runs `use` on an engine of `workers` workers, warmed by one analyze per worker (model loading is start-up cost). */
async function withEngine<T>(name: EngineName, workers: number, use: (engine: FaceEngine) => Promise<T>): Promise<T> {
  const engine = await startEngine(name, workers);
  try {
    await Promise.all(Array.from({ length: workers }, async () => engine.analyze((await readImageFile(testImage('Bono_0001.jpg'), limits)).image, ENROLL)));
    return await use(engine);
  } finally {
    await engine.close();
  }
}

/** Decode + analyze of every photo, kept in flight on every worker; returns images/s and the embeddings. */
async function engineThroughput(engine: FaceEngine, paths: readonly string[], lanes: number): Promise<{ rate: number; embeddings: Float32Array[] }> {
  const embeddings: Float32Array[] = [];
  const started = performance.now();
  const embed = async (path: string): Promise<void> => {
    const { image } = await readImageFile(path, limits);
    const [face] = await engine.analyze(image, ENROLL);
    if (face?.embedding) embeddings.push(face.embedding);
  };
  await runInLanes(paths, embed, { lanes });
  return { rate: paths.length / ((performance.now() - started) / 1000), embeddings };
}

async function engineIdentify(engine: FaceEngine, gallery: readonly Float32Array[]): Promise<{ p50: number; p95: number }> {
  const index = new FlatIndex(engine.model.dimensions);
  gallery.forEach((e, i) => index.add(i, i, e));
  return timed(async () => {
    const { image } = await readImageFile(testImage('Bono_0002.jpg'), limits);
    const faces = await engine.analyze(image, IDENTIFY);
    for (const face of faces) if (face.embedding) index.searchPeople(face.embedding, 5);
  });
}

/** Runs `use` on a service over `db` with its own engine (`workers` undefined: the default pool). */
async function withService<T>(name: EngineName, workers: number | undefined, db: string, use: (service: FaceService) => Promise<T>): Promise<T> {
  const engine = await startEngine(name, workers); // model loading is start-up cost, not throughput
  const service = await openFacedb({ db, workers, engine });
  try {
    return await use(service);
  } finally {
    await service.close();
    await engine.close();
  }
}

/** Enrollment through the service into a new SQLite gallery: images/s and the gallery. */
async function serviceEnroll(name: EngineName, workers: number, count: number | undefined): Promise<{ rate: number; db: string }> {
  const db = join(await tempDir('facedb-speed-'), 'speed.sqlite');
  const items = await lfwPhotos(count);
  const rate = await withService(name, workers, db, async (service) => items.length / ((await service.enroll(items)).elapsedMs / 1000));
  process.stderr.write(`${name}: service enroll with ${workers} worker(s): ${items.length} photos, ${rate.toFixed(2)} images/s\n`);
  return { rate, db };
}

async function measure(name: EngineName) {
  const paths = (await lfwPhotos(limit)).map((item) => item.path);
  const singlePaths = (await lfwPhotos(SINGLE_LIMIT)).map((item) => item.path);
  const engineSingle = await withEngine(name, 1, async (single) => (await engineThroughput(single, singlePaths, 2)).rate);
  const { model, enginePool, engineIdentify: identifyAlone } = await withEngine(name, cores, async (pool) => {
    const { rate, embeddings } = await engineThroughput(pool, paths, 3 * cores);
    return { model: `${pool.model.id}@${pool.model.version}`, enginePool: rate, engineIdentify: await engineIdentify(pool, embeddings) };
  });
  process.stderr.write(`${name}: engine ${engineSingle.toFixed(2)} / ${enginePool.toFixed(2)} images/s, identify p50 ${identifyAlone.p50.toFixed(1)} ms\n`);
  const single = await serviceEnroll(name, 1, SINGLE_LIMIT);
  const pool = await serviceEnroll(name, cores, limit);
  // identify's latency with every attribute (the default) and with none, on the gallery the pool enrolled.
  const probe = { path: testImage('Bono_0002.jpg') };
  const identify = await withService(name, undefined, pool.db, async (service) => ({
    all: await timed(() => service.identify(probe, {})),
    bare: await timed(() => service.identify(probe, { attributes: [] })),
  }));
  for (const { db } of [single, pool]) await rm(dirname(db), { recursive: true, force: true });
  return { name, model, engineSingle, enginePool, identifyAlone, single: single.rate, pool: pool.rate, identify };
}

async function main(): Promise<void> {
  const load = loadavg()[0] ?? 0;
  const rows: Array<Awaited<ReturnType<typeof measure>>> = [];
  for (const name of engines) rows.push(await measure(name));
  const files = (await lfwPhotos(limit)).length;
  const cell = (f: (r: (typeof rows)[number]) => string): string => rows.map(f).join(' | ');
  const ms = (x: { p50: number; p95: number }): string => `${x.p50.toFixed(1)} ms / ${x.p95.toFixed(1)} ms`;
  const lines = [
    `# facedb speed (${cores} cores; 1-minute load average ${load.toFixed(1)} at the start${load > cores ? ': the machine was busy, numbers are indicative' : ''})`,
    '',
    `| measure | ${cell((r) => `${r.name} (${r.model})`)} |`,
    `| --- | ${rows.map(() => '---').join(' | ')} |`,
    `| engine alone: decode + analyze (embedding + crop), 1 worker (${SINGLE_LIMIT} LFW photos) | ${cell((r) => `${r.engineSingle.toFixed(2)} images/s`)} |`,
    `| engine alone: the same, ${cores} workers (${files} LFW photos) | ${cell((r) => `**${r.enginePool.toFixed(2)} images/s**`)} |`,
    `| engine alone: identify one 250×250 photo (decode + embedding + search of ${files}), p50 / p95 | ${cell((r) => ms(r.identifyAlone))} |`,
    `| service: enrollment into SQLite, 1 worker (${SINGLE_LIMIT} LFW photos) | ${cell((r) => `${r.single.toFixed(2)} images/s`)} |`,
    `| service: enrollment, ${cores} workers (${files} LFW photos) | ${cell((r) => `**${r.pool.toFixed(2)} images/s**`)} |`,
    `| service: identify one 250×250 photo against ${files} enrolled photos, every attribute, p50 / p95 | ${cell((r) => `**${ms(r.identify.all)}**`)} |`,
    `| service: the same with no attribute (\`attributes: []\`), p50 / p95 | ${cell((r) => `**${ms(r.identify.bare)}**`)} |`,
    '',
  ];
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  await writeReport('speed.md', report);
}

await main();
