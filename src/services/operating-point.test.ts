import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIdentify, formatVerify } from '../cli/report.js';
import { loadConfig } from '../config/config.js';
import type { ModelInfo } from '../core/types.js';
import { identifyFromWire, identifyResponse, identifyToWire, verifyFromWire, verifyResponse, verifyToWire } from '../server/wire.js';
import type { GalleryStore } from '../store/store.js';
import { FaceService } from './face-service.js';
import type { FaceAttributes, IdentifyResult, VerifyResult } from './results.js';

const uncalibrated = {
  model: { id: 'no-such-model', version: '0', dimensions: 128, metric: 'euclidean', defaultThreshold: 0.6 } satisfies ModelInfo,
  calibration: undefined,
};
const service = (overrides = {}): FaceService =>
  new FaceService(loadConfig(overrides, {}), {} as GalleryStore, () => Promise.reject(new Error('no engine in this test')));
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? 'no code';
  }
  return 'no error';
};

const attrs: FaceAttributes = {
  box: { x: 1, y: 2, width: 30, height: 40 },
  detectionScore: 0.99,
  emotion: { dominant: 'happy', scores: { angry: 0, disgust: 0, fear: 0, happy: 100, sad: 0, surprise: 0, neutral: 0 } },
  age: 40,
  gender: 'male',
  genderProbability: 0.9,
};

describe('operating point', () => {
  it('takes the per-call threshold, then the configured one, then the model default', () => {
    assert.equal(service().threshold(uncalibrated), 0.6);
    assert.equal(service({ threshold: 0.5 }).threshold(uncalibrated), 0.5);
    assert.equal(service({ threshold: 0.5 }).threshold(uncalibrated, { threshold: 0.4 }), 0.4);
    assert.equal(service({ targetFar: 0.001 }).threshold(uncalibrated, { threshold: 0.4 }), 0.4);
  });

  it('refuses a threshold and a FAR together, and a FAR for a model without calibration', () => {
    assert.equal(codeOf(() => service().threshold(uncalibrated, { threshold: 0.5, far: 0.001 })), 'invalid_input');
    assert.equal(codeOf(() => service({ threshold: 0.5, targetFar: 0.001 }).threshold(uncalibrated)), 'invalid_input');
    assert.equal(codeOf(() => service().threshold(uncalibrated, { far: 0.001 })), 'invalid_input');
    assert.equal(codeOf(() => service({ targetFar: 0.001 }).threshold(uncalibrated)), 'invalid_input');
  });

  it('reads FACEDB_TARGET_FAR and rejects a rate outside what the HTTP API accepts too', () => {
    assert.equal(loadConfig({}, { FACEDB_TARGET_FAR: '0.001' }).targetFar, 0.001);
    assert.equal(codeOf(() => loadConfig({}, { FACEDB_TARGET_FAR: '2' })), 'invalid_input');
    assert.equal(codeOf(() => loadConfig({}, { FACEDB_TARGET_FAR: '0.5' })), 'invalid_input', 'above 0.1, as POST /v1/identify refuses');
    assert.equal(codeOf(() => loadConfig({}, { FACEDB_TARGET_FAR: '1e-7' })), 'invalid_input', 'below what was measured');
  });
});

describe('confidence in reports and on the wire', () => {
  const identify: IdentifyResult = {
    image: { width: 100, height: 100, format: 'jpeg' },
    threshold: 0.6,
    thresholdSource: 'engine',
    faces: [
      {
        ...attrs,
        match: { personId: 1, person: 'Bono', distance: 0.41, confidence: 0.97, threshold: 0.6 },
        candidates: [
          { personId: 1, person: 'Bono', distance: 0.41, confidence: 0.97 },
          { personId: 2, person: 'Brad Pitt', distance: 0.8, confidence: null },
        ],
      },
    ],
  };
  const verify: VerifyResult = { verified: true, distance: 0.41, confidence: 0.97, threshold: 0.6, thresholdSource: 'engine', faces: [attrs, attrs] };

  it('says how likely the match is that person, and the same person for verify', () => {
    const text = formatIdentify('probe.jpg', identify);
    assert.match(text, /who: Bono {2}\(distance 0\.410 ≤ threshold 0\.6, 97 % likely it is Bono\)/);
    assert.match(text, /candidates: Bono 0\.410 \(97 %\), Brad Pitt 0\.800\n/);
    assert.match(formatVerify('a', 'b', verify), /same person {2}\(distance 0\.410 ≤ threshold 0\.6, 97 % likely the same person\)/);
    assert.doesNotMatch(formatVerify('a', 'b', { ...verify, confidence: null }), /likely/);
  });

  it('never pairs "unknown" with a likely match, and flags a doubtful match', () => {
    const [face] = identify.faces;
    assert.ok(face);
    const nearest = { personId: 1, person: 'Bono', distance: 0.7, confidence: 0.19 };
    const unknown = formatIdentify('probe.jpg', { ...identify, faces: [{ ...face, match: null, candidates: [nearest] }] });
    assert.match(unknown, /who: unknown {2}\(nearest Bono at 0\.700 > threshold 0\.6, 19 % likely it is Bono\)/);
    assert.doesNotMatch(unknown, /likely the same person/);
    const doubtful = { ...nearest, distance: 0.5, confidence: 0.4 };
    const loose = formatIdentify('probe.jpg', { ...identify, faces: [{ ...face, match: { ...doubtful, threshold: 0.6 }, candidates: [doubtful] }] });
    assert.match(loose, /who: Bono {2}\(distance 0\.500 ≤ threshold 0\.6, only 40 % likely it is Bono: the threshold is loose/);
  });

  it('carries confidence (or null) through the HTTP JSON both ways', () => {
    const wire = identifyResponse.parse(identifyToWire(identify, 1));
    assert.equal(wire.faces[0]?.match?.confidence, 0.97);
    assert.equal(wire.faces[0]?.candidates[1]?.confidence, null);
    assert.deepEqual(identifyFromWire(wire), identify);
    const v = verifyResponse.parse(verifyToWire(verify, 1));
    assert.equal(v.confidence, 0.97);
    assert.deepEqual(verifyFromWire(v), verify);
  });
});
