/** Fitting a model's calibration (logistic confidence, ROC table) from face embeddings, and writing the table file. */
import { writeFile } from 'node:fs/promises';
import { logistic, type ModelCalibration, type RocPoint } from '../src/core/confidence.js';
import { euclideanDistance } from '../src/core/distance.js';

export interface AllPairs {
  /** Ascending distances of every same-person pair. */
  same: Float64Array;
  /** Ascending distances of every different-person pair. */
  different: Float64Array;
}

/** Every pair of photos with a face: same person or not, distances sorted. */
export function allPairDistances(faces: ReadonlyArray<{ person: string; embedding: Float32Array }>): AllPairs {
  const same: number[] = [];
  const different = new Float64Array((faces.length * (faces.length - 1)) / 2);
  let d = 0;
  for (let i = 0; i < faces.length; i++) {
    const a = faces[i];
    if (!a) continue;
    for (let j = i + 1; j < faces.length; j++) {
      const b = faces[j];
      if (!b) continue;
      const distance = euclideanDistance(a.embedding, b.embedding);
      if (a.person === b.person) same.push(distance);
      else different[d++] = distance;
    }
  }
  return { same: Float64Array.from(same).sort(), different: different.subarray(0, d).sort() };
}

/** Histogram a class into weighted samples (bin centres) so Newton steps stay cheap on a million pairs. */
function binned(distances: Float64Array, y: 0 | 1, classWeight: number, width = 0.002): LabelledSample[] {
  const bins = new Map<number, number>();
  for (const distance of distances) {
    const bin = Math.floor(distance / width);
    bins.set(bin, (bins.get(bin) ?? 0) + 1);
  }
  return [...bins].map(([bin, count]) => ({ x: (bin + 0.5) * width, y, weight: count * classWeight }));
}

export interface LabelledSample {
  x: number;
  /** 1 for the positive class (same person), 0 otherwise. */
  y: 0 | 1;
  weight?: number;
}

/**
 * One-feature logistic regression by Newton's method (iteratively reweighted least squares) with a tiny
 * ridge term so perfectly separable data still converges to finite parameters.
 */
export function fitLogistic(
  samples: readonly LabelledSample[],
  options: { iterations?: number; ridge?: number } = {},
): { a: number; b: number; iterations: number } {
  const iterations = options.iterations ?? 50;
  const ridge = options.ridge ?? 1e-6;
  let a = 0;
  let b = 0;
  let done = 0;
  for (; done < iterations; done++) {
    // Gradient and Hessian of the weighted log-likelihood.
    let ga = -ridge * a;
    let gb = -ridge * b;
    let haa = ridge;
    let hab = 0;
    let hbb = ridge;
    for (const { x, y, weight = 1 } of samples) {
      const p = logistic(a, b, x);
      const r = weight * (y - p);
      const w = weight * p * (1 - p);
      ga += r;
      gb += r * x;
      haa += w;
      hab += w * x;
      hbb += w * x * x;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) {
      done += 1;
      break;
    }
  }
  return { a, b, iterations: done };
}

/**
 * ROC points at the given thresholds from sorted distance lists (ascending), counting with two pointers.
 * Thresholds must be ascending.
 */
export function rocAt(sameSorted: ArrayLike<number>, differentSorted: ArrayLike<number>, thresholds: readonly number[]): RocPoint[] {
  let i = 0;
  let j = 0;
  return thresholds.map((threshold) => {
    while (i < sameSorted.length && (sameSorted[i] ?? Infinity) <= threshold) i += 1;
    while (j < differentSorted.length && (differentSorted[j] ?? Infinity) <= threshold) j += 1;
    return {
      threshold,
      far: differentSorted.length ? j / differentSorted.length : 0,
      tar: sameSorted.length ? i / sameSorted.length : 0,
    };
  });
}

const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/**
 * ROC thresholds: a fine grid over the distances that matter, plus the default threshold. Unit vectors lie at most 2
 * apart; ResNet-128's operating points sit near 0.4, MobileFaceNet-512's near 1.1 (different people are near √2).
 */
export function rocThresholds(defaultThreshold: number): number[] {
  const grid = new Set<number>();
  for (let t = 0.2; t <= 1.6 + 1e-9; t += 0.005) grid.add(round(t, 3));
  grid.add(defaultThreshold);
  return [...grid].sort((a, b) => a - b);
}

export function fitCalibration(pairs: AllPairs, defaultThreshold: number, source: string): ModelCalibration {
  // Classes weighted equally (an even prior), total weight = number of same-person pairs.
  const samples = [
    ...binned(pairs.same, 1, 1),
    ...binned(pairs.different, 0, pairs.same.length / Math.max(1, pairs.different.length)),
  ];
  const { a, b } = fitLogistic(samples);
  const [atDefault] = rocAt(pairs.same, pairs.different, [defaultThreshold]);
  const roc: RocPoint[] = rocAt(pairs.same, pairs.different, rocThresholds(defaultThreshold)).map((p) => ({
    threshold: p.threshold,
    far: round(p.far, 7),
    tar: round(p.tar, 5),
  }));
  return {
    threshold: defaultThreshold,
    logistic: { a: round(a, 4), b: round(b, 4) },
    far: round(atDefault?.far ?? 0, 7),
    frr: round(1 - (atDefault?.tar ?? 0), 5),
    minFar: round(1 / Math.max(1, pairs.different.length), 9),
    pairs: { same: pairs.same.length, different: pairs.different.length },
    roc,
    source,
  };
}

/**
 * Writes an engine's calibration file (src/engine/<engine>/calibration.ts): the model it was measured for and the
 * measurement. The engine uses it only while `CALIBRATION_MODEL` names its own model id and version.
 */
export async function writeCalibrationFile(path: string, engine: string, model: { id: string; version: string }, calibration: ModelCalibration): Promise<void> {
  const { roc, ...rest } = calibration;
  const head = JSON.stringify(rest, null, 2).slice(0, -2);
  const points = roc.map((p) => `    { threshold: ${p.threshold}, far: ${p.far}, tar: ${p.tar} },`).join('\n');
  const text = [
    `/** Generated by \`npm run bench:accuracy -- --engine ${engine} --write-calibration\`; do not edit by hand. */`,
    "import type { ModelCalibration } from '../../core/confidence.js';",
    `export const CALIBRATION_MODEL = '${model.id}@${model.version}';`,
    `export const CALIBRATION: ModelCalibration = ${head},\n  roc: [\n${points}\n  ],\n};`,
    '',
  ].join('\n');
  await writeFile(path, text);
}
