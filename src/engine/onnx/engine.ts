/**
 * The ONNX Runtime implementation of FaceEngine (engine v5): faceplugin-face-recognition-js's nets
 * (Ultra-Light-style detector, 68-point landmarks, MobileFaceNet-512, expression, SSR-Net age and gender)
 * in a pool of worker threads, each owning its own sessions.
 */
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../engine.js';
import { WorkerPool, workerModuleUrl } from '../pool.js';
import { calibrationKey } from '../../core/confidence.js';
import { CALIBRATION, CALIBRATION_MODEL } from './calibration.js';

/**
 * MobileFaceNet-512 on the 5-point ArcFace crop, L2-normalised (euclidean distance between unit vectors; d² = 2 − 2·cos).
 * The threshold is the best single threshold on the LFW pairs inside the subset (`npm run bench:accuracy`: no pair
 * distance between 1.19 and 1.2006).
 * Changing the detector's landmarks, the alignment or the pre-processing changes embeddings: bump the version.
 */
export const ONNX_MODEL: ModelInfo = {
  id: 'mobilefacenet512',
  version: '5',
  dimensions: 512,
  metric: 'euclidean',
  defaultThreshold: 1.2,
};

/** Landmarks come back as ArcFace's five points: eye centres, nose tip, mouth corners (image left to right). */
export const ONNX_LANDMARK_LAYOUT = 'arcface5';

/** The measured calibration, when it was measured on this very model version (never another version's). */
export const ONNX_CALIBRATION = CALIBRATION_MODEL === calibrationKey(ONNX_MODEL) ? CALIBRATION : undefined;

export interface AnalyzeJob {
  image: RgbImage;
  options: AnalyzeOptions;
}

export interface OnnxEngineOptions {
  /** Inference worker threads; default one per core. */
  workers?: number;
}

/**
 * Starts the workers and waits until every one has loaded its nets.
 *
 * `analyze` moves the pixel buffer to a worker instead of copying it: afterwards `image.data` is detached
 * (length 0) in the caller. A buffer that is a view into a larger one (e.g. Node's pooled Buffers) is copied.
 */
export async function createOnnxEngine(options: OnnxEngineOptions = {}): Promise<FaceEngine> {
  const pool = await WorkerPool.start<AnalyzeJob, FaceAnalysis[]>({
    workerUrl: workerModuleUrl('./worker', import.meta.url),
    ...(options.workers === undefined ? {} : { size: options.workers }),
  });
  return {
    model: ONNX_MODEL,
    landmarkLayout: ONNX_LANDMARK_LAYOUT,
    calibration: ONNX_CALIBRATION,
    get queueDepth() {
      return pool.queueDepth;
    },
    analyze: (image: RgbImage, analyzeOptions: AnalyzeOptions) => {
      const { width, height, data } = image;
      if (!(data instanceof Uint8Array) || !Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 3) {
        return Promise.reject(new FacedbError('invalid_image', `expected ${width}x${height} packed RGB pixels, got ${data instanceof Uint8Array ? data.length : 'no'} bytes`));
      }
      const owned = ownsWholeBuffer(data) ? data : data.slice();
      return pool.run({ image: { width, height, data: owned }, options: analyzeOptions }, [owned.buffer]);
    },
    close: () => pool.close(),
  };
}

/** True when the array spans its whole ArrayBuffer, so moving that buffer takes nothing else with it. */
function ownsWholeBuffer(data: Uint8Array): data is Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}
