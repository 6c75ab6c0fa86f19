import { checkAttributes } from '../core/attributes.js';
import { emotionResult } from '../core/emotion.js';
import { FACE_ATTRIBUTES, type FaceAttribute } from '../core/types.js';
import type { FaceAnalysis, FaceNeeds } from '../engine/engine.js';
import { FacedbError } from '../errors/errors.js';
import type { DecodedImage } from '../image/image.js';
import type { FaceAttributes, ImageInfo } from './results.js';

const NO_ATTRIBUTES: readonly FaceAttribute[] = [];

/**
 * What each operation asks the engine for beyond the box: it skips the nets nobody needs. The attributes are the
 * defaults; identify, verify and analyze take the caller's own set instead (withAttributes).
 */
export const NEEDS = {
  detect: { embedding: false, attributes: NO_ATTRIBUTES, crop: false },
  enroll: { embedding: true, attributes: NO_ATTRIBUTES, crop: true },
  identify: { embedding: true, attributes: FACE_ATTRIBUTES, crop: false },
  // verify answers with each face's attributes too (its JSON has always carried them).
  verify: { embedding: true, attributes: FACE_ATTRIBUTES, crop: false },
  analyze: { embedding: false, attributes: FACE_ATTRIBUTES, crop: false },
  represent: { embedding: true, attributes: NO_ATTRIBUTES, crop: false },
  search: { embedding: true, attributes: NO_ATTRIBUTES, crop: false },
} as const satisfies Record<string, FaceNeeds>;

/** An operation's needs with the caller's attributes (checked: invalid_input names an unknown one), else its default. */
export function withAttributes(needs: FaceNeeds, asked: readonly FaceAttribute[] | undefined): FaceNeeds {
  return asked === undefined ? needs : { ...needs, attributes: checkAttributes(asked) };
}

/** The embedding the engine was asked for; its absence is an engine bug, not the caller's. */
export function embeddingOf(face: FaceAnalysis): Float32Array {
  if (!face.embedding) throw new FacedbError('internal', 'the engine returned a face without the embedding it was asked for');
  return face.embedding;
}

/** A face's box and the attributes in `wanted` (each one the engine was asked for; its absence is an engine bug). */
export function attributes(face: FaceAnalysis, wanted: readonly FaceAttribute[]): FaceAttributes {
  const result: FaceAttributes = { box: roundBox(face.box), detectionScore: round(face.detectionScore) };
  const scores = face.attributes ?? {};
  const missing = (name: FaceAttribute): FacedbError => new FacedbError('internal', `the engine returned a face without the ${name} it was asked for`);
  for (const name of wanted) {
    if (name === 'emotion') {
      if (!scores.emotion) throw missing(name);
      result.emotion = emotionResult(scores.emotion);
    } else if (name === 'age') {
      if (scores.age === undefined) throw missing(name);
      result.age = Math.round(scores.age * 10) / 10;
    } else {
      if (scores.gender === undefined || scores.genderProbability === undefined) throw missing(name);
      result.gender = scores.gender;
      result.genderProbability = round(scores.genderProbability);
    }
  }
  return result;
}

export function imageInfo(image: DecodedImage): ImageInfo {
  return { width: image.original?.width ?? image.width, height: image.original?.height ?? image.height, format: image.format };
}

export function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export function roundBox(box: FaceAttributes['box']): FaceAttributes['box'] {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}
