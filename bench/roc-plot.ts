/**
 * Redraws bench/out/roc.svg (and roc.png for a quick look) from the calibration table, without re-running
 * the models: `node --import tsx bench/roc-plot.ts [<model id>@<version>]`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import type { ModelCalibration } from '../src/core/confidence.js';
import { MODEL_CALIBRATION } from '../src/core/model-calibration.js';
import { FACEAPI_MODEL } from '../src/engine/faceapi/engine.js';
import { REPO_ROOT } from '../test/fixtures.js';
import { rocSvg } from './roc-svg.js';

const pct1 = (x: number): string => `${(100 * x).toFixed(1)} %`;
const sci = (x: number): string => (x === 0 ? '0' : x < 0.01 ? x.toExponential(1) : `${(100 * x).toFixed(2)} %`);

/** The ROC SVG of one model's calibration; the TAR axis starts a little below the lowest TAR plotted. */
export function calibrationRocSvg(key: string, calibration: ModelCalibration): string {
  const minFar = 10 ** Math.floor(Math.log10(calibration.minFar));
  const visible = calibration.roc.filter((p) => p.far >= minFar);
  const lowestTar = Math.min(...visible.map((p) => p.tar), 1);
  return rocSvg(calibration.roc, {
    title: `ROC of ${key}`,
    subtitle: `${calibration.pairs.same} same-person and ${calibration.pairs.different} different-person pairs (see src/core/model-calibration.ts)`,
    minFar,
    minTar: Math.max(0, Math.floor(lowestTar * 10) / 10 - 0.1),
    mark: {
      threshold: calibration.threshold,
      far: calibration.far,
      tar: 1 - calibration.frr,
      label: `default threshold ${calibration.threshold}: FAR ${sci(calibration.far)}, TAR ${pct1(1 - calibration.frr)}`,
    },
  });
}

export async function writeRocFiles(svg: string, outDir = join(REPO_ROOT, 'bench/out')): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'roc.svg'), svg);
  await sharp(Buffer.from(svg)).png().toFile(join(outDir, 'roc.png'));
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const key = process.argv[2] ?? `${FACEAPI_MODEL.id}@${FACEAPI_MODEL.version}`;
  const calibration = MODEL_CALIBRATION[key];
  if (!calibration) throw new Error(`no calibration for ${key} in src/core/model-calibration.ts`);
  await writeRocFiles(calibrationRocSvg(key, calibration));
  process.stdout.write('wrote bench/out/roc.svg and roc.png\n');
}
