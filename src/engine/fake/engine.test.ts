import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { engineContract } from '../engine.contract.js';
import { createFakeEngine, FAKE_MODEL } from './engine.js';

engineContract('fake', () => createFakeEngine(), {
  skipPeople: 'the fake embeds pixels, not identities: it recognises only the very same photo',
});

void describe('fake engine', () => {
  void it('takes another model identity and a calibration when asked', async () => {
    const engine = await createFakeEngine({ model: { id: 'fake-b', version: '2' } });
    assert.deepEqual(engine.model, { ...FAKE_MODEL, id: 'fake-b', version: '2' });
    assert.equal(engine.calibration, undefined);
    await engine.close();
    await assert.rejects(engine.analyze({ width: 1, height: 1, data: new Uint8Array(3) }, {
      minDetectionScore: 0,
      maxFaces: 1,
      minFaceSize: 0,
      needs: { embedding: false, attributes: [], crop: false },
    }));
  });
});
