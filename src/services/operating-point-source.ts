import type { FacedbConfig } from '../config/config.js';
import { calibrationKey } from '../core/confidence.js';
import type { FaceEngine } from '../engine/engine.js';
import type { GalleryCalibration } from '../store/calibration.js';
import { galleryThresholdAt } from '../store/calibration.js';
import { IDENTIFY_DEFAULT_FAR } from './face-service.js';

export type OperatingPointSource = 'configured' | 'gallery' | 'engine' | 'model_default';

/**
 * Where the default threshold of identify (and verify) comes from, in the order FaceService.threshold() looks:
 * the configuration, the gallery's own calibration (facedb evaluate --apply), the engine's built-in calibration,
 * the model's 1:1 default. For output lines and /readyz.
 */
export function describeOperatingPoint(
  config: Pick<FacedbConfig, 'threshold' | 'targetFar'>,
  gallery: GalleryCalibration | null,
  engine: Pick<FaceEngine, 'model' | 'calibration'>,
): { source: OperatingPointSource; far: number | null; text: string } {
  const own = gallery?.model === calibrationKey(engine.model) ? gallery : null;
  if (config.threshold !== undefined) return { source: 'configured', far: null, text: `configured threshold ${config.threshold}` };
  if (config.targetFar !== undefined) {
    const fromGallery = galleryThresholdAt(own, config.targetFar) !== undefined;
    return { source: 'configured', far: config.targetFar, text: `configured FAR ${config.targetFar} (${fromGallery ? "this gallery's calibration" : "the engine's calibration"})` };
  }
  if (own) {
    return {
      source: 'gallery',
      far: own.far,
      text: `this gallery's calibration: FAR ${own.far} measured on ${own.sample.people} people, ${own.sample.photos} photos (${own.source}, ${own.measuredAt.slice(0, 10)})`,
    };
  }
  if (engine.calibration) return { source: 'engine', far: IDENTIFY_DEFAULT_FAR, text: `the engine's calibration of ${calibrationKey(engine.model)} (identify at FAR ${IDENTIFY_DEFAULT_FAR})` };
  return { source: 'model_default', far: null, text: `the default threshold of ${calibrationKey(engine.model)} (no calibration)` };
}
