import { Command } from 'commander';
import { toFacedbError } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { expandImageArgs } from '../../image/scan.js';
import { print, withFaceLimits, withoutDetection, type CliContext } from '../context.js';
import { formatAnalyze, formatFileError } from '../report.js';

export function analyzeCommand(ctx: CliContext): Command {
  const command = new Command('analyze')
    .description('emotion, age and gender of every face; no gallery needed')
    .argument('<images...>', 'image files or folders of images')
    .option('--json', 'one JSON object per image (JSON lines)');
  return withoutDetection(withFaceLimits(command, 'max-faces')).action(async (args: string[], flags: { json?: boolean; maxFaces?: number; detect: boolean }) => {
      const files = await expandImageArgs(args);
      const service = await ctx.open();
      try {
        for (const file of files) {
          try {
            const result = await service.analyze({ path: file }, flags);
            print(flags.json ? JSON.stringify({ file, ...result }) : `${formatAnalyze(file, result)}\n`);
          } catch (error) {
            const failure = toFacedbError(error);
            process.exitCode = exitCodeFor(failure.code);
            const report = { file, error: { code: failure.code, message: failure.message } };
            print(flags.json ? JSON.stringify(report) : formatFileError(file, failure));
          }
        }
      } finally {
        await service.close();
      }
    });
}
