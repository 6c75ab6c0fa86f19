import type { ModelCalibration } from '../core/confidence.js';
import type { Box, EmotionScores, FaceAttribute, Gender, ModelInfo, Point } from '../core/types.js';
import type { RgbImage } from '../image/image.js';

/**
 * What a caller needs beyond detection, per call: enrollment needs an embedding and a crop but no
 * emotion, `/v1/detect` needs neither, `analyze` needs attributes only, identify maybe emotion alone. An engine
 * runs no net nobody asked for.
 */
export interface FaceNeeds {
  embedding: boolean;
  /** The attributes to compute (FACE_ATTRIBUTES' names); empty: none, and no attribute net runs. */
  attributes: readonly FaceAttribute[];
  /** JPEG of the aligned crop (thumbnails) */
  crop: boolean;
}

/** The attributes asked for (`needs.attributes`); the others are absent. */
export interface FaceAttributeScores {
  emotion?: EmotionScores;
  age?: number;
  /** With its probability: both present when gender was asked for. */
  gender?: Gender;
  genderProbability?: number;
}

/** Everything the engine found out about one face in a photo. */
export interface FaceAnalysis {
  box: Box;
  detectionScore: number;
  /** Landmarks in image pixels, in the engine's `landmarkLayout` (only what alignment and callers need). */
  landmarks: Point[];
  /** Unit-length embedding, `model.dimensions` long; present when `needs.embedding`. */
  embedding?: Float32Array;
  /** Present when `needs.attributes` names any; holds those only. */
  attributes?: FaceAttributeScores;
  /** Present when `needs.crop`. */
  alignedCrop?: Uint8Array;
}

export interface AnalyzeOptions {
  /** Detections scoring below this are dropped (0..1). */
  minDetectionScore: number;
  /** At most this many faces, largest first. */
  maxFaces: number;
  /** Faces whose box is narrower than this many pixels are dropped. */
  minFaceSize: number;
  /**
   * false: skip the detector and take the whole image as one face (photos that already are face crops, such as FER's
   * 48x48 ones, which a detector misses now and then); the limits above do not apply then. Default true.
   */
  detect?: boolean;
  needs: FaceNeeds;
}

/**
 * The one narrow interface to face models. Implementations own their runtime and threads;
 * callers hand over decoded RGB pixels and get plain data back. Everything model-specific
 * (landmark layout, embedding size, metric, thresholds, calibration) is a property of the engine.
 */
export interface FaceEngine {
  /** What a gallery is pinned to: id, version, dimensions, metric, default (1:1) threshold. */
  readonly model: ModelInfo;
  /** Name of the landmark layout in `FaceAnalysis.landmarks`, e.g. "ibug68" or "arcface5". */
  readonly landmarkLayout: string;
  /** Measured calibration (logistic fit + ROC) of this model's distances; undefined when never measured. */
  readonly calibration: ModelCalibration | undefined;
  /** Finds every face and does what `options.needs` asks for each; faces sorted by box area, largest first. */
  analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Jobs waiting for a free worker (for metrics and back-pressure). */
  readonly queueDepth: number;
  close(): Promise<void>;
}
