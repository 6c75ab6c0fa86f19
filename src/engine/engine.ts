import type { Box, EmotionScores, Gender, ModelInfo, Point } from '../core/types.js';
import type { RgbImage } from '../image/image.js';

/** Everything the engine knows about one face in a photo. */
export interface FaceAnalysis {
  box: Box;
  detectionScore: number;
  /** 68 landmarks (iBUG layout) in image pixels. */
  landmarks: Point[];
  embedding: Float32Array;
  emotion: EmotionScores;
  age: number;
  gender: Gender;
  genderProbability: number;
  /** JPEG of the aligned face crop, only when `withCrop` was asked for. */
  alignedCrop?: Uint8Array;
}

export interface AnalyzeOptions {
  /** Detections scoring below this are dropped (0..1). */
  minDetectionScore: number;
  /** At most this many faces, largest first. */
  maxFaces: number;
  /** Faces whose box is narrower than this many pixels are dropped. */
  minFaceSize: number;
  withCrop: boolean;
}

/**
 * The one narrow interface to face models. Implementations own their runtime and threads;
 * callers hand over decoded RGB pixels and get plain data back.
 */
export interface FaceEngine {
  readonly model: ModelInfo;
  /** Finds every face and describes each; faces sorted by box area, largest first. */
  analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Jobs waiting for a free worker (for metrics and back-pressure). */
  readonly queueDepth: number;
  close(): Promise<void>;
}
