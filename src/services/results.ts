import type { Box, Emotion, Gender } from '../core/types.js';

/** What the services return: plain JSON-able data shared by the CLI, the HTTP API and the library. */

export interface EmotionResult {
  dominant: Emotion;
  /** Percent per emotion; the seven values sum to 100. */
  scores: Record<Emotion, number>;
}

export interface FaceAttributes {
  box: Box;
  detectionScore: number;
  emotion: EmotionResult;
  age: number;
  gender: Gender;
  genderProbability: number;
}

export interface Candidate {
  personId: number;
  person: string;
  distance: number;
  /**
   * Calibrated probability (0..1) that the probe and this person's nearest face are the same person,
   * from the model's measured pair statistics; null when the model has no calibration.
   */
  confidence: number | null;
}

export interface Match extends Candidate {
  threshold: number;
}

export interface IdentifiedFace extends FaceAttributes {
  /** The nearest enrolled person when within the threshold, else null ("unknown"). */
  match: Match | null;
  /** Nearest people, closest first, each scored by their closest face; includes people beyond the threshold. */
  candidates: Candidate[];
}

export interface ImageInfo {
  width: number;
  height: number;
  format: string;
}

export interface IdentifyResult {
  image: ImageInfo;
  threshold: number;
  faces: IdentifiedFace[];
}

export interface AnalyzeResult {
  image: ImageInfo;
  faces: FaceAttributes[];
}

export interface RepresentedFace {
  box: Box;
  detectionScore: number;
  embedding: number[];
}

export interface RepresentResult {
  image: ImageInfo;
  model: { id: string; version: string };
  faces: RepresentedFace[];
}

export interface VerifyResult {
  verified: boolean;
  distance: number;
  /** Calibrated probability (0..1) that the two faces are the same person; null for an uncalibrated model. */
  confidence: number | null;
  threshold: number;
  faces: [FaceAttributes, FaceAttributes];
}

/** Every outcome one enrolled photo can have; the CLI report, the HTTP wire format and the counts use this list. */
export const ENROLL_STATUSES = [
  'enrolled',
  'enrolled_largest_of_several',
  'already_enrolled',
  'no_face',
  'unreadable',
  'failed',
] as const;

export type EnrollStatus = (typeof ENROLL_STATUSES)[number];

export interface EnrollOutcome {
  path: string;
  person: string;
  status: EnrollStatus;
  /** Faces found in the photo (0 for unreadable files). */
  facesFound: number;
  faceId?: number;
  /** Why it failed or was unreadable. */
  message?: string;
}

export interface EnrollSummary {
  total: number;
  counts: Record<EnrollStatus, number>;
  outcomes: EnrollOutcome[];
  elapsedMs: number;
}
