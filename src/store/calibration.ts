/**
 * A gallery's own calibration: the operating points `facedb evaluate --apply` measured on the user's labelled
 * photos, stored in the gallery so that identify, verify and clustering use them instead of the engine's built-in
 * calibration. The type and its checks live here, shared by both drivers (which only store and read it).
 */
import { calibrationKey } from '../core/confidence.js';
import type { ModelInfo } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';

export interface GalleryOperatingPoint {
  /** Target false-accept rate per comparison. */
  far: number;
  /** The distance threshold that gives it on the measured population. */
  threshold: number;
  /** False-reject rate measured there. */
  frr: number;
}

export interface GalleryCalibration {
  /** The model it was measured with, `id@version`; the gallery must be pinned to the same. */
  model: string;
  /** The operating point identify and verify use by default (one of `points`). */
  far: number;
  /** Every measured point, FAR descending; a call asking for one of these FARs gets this threshold. */
  points: GalleryOperatingPoint[];
  /** What the numbers rest on. */
  sample: { people: number; photos: number; genuinePairs: number; impostorPairs: number };
  /** The folder measured, as given. */
  source: string;
  /** ISO time of the measurement. */
  measuredAt: string;
}

const finiteIn = (x: unknown, lo: number, hi: number): boolean => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
const count = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x) && x >= 0;

/** Refuses a calibration that could not have been measured (invalid_input), before anything is written. */
export function checkGalleryCalibration(calibration: GalleryCalibration): void {
  const bad = (why: string): never => {
    throw new FacedbError('invalid_input', `not a valid gallery calibration: ${why}`);
  };
  if (typeof calibration.model !== 'string' || !calibration.model.includes('@')) bad('model must be id@version');
  if (!Array.isArray(calibration.points) || calibration.points.length === 0) bad('no operating points');
  for (const p of calibration.points) {
    if (!finiteIn(p.far, 0, 1) || p.far === 0 || !finiteIn(p.threshold, 0, 1e6) || !finiteIn(p.frr, 0, 1)) bad(`bad point ${JSON.stringify(p)}`);
  }
  if (!calibration.points.some((p) => p.far === calibration.far)) bad(`the operating FAR ${calibration.far} is not among the points`);
  const s = calibration.sample;
  if (!s || ![s.people, s.photos, s.genuinePairs, s.impostorPairs].every(count)) bad('sample sizes must be whole numbers');
}

/** The stored form (one JSON text column in both drivers). */
export function serializeGalleryCalibration(calibration: GalleryCalibration): string {
  checkGalleryCalibration(calibration);
  return JSON.stringify(calibration);
}

export function parseGalleryCalibration(text: string): GalleryCalibration {
  const parsed = JSON.parse(text) as GalleryCalibration;
  checkGalleryCalibration(parsed);
  return parsed;
}

/** The gallery's threshold for a target FAR, when that FAR was measured; else undefined. */
export function galleryThresholdAt(calibration: GalleryCalibration | null | undefined, far: number): number | undefined {
  return calibration?.points.find((p) => Math.abs(p.far - far) <= far * 1e-9)?.threshold;
}

/** Shared by both drivers: a calibration goes only into a gallery pinned to the model it was measured with. */
export function checkMeasuredWithPinned(pinned: ModelInfo | null, calibration: GalleryCalibration): void {
  if (pinned === null) {
    throw new FacedbError('invalid_input', 'the gallery is not pinned to a model yet (call ensureModel first)');
  }
  if (calibrationKey(pinned) !== calibration.model) {
    throw new FacedbError(
      'model_mismatch',
      `the calibration was measured with ${calibration.model}, but the gallery is pinned to ${calibrationKey(pinned)}: evaluate with the gallery's engine`,
      { details: { pinned: calibrationKey(pinned), measured: calibration.model } },
    );
  }
}
