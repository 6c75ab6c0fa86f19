/** Plain data types shared by the engine, the store, the services and the front ends. */

export const EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;
export type Emotion = (typeof EMOTIONS)[number];
/** Probability per emotion; the seven values sum to 1. */
export type EmotionScores = Record<Emotion, number>;

export const GENDERS = ['male', 'female'] as const;
export type Gender = (typeof GENDERS)[number];

/**
 * The face attributes a caller may ask for, each computed by its own net(s): identify, verify, analyze, search and
 * watch take a subset (none: names or boxes only) and the engine runs only the nets of the ones asked for.
 */
export const FACE_ATTRIBUTES = ['emotion', 'age', 'gender'] as const;
export type FaceAttribute = (typeof FACE_ATTRIBUTES)[number];

/** Axis-aligned box in pixels of the (EXIF-rotated) image. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export type Point = readonly [x: number, y: number];

/** Identifies the embedding model a gallery is pinned to. Distances between models mean nothing. */
export interface ModelInfo {
  /** e.g. "faceapi-resnet128" */
  id: string;
  /** bumped whenever the embedding of the same photo could change (weights, alignment, preprocessing) */
  version: string;
  dimensions: number;
  /** Euclidean distance in the embedding space; smaller is closer. */
  metric: 'euclidean';
  /** Distance at or below which two faces are taken to be the same person. */
  defaultThreshold: number;
}
