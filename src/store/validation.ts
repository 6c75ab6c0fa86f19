import type { ModelInfo } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import type { NewFace, Page } from './store.js';

/*
 * Argument checks shared by every GalleryStore implementation, so they refuse the same inputs
 * with the same errors (the contract suite holds them to it).
 */

export function checkModel(model: ModelInfo): void {
  if (model.id.length === 0 || model.version.length === 0) {
    throw new FacedbError('invalid_input', 'model id and version must not be empty');
  }
  if (!Number.isInteger(model.dimensions) || model.dimensions <= 0) {
    throw new FacedbError('invalid_input', `model dimensions must be a positive integer, got ${model.dimensions}`);
  }
  if (!Number.isFinite(model.defaultThreshold) || model.defaultThreshold < 0) {
    throw new FacedbError('invalid_input', `model threshold must be a non-negative number, got ${model.defaultThreshold}`);
  }
}

export function describeModel(model: Pick<ModelInfo, 'id' | 'version' | 'dimensions'>): string {
  return `${model.id}@${model.version} (${model.dimensions}-D)`;
}

export function sameModel(a: ModelInfo, b: ModelInfo): boolean {
  return a.id === b.id && a.version === b.version && a.dimensions === b.dimensions;
}

export function checkPersonName(name: string): void {
  if (name.trim().length === 0) throw new FacedbError('invalid_input', 'person name must not be empty');
}

export function checkPage(page: Page): void {
  if (!Number.isInteger(page.limit) || page.limit < 0 || !Number.isInteger(page.offset) || page.offset < 0) {
    throw new FacedbError('invalid_input', `page limit and offset must be non-negative integers, got ${page.limit}/${page.offset}`);
  }
}

/** Checks a whole batch before anything is written, naming the first bad face by its position. */
export function checkNewFaces(faces: readonly NewFace[], dimensions: number): void {
  faces.forEach((face, i) => {
    const fail = (why: string): never => {
      throw new FacedbError('invalid_input', `face ${i} of the batch: ${why}`, { details: { index: i } });
    };
    if (face.contentHash.length === 0) fail('content hash is empty');
    if (face.embedding.length !== dimensions) {
      fail(`embedding has ${face.embedding.length} dimensions, the gallery's model has ${dimensions}`);
    }
    if (!face.embedding.every(Number.isFinite)) fail('embedding contains NaN or infinite values');
    const { x, y, width, height } = face.box;
    if (![x, y, width, height, face.detectionScore].every(Number.isFinite) || width < 0 || height < 0) {
      fail('box or detection score is not a finite number, or the box has negative size');
    }
  });
}
