import { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK } from '../../errors/exit-codes.js';
import { openFacedb } from '../../facedb.js';
import { ENGINE_NAMES } from '../../engine/registry.js';
import { print, type CliContext } from '../context.js';
import { onInterrupt } from '../interrupt.js';
import { ProgressLine } from '../progress.js';
import { formatReembedOutcome, formatReembedSummary } from '../report.js';

interface ReembedFlags {
  to: string;
  engine?: string;
  modelPack?: string;
  json?: boolean;
  quiet?: boolean;
}

export function reembedCommand(ctx: CliContext): Command {
  return new Command('reembed')
    .description(
      'move the gallery (--db) to another model: embed every face again into a NEW gallery, from the enrolled photos; the old gallery is only read',
    )
    .requiredOption('--to <file|url>', 'the new gallery (a SQLite file or a postgres:// URL); run again to resume')
    .option('--engine <name>', `engine of the new gallery (${ENGINE_NAMES.join(', ')}); default: the default engine`)
    .option('--model-pack <dir>', 'embed the new gallery with the model pack in this folder')
    .option('--json', 'print the summary and every outcome as JSON')
    .option('-q, --quiet', 'print only faces that could not be moved, and the summary')
    .action(async (flags: ReembedFlags) => {
      const globals = ctx.globals();
      const source = await ctx.open('existing');
      let target;
      try {
        target = await openFacedb(loadConfig({ db: flags.to, workers: globals.workers, engine: flags.engine ?? globals.engine, modelPack: flags.modelPack }));
      } catch (error) {
        await source.close();
        throw error;
      }
      const interrupt = onInterrupt('finishing faces in flight (Ctrl-C again to quit now); run again to resume');
      let progress: ProgressLine | undefined;
      try {
        const summary = await source.reembed(target, {
          signal: interrupt.signal,
          onOutcome: (outcome, done, total) => {
            progress ??= new ProgressLine(total, process.stderr, 'faces');
            const routine = outcome.status === 'moved' || outcome.status === 'already_moved';
            if (!flags.json && !(flags.quiet && routine)) progress.log(formatReembedOutcome(outcome));
            progress.update(done);
          },
        });
        progress?.finish(summary.outcomes.length);
        print(flags.json ? JSON.stringify(summary) : formatReembedSummary(summary, flags.to));
        const complete = summary.counts.moved + summary.counts.already_moved === summary.total;
        process.exitCode = interrupt.signal.aborted ? EXIT_INTERRUPTED : complete ? EXIT_OK : EXIT_INCOMPLETE;
      } finally {
        interrupt.release();
        await Promise.all([source.close(), target.close()]);
      }
    });
}
