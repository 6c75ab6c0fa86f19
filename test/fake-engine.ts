/**
 * A stand-in FaceEngine for tests of what is not the model (gallery bookkeeping, erasure, storage faults):
 * one face per photo, the whole photo, with an embedding derived from the pixels, so different photos get
 * different embeddings. It counts its calls and can be held before analysing, to put work in flight.
 */
import { createHash } from 'node:crypto';
import type { ModelInfo } from '../src/core/types.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../src/engine/engine.js';
import type { RgbImage } from '../src/image/image.js';

export const FAKE_MODEL: ModelInfo = { id: 'fake-engine', version: '1', dimensions: 8, metric: 'euclidean', defaultThreshold: 0.5 };

export interface FakeEngine extends FaceEngine {
  /** analyze() calls so far. */
  readonly calls: number;
  /**
   * Makes every analyze() call numbered `fromCall` or later (1-based; default: the next one) wait until
   * `release()`; `held` resolves once one is waiting.
   */
  hold(fromCall?: number): { held: Promise<void>; release: () => void };
}

export function fakeEngine(): FakeEngine {
  let calls = 0;
  let gate: Promise<void> | undefined;
  let gateFrom = 0;
  let onHeld: (() => void) | undefined;
  return {
    model: FAKE_MODEL,
    queueDepth: 0,
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
    async analyze(image: RgbImage, _options: AnalyzeOptions): Promise<FaceAnalysis[]> {
      calls++;
      if (gate && calls >= gateFrom) {
        onHeld?.();
        await gate;
      }
      const digest = createHash('sha256').update(image.data).digest();
      const raw = Float32Array.from({ length: FAKE_MODEL.dimensions }, (_, i) => digest[i]! - 128);
      const norm = Math.hypot(...raw) || 1;
      return [
        {
          box: { x: 0, y: 0, width: image.width, height: image.height },
          detectionScore: 0.99,
          landmarks: [],
          embedding: raw.map((v) => v / norm),
          emotion: { angry: 0, disgust: 0, fear: 0, happy: 0, sad: 0, surprise: 0, neutral: 1 },
          age: 40,
          gender: 'male',
          genderProbability: 0.9,
          // As large as a real JPEG crop (several database pages), so enrolling really makes the gallery grow.
          alignedCrop: new Uint8Array(16 * 1024).fill(digest[0]!),
        },
      ];
    },
    close: () => Promise.resolve(),
  };
}
