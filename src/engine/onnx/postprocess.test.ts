import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EMOTIONS, type Point } from '../../core/types.js';
import {
  ageFromRegression,
  averageEmotions,
  decodeDetections,
  decodeLandmarks,
  emotionFromLogits,
  fivePointsFrom68,
  genderFromRegression,
  netSquare,
  softmax,
  ssrRegression,
  unitVector,
} from './postprocess.js';

void describe('decodeDetections', () => {
  // Three anchors: two overlapping boxes of one face and a weak one elsewhere.
  const scores = Float32Array.from([0.1, 0.9, 0.2, 0.8, 0.7, 0.3]);
  const boxes = Float32Array.from([0.1, 0.1, 0.5, 0.5, 0.12, 0.1, 0.52, 0.5, 0.6, 0.6, 0.9, 0.9]);

  void it('keeps the best of overlapping boxes and drops weak ones', () => {
    const kept = decodeDetections(scores, boxes, 0.5, 0.4);
    assert.equal(kept.length, 1);
    assert.ok(Math.abs((kept[0]?.score ?? 0) - 0.9) < 1e-6);
    assert.ok(Math.abs((kept[0]?.x1 ?? 0) - 0.1) < 1e-6);
  });

  void it('keeps separate faces, best first', () => {
    const kept = decodeDetections(scores, boxes, 0.25, 0.4);
    assert.deepEqual(kept.map((k) => Math.round(k.score * 10)), [9, 3]);
  });

  void it('rejects outputs whose sizes do not match', () => {
    assert.throws(() => decodeDetections(scores, boxes.subarray(0, 8), 0.5, 0.4), /do not match/);
  });
});

void describe('netSquare', () => {
  void it('makes the box a square of its height, centred', () => {
    assert.deepEqual(netSquare({ x: 40, y: 30, width: 20, height: 40 }, 1, 200, 200), { x: 30, y: 30, width: 40, height: 40 });
  });

  void it('moves the square inside the image and shrinks it to fit', () => {
    assert.deepEqual(netSquare({ x: -5, y: 0, width: 20, height: 20 }, 1, 100, 100), { x: 0, y: 0, width: 20, height: 20 });
    const big = netSquare({ x: 0, y: 0, width: 50, height: 50 }, 1.4, 48, 48);
    assert.ok(big.width <= 48 && big.height <= 48 && big.x >= 0 && big.y >= 0);
  });
});

void describe('decodeLandmarks and fivePointsFrom68', () => {
  void it('maps relative points into the crop', () => {
    const output = new Float32Array(136).fill(0.5);
    output[0] = 0;
    output[1] = 1;
    const points = decodeLandmarks(output, { x: 10, y: 20, width: 100, height: 50 });
    assert.equal(points.length, 68);
    assert.deepEqual(points[0], [10, 70]);
    assert.deepEqual(points[1], [60, 45]);
    assert.throws(() => decodeLandmarks(new Float32Array(10), { x: 0, y: 0, width: 1, height: 1 }));
  });

  void it('takes eye lid means, the nose tip and the mean mouth corners', () => {
    const points: Point[] = Array.from({ length: 68 }, (_, i) => [i, 2 * i] as const);
    const five = fivePointsFrom68(points);
    assert.deepEqual(five, [
      [39, 78],
      [45, 90],
      [30, 60],
      [54, 108],
      [59, 118],
    ]);
    assert.throws(() => fivePointsFrom68(points.slice(0, 40)));
  });
});

void describe('unitVector', () => {
  void it('scales to length 1 in a buffer of its own', () => {
    const source = new Float32Array(8);
    source.set([3, 4], 2);
    const unit = unitVector(source.subarray(2, 4));
    assert.deepEqual(Array.from(unit), [0.6000000238418579, 0.800000011920929]);
    assert.equal(unit.buffer.byteLength, 8);
  });

  void it('refuses a zero or non-finite vector', () => {
    assert.throws(() => unitVector([0, 0]));
    assert.throws(() => unitVector([NaN, 1]));
  });
});

void describe('softmax and emotionFromLogits', () => {
  void it('sums to 1 and survives large logits', () => {
    const p = softmax([1000, 1000, 999]);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(Math.abs((p[0] ?? 0) - (p[1] ?? 0)) < 1e-12);
  });

  void it('reads the net as angry, disgust, fear, happy, sad, surprise, neutral', () => {
    const scores = emotionFromLogits([0, 0, 0, 10, 0, 0, 0]);
    assert.ok(scores.happy > 0.99);
    assert.ok(emotionFromLogits([0, 0, 0, 0, 0, 0, 10]).neutral > 0.99);
    assert.ok(emotionFromLogits([0, 0, 10, 0, 0, 0, 0]).fear > 0.99);
    assert.ok(Math.abs(EMOTIONS.reduce((s, e) => s + scores[e], 0) - 1) < 1e-12);
    assert.throws(() => emotionFromLogits([1, 2]));
  });

  void it('averages score sets', () => {
    const a = emotionFromLogits([10, 0, 0, 0, 0, 0, 0]);
    const b = emotionFromLogits([0, 0, 0, 0, 0, 0, 10]);
    const mean = averageEmotions([a, b]);
    assert.ok(Math.abs(mean.angry - 0.5) < 0.01 && Math.abs(mean.neutral - 0.5) < 0.01);
  });
});

void describe('SSR-Net decoding', () => {
  void it('gives the top of the range when every stage is sure of its last bin', () => {
    // probabilities one-hot on bin 2, no deltas, no offsets: (2/3 + 2/9 + 2/27) · range
    const x = [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert.ok(Math.abs(ssrRegression(x, 101) - (2 / 3 + 2 / 9 + 2 / 27) * 101) < 1e-9);
    assert.equal(ssrRegression(new Array<number>(21).fill(0), 1), 0);
    assert.throws(() => ssrRegression([1, 2, 3], 1));
  });

  void it('reads gender 1 as male and 0 as female, with the distance from the middle as probability', () => {
    assert.deepEqual(genderFromRegression(0.9), { gender: 'male', genderProbability: 0.9 });
    assert.deepEqual(genderFromRegression(0.2), { gender: 'female', genderProbability: 0.8 });
    assert.deepEqual(genderFromRegression(1.3), { gender: 'male', genderProbability: 1 });
    assert.equal(ageFromRegression(-3), 0);
    assert.equal(ageFromRegression(37.5), 37.5);
  });
});
