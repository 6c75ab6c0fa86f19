import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FacedbError } from '../errors/errors.js';
import type { FixtureJob } from '../../test/pool-fixture-worker.js';
import { WorkerPool } from './pool.js';

const fixtureUrl = new URL('../../test/pool-fixture-worker.ts', import.meta.url);

void describe('WorkerPool', () => {
  let pool: WorkerPool<FixtureJob, string | number>;
  before(async () => {
    pool = await WorkerPool.start({ workerUrl: fixtureUrl, size: 2 });
  });
  after(() => pool.close());

  void it('starts a TypeScript worker under tsx', () => {
    assert.equal(fixtureUrl.pathname.endsWith('.ts'), true);
    assert.equal(pool.size, 2);
  });

  void it('runs jobs and returns their results', async () => {
    assert.equal(await pool.run({ kind: 'echo', value: 'hello' }), 'hello');
  });

  void it('moves transferred buffers instead of copying them', async () => {
    const data = new Uint8Array(1024);
    assert.equal(await pool.run({ kind: 'bytes', data }, [data.buffer]), 1024);
    assert.equal(data.length, 0, 'the buffer is detached here');
  });

  void it('queues jobs beyond the worker count and runs them two at a time', async () => {
    const started = Date.now();
    const jobs = [300, 300, 300, 300].map((ms) => pool.run({ kind: 'sleep', ms }));
    assert.equal(pool.queueDepth, 2);
    assert.deepEqual(await Promise.all(jobs), [300, 300, 300, 300]);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 550 && elapsed < 1100, `two workers take ~600 ms, took ${elapsed}`);
    assert.equal(pool.queueDepth, 0);
  });

  void it('turns an error thrown in the worker into the same typed FacedbError', async () => {
    await assert.rejects(pool.run({ kind: 'fail' }), (error: unknown) => {
      assert.ok(error instanceof FacedbError);
      assert.equal(error.code, 'invalid_input');
      assert.deepEqual(error.details, { why: 'asked to' });
      return true;
    });
  });

  void it('fails the job of a crashed worker with an internal error and replaces the worker', async () => {
    await assert.rejects(pool.run({ kind: 'crash' }), (error: unknown) => error instanceof FacedbError && error.code === 'internal');
    const results = await Promise.all([pool.run({ kind: 'sleep', ms: 50 }), pool.run({ kind: 'sleep', ms: 50 })]);
    assert.deepEqual(results, [50, 50]);
    assert.equal(pool.size, 2);
  });
});

void describe('WorkerPool.close', () => {
  void it('fails pending jobs, ends every worker and refuses new jobs', async () => {
    const pool = await WorkerPool.start<FixtureJob, string | number>({ workerUrl: fixtureUrl, size: 1 });
    const running = assert.rejects(pool.run({ kind: 'sleep', ms: 5_000 }), FacedbError);
    const queued = assert.rejects(pool.run({ kind: 'echo', value: 'never' }), FacedbError);
    await pool.close();
    await running;
    await queued;
    assert.equal(pool.size, 0);
    await assert.rejects(pool.run({ kind: 'echo', value: 'late' }), FacedbError);
    const workers = process.getActiveResourcesInfo().filter((name) => name === 'Worker');
    assert.deepEqual(workers, []);
  });

  void it('reports a worker that cannot start', async () => {
    await assert.rejects(WorkerPool.start({ workerUrl: new URL('./no-such-worker.js', import.meta.url), size: 1 }), FacedbError);
  });
});
