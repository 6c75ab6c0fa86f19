import { createFakeEngine, FAKE_LANDMARK_LAYOUT, FAKE_MODEL } from '../src/engine/fake/engine.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import type { RgbImage } from '../src/image/image.js';

/**
 * The fake engine (src/engine/fake) for the queue's tests, where the model is not what is tested, with two
 * controls: it counts its calls, and `failNext` makes the next calls throw, to exercise retries.
 */
export class QueueTestEngine implements FaceEngine {
  readonly model = FAKE_MODEL;
  readonly landmarkLayout = FAKE_LANDMARK_LAYOUT;
  readonly calibration = undefined;
  readonly queueDepth = 0;
  calls = 0;
  /** Errors to throw from the next calls, first first. */
  failNext: Error[] = [];
  readonly #inner = createFakeEngine();

  async analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
    this.calls += 1;
    const failure = this.failNext.shift();
    if (failure) throw failure;
    return (await this.#inner).analyze(image, options);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
