import { createHash } from 'node:crypto';
import { EMOTIONS, type ModelInfo } from '../src/core/types.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import type { RgbImage } from '../src/image/image.js';

/**
 * A minimal stand-in engine for the queue's tests, where the model is not what is tested (test-only; the lead
 * swaps it for src/engine/fake/ at merge). One face per photo with an embedding drawn from the pixels, none in a
 * flat image; `failNext` makes the next calls throw, to exercise retries.
 */
export class QueueTestEngine implements FaceEngine {
  readonly model: ModelInfo = { id: 'queue-test-engine', version: '1', dimensions: 8, metric: 'euclidean', defaultThreshold: 0.5 };
  readonly queueDepth = 0;
  calls = 0;
  /** Errors to throw from the next calls, first first. */
  failNext: Error[] = [];

  analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
    this.calls += 1;
    const failure = this.failNext.shift();
    if (failure) return Promise.reject(failure);
    let min = 255;
    let max = 0;
    for (const value of image.data) {
      if (value < min) min = value;
      if (value > max) max = value;
    }
    if (max - min < 16) return Promise.resolve([]);
    const digest = createHash('sha256').update(image.data).digest();
    const embedding = Float32Array.from({ length: this.model.dimensions }, (_, i) => digest[i]! / 255);
    const scores = Object.fromEntries(EMOTIONS.map((e) => [e, e === 'neutral' ? 1 : 0])) as FaceAnalysis['emotion'];
    const face: FaceAnalysis = {
      box: { x: 0, y: 0, width: image.width, height: image.height },
      detectionScore: 0.9,
      landmarks: [],
      embedding,
      emotion: scores,
      age: 30,
      gender: 'female',
      genderProbability: 0.5,
      ...(options.withCrop ? { alignedCrop: new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) } : {}),
    };
    return Promise.resolve([face]);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
