/** The face-api implementation of FaceEngine: a pool of worker threads, each owning its own models. */
import { calibrationKey } from '../../core/confidence.js';
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../engine.js';
import { WorkerPool, workerModuleUrl } from '../pool.js';
import { CALIBRATION, CALIBRATION_MODEL } from './calibration.js';
import type { AnalyzeJob } from './runtime.js';

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

/**
 * Starts the workers and waits until every one has loaded its models.
 *
 * `analyze` moves the pixel buffer to a worker instead of copying it: afterwards `image.data` is detached
 * (length 0) in the caller. A buffer that is a view into a larger one (e.g. Node's pooled Buffers) is copied.
 */
export async function createFaceApiEngine(options: FaceApiEngineOptions = {}): Promise<FaceEngine> {
  const pool = await WorkerPool.start<AnalyzeJob, FaceAnalysis[]>({
    workerUrl: workerModuleUrl('./worker', import.meta.url),
    ...(options.workers === undefined ? {} : { size: options.workers }),
  });
  return {
    model: FACEAPI_MODEL,
    landmarkLayout: FACEAPI_LANDMARK_LAYOUT,
    calibration: FACEAPI_CALIBRATION,
    get queueDepth() {
      return pool.queueDepth;
    },
    analyze: (image: RgbImage, analyzeOptions: AnalyzeOptions) => {
      const { width, height, data } = image;
      if (data.length !== width * height * 3) {
        return Promise.reject(new FacedbError('invalid_image', `expected ${width}x${height} packed RGB pixels, got ${data.length} bytes`));
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
