import { Command } from 'commander';
import { toFacedbError } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { expandImageArgs } from '../../image/scan.js';
import { print, withoutDetection, type CliContext } from '../context.js';

export function representCommand(ctx: CliContext): Command {
  const command = new Command('represent')
    .description('embeddings of every face, as JSON lines (one line per image, streamed)')
    .argument('<images...>', 'image files or folders of images');
  return withoutDetection(command).action(async (args: string[], flags: { detect: boolean }) => {
      const files = await expandImageArgs(args);
      const service = await ctx.open();
      try {
        // Analyse ahead while earlier lines are printed, so every worker stays busy, yet print in input order.
        const lookahead = 2 * (service.config.workers ?? 2);
        const pending = new Map<number, Promise<string>>();
        const startLine = (i: number): void => {
          const file = files[i];
          if (file === undefined) return;
          pending.set(
            i,
            service.represent({ path: file }, { detect: flags.detect }).then(
              (result) => JSON.stringify({ file, ...result }),
              (error: unknown) => {
                const failure = toFacedbError(error);
                process.exitCode = exitCodeFor(failure.code);
                return JSON.stringify({ file, error: { code: failure.code, message: failure.message } });
              },
            ),
          );
        };
        for (let i = 0; i < Math.min(lookahead, files.length); i++) startLine(i);
        for (let i = 0; i < files.length; i++) {
          const line = await pending.get(i);
          pending.delete(i);
          startLine(i + lookahead);
          if (line !== undefined) print(line);
        }
      } finally {
        await service.close();
      }
    });
}
