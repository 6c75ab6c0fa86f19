import type { CurvePoint, FarPoint, Histogram } from '../../core/verification.js';
import type { Box } from '../../core/types.js';

/** One photo of the folder after embedding, as enroll would have taken it. */
export interface EvaluatedPhoto {
  path: string;
  /** Display name from the folder ("Brad_Pitt" → "Brad Pitt"). */
  person: string;
  status: 'face' | 'no_face' | 'unreadable';
  facesFound: number;
  /** Unreadable: why. */
  message?: string;
  /** SHA-256 of the file's bytes (identical copies); absent when unreadable. */
  contentHash?: string;
  /** The face enrollment takes (core/subject-face.ts); absent without a face. */
  box?: Box;
  /** Several faces: whether the one taken contains the photo's centre or is merely the largest. */
  taken?: 'centre' | 'largest';
}

/** A photo as cited in a problem: where, whose label, and its thumbnail key. */
export interface PhotoRef {
  path: string;
  person: string;
}

export interface MisidentifiedPhoto extends PhotoRef {
  /** What identify answers for it against every other photo of the folder. */
  answer: 'wrong_person' | 'unknown';
  /** Its nearest photo of another person, and its nearest photo of its own. */
  nearest: PhotoRef & { distance: number };
  nearestOwn: (PhotoRef & { distance: number }) | null;
}

export interface Mislabel extends PhotoRef {
  /** The person it probably is: the owner of its nearest photo. */
  probably: string;
  nearest: PhotoRef & { distance: number };
  nearestOwn: PhotoRef & { distance: number };
  /** nearestOwn.distance − nearest.distance: how much nearer the other person is (ranked by it). */
  margin: number;
}

export interface Duplicate {
  kind: 'identical' | 'near';
  a: PhotoRef;
  b: PhotoRef;
  distance: number | null;
  samePerson: boolean;
}

export interface SpreadPerson {
  person: string;
  photos: number;
  /** Leave-one-out probes identify would miss (unknown) or get wrong. */
  missed: number;
  /** Median distance between two of their photos. */
  medianDistance: number;
}

export interface EvaluationReport {
  folder: string;
  model: string;
  engine: string;
  measuredAt: string;
  /** True when Ctrl-C stopped the embedding: the numbers cover the photos embedded by then. */
  interrupted: boolean;
  elapsedMs: number;
  photos: { total: number; withFace: number; noFace: number; unreadable: number; severalFaces: number };
  people: { total: number; withTwoOrMore: number; singletons: number };
  pairs: {
    genuine: number;
    impostor: number;
    /** All impostor pairs of the folder; more than `impostor` when they were sampled. */
    impostorInFolder: number;
    /** How impostor pairs were drawn when there were too many: null when all were used. */
    sampling: { seed: number; method: string } | null;
  };
  verification: {
    /** One row per FAR asked for. */
    points: FarPoint[];
    eer: { eer: number; threshold: number } | null;
    /** The engine's built-in calibration at the same FARs (null where it has none or cannot resolve it). */
    engineThresholds: Array<{ far: number; threshold: number | null }>;
    curve: CurvePoint[];
    histogram: Histogram;
  };
  identification: {
    /** The threshold identify uses now, and where it comes from. */
    threshold: number;
    thresholdSource: string;
    rank1: { correct: number; probes: number; rate: number | null };
    openSet: { named: number; wrongPerson: number; unknown: number };
    singletons: { total: number; namedAsSomeoneElse: number; unknown: number };
    misidentified: MisidentifiedPhoto[];
  };
  noFace: PhotoRef[];
  severalFaces: Array<PhotoRef & { facesFound: number; taken: 'centre' | 'largest'; box: Box }>;
  unreadable: Array<PhotoRef & { message: string }>;
  mislabels: Mislabel[];
  duplicates: Duplicate[];
  spreadPeople: SpreadPerson[];
  /** How each problem was decided (stated so a reader can judge it). */
  rules: { mislabel: string; nearDuplicate: string; spread: string };
}
