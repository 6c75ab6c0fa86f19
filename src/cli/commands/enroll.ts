import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { normalizePersonName } from '../../core/names.js';
import { FacedbError } from '../../errors/errors.js';
import { EXIT_INTERRUPTED } from '../../errors/exit-codes.js';
import { listImageArgs, listLfwLayout, type SkippedEntries } from '../../image/scan.js';
import { parseQueueUrl } from '../../queue/connection.js';
import type { EnrollItem, EnrollOptions } from '../../services/face-service.js';
import type { EnrollSummary } from '../../services/results.js';
import { enrollExitCode, FLAT_FOLDER, reportSkipped } from '../batch.js';
import { print, type CliContext } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { ProgressLine } from '../progress.js';
import { formatEnrollSummary, formatOutcome } from '../report.js';
import { enrollUnlabelled } from './cluster.js';

interface EnrollFlags {
  person?: string;
  unlabelled?: boolean;
  json?: boolean;
  quiet?: boolean;
  queue?: string;
}

export function enrollCommand(ctx: CliContext): Command {
  return new Command('enroll')
    .description(
      'enroll photos: a folder in LFW layout (<dir>/<Person_Name>/<image>), or images of one person with --person',
    )
    .argument('<paths...>', 'LFW-layout folder(s), or image files / folders of images with --person')
    .option('-p, --person <name>', 'enroll the given images as this person')
    .option('--unlabelled', 'enroll every face of the photos (folders at any depth) without a person, then cluster them')
    .option('--json', 'print the summary and every outcome as JSON')
    .option('-q, --quiet', 'print only problems and the summary')
    .option('--queue <redis-url>', 'queue one job per photo on this Redis for `facedb worker` processes to enroll')
    .action(async (paths: string[], flags: EnrollFlags) => {
      if (flags.unlabelled) {
        if (flags.person !== undefined) throw new FacedbError('invalid_input', 'give --person or --unlabelled, not both');
        return enrollUnlabelled(ctx, paths, flags);
      }
      const address = flags.queue === undefined ? undefined : parseQueueUrl(flags.queue);
      const { images: items, skipped } = await enrollItems(paths, flags.person);
      reportSkipped(skipped, flags.person === undefined ? LFW_LAYOUT : FLAT_FOLDER);
      const progress = new ProgressLine(items.length);
      // Through the queue the workers own the gallery: this process only reads photos and reports.
      let run: (options: EnrollOptions) => Promise<EnrollSummary>;
      let close = (): Promise<void> => Promise.resolve();
      if (address) {
        const { maxFileBytes } = ctx.config();
        const onNotice = (notice: string): void => progress.log(notice, process.stderr);
        // Loaded only here: BullMQ and Redis cost every other command's start-up time.
        const { enrollViaQueue } = await import('../../queue/enqueue.js');
        run = (options) => enrollViaQueue(address, items, { ...options, maxFileBytes, onNotice });
      } else {
        const service = await ctx.open('create');
        run = (options) => service.enroll(items, options);
        close = () => service.close();
      }
      const interrupt = onInterrupt(
        !address ? 'finishing photos in flight (Ctrl-C again to quit now)' : 'photos already queued will still be enrolled by the workers',
      );
      try {
        const summary = await run({
          signal: interrupt.signal,
          onOutcome: (outcome, done) => {
            const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
            if (!flags.json && !(flags.quiet && routine)) progress.log(formatOutcome(outcome));
            progress.update(done);
          },
        });
        progress.finish(summary.outcomes.length);
        print(flags.json ? JSON.stringify(summary) : formatEnrollSummary(summary));
        process.exitCode = interrupt.signal.aborted ? EXIT_INTERRUPTED : enrollExitCode(summary.outcomes);
      } finally {
        interrupt.release();
        await close();
      }
    });
}

/** What `enroll <dir>` reads, for the line about what it skipped. */
const LFW_LAYOUT = 'enroll <dir> reads <dir>/<Person_Name>/<photo>; give --person <name> for photos of one person';

async function enrollItems(paths: string[], person: string | undefined): Promise<{ images: EnrollItem[]; skipped: SkippedEntries }> {
  if (person !== undefined) {
    // The name rules, checked before any photo is read: every photo would be refused alike.
    const name = normalizePersonName(person);
    const { images, skipped } = await listImageArgs(paths);
    return { images: images.map((path) => ({ person: name, path })), skipped };
  }
  const images: EnrollItem[] = [];
  const skipped: SkippedEntries = { notImages: [], outsideLayout: [] };
  for (const root of paths) {
    const info = await stat(root).catch(() => null);
    if (info?.isFile()) {
      throw new FacedbError('invalid_input', `${root} is a file: give --person <name> to enroll single images`);
    }
    const listing = await listLfwLayout(root);
    images.push(...listing.images);
    skipped.notImages.push(...listing.skipped.notImages);
    skipped.outsideLayout.push(...listing.skipped.outsideLayout);
  }
  return { images, skipped };
}
