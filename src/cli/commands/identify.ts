import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import { annotateImage } from '../../image/annotate.js';
import { readImageFile, type ImageLimits } from '../../image/decode.js';
import { listImageArgs } from '../../image/scan.js';
import type { FaceAttribute } from '../../core/types.js';
import type { IdentifyResult } from '../../services/results.js';
import { integerOption, withAttributeOption, withFaceLimits, withOperatingPoint, withoutDetection, type CliContext } from '../context.js';
import { FLAT_FOLDER, PhotoBatch, reportSkipped } from '../batch.js';
import { formatIdentify } from '../report.js';

interface IdentifyFlags {
  json?: boolean;
  annotate?: string;
  topK?: number;
  threshold?: number;
  far?: number;
  maxFaces?: number;
  minFaceSize?: number;
  detect: boolean;
  attributes?: FaceAttribute[];
}

export function identifyCommand(ctx: CliContext): Command {
  const command = new Command('identify')
    .description('find every face in each photo and say who it is (or unknown), with emotion, age and gender (see --attributes)')
    .argument('<images...>', 'image files or folders of images')
    .option('--json', 'one JSON object per image (JSON lines)')
    .option('--annotate <path>', 'write the photo with boxes, names and emotions (a folder when several images)')
    .option('-k, --top-k <n>', 'candidates per face', integerOption('--top-k'));
  return withAttributeOption(withoutDetection(withFaceLimits(withOperatingPoint(command)))).action(async (args: string[], flags: IdentifyFlags) => {
      const { images: files, skipped } = await listImageArgs(args);
      reportSkipped(skipped, FLAT_FOLDER);
      const service = await ctx.open('existing', { topK: flags.topK, threshold: flags.threshold, targetFar: flags.far });
      try {
        // The gallery's model and the operating point are checked once, before any photo (and before the models load).
        const engine = await service.engine();
        service.threshold(engine, flags, 'identify');
        if (flags.annotate && files.length > 1) await mkdir(flags.annotate, { recursive: true });
        const batch = new PhotoBatch(files.length, flags.json);
        for (const file of files) {
          try {
            const result = await service.identify({ path: file }, flags);
            if (flags.annotate) await writeAnnotation(file, result, annotationPath(flags.annotate, file, files.length), service.config);
            const known = result.faces.filter((face) => face.match !== null).length;
            batch.analysed(flags.json ? JSON.stringify({ file, ...result }) : `${formatIdentify(file, result)}\n`, result.faces.length, known);
          } catch (error) {
            batch.failedWith(file, error);
          }
        }
        batch.finish();
      } finally {
        await service.close();
      }
    });
}

function annotationPath(target: string, file: string, count: number): string {
  if (count === 1) return target;
  return join(target, `${basename(file, extname(file))}.annotated.jpg`);
}

async function writeAnnotation(file: string, result: IdentifyResult, out: string, limits: ImageLimits): Promise<void> {
  // Decoded again (EXIF-oriented) so the boxes land where the engine saw the faces.
  const { image } = await readImageFile(file, limits);
  const jpeg = await annotateImage(
    image,
    result.faces.map((face) => ({
      box: face.box,
      label: face.match ? face.match.person : 'unknown',
      ...(face.emotion ? { sublabel: `${face.emotion.dominant} ${Math.round(face.emotion.scores[face.emotion.dominant])}%` } : {}),
      known: face.match !== null,
    })),
  );
  await writeFile(out, jpeg);
}
