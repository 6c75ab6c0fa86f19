import type { Box } from '../../core/types.js';
import { toFacedbError } from '../../errors/errors.js';
import type { LabelledImagePath } from '../../image/scan.js';
import { sha256Hex } from '../../image/hash.js';
import type { FaceService } from '../face-service.js';
import type { EvaluatedPhoto } from './types.js';

export interface EmbedOptions {
  /** Called once per photo as soon as it is done (completion order). */
  onPhoto?: (photo: EvaluatedPhoto, done: number, total: number) => void;
  /** Stops taking new photos; photos in flight finish. */
  signal?: AbortSignal;
  /** Keep each face's aligned crop (JPEG) for the report's thumbnails. */
  keepCrops?: boolean;
}

export interface EmbeddedFolder {
  photos: EvaluatedPhoto[];
  /** Row i: the embedding of photos[i], or null without a face. */
  embeddings: Array<Float32Array | null>;
  crops: Map<string, Uint8Array>;
  interrupted: boolean;
}

/**
 * Embeds every photo exactly as enroll would (FaceService.enrollmentFaces: the same decoding limits, detection
 * settings and subject face), with as many photos in flight as enroll keeps. Writes nothing anywhere.
 * Photos not reached after an interrupt are left out.
 */
export async function embedPhotos(service: FaceService, items: readonly LabelledImagePath[], options: EmbedOptions = {}): Promise<EmbeddedFolder> {
  await service.engine(); // load the models before the lanes start, so a model failure stops the run once
  const photos = new Array<EvaluatedPhoto | undefined>(items.length);
  const embeddings = new Array<Float32Array | null>(items.length).fill(null);
  const crops = new Map<string, Uint8Array>();
  let next = 0;
  let done = 0;
  const lanes = Math.max(2, (service.config.workers ?? 2) * 2);
  const lane = async (): Promise<void> => {
    while (next < items.length && !options.signal?.aborted) {
      const i = next++;
      const item = items[i];
      if (!item) break;
      let photo: EvaluatedPhoto;
      try {
        const { faces, subject, bytes, width, height } = await service.enrollmentFaces(item.path);
        photo = { ...item, status: subject ? 'face' : 'no_face', facesFound: faces.length, contentHash: sha256Hex(bytes) };
        if (subject?.embedding) {
          embeddings[i] = subject.embedding;
          photo.box = subject.box;
          if (faces.length > 1) photo.taken = containsCentre(subject.box, width, height) ? 'centre' : 'largest';
          if (options.keepCrops && subject.alignedCrop) crops.set(item.path, subject.alignedCrop);
        }
      } catch (error) {
        photo = { ...item, status: 'unreadable', facesFound: 0, message: toFacedbError(error).message };
      }
      photos[i] = photo;
      done += 1;
      options.onPhoto?.(photo, done, items.length);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const reached = photos.flatMap((p, i) => (p ? [i] : []));
  return {
    photos: reached.map((i) => photos[i] as EvaluatedPhoto),
    embeddings: reached.map((i) => embeddings[i] ?? null),
    crops,
    interrupted: options.signal?.aborted === true && reached.length < items.length,
  };
}

function containsCentre(box: Box, width: number, height: number): boolean {
  return box.x <= width / 2 && width / 2 <= box.x + box.width && box.y <= height / 2 && height / 2 <= box.y + box.height;
}
