/**
 * npm run bench:queue [-- --photos N]
 * Enrollment throughput through the queue (facedb enroll --queue + facedb worker processes, real engine) with 1 and
 * 2 worker processes against one PostgreSQL, next to a local enroll into the same PostgreSQL; then the queue's own
 * cost per photo: the same runs with in-process workers and a stand-in engine (no model), so only reading, Redis,
 * decoding and PostgreSQL remain. Starts its own redis-server and PostgreSQL cluster (Debian packages) and uses the
 * built CLI (npm run build).
 * Writes bench/out/queue.md.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { openFacedb } from '../src/facedb.js';
import { scanLfwLayout } from '../src/image/scan.js';
import { parseQueueUrl } from '../src/queue/connection.js';
import { enrollViaQueue } from '../src/queue/enqueue.js';
import type { EnrollSummary } from '../src/services/results.js';
import { LFW_SUBSET } from '../test/fixtures.js';
import { startPostgres } from '../test/postgres-server.js';
import { QueueTestEngine } from '../test/queue-fake-engine.js';
import { startEnrollWorker } from '../src/queue/worker.js';
import { startRedis } from '../test/redis-server.js';
import { limits, loadAverage, numberOption, writeReport } from './common.js';
import { startCli } from './http.js';

const { values } = parseArgs({ options: { photos: { type: 'string', default: '200' } } });
const photoCount = numberOption(values.photos, 'photos')!;

/** A report row for one run, also written to stderr as it finishes. */
function row(setup: string, summary: EnrollSummary): string {
  const seconds = summary.elapsedMs / 1000;
  const rate = summary.outcomes.length / seconds;
  const enrolled = summary.counts.enrolled + summary.counts.enrolled_one_of_several;
  const load = loadAverage();
  process.stderr.write(`${setup}: ${summary.outcomes.length} photos in ${seconds.toFixed(1)} s, ${rate.toFixed(2)} photos/s (load ${load})\n`);
  return `| ${setup} | ${rate.toFixed(2)} | ${seconds.toFixed(1)} | ${enrolled} | ${load} |`;
}

const items = (await scanLfwLayout(LFW_SUBSET)).slice(0, photoCount);
const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
const admin = new pg.Client({ connectionString: postgres.url });
await admin.connect();
let schemas = 0;
/** A URL for a new, empty gallery (its own schema) on the one PostgreSQL server. */
const freshGallery = async (): Promise<string> => {
  const schema = `bench_queue_${++schemas}`;
  await admin.query(`CREATE SCHEMA ${schema}`);
  return `${postgres.url}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
};
const rows: string[] = [];
try {
  for (const threads of [1, 2]) {
    const service = await openFacedb({ db: await freshGallery(), workers: threads });
    await service.engine(); // model loading is start-up cost, not throughput
    rows.push(row(`local enroll, ${threads} inference thread(s)`, await service.enroll(items)));
    await service.close();
  }
  for (const processes of [1, 2]) {
    const db = await freshGallery();
    const queueUrl = `${redis.url}/${processes}`;
    // `facedb worker` is ready once it has loaded the models and listens to the queue.
    const args = (i: number) => ['worker', '--queue', queueUrl, '--db', db, '--workers', '1', '--name', `w${i + 1}`, '--quiet'];
    const workers = await Promise.all(Array.from({ length: processes }, (_, i) => startCli(args(i), /waiting for photos/)));
    const summary = await enrollViaQueue(parseQueueUrl(queueUrl), items, { maxFileBytes: limits.maxFileBytes });
    rows.push(row(`queue, ${processes} worker process(es) × 1 inference thread`, summary));
    await Promise.all(workers.map((worker) => worker.stop()));
  }
  for (const processes of [1, 2]) {
    const db = await freshGallery();
    const address = parseQueueUrl(`${redis.url}/${processes + 2}`);
    const services = await Promise.all(Array.from({ length: processes }, async () => openFacedb({ db, engine: new QueueTestEngine() })));
    const workers = await Promise.all(services.map((service) => startEnrollWorker(service, address, { concurrency: 4 })));
    const summary = await enrollViaQueue(address, items, { maxFileBytes: limits.maxFileBytes });
    rows.push(row(`queue overhead: ${processes} in-process worker(s), stand-in engine (no model)`, summary));
    await Promise.all(workers.map((worker) => worker.close()));
    await Promise.all(services.map((service) => service.close()));
  }
} finally {
  await admin.end();
  await Promise.all([redis.stop(), postgres.stop()]);
}

const lines = [
  `# facedb enrollment through the queue (${availableParallelism()} cores, ${items.length} LFW photos, one PostgreSQL)`,
  '',
  'Measured under load: other processes shared the cores (1-minute load average after each run in the last column).',
  '',
  '| setup | photos/s | seconds | enrolled | load |',
  '| --- | --- | --- | --- | --- |',
  ...rows,
  '',
];
await writeReport('queue.md', lines.join('\n'));
process.stdout.write(lines.join('\n'));
