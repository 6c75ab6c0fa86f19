/** Test-only worker for pool.test.ts: echoes, fails, sleeps or dies on demand. */
import { FacedbError } from '../errors/errors.js';
import { serveJobs } from './pool.js';

export type FixtureJob =
  | { kind: 'echo'; value: string }
  | { kind: 'bytes'; data: Uint8Array }
  | { kind: 'fail' }
  | { kind: 'sleep'; ms: number }
  | { kind: 'crash' };

serveJobs<FixtureJob, string | number>(() =>
  Promise.resolve(async (job: FixtureJob) => {
    switch (job.kind) {
      case 'echo':
        return { result: job.value };
      case 'bytes':
        return { result: job.data.length };
      case 'fail':
        throw new FacedbError('invalid_input', 'fixture failure', { details: { why: 'asked to' } });
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, job.ms));
        return { result: job.ms };
      case 'crash':
        process.exit(3);
    }
  }),
);
