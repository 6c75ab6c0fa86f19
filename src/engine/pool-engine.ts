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
 * `analyze` moves the pixel buffer to a worker instead of copying it: afterwards `image.data` is detached
 * (length 0) in the caller. A buffer that is a view into a larger one (e.g. Node's pooled Buffers) is copied.
 */
export async function startPoolEngine(
  identity: Pick<FaceEngine, 'model' | 'landmarkLayout' | 'calibration'>,
  workerUrl: URL,
  workers: number | undefined,
): Promise<FaceEngine> {
  const pool = await WorkerPool.start<AnalyzeJob, FaceAnalysis[]>({ workerUrl, ...(workers === undefined ? {} : { size: workers }) });
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

/** True when the array spans its whole ArrayBuffer, so moving that buffer takes nothing else with it. */
function ownsWholeBuffer(data: Uint8Array): data is Uint8Array<ArrayBuffer> {
  return data.buffer instanceof ArrayBuffer && data.byteOffset === 0 && data.byteLength === data.buffer.byteLength;
}

/**
 * The pixels in a buffer that can be moved to a worker: the caller's own buffer, moved here (detaching it), when it
 * can be; else a copy. From Node 22 on, memory a native module handed to JavaScript (sharp's decoded pixels) cannot be
 * transferred ("Cannot transfer object of unsupported type"), so moving it is tried, not assumed.
 */
function movable(data: Uint8Array): Uint8Array<ArrayBuffer> {
  if (!ownsWholeBuffer(data)) return data.slice();
  try {
    return structuredClone(data, { transfer: [data.buffer] });
  } catch {
    return data.slice();
  }
}
