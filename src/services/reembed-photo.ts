/**
 * What moving a face to another model needs from its photo, for named and unnamed faces alike: the photo's bytes
 * (kept upload or source file, checked against the enrolled content hash), the new engine's faces in it, and which
 * of them is the enrolled face.
 */
import type { Box } from '../core/types.js';
import type { FaceAnalysis, FaceEngine } from '../engine/engine.js';
import { toFacedbError } from '../errors/errors.js';
import { readImageBytes } from '../image/decode.js';
import { sha256Hex } from '../image/hash.js';
import type { ServiceContext } from './context.js';
import { NEEDS } from './face-results.js';
import type { ReembedStatus } from './results.js';

/**
 * A detection of the new engine is the enrolled face when its box overlaps the stored one at least this much
 * (intersection over union). Two detectors' boxes of one face overlap far more (their centres and sizes differ by
 * a fraction of the face); neighbouring faces in a group photo overlap far less.
 */
const SAME_FACE_IOU = 0.3;

export const UPLOAD = '(upload)';

export interface Failure {
  status: ReembedStatus;
  message: string;
}

/** The enrolled photo of a face: the bytes the gallery kept (uploads), else its source file; checked by hash. */
export async function enrolledPhoto(
  target: ServiceContext,
  face: { id: number; sourcePath: string | null; contentHash: string },
  kept: Uint8Array | null,
): Promise<{ bytes: Uint8Array } | Failure> {
  let bytes: Uint8Array;
  if (kept) {
    bytes = kept;
  } else if (face.sourcePath === null) {
    return { status: 'no_photo', message: 'enrolled from an upload whose photo the gallery did not keep: enroll it again from a photo' };
  } else {
    try {
      bytes = await readImageBytes(face.sourcePath, target.config);
    } catch (error) {
      const failure = toFacedbError(error);
      return { status: failure.code === 'not_found' ? 'missing_file' : 'unreadable', message: failure.message };
    }
  }
  const hash = sha256Hex(bytes);
  if (hash !== face.contentHash) {
    const where = face.sourcePath ?? UPLOAD;
    return { status: 'changed_content', message: `${where} is no longer the photo that was enrolled (SHA-256 ${hash.slice(0, 12)}…, enrolled ${face.contentHash.slice(0, 12)}…)` };
  }
  return { bytes };
}

/** Every face the new engine finds in the photo, decoded through the target's decode path and limits. */
export async function facesAgain(target: ServiceContext, engine: FaceEngine, bytes: Uint8Array): Promise<FaceAnalysis[] | Failure> {
  try {
    const { image } = await target.load({ bytes });
    return await engine.analyze(image, target.analyzeOptions({}, NEEDS.enroll));
  } catch (error) {
    const failure = toFacedbError(error);
    if (failure.code === 'internal') throw failure;
    return { status: 'unreadable', message: failure.message };
  }
}

/** The new engine's face where the enrolled one was, or why there is none. */
export function sameFace(found: readonly FaceAnalysis[], box: Box): FaceAnalysis | Failure {
  if (found.length === 0) return { status: 'no_face', message: 'the new engine finds no face in this photo' };
  let best: FaceAnalysis | undefined;
  let bestIou = SAME_FACE_IOU;
  for (const face of found) {
    const overlap = iou(face.box, box);
    if (overlap >= bestIou) {
      best = face;
      bestIou = overlap;
    }
  }
  if (best) return best;
  return found.length > 1
    ? { status: 'several_faces', message: `the new engine finds ${found.length} faces, none where the enrolled one was (${describeBox(box)})` }
    : { status: 'other_face', message: `the new engine finds a face elsewhere than the enrolled one (${describeBox(box)})` };
}

export function isFailure(value: object): value is Failure {
  return 'status' in value && 'message' in value;
}

export function iou(a: Box, b: Box): number {
  const width = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const height = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

function describeBox(box: Box): string {
  return `box ${Math.round(box.x)},${Math.round(box.y)} ${Math.round(box.width)}×${Math.round(box.height)}`;
}
