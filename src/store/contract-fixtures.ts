import assert from 'node:assert/strict';
import { afterEach, beforeEach } from 'node:test';
import type { ModelInfo } from '../core/types.js';
import { isFacedbError, type ErrorCode } from '../errors/errors.js';
import type { GalleryStore, NewFace } from './store.js';

/** Fixtures shared by the parts of the GalleryStore contract (`store.contract.ts` and the `*.contract.ts` it runs). */

/** A new, empty, unpinned gallery on every call. */
export type OpenStore = () => Promise<GalleryStore>;
/** Two separate connections to one new, empty gallery, as two processes would have. */
export type OpenTwice = () => Promise<[GalleryStore, GalleryStore]>;

export const MODEL: ModelInfo = {
  id: 'contract-model',
  version: '1',
  dimensions: 8,
  metric: 'euclidean',
  defaultThreshold: 0.6,
};

export function hash(key: string): string {
  // Any string works as a hash for the store; this looks like the SHA-256 hex it really gets.
  return Buffer.from(key).toString('hex').padEnd(64, '0');
}

/** Deterministic embedding per seed, with values that are not exact in float64 terms. */
export function embedding(seed: number): Float32Array {
  return Float32Array.from({ length: MODEL.dimensions }, (_, i) => Math.sin(seed * 31 + i) / 3);
}

export function newFace(key: string, overrides: Partial<NewFace> & { seed?: number } = {}): NewFace {
  const { seed = key.length * 1000 + key.charCodeAt(0), ...rest } = overrides;
  return {
    sourcePath: null,
    contentHash: hash(key),
    box: { x: 10, y: 20.5, width: 64, height: 80 },
    detectionScore: 0.987,
    embedding: embedding(seed),
    crop: Uint8Array.of(0xff, 0xd8, seed & 0xff),
    ...rest,
  };
}

export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isFacedbError(error), `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    caught = error;
    return true;
  });
  return caught as Error;
}

/** A pinned gallery with one person (found or created): the starting point of most contract tests. */
export async function pinnedPerson(store: GalleryStore, personName = 'Ada'): Promise<number> {
  await store.ensureModel(MODEL);
  return (await store.upsertPerson(personName)).id;
}

/**
 * The store of the test that is running: a new gallery from `open` before each test of the calling `describe`, closed
 * after it. Every contract part opens and closes the same way, so it is written once here.
 */
export function storePerTest(open: OpenStore): GalleryStore {
  let current: GalleryStore | undefined;
  beforeEach(async () => {
    current = await open();
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return new Proxy({} as GalleryStore, {
    get(_, property) {
      if (!current) throw new Error('the contract store is only open during a test');
      const value: unknown = Reflect.get(current, property, current);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
    has: (_, property) => current !== undefined && property in current,
  });
}
