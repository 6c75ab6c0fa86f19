/**
 * Calibrated match confidence and operating points. Pure: every function takes the `ModelCalibration` it works
 * with; the numbers themselves belong to the engine that owns the model (`engine.calibration`, generated into
 * `src/engine/<engine>/calibration.ts` by `npm run research:calibrate -- --engine <name> --write`). A model
 * without a calibration gets no confidence (null), never an invented one.
 *
 * P(same person | distance) for one pair is a logistic curve 1 / (1 + exp(-(a + b·distance))) fitted by
 * research/calibrate.ts (not shipped) on every same-person and different-person pair of the shared data,
 * classes weighted equally (an even prior), so a + b·distance is the log of the likelihood ratio
 * LR(distance) = p(d | same) / p(d | different).
 * It also records the measured ROC (FAR and TAR per threshold), from which a threshold for a target
 * false-accept rate is looked up.
 */
import { FacedbError } from '../errors/errors.js';

export interface RocPoint {
  threshold: number;
  /** Measured false-accept rate at this threshold (different-person pairs with distance ≤ threshold). */
  far: number;
  /** Measured true-accept rate (same-person pairs with distance ≤ threshold). */
  tar: number;
}

export interface ModelCalibration {
  /** The model's default threshold when the calibration was measured. */
  threshold: number;
  /** P(same) = 1 / (1 + exp(-(a + b·distance))); b < 0. */
  logistic: { a: number; b: number };
  /** Measured at the default threshold. */
  far: number;
  frr: number;
  /** Smallest FAR the measurement can resolve (one false accept among all different-person pairs). */
  minFar: number;
  /** Same-person and different-person pairs the numbers come from. */
  pairs: { same: number; different: number };
  /** ROC points, thresholds ascending. */
  roc: RocPoint[];
  /** What was measured, and when. */
  source: string;
}

export function calibrationKey(model: { id: string; version: string }): string {
  return `${model.id}@${model.version}`;
}

export function logistic(a: number, b: number, x: number): number {
  const z = a + b * x;
  // Written both ways so neither branch overflows.
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** The 1:1 P(same person) for a distance under an even prior, rounded to 4 digits; null without a calibration. */
export function confidence(calibration: ModelCalibration | undefined, distance: number): number | null {
  if (!calibration || !Number.isFinite(distance)) return null;
  return Math.round(logistic(calibration.logistic.a, calibration.logistic.b, distance) * 1e4) / 1e4;
}

/**
 * The confidence shown next to a match decision ("Bono" or "unknown", "same person" or not), so that the two never
 * contradict each other:
 *
 *   P = LR(d) / (LR(d) + max(N, LR(t)))
 *
 * where LR is the calibrated 1:1 likelihood ratio, d the distance, N the number of people the probe was compared
 * with (1 for verify, the enrolled people for identify) and t the threshold the decision used. It is the posterior
 * that the probe is this person with an even prior on "the probe is one of the N people" spread evenly over them
 * (prior odds 1/N each: a probe's nearest of N impostors is often close, so the 1:1 figure overstates it about N
 * times), except that the prior is never more generous than the operating point's own: the threshold declares a face
 * at distance t an even call, i.e. prior odds of at most 1/LR(t). Consequences: a face beyond the threshold is always
 * below 50 % ("unknown" is never "99 % likely Bono"); a match is at 50 % or above, unless more people are enrolled
 * than LR(t) — then the lower figure is the honest warning that a per-pair threshold this loose lets chance matches
 * through in a gallery this size, and `looseForGallery` says so. Null without a calibration.
 */
export function decisionConfidence(
  calibration: ModelCalibration | undefined,
  distance: number,
  decision: { threshold: number; people: number },
): number | null {
  if (!calibration || !Number.isFinite(distance)) return null;
  const logLr = (x: number): number => calibration.logistic.a + calibration.logistic.b * x;
  const people = Math.max(1, decision.people);
  // log of max(N, LR(t)); P = LR / (LR + K) = logistic(log LR − log K), which never overflows.
  const logPrior = Math.max(Math.log(people), logLr(decision.threshold));
  return Math.round(logistic(logLr(distance) - logPrior, 1, 0) * 1e4) / 1e4;
}

/** True when the gallery has more people than the threshold is strict enough for (see decisionConfidence). */
export function looseForGallery(calibration: ModelCalibration | undefined, decision: { threshold: number; people: number }): boolean {
  if (!calibration) return false;
  return Math.log(Math.max(1, decision.people)) > calibration.logistic.a + calibration.logistic.b * decision.threshold;
}

/**
 * The largest ROC threshold whose measured FAR is at most `targetFar`. Throws invalid_input for a model without
 * calibration (`modelName` names it), or a target the measurement cannot back (below the resolvable FAR, or above
 * the largest FAR in the table).
 */
export function thresholdForFar(calibration: ModelCalibration | undefined, targetFar: number, modelName: string): number {
  if (!calibration) {
    throw new FacedbError(
      'invalid_input',
      `no calibration for model ${modelName}: a target FAR cannot be used; give a distance threshold instead`,
    );
  }
  const lowest = calibration.minFar;
  const highest = calibration.roc.reduce((max, p) => Math.max(max, p.far), 0);
  if (!(targetFar > 0) || targetFar < lowest || targetFar > highest) {
    throw new FacedbError(
      'invalid_input',
      `target FAR ${targetFar} is outside what was measured for ${modelName} (${formatRate(lowest, 'up')} to ${formatRate(highest, 'down')})`,
    );
  }
  let best: RocPoint | undefined;
  for (const point of calibration.roc) {
    if (point.far <= targetFar && (!best || point.threshold > best.threshold)) best = point;
  }
  if (!best) {
    throw new FacedbError('invalid_input', `no measured threshold of ${modelName} keeps FAR at or below ${targetFar}`);
  }
  return best.threshold;
}

/**
 * A measured bound in two significant digits, rounded inwards so the range printed is inside the range measured (a
 * highest FAR of 0.9988 rounded to nearest would print "1.0", and a target of 0.999 would look inside it).
 */
function formatRate(rate: number, round: 'up' | 'down'): string {
  if (!(rate > 0)) return String(rate);
  const step = 10 ** (Math.floor(Math.log10(rate)) - 1);
  const scaled = round === 'up' ? Math.ceil(rate / step - 1e-9) : Math.floor(rate / step + 1e-9);
  return String(Number((scaled * step).toPrecision(2)));
}
