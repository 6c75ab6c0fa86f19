/** The face-api implementation of FaceEngine: a pool of worker threads, each owning its own models. */
import { calibrationKey } from '../../core/confidence.js';
import type { ModelInfo } from '../../core/types.js';
import type { FaceEngine } from '../engine.js';
import { startPoolEngine } from '../pool-engine.js';
import { workerModuleUrl } from '../../threads/start-worker.js';
import { CALIBRATION, CALIBRATION_MODEL } from './calibration.js';

/**
 * Version 4: BlazeFace-first detection; face-api's ResNet-128 descriptor averaged with its mirror image's (flip TTA)
 * and L2-normalised. Not comparable with version 1 (raw descriptors), 3 (no flip) or 2 (a short-lived flip build
 * with another detector chain), so galleries enrolled with those are refused. The threshold is the best single
 * threshold on the LFW pairs inside the subset (`npm run bench:accuracy`, which also writes its calibration).
 */
export const FACEAPI_MODEL: ModelInfo = {
  id: 'faceapi-resnet128',
  version: '4',
  dimensions: 128,
  metric: 'euclidean',
  defaultThreshold: 0.41,
};

/** face-api's 68-point iBUG layout: what the crops of the descriptor, age/gender and thumbnail nets are cut by. */
export const FACEAPI_LANDMARK_LAYOUT = 'ibug68';

/** The measured calibration, when it was measured on this very model version (never another version's). */
export const FACEAPI_CALIBRATION = CALIBRATION_MODEL === calibrationKey(FACEAPI_MODEL) ? CALIBRATION : undefined;

export interface FaceApiEngineOptions {
  /** Inference worker threads; default one per core. */
  workers?: number;
}

/** Starts the workers and waits until every one has loaded its models (see startPoolEngine). */
export function createFaceApiEngine(options: FaceApiEngineOptions = {}): Promise<FaceEngine> {
  const identity = { model: FACEAPI_MODEL, landmarkLayout: FACEAPI_LANDMARK_LAYOUT, calibration: FACEAPI_CALIBRATION };
  return startPoolEngine(identity, workerModuleUrl('./worker', import.meta.url), options.workers);
}
