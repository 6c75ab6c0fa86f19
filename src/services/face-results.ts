import { emotionResult } from '../core/emotion.js';
import type { FaceAnalysis, FaceNeeds } from '../engine/engine.js';
import { FacedbError } from '../errors/errors.js';
import type { DecodedImage } from '../image/image.js';
import type { FaceAttributes, ImageInfo } from './results.js';

/** What each operation asks the engine for beyond the box: it skips the nets nobody needs. */
export const NEEDS = {
  detect: { embedding: false, attributes: false, crop: false },
  enroll: { embedding: true, attributes: false, crop: true },
  identify: { embedding: true, attributes: true, crop: false },
  // verify answers with each face's attributes too (its JSON has always carried them).
  verify: { embedding: true, attributes: true, crop: false },
  analyze: { embedding: false, attributes: true, crop: false },
  represent: { embedding: true, attributes: false, crop: false },
  search: { embedding: true, attributes: false, crop: false },
} as const satisfies Record<string, FaceNeeds>;

/** The embedding the engine was asked for; its absence is an engine bug, not the caller's. */
export function embeddingOf(face: FaceAnalysis): Float32Array {
  if (!face.embedding) throw new FacedbError('internal', 'the engine returned a face without the embedding it was asked for');
  return face.embedding;
}

export function attributes(face: FaceAnalysis): FaceAttributes {
  const scores = face.attributes;
  if (!scores) throw new FacedbError('internal', 'the engine returned a face without the attributes it was asked for');
  return {
    box: roundBox(face.box),
    detectionScore: round(face.detectionScore),
    emotion: emotionResult(scores.emotion),
    age: Math.round(scores.age * 10) / 10,
    gender: scores.gender,
    genderProbability: round(scores.genderProbability),
  };
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
