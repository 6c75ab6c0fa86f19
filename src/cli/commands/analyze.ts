import { Command } from 'commander';
import { listImageArgs } from '../../image/scan.js';
import { FLAT_FOLDER, PhotoBatch, reportSkipped } from '../batch.js';
import type { FaceAttribute } from '../../core/types.js';
import { withAttributeOption, withFaceLimits, withoutDetection, type CliContext } from '../context.js';
import { formatAnalyze } from '../report.js';

export function analyzeCommand(ctx: CliContext): Command {
  const command = new Command('analyze')
    .description('emotion, age and gender of every face; no gallery needed')
    .argument('<images...>', 'image files or folders of images')
    .option('--json', 'one JSON object per image (JSON lines)');
  return withAttributeOption(withoutDetection(withFaceLimits(command, 'max-faces'))).action(
    async (args: string[], flags: { json?: boolean; maxFaces?: number; detect: boolean; attributes?: FaceAttribute[] }) => {
      const { images: files, skipped } = await listImageArgs(args);
      reportSkipped(skipped, FLAT_FOLDER);
      const service = await ctx.open('none');
      try {
        await service.engine(); // another model is refused once, not once per photo
        const batch = new PhotoBatch(files.length, flags.json);
        for (const file of files) {
          try {
            const result = await service.analyze({ path: file }, flags);
            batch.analysed(flags.json ? JSON.stringify({ file, ...result }) : `${formatAnalyze(file, result)}\n`, result.faces.length);
          } catch (error) {
            batch.failedWith(file, error);
          }
        }
        batch.finish();
      } finally {
        await service.close();
      }
    },
  );
}
