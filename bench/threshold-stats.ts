/**
 * Pure statistics for choosing and judging a distance threshold from labelled pairs (bench:accuracy's pair
 * verification and research/models/onnx.ts). Not shipped: the product reads thresholds from the engine's calibration.
 */

export interface ScoredPair {
  /** Distance between the two faces; Infinity when a face was not found (always "different"). */
  distance: number;
  same: boolean;
  /** Cross-validation fold (0-based). */
  fold: number;
}

export interface ThresholdStats {
  threshold: number;
  accuracy: number;
  /** Fraction of different-person pairs accepted as the same person. */
  falseAcceptRate: number;
  /** Fraction of same-person pairs rejected. */
  falseRejectRate: number;
}

export function statsAt(pairs: readonly ScoredPair[], threshold: number): ThresholdStats {
  const sameCount = pairs.filter((p) => p.same).length;
  const differentCount = pairs.length - sameCount;
  const falseAccepts = pairs.filter((p) => !p.same && p.distance <= threshold).length;
  const falseRejects = pairs.filter((p) => p.same && p.distance > threshold).length;
  return {
    threshold,
    accuracy: pairs.length ? (pairs.length - falseAccepts - falseRejects) / pairs.length : 0,
    falseAcceptRate: differentCount ? falseAccepts / differentCount : 0,
    falseRejectRate: sameCount ? falseRejects / sameCount : 0,
  };
}

/**
 * The threshold with the best accuracy on `pairs`: candidates are midpoints between consecutive
 * distinct distances, so the choice does not depend on a grid step. Ties go to the smaller threshold
 * (fewer false accepts).
 */
export function bestThreshold(pairs: readonly ScoredPair[]): ThresholdStats {
  const distances = [...new Set(pairs.map((p) => p.distance).filter(Number.isFinite))].sort((a, b) => a - b);
  const midpoints = distances.map((here, i) => {
    const next = distances[i + 1];
    return next === undefined ? here + 1e-6 : (here + next) / 2;
  });
  return [0, ...midpoints].map((candidate) => statsAt(pairs, candidate)).reduce((best, stats) => (stats.accuracy > best.accuracy ? stats : best));
}

export interface CrossValidation {
  /** Mean accuracy over folds, each tested at the threshold chosen on the other folds. */
  meanAccuracy: number;
  stdAccuracy: number;
  folds: Array<{ fold: number; threshold: number; accuracy: number; pairs: number }>;
}

/** LFW's protocol: for each fold, choose the threshold on the other folds, test on this one. */
export function crossValidate(pairs: readonly ScoredPair[]): CrossValidation {
  const foldIds = [...new Set(pairs.map((p) => p.fold))].sort((a, b) => a - b);
  const folds = foldIds.map((fold) => {
    const train = pairs.filter((p) => p.fold !== fold);
    const test = pairs.filter((p) => p.fold === fold);
    const { threshold } = bestThreshold(train);
    return { fold, threshold, accuracy: statsAt(test, threshold).accuracy, pairs: test.length };
  });
  const accuracies = folds.map((f) => f.accuracy);
  const mean = accuracies.reduce((a, b) => a + b, 0) / Math.max(1, accuracies.length);
  const variance = accuracies.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, accuracies.length);
  return { meanAccuracy: mean, stdAccuracy: Math.sqrt(variance), folds };
}
