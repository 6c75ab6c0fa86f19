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

/**
 * The one model-mismatch check: throws model_mismatch, naming both, when the gallery is pinned to a model other
 * than `model`. Used by both stores when pinning and by the service before searching with an engine.
 */
export function checkPinnedModel(pinned: ModelInfo | null, model: ModelInfo): void {
  if (pinned !== null && !sameModel(pinned, model)) throw modelMismatch(pinned, model);
}

export function modelMismatch(pinned: ModelInfo, requested: ModelInfo): FacedbError {
  return new FacedbError(
    'model_mismatch',
    `gallery is pinned to model ${describeModel(pinned)}, cannot use it with ${describeModel(requested)}; ` +
      'open it with its own engine, or move it to this one with `facedb reembed --to <new db>`',
    { details: { pinned: { id: pinned.id, version: pinned.version }, requested: { id: requested.id, version: requested.version } } },
  );
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
