/**
 * The ONNX Runtime implementation of FaceEngine (engine v5): faceplugin-face-recognition-js's nets
 * (Ultra-Light-style detector, 68-point landmarks, MobileFaceNet-512, expression, SSR-Net age and gender)
 * in a pool of worker threads, each owning its own sessions; emotion also averages in Human's emotion net (its tfjs
 * graph converted to ONNX when a worker starts; see pipeline.ts emotionOf).
 */
import type { ModelInfo } from '../../core/types.js';
import type { FaceEngine } from '../engine.js';
import { startPoolEngine } from '../pool-engine.js';
import { workerModuleUrl } from '../../threads/start-worker.js';
import { calibrationKey } from '../../core/confidence.js';
import { CALIBRATION, CALIBRATION_MODEL } from './calibration.js';
import { packModel, type ModelPack } from './pack.js';
import type { OnnxWorkerData } from './worker.js';

/**
 * MobileFaceNet-512 on the 5-point ArcFace crop, L2-normalised (euclidean distance between unit vectors; d² = 2 − 2·cos).
 * The threshold is the best single threshold on the LFW pairs inside the subset (`npm run bench:accuracy`: no pair
 * distance between 1.19 and 1.2006).
 * Changing the detector's landmarks, the alignment or the pre-processing changes embeddings: bump the version
 * (6: the sampler's anti-aliasing rule, src/engine/onnx/preprocess.ts; a gallery of version 5 moves with `facedb reembed`).
 */
export const ONNX_MODEL: ModelInfo = {
  id: 'mobilefacenet512',
  version: '6',
  dimensions: 512,
  metric: 'euclidean',
  defaultThreshold: 1.2,
};

/** Landmarks come back as ArcFace's five points: eye centres, nose tip, mouth corners (image left to right). */
export const ONNX_LANDMARK_LAYOUT = 'arcface5';

/** The measured calibration, when it was measured on this very model version (never another version's). */
export const ONNX_CALIBRATION = CALIBRATION_MODEL === calibrationKey(ONNX_MODEL) ? CALIBRATION : undefined;


export interface OnnxEngineOptions {
  /** Inference worker threads; default one per core. */
  workers?: number;
  /** A model pack (see pack.ts) whose recogniser embeds instead of the built-in one. */
  pack?: ModelPack;
}

/**
 * Starts the workers and waits until every one has loaded its nets (see startPoolEngine). With a pack, the gallery is
 * pinned to the pack's model and there is no built-in calibration (the gallery must be calibrated, see
 * packDefaultThreshold in the registry).
 */
export function createOnnxEngine(options: OnnxEngineOptions = {}): Promise<FaceEngine> {
  // ONNX Runtime 1.30 starts a telemetry system in every process that creates an environment: it keeps a device id and
  // an event database under ~/.cache/Microsoft/DeveloperTools/.onnxruntime and can upload over HTTPS. A face database
  // sends nothing anywhere: it is switched off before any worker creates its environment (the environment is
  // process-wide, so the workers started below see it).
  process.env.ORT_DISABLE_TELEMETRY = '1';
  const { pack } = options;
  const identity = pack
    ? { model: packModel(pack), landmarkLayout: ONNX_LANDMARK_LAYOUT, calibration: undefined }
    : { model: ONNX_MODEL, landmarkLayout: ONNX_LANDMARK_LAYOUT, calibration: ONNX_CALIBRATION };
  const workerData: OnnxWorkerData = pack ? { pack: pack.recognition } : {};
  return startPoolEngine(identity, workerModuleUrl('./worker', import.meta.url), options.workers, workerData);
}
