import type { OperatingPointSource } from './operating-point-source.js';
import type { Box, Emotion, Gender } from '../core/types.js';
import type { FacedbError } from '../errors/errors.js';

/** What the services return: plain JSON-able data shared by the CLI, the HTTP API and the library. */

export interface EmotionResult {
  dominant: Emotion;
  /** Percent per emotion; the seven values sum to 100. */
  scores: Record<Emotion, number>;
}

export interface DetectedFace {
  box: Box;
  detectionScore: number;
}

/** A face with the attributes the caller asked for (all by default); those not asked for are absent. */
export interface FaceAttributes extends DetectedFace {
  emotion?: EmotionResult;
  age?: number;
  gender?: Gender;
  genderProbability?: number;
}

export interface Candidate {
  personId: number;
  person: string;
  distance: number;
  /**
   * Calibrated probability (0..1) that the probe is this person, given how many people are enrolled and the
   * threshold of the decision: P = LR / (LR + max(N, LR(threshold))) with LR the model's measured 1:1 likelihood
   * ratio at this distance (core/confidence.ts, decisionConfidence). Below 0.5 for every face beyond the threshold;
   * null when the model has no calibration.
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
  /** Where the threshold came from: the call, the configuration, the gallery's own calibration, the engine's. */
  thresholdSource: OperatingPointSource;
  faces: IdentifiedFace[];
}

/** A stored face found by a search by face (`facedb search`). */
export interface FaceSearchMatch {
  faceId: number;
  /** Its person, or null for a face nobody named yet. */
  person: { id: number; name: string } | null;
  /** Its cluster while unnamed (null when not clustered yet, or named). */
  cluster: number | null;
  /** Where its photo came from: the enrolled file's path, or null for an upload (uploadName: the upload's file name when known). */
  source: { path: string | null; uploadName: string | null };
  distance: number;
}

export interface FaceSearchResult {
  image: ImageInfo;
  /** Every face of the photo, each with the stored faces nearest to it, nearest first. */
  faces: Array<DetectedFace & { matches: FaceSearchMatch[] }>;
}

/** What `facedb import` did; see transfer/import.ts. */
export interface ImportSummary {
  model: { id: string; version: string };
  /** People of the file: created, or already in the gallery under that name. */
  people: { added: number; existing: number };
  /** Faces of people: added, or skipped because that person already has a face from that photo. */
  faces: { added: number; skipped: number };
  /** Unnamed faces: added, or skipped because the gallery already holds that unnamed photo. */
  unnamedFaces: { added: number; skipped: number };
  /** Clusters made of the added unnamed faces, as the file grouped them. */
  clusters: number;
  /** "Not this person" constraints stored, of those on the faces and clusters this import added. */
  constraints: number;
  /** The file's gallery calibration: added, kept (the gallery has its own), or none in the file. */
  calibration: 'added' | 'kept' | 'none';
}

export interface DetectResult {
  image: ImageInfo;
  faces: DetectedFace[];
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
  /**
   * Calibrated probability (0..1) that the two faces are the same person (the 1:1 posterior, held to the threshold
   * so that it is at least 0.5 exactly when `verified`); null for an uncalibrated model.
   */
  confidence: number | null;
  threshold: number;
  thresholdSource: OperatingPointSource;
  faces: [FaceAttributes, FaceAttributes];
}

/** Failures that stop a whole enrollment run instead of being one photo's outcome: every later photo would fail too. */
export const STOPS_ENROLLMENT: ReadonlySet<FacedbError['code']> = new Set<FacedbError['code']>(['model_mismatch', 'storage_unavailable']);

/** Every outcome one enrolled photo can have; the CLI report, the HTTP wire format and the counts use this list. */
export const ENROLL_STATUSES = [
  'enrolled',
  'enrolled_one_of_several',
  'already_enrolled',
  'no_face',
  'unreadable',
  /** The person's name breaks the name rules (a folder name), or would be a look-alike of an existing person. */
  'invalid_name',
  /** The person was erased (by anyone) while this enrollment ran: nothing was added, nobody re-created. */
  'not_found',
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

/** What happened to one face of the old gallery in `reembed`. */
export type ReembedStatus =
  | 'moved'
  | 'already_moved'
  | 'missing_file'
  | 'changed_content'
  | 'no_photo'
  | 'unreadable'
  | 'no_face'
  | 'several_faces'
  | 'other_face'
  | 'failed';

export interface ReembedOutcome {
  /** The face's id in the old gallery. */
  faceId: number;
  /** Its person's name; empty for a face nobody has named yet (`unnamed`). */
  person: string;
  /** A face without a person (faces enrolled with --unlabelled or POST /v1/faces). */
  unnamed?: true;
  /** An unnamed face's cluster in the old gallery (null: not clustered). */
  cluster?: number | null;
  /** The photo's source path, or "(upload)" for a photo kept in the gallery. */
  source: string;
  status: ReembedStatus;
  /** The face's id in the new gallery, when moved. */
  newFaceId?: number;
  /** Why it could not be moved. */
  message?: string;
}

export interface ReembedSummary {
  /** The model of the old gallery and the new one. */
  from: { id: string; version: string } | null;
  to: { id: string; version: string };
  /** Faces in the old gallery, named and unnamed. */
  total: number;
  /** Of those, faces without a person. */
  unnamedFaces: number;
  /** Clusters of unnamed faces made in the new gallery, one per old cluster whose faces moved in this run. */
  clustersCarried: number;
  /** Curation constraints (faces kept apart, "not this person") stored in the new gallery by this run. */
  constraintsCarried: number;
  /** Constraints naming a face, person or cluster this run did not bring across (it failed, or an earlier run moved it). */
  constraintsLeft: number;
  counts: Record<ReembedStatus, number>;
  outcomes: ReembedOutcome[];
  elapsedMs: number;
}

/** What a track is identified as: the nearest person within the threshold, or unknown (person null). */
export interface TrackIdentity {
  person: string | null;
  personId: number | null;
  /** Distance to the nearest enrolled person (null: empty gallery). */
  distance: number | null;
  /** Calibrated confidence of the decision, as identify gives it. */
  confidence: number | null;
  threshold: number;
  /** The nearest candidates, nearest first. */
  candidates: Candidate[];
}

/** Names an embedding the way identify names a face. */
export interface TrackRecognizer {
  readonly threshold: number;
  identify(embedding: Float32Array): Promise<TrackIdentity>;
}
