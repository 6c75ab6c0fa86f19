import { Command } from 'commander';
import type { FaceAttribute } from '../../core/types.js';
import { print, withAttributeOption, withOperatingPoint, withoutDetection, type CliContext } from '../context.js';
import { formatVerify } from '../report.js';

export function verifyCommand(ctx: CliContext): Command {
  const command = new Command('verify')
    .description('say whether the subjects of two photos (the face at the centre, else the largest) are the same person; no gallery needed')
    .argument('<a>', 'first image')
    .argument('<b>', 'second image')
    .option('--json', 'print the result as JSON');
  return withAttributeOption(withoutDetection(withOperatingPoint(command))).action(
    async (a: string, b: string, flags: { json?: boolean; threshold?: number; far?: number; detect: boolean; attributes?: FaceAttribute[] }) => {
      const service = await ctx.open('none', { threshold: flags.threshold, targetFar: flags.far });
      try {
        const result = await service.verify({ path: a }, { path: b }, { detect: flags.detect, ...(flags.attributes ? { attributes: flags.attributes } : {}) });
        print(flags.json ? JSON.stringify({ a, b, ...result }) : formatVerify(a, b, result));
      } finally {
        await service.close();
      }
    },
  );
}
