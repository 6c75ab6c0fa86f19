/**
 * A FaceEngine whose models live in a pool of worker threads (each worker owning its own copy), the shape every
 * real engine shares: the engine module names its model and its worker entry; this file moves the pixels.
 */
import { checkRgbImage, type RgbImage } from '../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from './engine.js';
import { WorkerPool } from './pool.js';

/** What a pool engine's workers are sent: packed RGB pixels and what to do with them. */
export interface AnalyzeJob {
  image: RgbImage;
  options: AnalyzeOptions;
}

/**
 * Starts the workers and waits until every one has loaded its models.
 *
 * `analyze` copies the pixels into a buffer of their own and moves that to a worker (see `movable`).
 */
export async function startPoolEngine(
  identity: Pick<FaceEngine, 'model' | 'landmarkLayout' | 'calibration'>,
  workerUrl: URL,
  workers: number | undefined,
  workerData?: unknown,
): Promise<FaceEngine> {
  const pool = await WorkerPool.start<AnalyzeJob, FaceAnalysis[]>({ workerUrl, workerData, ...(workers === undefined ? {} : { size: workers }) });
  return {
    model: identity.model,
    landmarkLayout: identity.landmarkLayout,
    calibration: identity.calibration,
    get queueDepth() {
      return pool.queueDepth;
    },
    analyze: async (image: RgbImage, options: AnalyzeOptions) => {
      checkRgbImage(image);
      const { width, height, data } = image;
      const owned = movable(data);
      return pool.run({ image: { width, height, data: owned }, options }, [owned.buffer]);
    },
    close: () => pool.close(),
  };
}

/**
 * A copy of the pixels in a buffer of their own, which is then moved to the worker. From Node 22 on, memory a native
 * module handed to JavaScript (sharp's decoded pixels, however they are viewed) cannot be transferred ("Cannot
 * transfer object of unsupported type"), and nothing in JavaScript tells such a buffer apart: one memcpy per photo,
 * far below the cost of the inference.
 */
function movable(data: Uint8Array): Uint8Array<ArrayBuffer> {
  return data.slice();
}
