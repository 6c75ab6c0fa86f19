import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Job, QueueEvents, Queue } from 'bullmq';
import pg from 'pg';
import { CLI, copyLfwPeople, tempDir } from '../../test/fixtures.js';
import { findPostgresBinaries, startPostgres, type TestPostgres } from '../../test/postgres-server.js';
import { freePort, REDIS_SERVER, startRedis, type TestRedis } from '../../test/redis-server.js';
import { scanLfwLayout } from '../image/scan.js';
import { exitCodeFor } from '../errors/exit-codes.js';
import { parseQueueUrl } from './connection.js';
import { ENROLL_QUEUE } from './jobs.js';

/*
 * Enrollment spread over processes as it would be over machines: a real redis-server and a real PostgreSQL started
 * here, the built `facedb` binary (npm test builds first) as two `facedb worker` processes with the real engine,
 * and `facedb enroll --queue` as the enqueuer. One worker is killed with SIGKILL while it holds a photo; BullMQ's
 * stalled-job check (tuned short through the worker's options) must hand that photo to the other worker, and
 * every photo must end up enrolled exactly once.
 */

/** 25 photos of 6 people from the shared LFW subset. */
const PEOPLE = /^(Aaron_Peirsol|Abdoulaye_Wade|Adam_Sandler|Al_Pacino|Alan_Greenspan|Ahmed_Chalabi)$/;

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  finished: Promise<Finished>;
  /** Resolves once stderr has shown `pattern`. */
  waitFor(pattern: RegExp): Promise<void>;
}

function facedb(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const waiter of waiters.filter((w) => w.pattern.test(stderr))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  });
  const finished = new Promise<Finished>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return {
    child,
    finished,
    waitFor: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
            finished.then((f) => {
              throw new Error(`facedb ${args[0]} exited (${f.code ?? f.signal}) before ${pattern}: ${f.stderr}`);
            }),
          ]),
  };
}

const missing =
  REDIS_SERVER === undefined ? 'redis-server' : findPostgresBinaries() === undefined ? 'postgresql' : undefined;

