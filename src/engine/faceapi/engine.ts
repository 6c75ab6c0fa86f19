/** The face-api implementation of FaceEngine: a pool of worker threads, each owning its own models. */
import type { ModelInfo } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../engine.js';
import { WorkerPool, workerModuleUrl } from '../pool.js';
import type { AnalyzeJob } from './runtime.js';

/**
 * Version 3: BlazeFace-first detection, and face-api's ResNet-128 descriptor is L2-normalised, without flip TTA (not
 * comparable with version 1's raw descriptors nor version 2's flip-averaged ones, which commit d21f163 shipped
 * briefly and src/core/model-calibration.ts calibrated). The threshold is the best single threshold on the LFW pairs inside the subset
 * (0.420; bench/models/descriptor.ts, bench/models.md).
 */
export const FACEAPI_MODEL: ModelInfo = {
  id: 'faceapi-resnet128',
  version: '3',
  dimensions: 128,
  metric: 'euclidean',
  defaultThreshold: 0.42,
};

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
