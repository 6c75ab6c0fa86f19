import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { normalizePersonName } from '../../core/names.js';
import { FacedbError } from '../../errors/errors.js';
import { expandImageArgs, scanLfwLayout } from '../../image/scan.js';
import type { EnrollItem } from '../../services/face-service.js';
import { print, type CliContext } from '../context.js';
import { ProgressLine } from '../progress.js';
import { formatEnrollSummary, formatOutcome } from '../report.js';
import { enrollUnlabelled } from './cluster.js';

interface EnrollFlags {
  person?: string;
  unlabelled?: boolean;
  json?: boolean;
  quiet?: boolean;
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
    .action(async (paths: string[], flags: EnrollFlags) => {
      if (flags.unlabelled) {
        if (flags.person !== undefined) throw new FacedbError('invalid_input', 'give --person or --unlabelled, not both');
        return enrollUnlabelled(ctx, paths, flags);
      }
      const items = await enrollItems(paths, flags.person);
      const service = await ctx.open();
      const controller = new AbortController();
      const interrupt = (): void => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupted: finishing photos in flight (Ctrl-C again to quit now)\n');
        controller.abort();
      };
      process.on('SIGINT', interrupt);
      process.on('SIGTERM', interrupt);
      const progress = new ProgressLine(items.length);
      try {
        const summary = await service.enroll(items, {
          signal: controller.signal,
          onOutcome: (outcome, done) => {
            const routine = outcome.status === 'enrolled' || outcome.status === 'already_enrolled';
            if (!flags.json && !(flags.quiet && routine)) progress.log(formatOutcome(outcome));
            progress.update(done);
          },
        });
        progress.finish(summary.outcomes.length);
        print(flags.json ? JSON.stringify(summary) : formatEnrollSummary(summary));
        if (controller.signal.aborted) process.exitCode = 130;
      } finally {
        process.off('SIGINT', interrupt);
        process.off('SIGTERM', interrupt);
        await service.close();
      }
    });
}

async function enrollItems(paths: string[], person: string | undefined): Promise<EnrollItem[]> {
  if (person !== undefined) {
    // The name rules, checked before any photo is read: every photo would be refused alike.
    const name = normalizePersonName(person);
    return (await expandImageArgs(paths)).map((path) => ({ person: name, path }));
  }
  const items: EnrollItem[] = [];
  for (const root of paths) {
    const info = await stat(root).catch(() => null);
    if (info?.isFile()) {
      throw new FacedbError('invalid_input', `${root} is a file: give --person <name> to enroll single images`);
    }
    items.push(...(await scanLfwLayout(root)));
  }
  return items;
}
