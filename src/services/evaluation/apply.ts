import { calibrationKey } from '../../core/confidence.js';
import { impostorPairsNeeded } from '../../core/verification.js';
import { FacedbError } from '../../errors/errors.js';
import type { GalleryCalibration } from '../../store/calibration.js';
import type { FaceService } from '../face-service.js';
import type { EvaluationReport } from './types.js';

/**
 * Stores an evaluation's operating points in the service's gallery (`facedb evaluate --apply`): identify and verify
 * then default to the threshold at `far`, any FAR measured here gets this population's threshold, and clustering
 * uses the one at its own FAR when it was measured. Refused, leaving the gallery as it was, when:
 *  - the evaluation was interrupted (insufficient_data);
 *  - it was measured with another model than the gallery's (model_mismatch);
 *  - `far` was not measured, or on fewer impostor pairs than 3 / far (insufficient_data, saying how many are
 *    needed: with zero false accepts among n impostor pairs, FAR < 3/n is all that can be claimed at 95 %).
 * A gallery not pinned yet is pinned to the engine's model, as enrolling would.
 */
export async function applyEvaluation(service: FaceService, report: EvaluationReport, far: number): Promise<GalleryCalibration> {
  if (report.interrupted) {
    throw new FacedbError('insufficient_data', 'the evaluation was interrupted: run it to the end before applying it');
  }
  const engine = await service.engine();
  const key = calibrationKey(engine.model);
  const pinned = await service.store.getModel();
  const galleryKey = pinned ? calibrationKey(pinned) : key;
  if (report.model !== key || report.model !== galleryKey) {
    throw new FacedbError(
      'model_mismatch',
      `the evaluation was measured with ${report.model}, but the gallery ${pinned ? 'is pinned to' : 'opens with'} ${galleryKey}: evaluate with the gallery's engine (leave out --engine)`,
      { details: { measured: report.model, gallery: galleryKey } },
    );
  }
  const chosen = report.verification.points.find((p) => p.far === far);
  if (!chosen) {
    throw new FacedbError('invalid_input', `FAR ${far} was not measured: give it in --far (measured: ${report.verification.points.map((p) => p.far).join(', ')})`);
  }
  const needed = impostorPairsNeeded(far);
  if (!chosen.enoughPairs || chosen.threshold === null || chosen.frr === null) {
    throw new FacedbError(
      'insufficient_data',
      `a FAR of ${far} needs at least ${needed} different-person pairs (3 / FAR), but the folder gives ${report.pairs.impostor}: ` +
        'add people or photos, or apply a larger FAR',
      { details: { far, impostorPairs: report.pairs.impostor, needed } },
    );
  }
  const points = report.verification.points.flatMap((p) =>
    p.enoughPairs && p.threshold !== null && p.frr !== null ? [{ far: p.far, threshold: p.threshold, frr: p.frr }] : [],
  );
  const calibration: GalleryCalibration = {
    model: key,
    far,
    points,
    sample: { people: report.people.total, photos: report.photos.withFace, genuinePairs: report.pairs.genuine, impostorPairs: report.pairs.impostor },
    source: report.folder,
    measuredAt: report.measuredAt,
  };
  if (!pinned) await service.store.ensureModel(engine.model);
  await service.store.setCalibration(calibration);
  await service.refreshGalleryCalibration();
  return calibration;
}

/** Removes the gallery's own calibration (`facedb evaluate --reset`): back to the engine's. False if there was none. */
export async function resetCalibration(service: FaceService): Promise<boolean> {
  const removed = await service.store.clearCalibration();
  await service.refreshGalleryCalibration();
  return removed;
}
