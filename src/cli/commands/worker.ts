import { Command } from 'commander';
import { FacedbError } from '../../errors/errors.js';
import { EXIT_INTERRUPTED } from '../../errors/exit-codes.js';
import { parseQueueUrl } from '../../queue/connection.js';
import { integerOption, type CliContext } from '../context.js';
import { formatOutcome } from '../report.js';

interface WorkerFlags {
  queue: string;
  concurrency?: number;
  name?: string;
  lockDuration?: number;
  stalledInterval?: number;
  quiet?: boolean;
}

/**
 * `facedb worker`: enrolls photos queued by `facedb enroll --queue` into this machine's view of the gallery
 * (--db), until SIGTERM or Ctrl-C, which let the photos in flight finish first.
 */
export function workerCommand(ctx: CliContext): Command {
  return new Command('worker')
    .description('enroll photos queued by `facedb enroll --queue` into the gallery (--db); run one per machine')
    .requiredOption('--queue <redis-url>', 'the Redis the photos are queued on: redis://host:port[/db]')
    .option('--concurrency <n>', 'photos at once (default: two per inference thread)', integerOption('--concurrency'))
    .option('--name <name>', 'this worker, as recorded on the jobs it runs')
    .option('--lock-duration <ms>', 'how long a dead worker keeps its photos before others take them (default 30000)', integerOption('--lock-duration'))
    .option('--stalled-interval <ms>', 'how often to look for photos of dead workers (default 30000)', integerOption('--stalled-interval'))
    .option('-q, --quiet', 'print only problems')
    .action(async (flags: WorkerFlags) => {
      const address = parseQueueUrl(flags.queue);
      for (const [flag, value] of [
        ['--concurrency', flags.concurrency],
        ['--lock-duration', flags.lockDuration],
        ['--stalled-interval', flags.stalledInterval],
      ] as const) {
        if (value !== undefined && value < 1) throw new FacedbError('invalid_input', `${flag} must be at least 1`);
      }
      const service = await ctx.open('create');
      let stopping = false;
      let stopped: () => void = () => {};
      const stop = new Promise<void>((resolve) => {
        stopped = resolve;
      });
      const onSignal = (): void => {
        if (stopping) process.exit(EXIT_INTERRUPTED);
        stopping = true;
        process.stderr.write('facedb worker: stopping after the photos in flight (again to quit now)\n');
        stopped();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const { startEnrollWorker } = await import('../../queue/worker.js');
        const worker = await startEnrollWorker(service, address, {
          ...(flags.concurrency === undefined ? {} : { concurrency: flags.concurrency }),
          ...(flags.name === undefined ? {} : { name: flags.name }),
          ...(flags.lockDuration === undefined ? {} : { lockDurationMs: flags.lockDuration }),
          ...(flags.stalledInterval === undefined ? {} : { stalledIntervalMs: flags.stalledInterval }),
          onOutcome: (outcome) => {
            const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
            if (!(flags.quiet && routine)) process.stdout.write(`${formatOutcome(outcome)}\n`);
          },
          onProblem: (message) => process.stderr.write(`facedb worker: ${message}\n`),
        });
        process.stderr.write(`facedb worker: waiting for photos on ${address.display}\n`);
        await stop;
        await worker.close();
        process.stderr.write('facedb worker: stopped\n');
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await service.close();
      }
    });
}
