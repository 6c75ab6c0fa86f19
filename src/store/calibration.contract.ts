import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { calibrationKey } from '../core/confidence.js';
import type { ModelInfo } from '../core/types.js';
import { isFacedbError, type ErrorCode } from '../errors/errors.js';
import type { GalleryCalibration } from './calibration.js';
import type { GalleryStore } from './store.js';
import { storePerTest } from './contract-fixtures.js';

const MODEL: ModelInfo = { id: 'test-model', version: '1', dimensions: 4, metric: 'euclidean', defaultThreshold: 0.6 };

function calibration(overrides: Partial<GalleryCalibration> = {}): GalleryCalibration {
  return {
    model: calibrationKey(MODEL),
    far: 1e-3,
    points: [
      { far: 1e-2, threshold: 0.71, frr: 0.01 },
      { far: 1e-3, threshold: 0.62, frr: 0.03 },
    ],
    sample: { people: 40, photos: 120, genuinePairs: 200, impostorPairs: 7000 },
    source: '/photos/team',
    measuredAt: '2026-12-07T00:00:00.000Z',
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (error: unknown) => isFacedbError(error) && error.code === code);
}

/** The gallery's own calibration (facedb evaluate --apply / --reset), run by `runGalleryStoreContract` on every driver. */
export function runCalibrationContract(open: () => Promise<GalleryStore>, openTwice: () => Promise<[GalleryStore, GalleryStore]>): void {
  void describe('gallery calibration', () => {
    const store = storePerTest(open);

    void it('is absent at first, stored and read back whole, replaced, and cleared', async () => {
      assert.equal(await store.getCalibration(), null);
      await store.ensureModel(MODEL);
      await store.setCalibration(calibration());
      assert.deepEqual(await store.getCalibration(), calibration());
      await store.setCalibration(calibration({ far: 1e-2 }));
      assert.equal((await store.getCalibration())?.far, 1e-2);
      assert.equal(await store.clearCalibration(), true);
      assert.equal(await store.getCalibration(), null);
      assert.equal(await store.clearCalibration(), false);
    });

    void it('refuses an unpinned gallery, another model and impossible numbers, keeping what was stored', async () => {
      await rejectsWith(store.setCalibration(calibration()), 'invalid_input');
      await store.ensureModel(MODEL);
      await store.setCalibration(calibration());
      await rejectsWith(store.setCalibration(calibration({ model: 'other-model@2' })), 'model_mismatch');
      await rejectsWith(store.setCalibration(calibration({ far: 0.5 })), 'invalid_input');
      await rejectsWith(store.setCalibration(calibration({ points: [{ far: 1e-3, threshold: Number.NaN, frr: 0 }] })), 'invalid_input');
      await rejectsWith(store.setCalibration(calibration({ points: [] })), 'invalid_input');
      assert.deepEqual(await store.getCalibration(), calibration());
    });

    void it('is seen by another connection to the same gallery', async () => {
      const [a, b] = await openTwice();
      try {
        await a.ensureModel(MODEL);
        await a.setCalibration(calibration());
        assert.equal((await b.getCalibration())?.model, calibrationKey(MODEL));
        await b.clearCalibration();
        assert.equal(await a.getCalibration(), null);
      } finally {
        await a.close();
        await b.close();
      }
    });
  });
}
