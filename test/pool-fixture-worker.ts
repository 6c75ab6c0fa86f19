/** Test-only worker for src/engine/pool.test.ts (outside src, so never in dist): echoes, fails, sleeps or dies on demand. */
import { FacedbError } from '../src/errors/errors.js';
import { serveJobs } from '../src/engine/pool.js';

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