if (missing !== undefined) {
  const why = `no ${missing} to test against: apt-get install -y ${missing} (scripts/ensure-test-deps.sh does it as root)`;
  if (process.env.CI) void it(`has ${missing} to test against`, () => assert.fail(why));
  else void it('distributed enrollment', { skip: why }, () => {});
} else {
  let redis: TestRedis;
  let postgres: TestPostgres;
  let gallery: string;
  before(async () => {
    [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
    gallery = await copyLfwPeople((person) => PEOPLE.test(person), join(await tempDir('facedb-distributed-'), 'gallery'));
  });
  after(async () => {
    await Promise.all([redis?.stop(), postgres?.stop()]);
  });

  void describe('facedb worker × 2 + facedb enroll --queue, one worker killed mid-run', () => {
    void it('enrolls every photo exactly once, the killed worker’s photo included', { timeout: 600_000 }, async () => {
      const photos = await scanLfwLayout(gallery);
      assert.equal(photos.length, 25);
      const address = parseQueueUrl(redis.url);
      const events = new QueueEvents(ENROLL_QUEUE, { connection: address.connection });
      const queue = new Queue(ENROLL_QUEUE, { connection: address.connection });
      await events.waitUntilReady();

      // Short locks so a dead worker's photo comes back in seconds: the options, not sleeps, set the pace.
      const workerArgs = (name: string) => [
        'worker', '--queue', redis.url, '--db', postgres.url, '--workers', '1',
        '--concurrency', '1', '--name', name, '--lock-duration', '3000', '--stalled-interval', '1000',
      ];
      const victim = facedb(workerArgs('victim'));
      const survivor = facedb(workerArgs('survivor'));
      await Promise.all([victim.waitFor(/waiting for photos/), survivor.waitFor(/waiting for photos/)]);

      // Kill the victim the moment it takes a photo (after a few, so both are in full swing).
      let killedJob: string | undefined;
      let victimTaken = 0;
      const stalled = new Set<string>();
      events.on('stalled', ({ jobId }) => stalled.add(jobId));
      const killed = new Promise<void>((resolve) => {
        events.on('active', ({ jobId }) => {
          void Job.fromId(queue, jobId).then((job) => {
            if (killedJob !== undefined || job?.processedBy !== 'victim' || ++victimTaken < 3) return;
            killedJob = jobId;
            victim.child.kill('SIGKILL');
            resolve();
          });
        });
      });

      const enqueuer = facedb(['enroll', gallery, '--queue', redis.url]);
      await killed;
      assert.equal((await victim.finished).signal, 'SIGKILL');
      const run = await enqueuer.finished;
      assert.equal(run.code, 0, run.stderr);

      // The photo the victim held was handed back by the stalled-job check and finished by the survivor.
      assert.ok(killedJob && stalled.has(killedJob), `the killed worker's job ${killedJob} was not recovered as stalled`);

      // The enqueuer reported every photo once, as a local enroll would, and the summary adds up.
      const lines = run.stdout.trim().split('\n');
      const summary = lines.pop()!;
      assert.match(summary, /^25\/25 files in [\d.]+s \([\d.]+ files\/s\): /);
      assert.equal(lines.length, 25, run.stdout);
      for (const photo of photos) {
        const reported = lines.filter((line) => line.endsWith(`  ${photo.path}`) || line.includes(`  ${photo.path} (`));
        assert.equal(reported.length, 1, `${photo.path}: ${reported.join(' | ')}`);
        assert.match(reported[0]!, /^(enrolled|several faces: subject taken|already enrolled) /);
        assert.ok(reported[0]!.includes(` ${photo.person}  `));
      }

      // The gallery: each (person, photo) exactly once, all 25, with the content hash of the file.
      const db = new pg.Client({ connectionString: postgres.url });
      await db.connect();
      try {
        const { rows } = await db.query<{ person: string; hash: string; path: string; copies: string }>(
          `SELECT p.name AS person, f.content_hash AS hash, min(f.source_path) AS path, count(*) AS copies
             FROM faces f JOIN people p ON p.id = f.person_id GROUP BY p.name, f.content_hash`,
        );
        assert.equal(rows.length, photos.length);
        assert.ok(rows.every((row) => Number(row.copies) === 1));
        const expected = await Promise.all(
          photos.map(async (photo) => `${photo.person}|${sha256(await readFile(photo.path))}|${photo.path}`),
        );
        assert.deepEqual(rows.map((row) => `${row.person}|${row.hash}|${row.path}`).sort(), expected.sort());
      } finally {
        await db.end();
      }

      // Nothing left behind in the queue, nothing lost.
      const counts = await queue.getJobCounts();
      assert.deepEqual(Object.values(counts).filter((n) => n > 0), [], JSON.stringify(counts));

      // A re-run finds them all enrolled.
      const rerun = facedb(['enroll', gallery, '--queue', redis.url]);
      const again = await rerun.finished;
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^25\/25 files .*: 25 already enrolled$/m);

      // SIGTERM: the survivor stops cleanly.
      survivor.child.kill('SIGTERM');
      const stop = await survivor.finished;
      assert.equal(stop.code, 0, stop.stderr);
      assert.match(stop.stderr, /stopped/);
      await Promise.all([events.close(), queue.close()]);
    });

    void it('refuses a photo over the size limit at enqueue, with an outcome', async () => {
      const run = await facedb(['enroll', '--person', 'Al Pacino', join(gallery, 'Al_Pacino'), '--queue', redis.url], {
        FACEDB_MAX_FILE_BYTES: '1000',
      }).finished;
      assert.equal(run.code, exitCodeFor('invalid_image'), run.stderr); // no photo could be used: the code of why
      assert.match(run.stdout, /^unreadable +Al Pacino .*Al_Pacino_0001\.jpg: .*over the limit of 1000$/m);
      assert.match(run.stdout, /^3\/3 files .*: 3 unreadable$/m);
    });

    void it('stops at once with a clear error on an unreachable or malformed queue URL', async () => {
      const closed = `redis://127.0.0.1:${await freePort()}`;
      for (const args of [
        ['enroll', gallery, '--queue', closed],
        ['worker', '--queue', closed, '--db', postgres.url],
      ]) {
        const run = await facedb(args).finished;
        assert.equal(run.code, exitCodeFor('unreachable'), run.stderr);
        assert.match(run.stderr, /cannot reach the queue at redis:\/\/127\.0\.0\.1:\d+: connect ECONNREFUSED/);
      }
      for (const args of [
        ['enroll', gallery, '--queue', 'localhost:6379'],
        ['worker', '--queue', 'redis://host/not-a-number', '--db', postgres.url],
      ]) {
        const run = await facedb(args).finished;
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, /error \[invalid_input\]: --queue must be a redis:\/\/host:port URL/);
      }
    });
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
