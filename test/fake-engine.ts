/**
 * The fake engine (src/engine/fake) with two test controls on top, for tests of what is not the model (gallery
 * bookkeeping, erasure, storage faults): it counts its calls and can be held before analysing, to put work in
 * flight; and its thumbnail crops are as large as a real JPEG crop (several database pages), so enrolling really
 * makes the gallery grow.
 */
import { createFakeEngine, FAKE_MODEL } from '../src/engine/fake/engine.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import type { RgbImage } from '../src/image/image.js';

export { FAKE_MODEL };

const CROP_BYTES = 16 * 1024;

export interface FakeEngine extends FaceEngine {
  /** analyze() calls so far. */
  readonly calls: number;
  /**
   * Makes every analyze() call numbered `fromCall` or later (1-based; default: the next one) wait until
   * `release()`; `held` resolves once one is waiting.
   */
  hold(fromCall?: number): { held: Promise<void>; release: () => void };
}

export async function fakeEngine(): Promise<FakeEngine> {
  const inner = await createFakeEngine();
  let calls = 0;
  let gate: Promise<void> | undefined;
  let gateFrom = 0;
  let onHeld: (() => void) | undefined;
  return {
    model: inner.model,
    landmarkLayout: inner.landmarkLayout,
    calibration: inner.calibration,
    get queueDepth() {
      return inner.queueDepth;
    },
    get calls() {
      return calls;
    },
    hold(fromCall = calls + 1) {
      gateFrom = fromCall;
      let release!: () => void;
      gate = new Promise<void>((resolve) => {
        release = () => {
          gate = undefined;
          resolve();
        };
      });
      const held = new Promise<void>((resolve) => {
        onHeld = resolve;
      });
      return { held, release };
    },
    async analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
      calls++;
      if (gate && calls >= gateFrom) {
        onHeld?.();
        await gate;
      }
      const faces = await inner.analyze(image, options);
      return faces.map((face) => {
        if (!face.alignedCrop) return face;
        const crop = new Uint8Array(CROP_BYTES);
        crop.set(face.alignedCrop.subarray(0, CROP_BYTES));
        return { ...face, alignedCrop: crop };
      });
    },
    close: () => inner.close(),
  };
}
