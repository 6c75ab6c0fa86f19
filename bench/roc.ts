/**
 * Every pair of labelled faces and the ROC measured from them (bench:accuracy's false rejects at a fixed FAR and its
 * ROC chart). research/calibrate.ts fits an engine's shipped calibration from the same measurement.
 */
import type { ModelCalibration, RocPoint } from '../src/core/confidence.js';
import { countAtMost } from '../src/core/verification.js';
import { faceRows, MAX_IMPOSTOR_PAIRS, pairPass } from '../src/services/evaluation/pairs.js';

export interface AllPairs {
  /** Ascending distances of every same-person pair. */
  same: Float64Array;
  /** Ascending distances of every different-person pair. */
  different: Float64Array;
}

/** Every pair of photos with a face: same person or not, distances sorted (`facedb evaluate`'s pass over every pair). */
export function allPairDistances(faces: ReadonlyArray<{ person: string; embedding: Float32Array }>): AllPairs {
  const { rows } = faceRows(faces, faces.map((face) => face.embedding));
  const pass = pairPass(rows, -1); // no distance is ≤ -1: no near-duplicate pairs to collect
  // Beyond that many, evaluate keeps a sample of the different-person pairs; a calibration must see every pair.
  if (pass.sampled) throw new Error(`${faces.length} faces make more than ${MAX_IMPOSTOR_PAIRS} different-person pairs`);
  return { same: pass.genuine, different: pass.impostor };
}

/** ROC points at the given thresholds from sorted distance lists (ascending). */
export function rocAt(sameSorted: ArrayLike<number>, differentSorted: ArrayLike<number>, thresholds: readonly number[]): RocPoint[] {
  return thresholds.map((threshold) => ({
    threshold,
    far: differentSorted.length ? countAtMost(differentSorted, threshold) / differentSorted.length : 0,
    tar: sameSorted.length ? countAtMost(sameSorted, threshold) / sameSorted.length : 0,
  }));
}

export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

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

/** What every pair measures: a calibration's fields without the fitted confidence curve and its source. */
export type MeasuredRoc = Omit<ModelCalibration, 'logistic' | 'source'>;

/** FAR/FRR at the default threshold and the ROC over rocThresholds, rounded as the calibration files store them. */
export function measureRoc(pairs: AllPairs, defaultThreshold: number): MeasuredRoc {
  const [atDefault] = rocAt(pairs.same, pairs.different, [defaultThreshold]);
  return {
    threshold: defaultThreshold,
    far: round(atDefault?.far ?? 0, 7),
    frr: round(1 - (atDefault?.tar ?? 0), 5),
    minFar: round(1 / Math.max(1, pairs.different.length), 9),
    pairs: { same: pairs.same.length, different: pairs.different.length },
    roc: rocAt(pairs.same, pairs.different, rocThresholds(defaultThreshold)).map((p) => ({ threshold: p.threshold, far: round(p.far, 7), tar: round(p.tar, 5) })),
  };
}
