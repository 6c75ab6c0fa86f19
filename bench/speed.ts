/**
 * npm run bench:speed [-- --limit N] [-- --skip-search]
 *  - enrollment images/s on the shared LFW subset, with one worker and with the default pool;
 *  - identify latency p50/p95 for one 250×250 photo against the enrolled subset;
 *  - search latency for 10k / 100k / 1M synthetic embeddings next to the prototype's SQL approach (bench/search.ts).
 * Writes bench/out/speed.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openFacedb } from '../src/facedb.js';
import { scanLfwLayout } from '../src/image/scan.js';
import { LFW_SUBSET, REPO_ROOT, tempDir, testImage } from '../test/fixtures.js';
import { formatTable as formatSearchTable, runSearchBenchmark } from './search.js';

const { values } = parseArgs({
  options: {
    limit: { type: 'string' },
    'single-limit': { type: 'string', default: '150' },
    'skip-search': { type: 'boolean', default: false },
  },
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function enrollRate(workers: number, limit: number | undefined): Promise<{ rate: number; files: number; db: string }> {
  const db = join(await tempDir('facedb-speed-'), 'speed.sqlite');
  const service = await openFacedb({ db, workers });
  try {
    const all = await scanLfwLayout(LFW_SUBSET);
    const items = limit === undefined ? all : all.slice(0, limit);
    await service.engine(); // model loading is start-up cost, not throughput
    const summary = await service.enroll(items);
    const rate = items.length / (summary.elapsedMs / 1000);
    process.stderr.write(`enroll with ${workers} worker(s): ${items.length} photos, ${rate.toFixed(2)} images/s\n`);
    return { rate, files: items.length, db };
  } finally {
    await service.close();
  }
}

async function identifyLatency(db: string, runs = 60): Promise<{ p50: number; p95: number }> {
  const service = await openFacedb({ db });
  try {
    const probe = { path: testImage('Bono_0002.jpg') };
    for (let i = 0; i < 5; i++) await service.identify(probe); // warm up models and index
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      await service.identify(probe);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    return { p50: percentile(times, 50), p95: percentile(times, 95) };
  } finally {
    await service.close();
  }
}

async function main(): Promise<void> {
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const single = await enrollRate(1, Number(values['single-limit']));
  const pool = await enrollRate(availableParallelism(), limit);
  const latency = await identifyLatency(pool.db);
  const lines = [
    `# facedb speed (${availableParallelism()} cores)`,
    '',
    '| measure | value |',
    '| --- | --- |',
    `| enrollment, 1 worker (${single.files} LFW photos) | ${single.rate.toFixed(2)} images/s |`,
    `| enrollment, ${availableParallelism()} workers (${pool.files} LFW photos) | **${pool.rate.toFixed(2)} images/s** |`,
    `| identify one 250×250 photo against ${pool.files} enrolled photos, p50 / p95 | ${latency.p50.toFixed(1)} ms / ${latency.p95.toFixed(1)} ms |`,
    '',
  ];
  if (!values['skip-search']) {
    const rows = await runSearchBenchmark([10_000, 100_000, 1_000_000]);
    lines.push('## Search: in-memory exact index vs the prototype SQL (one row per dimension, GROUP BY)', '');
    lines.push(formatSearchTable(rows), '');
  }
  const report = lines.join('\n');
  process.stdout.write(`${report}\n`);
  await mkdir(join(REPO_ROOT, 'bench/out'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench/out/speed.md'), report);
}

await main();
