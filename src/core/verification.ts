/**
 * Verification statistics from genuine (same-person) and impostor (different-person) distances: the threshold at a
 * target false-accept rate, the false-reject rate there with a confidence interval, the equal error rate, ROC/DET
 * curve points and histograms. Pure and model-free: every number comes from the distances given.
 *
 * A pair is accepted when its distance is at most the threshold (as identify and verify decide).
 */

/** Smallest impostor count that can back a FAR: zero false accepts in n trials bound the FAR below 3/n at 95 %. */
export const RULE_OF_THREE = 3;

/** Impostor pairs needed before a threshold at `far` means anything (the rule of three: n ≥ 3 / FAR). */
export function impostorPairsNeeded(far: number): number {
  return Math.ceil(RULE_OF_THREE / far - 1e-9);
}

export interface Interval {
  low: number;
  high: number;
}

/**
 * Wilson score interval of a binomial proportion (95 % with z = 1.96). Well behaved at 0 and 1 and for small n,
 * unlike the normal approximation; [0, 1] when n is 0.
 */
export function wilsonInterval(successes: number, n: number, z = 1.959964): Interval {
  if (n <= 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/** How many values of an ascending array are ≤ x (binary search). */
export function countAtMost(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface FarPoint {
  /** The target false-accept rate asked for. */
  far: number;
  /** Impostor pairs needed for this FAR (rule of three) and whether there were that many. */
  impostorPairsNeeded: number;
  enoughPairs: boolean;
  /** Null when fewer than one impostor pair falls under the target (far × impostors < 1): not measurable. */
  threshold: number | null;
  /** Measured FAR at the threshold (≤ far). */
  measuredFar: number | null;
  /** Genuine pairs rejected at the threshold, out of `genuinePairs`. */
  falseRejects: number | null;
  frr: number | null;
  /** 95 % Wilson interval of the FRR (genuine pairs treated as independent trials). */
  frrInterval: Interval | null;
}

/**
 * The operating point at a target FAR: the threshold that accepts k = ⌊far · impostors⌋ impostor pairs (the k-th
 * smallest impostor distance), and the share of genuine pairs above it. Both arrays ascending.
 */
export function pointAtFar(genuine: ArrayLike<number>, impostor: ArrayLike<number>, far: number): FarPoint {
  const needed = impostorPairsNeeded(far);
  const base = { far, impostorPairsNeeded: needed, enoughPairs: impostor.length >= needed };
  const k = Math.floor(far * impostor.length + 1e-9);
  if (k < 1 || genuine.length === 0) {
    return { ...base, threshold: null, measuredFar: null, falseRejects: null, frr: null, frrInterval: null };
  }
  let threshold = impostor[k - 1] as number;
  // Ties at the threshold would accept more than k impostors: step below them.
  if (countAtMost(impostor, threshold) > k) threshold = Math.max(0, threshold - 1e-7);
  const accepted = countAtMost(impostor, threshold);
  const falseRejects = genuine.length - countAtMost(genuine, threshold);
  return {
    ...base,
    threshold,
    measuredFar: accepted / impostor.length,
    falseRejects,
    frr: falseRejects / genuine.length,
    frrInterval: wilsonInterval(falseRejects, genuine.length),
  };
}

/** FAR and FRR at one threshold. */
export function ratesAt(genuine: ArrayLike<number>, impostor: ArrayLike<number>, threshold: number): { far: number; frr: number } {
  return {
    far: impostor.length ? countAtMost(impostor, threshold) / impostor.length : 0,
    frr: genuine.length ? 1 - countAtMost(genuine, threshold) / genuine.length : 0,
  };
}

/**
 * The equal error rate: where FAR and FRR cross, scanning every distinct distance as a threshold; the threshold
 * and the mean of the two rates at the closest point. Null without both kinds of pair.
 */
export function equalErrorRate(genuine: ArrayLike<number>, impostor: ArrayLike<number>): { eer: number; threshold: number } | null {
  if (genuine.length === 0 || impostor.length === 0) return null;
  let i = 0;
  let j = 0;
  let best = { gap: Infinity, eer: 1, threshold: 0 };
  while (i < genuine.length || j < impostor.length) {
    const g = i < genuine.length ? (genuine[i] as number) : Infinity;
    const d = j < impostor.length ? (impostor[j] as number) : Infinity;
    const t = Math.min(g, d);
    while (i < genuine.length && (genuine[i] as number) <= t) i++;
    while (j < impostor.length && (impostor[j] as number) <= t) j++;
    const far = j / impostor.length;
    const frr = 1 - i / genuine.length;
    const gap = Math.abs(far - frr);
    if (gap < best.gap) best = { gap, eer: (far + frr) / 2, threshold: t };
    if (far > frr) break; // FAR only grows and FRR only falls from here
  }
  return { eer: best.eer, threshold: best.threshold };
}

export interface CurvePoint {
  threshold: number;
  far: number;
  frr: number;
}

/**
 * ROC/DET points at `count` thresholds spread over the quantiles of both distributions (so both the dense impostor
 * tail and the genuine bulk are drawn), ascending.
 */
export function errorCurve(genuine: ArrayLike<number>, impostor: ArrayLike<number>, count = 120): CurvePoint[] {
  const thresholds = new Set<number>();
  for (const list of [genuine, impostor]) {
    if (list.length === 0) continue;
    for (let q = 0; q <= count; q++) thresholds.add(list[Math.min(list.length - 1, Math.floor((q / count) * (list.length - 1)))] as number);
  }
  // The impostor tail on a log scale: where low-FAR operating points live.
  for (let e = 1; e <= 8 && impostor.length > 0; e++) {
    const k = Math.floor(impostor.length * 10 ** -e);
    if (k >= 1) thresholds.add(impostor[k - 1] as number);
  }
  return [...thresholds].sort((a, b) => a - b).map((threshold) => ({ threshold, ...ratesAt(genuine, impostor, threshold) }));
}

export interface Histogram {
  /** Left edge of the first bin and the bin width. */
  start: number;
  width: number;
  /** Share of the class in each bin (sums to 1 over a non-empty class). */
  genuine: number[];
  impostor: number[];
}

/** Both classes binned on the same edges, as shares of their class. */
export function histograms(genuine: ArrayLike<number>, impostor: ArrayLike<number>, bins = 40): Histogram {
  let lo = Infinity;
  let hi = -Infinity;
  for (const list of [genuine, impostor]) {
    if (list.length === 0) continue;
    lo = Math.min(lo, list[0] as number);
    hi = Math.max(hi, list[list.length - 1] as number);
  }
  if (!Number.isFinite(lo)) return { start: 0, width: 0, genuine: [], impostor: [] };
  const width = hi > lo ? (hi - lo) / bins : 1;
  const fill = (list: ArrayLike<number>): number[] => {
    const counts = new Array<number>(bins).fill(0);
    for (let i = 0; i < list.length; i++) {
      const bin = Math.min(bins - 1, Math.floor(((list[i] as number) - lo) / width));
      counts[bin] = (counts[bin] ?? 0) + 1;
    }
    return counts.map((c) => (list.length ? c / list.length : 0));
  };
  return { start: lo, width, genuine: fill(genuine), impostor: fill(impostor) };
}
