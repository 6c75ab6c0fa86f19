import { mkdir, writeFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Command } from 'commander';
import { toFacedbError, type FacedbError } from '../../errors/errors.js';
import { exitCodeFor } from '../../errors/exit-codes.js';
import { annotateImage } from '../../image/annotate.js';
import { readImageFile, type ImageLimits } from '../../image/decode.js';
import { expandImageArgs } from '../../image/scan.js';
import type { IdentifyResult } from '../../services/results.js';
import { integerOption, print, withFaceLimits, withOperatingPoint, withoutDetection, type CliContext } from '../context.js';
import { formatFileError, formatIdentify } from '../report.js';

interface IdentifyFlags {
  json?: boolean;
  annotate?: string;
  topK?: number;
  threshold?: number;
  far?: number;
  maxFaces?: number;
  minFaceSize?: number;
  detect: boolean;
}

export function identifyCommand(ctx: CliContext): Command {
  const command = new Command('identify')
    .description('find every face in each photo and say who it is (or unknown), with emotion, age and gender')
    .argument('<images...>', 'image files or folders of images')
    .option('--json', 'one JSON object per image (JSON lines)')
    .option('--annotate <path>', 'write the photo with boxes, names and emotions (a folder when several images)')
    .option('-k, --top-k <n>', 'candidates per face', integerOption('--top-k'));
  return withoutDetection(withFaceLimits(withOperatingPoint(command))).action(async (args: string[], flags: IdentifyFlags) => {
      const files = await expandImageArgs(args);
      const service = await ctx.open({ topK: flags.topK, threshold: flags.threshold, targetFar: flags.far });
      const failures: FacedbError[] = [];
      let imagesWithFaces = 0;
      try {
        if (flags.annotate && files.length > 1) await mkdir(flags.annotate, { recursive: true });
        for (const file of files) {
          try {
            const result = await service.identify({ path: file }, flags);
            if (result.faces.length > 0) imagesWithFaces += 1;
            print(flags.json ? JSON.stringify({ file, ...result }) : `${formatIdentify(file, result)}\n`);
            if (flags.annotate) {
              const out = annotationPath(flags.annotate, file, files.length);
              await writeAnnotation(file, result, out, service.config);
            }
          } catch (error) {
            const failure = toFacedbError(error);
            failures.push(failure);
            const report = { file, error: { code: failure.code, message: failure.message } };
            print(flags.json ? JSON.stringify(report) : formatFileError(file, failure));
          }
        }
      } finally {
        await service.close();
      }
      process.exitCode = identifyExitCode(failures, imagesWithFaces, files.length);
    });
}

/** Unreadable input wins; "no face" only when no photo had any face; otherwise success. */
function identifyExitCode(failures: FacedbError[], imagesWithFaces: number, total: number): number {
  const first = failures[0];
  if (first) return exitCodeFor(first.code);
  return imagesWithFaces === 0 && total > 0 ? exitCodeFor('no_face') : 0;
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
      sublabel: `${face.emotion.dominant} ${Math.round(face.emotion.scores[face.emotion.dominant])}%`,
      known: face.match !== null,
    })),
  );
  await writeFile(out, jpeg);
}
