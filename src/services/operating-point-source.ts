import type { FacedbConfig } from '../config/config.js';
import { calibrationKey } from '../core/confidence.js';
import type { FaceEngine } from '../engine/engine.js';
import type { GalleryCalibration } from '../store/calibration.js';
import { galleryThresholdAt } from '../store/calibration.js';

/**
 * Where a threshold came from, in the order FaceService.threshold() looks: the call ('request'), the configuration
 * ('configured'), the gallery's own calibration (`facedb evaluate --apply`: 'gallery'), the engine's built-in
 * calibration ('engine'), the model's 1:1 default ('model_default'). A FAR the gallery measured counts as 'gallery'.
 */
export const OPERATING_POINT_SOURCES = ['request', 'configured', 'gallery', 'engine', 'model_default'] as const;
export type OperatingPointSource = (typeof OPERATING_POINT_SOURCES)[number];

export function operatingPointSource(
  config: Pick<FacedbConfig, 'threshold' | 'targetFar'>,
  options: { threshold?: number; far?: number },
  gallery: GalleryCalibration | null,
  engine: Pick<FaceEngine, 'model' | 'calibration'>,
): OperatingPointSource {
  const own = gallery?.model === calibrationKey(engine.model) ? gallery : null;
  const level = options.threshold !== undefined || options.far !== undefined ? 'request' : config.threshold !== undefined || config.targetFar !== undefined ? 'configured' : null;
  const far = level === 'request' ? options.far : level === 'configured' ? config.targetFar : undefined;
  if (level !== null) return far !== undefined && galleryThresholdAt(own, far) !== undefined ? 'gallery' : level;
  if (own) return 'gallery';
  return engine.calibration ? 'engine' : 'model_default';
}

/** The default operating point (no per-call value), in words, for output lines, /readyz and the evaluation. */
export function describeOperatingPoint(
  config: Pick<FacedbConfig, 'threshold' | 'targetFar'>,
  gallery: GalleryCalibration | null,
  engine: Pick<FaceEngine, 'model' | 'calibration'>,
): { source: OperatingPointSource; text: string } {
  const source = operatingPointSource(config, {}, gallery, engine);
  const key = calibrationKey(engine.model);
  if (config.threshold !== undefined) return { source, text: `configured threshold ${config.threshold}` };
  if (config.targetFar !== undefined) return { source, text: `configured FAR ${config.targetFar} (${source === 'gallery' ? "this gallery's calibration" : "the engine's calibration"})` };
  if (source === 'gallery' && gallery) {
    return {
      source,
      text: `this gallery's calibration: FAR ${gallery.far} measured on ${gallery.sample.people} people, ${gallery.sample.photos} photos (${gallery.source}, ${gallery.measuredAt.slice(0, 10)})`,
    };
  }
  if (source === 'engine') return { source, text: `the engine's calibration of ${key}` };
  return { source, text: `the default threshold of ${key} (no calibration)` };
}
