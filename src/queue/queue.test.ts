import assert from 'node:assert/strict';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import sharp from 'sharp';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import type { EnrollOutcome, EnrollSummary } from '../services/results.js';
import { lfwPhoto, seededRandom, tempDir } from '../../test/fixtures.js';
import { QueueTestEngine } from '../../test/queue-fake-engine.js';
import { REDIS_SERVER, startRedis, type TestRedis } from '../../test/redis-server.js';
import { parseQueueUrl, type QueueAddress } from './connection.js';
import { enrollViaQueue } from './enqueue.js';
import { ENROLL_QUEUE } from './jobs.js';
import { startEnrollWorker, type EnrollWorker } from './worker.js';

/*
 * The queue end to end in one process: a real redis-server started here, BullMQ, a real SQLite gallery, and a
 * stand-in engine (the model is not what is tested). Each test gets its own Redis database, so its own queue.
 */

const MAX_FILE_BYTES = 40_000;

if (REDIS_SERVER === undefined) {
  const why = 'no redis-server to test against: apt-get install -y redis-server (scripts/ensure-test-deps.sh does it as root)';
  if (process.env.CI) void it('has a redis-server to test against', () => assert.fail(why));
  else void it('enrollment queue', { skip: why }, () => {});
} else {
  let redis: TestRedis;
  let work: string;
  let redisDb = 0;
  before(async () => {
    redis = await startRedis();
    work = await tempDir('facedb-queue-');
  });
  after(async () => {
    await redis.stop();
  });

  /** A queue of its own (a Redis database number) for one test. */
  const freshQueue = (): QueueAddress => parseQueueUrl(`${redis.url}/${++redisDb}`);
  let galleries = 0;
  const freshService = (engine: QueueTestEngine): Promise<FaceService> =>
    openFacedb({ db: join(work, `gallery-${++galleries}.sqlite`), engine, maxFileBytes: MAX_FILE_BYTES });

  /** Photos of every kind a run meets: faces, a blank one, an undecodable one, one over the size limit. */
  const photoSet = async (): Promise<Array<{ person: string; path: string }>> => {
    const dir = join(work, `photos-${galleries}-${redisDb}`);
    await mkdir(dir, { recursive: true });
    const items: Array<{ person: string; path: string }> = [];
    for (const [person, folder, n] of [
      ['Bono', 'Bono', 3],
      ['Adam Sandler', 'Adam_Sandler', 2],
    ] as const) {
      for (let i = 1; i <= n; i++) {
        const path = join(dir, `${folder}_${i}.jpg`);
        await copyFile(lfwPhoto(folder, i), path);
        items.push({ person, path });
      }
    }
    const blank = join(dir, 'blank.jpg'); // the stand-in engine finds no face in a flat image
    await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 128, g: 128, b: 128 } } }).jpeg().toFile(blank);
    const notes = join(dir, 'notes.jpg');
    await writeFile(notes, 'not a photo\n');
    const huge = join(dir, 'huge.png');
    const random = seededRandom(7);
    const noise = Buffer.from(Array.from({ length: 200 * 200 * 3 }, () => Math.floor(random() * 256)));
    await sharp(noise, { raw: { width: 200, height: 200, channels: 3 } }).png().toFile(huge);
    items.push({ person: 'Bono', path: blank }, { person: 'Bono', path: notes }, { person: 'Bono', path: huge });
    return items;
  };

  const byPath = (summary: EnrollSummary): Map<string, Omit<EnrollOutcome, 'faceId'>> =>
    new Map(summary.outcomes.map(({ faceId: _, ...outcome }) => [outcome.path, outcome]));

  const facesIn = async (service: FaceService): Promise<Array<{ person: string; hash: string }>> => {
    const rows: Array<{ person: string; hash: string }> = [];
    const people = await service.listPeople({ limit: 1000, offset: 0 });
    for (const person of people.items) {
      const faces = await service.listFaces(person.id, { limit: 1000, offset: 0 });
      rows.push(...faces.items.map((face) => ({ person: person.name, hash: face.contentHash })));
    }
    return rows.sort((a, b) => (a.person + a.hash < b.person + b.hash ? -1 : 1));
  };

  const withWorker = async <T>(service: FaceService, address: QueueAddress, run: (worker: EnrollWorker) => Promise<T>): Promise<T> => {
    const worker = await startEnrollWorker(service, address, { concurrency: 2, stalledIntervalMs: 1000 });
    try {
      return await run(worker);
    } finally {
      await worker.close();
    }
  };

  void describe('enrollment through the queue', { timeout: 120_000 }, () => {
    void it('gives every photo the outcome a local enroll gives it, and the same gallery', async () => {
      const items = await photoSet();
      const local = await freshService(new QueueTestEngine());
      const expected = await local.enroll(items);

      const engine = new QueueTestEngine();
      const service = await freshService(engine);
      const address = freshQueue();
      const seen: number[] = [];
      const summary = await withWorker(service, address, () =>
        enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES, onOutcome: (_, done) => seen.push(done) }),
      );

      assert.deepEqual(byPath(summary), byPath(expected));
      assert.deepEqual(summary.counts, expected.counts);
      assert.deepEqual(summary.counts, { enrolled: 5, enrolled_one_of_several: 0, already_enrolled: 0, no_face: 1, unreadable: 2, invalid_name: 0, not_found: 0, failed: 0 });
      assert.equal(summary.total, items.length);
      assert.deepEqual(seen, Array.from({ length: items.length }, (_, i) => i + 1), 'progress counts every photo once');
      assert.match(byPath(summary).get(items.at(-1)!.path)!.message!, /over the limit of 40000/);
      assert.deepEqual(await facesIn(service), await facesIn(local));
      // The photo over the limit never reached the worker; the undecodable one did, and was not retried.
      assert.equal(engine.calls, 6, 'the model ran once per decodable photo');
      await Promise.all([local.close(), service.close()]);
    });

    void it('reports photos already enrolled on a re-run without running the model again', async () => {
      const items = await photoSet();
      const engine = new QueueTestEngine();
      const service = await freshService(engine);
      const address = freshQueue();
      await withWorker(service, address, async () => {
        await enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES });
        const calls = engine.calls;
        const again = await enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES });
        assert.deepEqual(again.counts, { enrolled: 0, enrolled_one_of_several: 0, already_enrolled: 5, no_face: 1, unreadable: 2, invalid_name: 0, not_found: 0, failed: 0 });
        assert.equal(engine.calls - calls, 1, 'only the faceless photo went through the model again');
      });
      assert.equal((await facesIn(service)).length, 5);
      await service.close();
    });

    void it('queues a photo listed twice, or by two enqueuers at once, as one job', async () => {
      const items = (await photoSet()).slice(0, 5);
      const copy = { person: items[0]!.person, path: `${items[0]!.path}.copy.jpg` };
      await copyFile(items[0]!.path, copy.path);
      const engine = new QueueTestEngine();
      const service = await freshService(engine);
      const address = freshQueue();
      const [first, second] = await withWorker(service, address, () =>
        Promise.all([
          enrollViaQueue(address, [...items, copy], { maxFileBytes: MAX_FILE_BYTES }),
          enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES }),
        ]),
      );
      assert.equal(first.outcomes.length, 6);
      assert.equal(second.outcomes.length, 5);
      const taken = (s: EnrollSummary) => s.counts.enrolled + s.counts.already_enrolled;
      assert.equal(taken(first), 6);
      assert.equal(taken(second), 5);
      assert.equal(byPath(first).get(copy.path)?.status, 'already_enrolled');
      assert.equal((await facesIn(service)).length, 5, 'each photo enrolled once');
      assert.ok(engine.calls <= 6, `the model ran ${engine.calls} times for 5 photos`);
      await service.close();
    });

    void it('retries transient failures a bounded number of times and reports the ones that never pass', async () => {
      const [photo, other] = await photoSet();
      const engine = new QueueTestEngine();
      const service = await freshService(engine);
      const address = freshQueue();
      const options = { maxFileBytes: MAX_FILE_BYTES, attempts: 3, retryDelayMs: 20 };
      await withWorker(service, address, async () => {
        engine.failNext = [new FacedbError('overloaded', 'busy'), new Error('connection reset')];
        const recovered = await enrollViaQueue(address, [photo!], options);
        assert.equal(recovered.outcomes[0]?.status, 'enrolled');
        assert.equal(engine.calls, 3, 'two failures, then success');

        engine.failNext = [1, 2, 3, 4].map((i) => new Error(`database unreachable (${i})`));
        const lost = await enrollViaQueue(address, [other!], options);
        assert.deepEqual(lost.outcomes, [{ ...other, status: 'failed', facesFound: 0, message: 'database unreachable (3)' }]);
        assert.equal(engine.calls, 6, 'three tries, no more');
        assert.equal(engine.failNext.length, 1);

        engine.failNext = [new FacedbError('not_found', 'no person #12: removed meanwhile')];
        const permanent = await enrollViaQueue(address, [other!], options);
        assert.deepEqual(permanent.outcomes, [{ ...other, status: 'failed', facesFound: 0, message: 'no person #12: removed meanwhile' }]);
        assert.equal(engine.calls, 7, 'a permanent failure is not retried');
      });
      await service.close();
    });

    void it('leaves queued photos to the workers when the enqueuer is interrupted; a re-run finds them enrolled', async () => {
      const items = (await photoSet()).slice(0, 5);
      const address = freshQueue();
      const queue = new Queue(ENROLL_QUEUE, { connection: address.connection });
      const controller = new AbortController();
      const notices: string[] = [];
      const run = enrollViaQueue(address, items, {
        maxFileBytes: MAX_FILE_BYTES,
        signal: controller.signal,
        onNotice: (notice) => notices.push(notice),
      });
      // No worker yet: the photos wait in the queue. Interrupt once all five are there.
      while (((await queue.getJobCounts('wait')).wait ?? 0) < items.length) await new Promise((resolve) => setTimeout(resolve, 20));
      controller.abort();
      const interrupted = await run;
      assert.equal(interrupted.outcomes.length, 0);
      assert.equal(interrupted.total, 5);
      assert.match(notices.join('\n'), /no worker is connected/);

      const service = await freshService(new QueueTestEngine());
      await withWorker(service, address, async () => {
        const unfinished = async (): Promise<number> => {
          const counts = await queue.getJobCounts('wait', 'active');
          return (counts.wait ?? 0) + (counts.active ?? 0);
        };
        while ((await unfinished()) > 0) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const rerun = await enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES });
        assert.equal(rerun.counts.already_enrolled, 5);
      });
      assert.equal((await facesIn(service)).length, 5);
      await queue.close();
      await service.close();
    });

    void it('queues a photo again when its job vanished without a completion event reaching the enqueuer', async () => {
      const items = (await photoSet()).slice(0, 2);
      const address = freshQueue();
      const queue = new Queue(ENROLL_QUEUE, { connection: address.connection });
      const run = enrollViaQueue(address, items, { maxFileBytes: MAX_FILE_BYTES, recheckAfterMs: 100 });
      const waiting = async (): Promise<string[]> => (await queue.getJobs(['wait'])).map((job) => job.id!);
      while ((await waiting()).length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
      const [lost] = await waiting();
      await queue.remove(lost!); // as if it had finished and its event had been trimmed unseen
      while (!(await waiting()).includes(lost!)) await new Promise((resolve) => setTimeout(resolve, 20));

      const service = await freshService(new QueueTestEngine());
      const summary = await withWorker(service, address, () => run);
      assert.equal(summary.counts.enrolled, 2);
      assert.equal((await facesIn(service)).length, 2);
      await queue.close();
      await service.close();
    });

    void it('finishes the photo in flight when the worker is closed (SIGTERM)', async () => {
      const [photo] = await photoSet();
      const engine = new QueueTestEngine();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started: () => void = () => {};
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const analyze = engine.analyze.bind(engine);
      engine.analyze = async (...args) => {
        started();
        await gate;
        return analyze(...args);
      };
      const service = await freshService(engine);
      const address = freshQueue();
      const worker = await startEnrollWorker(service, address, { concurrency: 1 });
      const run = enrollViaQueue(address, [photo!], { maxFileBytes: MAX_FILE_BYTES });
      await running;
      const closing = worker.close();
      release();
      await closing;
      assert.equal((await facesIn(service)).length, 1, 'the photo in flight was committed before the worker stopped');
      assert.equal((await run).outcomes[0]?.status, 'enrolled');
      await service.close();
    });
  });
}
