/**
 * Redraws bench/out/roc-<engine>.svg (and roc-<engine>.png for a quick look) from the engines' calibration tables
 * (src/engine/<engine>/calibration.ts), without re-running the models:
 * `node --import tsx bench/roc-plot.ts [<model id>@<version>]` (default: every engine in the registry with a
 * calibration).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { calibrationKey, type ModelCalibration } from '../src/core/confidence.js';
import { ENGINE_NAMES, ENGINES, engineByName, engineForModel, type EngineEntry, type EngineName } from '../src/engine/registry.js';
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
    subtitle: `${calibration.pairs.same} same-person and ${calibration.pairs.different} different-person pairs (see ${calibrationFile(key)})`,
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

/** Where the calibration of the model `key` ('id@version') lives: its engine's calibration.ts. */
function calibrationFile(key: string): string {
  const engine = engineForModel(parseModelKey(key));
  return engine ? `src/engine/${engine.name}/calibration.ts` : 'src/engine/<engine>/calibration.ts';
}

function parseModelKey(key: string): { id: string; version: string } {
  const at = key.lastIndexOf('@');
  return at < 0 ? { id: key, version: '' } : { id: key.slice(0, at), version: key.slice(at + 1) };
}

/** Writes `<name>.svg` and `<name>.png` (the same file names bench/accuracy.ts gives, `roc-<engine>`). */
export async function writeRocFiles(svg: string, name: string, outDir = join(REPO_ROOT, 'bench/out')): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, `${name}.svg`), svg);
  await sharp(Buffer.from(svg)).png().toFile(join(outDir, `${name}.png`));
}

/** The engine that embeds with the model `key` ('id@version'); an error naming the known models otherwise. */
function engineOfKey(key: string): EngineEntry & { name: EngineName } {
  const engine = engineForModel(parseModelKey(key));
  if (engine) return engine;
  const known = ENGINE_NAMES.map((name) => `${calibrationKey(ENGINES[name].model)} (${name})`).join(', ');
  throw new Error(`no engine in src/engine/registry.ts embeds with ${key}: known models ${known}`);
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const wanted = process.argv[2];
  const engines = wanted === undefined ? ENGINE_NAMES.map((name) => engineByName(name)).filter((engine) => engine.calibration !== undefined) : [engineOfKey(wanted)];
  if (engines.length === 0) throw new Error('no engine in src/engine/registry.ts has a calibration');
  for (const engine of engines) {
    const key = calibrationKey(engine.model);
    if (!engine.calibration) throw new Error(`no calibration for ${key} in src/engine/${engine.name}/calibration.ts`);
    await writeRocFiles(calibrationRocSvg(key, engine.calibration), `roc-${engine.name}`);
    process.stdout.write(`wrote bench/out/roc-${engine.name}.svg and roc-${engine.name}.png (${key})\n`);
  }
}
