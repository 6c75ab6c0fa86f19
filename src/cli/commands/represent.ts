import { Command } from 'commander';
import { listImageArgs } from '../../image/scan.js';
import type { RepresentResult } from '../../services/results.js';
import { FLAT_FOLDER, PhotoBatch, reportSkipped } from '../batch.js';
import { withoutDetection, type CliContext } from '../context.js';

export function representCommand(ctx: CliContext): Command {
  const command = new Command('represent')
    .description('embeddings of every face, as JSON lines (one line per image, streamed); no gallery needed')
    .argument('<images...>', 'image files or folders of images');
  return withoutDetection(command).action(async (args: string[], flags: { detect: boolean }) => {
      const { images: files, skipped } = await listImageArgs(args);
      reportSkipped(skipped, FLAT_FOLDER);
      const service = await ctx.open('none');
      try {
        await service.engine(); // another model is refused once, not once per photo
        const batch = new PhotoBatch(files.length, true);
        // Analyse ahead while earlier lines are printed, so every worker stays busy, yet print in input order.
        const lookahead = 2 * (service.config.workers ?? 2);
        const pending = new Map<number, Promise<RepresentResult | { error: unknown }>>();
        const startLine = (i: number): void => {
          const file = files[i];
          if (file === undefined) return;
          pending.set(i, service.represent({ path: file }, { detect: flags.detect }).catch((error: unknown) => ({ error })));
        };
        for (let i = 0; i < Math.min(lookahead, files.length); i++) startLine(i);
        for (const [i, file] of files.entries()) {
          const result = await pending.get(i);
          pending.delete(i);
          startLine(i + lookahead);
          if (result === undefined) continue;
          if ('error' in result) batch.failedWith(file, result.error);
          else batch.analysed(JSON.stringify({ file, ...result }), result.faces.length);
        }
        batch.finish();
      } finally {
        await service.close();
      }
    });
}
