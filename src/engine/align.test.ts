import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Point } from '../core/types.js';
import { applySimilarity, ARCFACE_TEMPLATE_112, arcfaceCrop, arcfaceTransform, invertSimilarity, umeyama } from './align.js';
import { clampBox, emotionCropTransform, emotionFromExpressions, eyeLevelTransform, pixelRegion, selectFaces, warpGray, warpImage } from './align.js';

void describe('emotionFromExpressions', () => {
  void it("maps face-api's order (neutral, happy, sad, angry, fearful, disgusted, surprised) to facedb labels", () => {
    const scores = emotionFromExpressions([0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.79]);
    assert.equal(scores.neutral, 0.01);
    assert.equal(scores.happy, 0.02);
    assert.equal(scores.sad, 0.03);
    assert.equal(scores.angry, 0.04);
    assert.equal(scores.fear, 0.05);
    assert.equal(scores.disgust, 0.06);
    assert.equal(scores.surprise, 0.79);
  });

  void it('renormalises so the seven scores sum to 1', () => {
    const scores = emotionFromExpressions(Float32Array.from([0.2, 0.2, 0.2, 0.2, 0.1, 0.05, 0.04]));
    const sum = Object.values(scores).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(sum - 1) < 1e-9);
  });

  void it('rejects a wrong count or an all-zero output', () => {
    assert.throws(() => emotionFromExpressions([1, 0]));
    assert.throws(() => emotionFromExpressions([0, 0, 0, 0, 0, 0, 0]));
    assert.throws(() => emotionFromExpressions([NaN, 0, 0, 0, 0, 0, 1]));
  });
});

void describe('clampBox', () => {
  void it('clips a box that sticks out of the image', () => {
    assert.deepEqual(clampBox({ x: -10, y: 5, width: 50, height: 200 }, 100, 100), { x: 0, y: 5, width: 40, height: 95 });
  });

  void it('leaves a box inside the image alone', () => {
    assert.deepEqual(clampBox({ x: 1.5, y: 2, width: 3, height: 4 }, 10, 10), { x: 1.5, y: 2, width: 3, height: 4 });
  });

  void it('gives an empty box for one entirely outside', () => {
    const box = clampBox({ x: 120, y: -50, width: 10, height: 10 }, 100, 100);
    assert.equal(box.width, 0);
    assert.equal(box.height, 0);
  });
});

void describe('pixelRegion', () => {
  void it('rounds outwards to whole pixels inside the image', () => {
    assert.deepEqual(pixelRegion({ x: 1.2, y: -3, width: 5.5, height: 200 }, 50, 40), { x: 1, y: 0, width: 6, height: 40 });
  });

  void it('is never empty, even for a degenerate or outside box', () => {
    assert.deepEqual(pixelRegion({ x: 60, y: 60, width: 0, height: 0 }, 50, 40), { x: 49, y: 39, width: 1, height: 1 });
  });
});

void describe('selectFaces', () => {
  const face = (score: number, size: number) => ({ score, box: { x: 0, y: 0, width: size, height: size } });

  void it('drops weak and small faces and sorts the rest largest first', () => {
    const selected = selectFaces([face(0.9, 30), face(0.1, 100), face(0.8, 10), face(0.5, 60)], {
      minDetectionScore: 0.2,
      minFaceSize: 20,
      maxFaces: 10,
    });
    assert.deepEqual(selected, [face(0.5, 60), face(0.9, 30)]);
  });

  void it('keeps at most maxFaces, the largest', () => {
    const selected = selectFaces([face(0.9, 30), face(0.9, 50), face(0.9, 40)], { minDetectionScore: 0, minFaceSize: 0, maxFaces: 2 });
    assert.deepEqual(selected.map((f) => f.box.width), [50, 40]);
  });
});

/** 68 landmarks with only the eyes and mouth placed (all this alignment reads), rotated by `angle` about (cx, cy). */
function syntheticLandmarks(angle: number, cx: number, cy: number): Point[] {
  const place = (x: number, y: number): Point => [cx + x * Math.cos(angle) - y * Math.sin(angle), cy + x * Math.sin(angle) + y * Math.cos(angle)];
  const points: Point[] = Array.from({ length: 68 }, () => place(0, 0));
  for (let i = 36; i < 42; i++) points[i] = place(-20, -10);
  for (let i = 42; i < 48; i++) points[i] = place(20, -10);
  for (let i = 48; i < 68; i++) points[i] = place(0, 30);
  return points;
}

void describe('eyeLevelTransform', () => {
  void it('puts both eyes on the same row of the crop, left eye on the left', () => {
    const size = 160;
    const t = eyeLevelTransform(syntheticLandmarks(0.4, 100, 80), size);
    // Invert the similarity to find where the eyes land in the crop.
    const toCrop = ([x, y]: Point): Point => {
      const det = t.cos * t.cos + t.sin * t.sin;
      const dx = x - t.tx;
      const dy = y - t.ty;
      return [(t.cos * dx + t.sin * dy) / det, (-t.sin * dx + t.cos * dy) / det];
    };
    const points = syntheticLandmarks(0.4, 100, 80);
    const leftEye = toCrop(points[36] ?? [0, 0]);
    const rightEye = toCrop(points[42] ?? [0, 0]);
    assert.ok(Math.abs(leftEye[1] - rightEye[1]) < 1e-6);
    assert.ok(leftEye[0] < rightEye[0]);
    assert.ok(leftEye[0] > 0 && rightEye[0] < size, 'eyes inside the crop');
  });

  void it('scales so the eye-to-mouth distance is 45% of the crop side', () => {
    const t = eyeLevelTransform(syntheticLandmarks(0, 100, 80), 100);
    const eyeToMouth = Math.hypot(20, 40);
    assert.ok(Math.abs(Math.hypot(t.cos, t.sin) * 100 * 0.45 - eyeToMouth) < 1e-9);
  });
});

void describe('warpImage', () => {
  void it('reproduces the source under the identity transform', () => {
    const data = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => i * 5);
    const out = warpImage({ width: 4, height: 4, data }, { cos: 1, sin: 0, tx: 0, ty: 0 }, 4);
    assert.deepEqual(out.data, data);
  });

  void it('fills pixels from outside the source with black', () => {
    const data = new Uint8Array(2 * 2 * 3).fill(200);
    const out = warpImage({ width: 2, height: 2, data }, { cos: 1, sin: 0, tx: 10, ty: 10 }, 2);
    assert.ok(out.data.every((v) => v === 0));
  });
});

void describe('emotion crop', () => {
  /** A 40x20 image whose red channel is 10 * x and green 5 * y, blue 0. */
  const gradient = {
    width: 40,
    height: 20,
    data: Uint8Array.from({ length: 40 * 20 * 3 }, (_, i) => {
      const pixel = Math.floor(i / 3);
      const [x, y] = [pixel % 40, Math.floor(pixel / 40)];
      return [Math.min(255, 10 * x), 5 * y, 0][i % 3]!;
    }),
  };

  void it('frames an upright square of side `side` box sizes, `dy` box sizes below the centre', () => {
    const t = emotionCropTransform({ x: 100, y: 50, width: 40, height: 90 }, 48, { side: 1.5, dy: 0.1 });
    const m = Math.sqrt(40 * 90);
    assert.equal(t.sin, 0);
    assert.ok(Math.abs(t.cos * 48 - 1.5 * m) < 1e-9, 'the crop spans 1.5 box sizes');
    // The crop's centre lands on the box centre, moved down by 0.1 box sizes.
    assert.ok(Math.abs(t.tx + t.cos * 24 - 120) < 1e-9);
    assert.ok(Math.abs(t.ty + t.cos * 24 - (95 + 0.1 * m)) < 1e-9);
  });

  void it('samples grey levels (BT.601 luma) through the transform, repeating edge pixels outside', () => {
    // Scale 1, no offset: output pixel (u, v) is source pixel (u, v).
    const out = warpGray(gradient, { cos: 1, sin: 0, tx: 0, ty: 0 }, 30);
    const luma = (x: number, y: number): number => 0.299 * Math.min(255, 10 * x) + 0.587 * 5 * y;
    for (const [u, v] of [[0, 0], [3, 7], [12, 19]] as const) assert.ok(Math.abs(out[v * 30 + u]! - luma(u, v)) < 1e-3, `(${u}, ${v})`);
    // Rows 20..29 lie below the image: they repeat its last row.
    assert.ok(Math.abs(out[25 * 30 + 3]! - luma(3, 19)) < 1e-3);
  });

  void it('averages when it shrinks, so a fine pattern does not alias', () => {
    const stripes = { width: 64, height: 64, data: Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (Math.floor(i / 3) % 2 === 0 ? 255 : 0)) };
    // 64 px onto 16: each output pixel covers 4x4 source pixels, half white.
    const out = warpGray(stripes, { cos: 4, sin: 0, tx: 0, ty: 0 }, 16);
    for (const value of out) assert.ok(Math.abs(value - 127.5) < 1, `${value}`);
  });
});

void describe('ArcFace 5-point alignment', () => {
  void it('umeyama recovers a rotation, scale and shift exactly', () => {
    const m = { a: 1.2 * Math.cos(0.3), b: 1.2 * Math.sin(0.3), tx: 5, ty: -7 };
    const from: Point[] = [
      [0, 0],
      [10, 0],
      [3, 8],
      [-4, 2],
      [7, 7],
    ];
    const fitted = umeyama(from, from.map((p) => applySimilarity(m, p)));
    for (const key of ['a', 'b', 'tx', 'ty'] as const) assert.ok(Math.abs(fitted[key] - m[key]) < 1e-9, key);
    const back = applySimilarity(invertSimilarity(m), applySimilarity(m, [3, 4]));
    assert.ok(Math.abs(back[0] - 3) < 1e-9 && Math.abs(back[1] - 4) < 1e-9);
  });

  void it('umeyama survives degenerate points', () => {
    const fitted = umeyama(
      [
        [1, 1],
        [1, 1],
      ],
      [
        [3, 4],
        [3, 4],
      ],
    );
    assert.ok(Number.isFinite(fitted.a) && Number.isFinite(fitted.tx));
    assert.throws(() => umeyama([[0, 0]], [[1, 1]]));
  });

  void it('puts the five points on the template: a photo that already is the template comes back unchanged', () => {
    const size = 112;
    const data = new Uint8Array(size * size * 3);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 251;
    const image = { width: size, height: size, data };
    const crop = arcfaceCrop(image, ARCFACE_TEMPLATE_112);
    assert.equal(crop.width, 112);
    let maxDiff = 0;
    for (let i = 0; i < data.length; i++) maxDiff = Math.max(maxDiff, Math.abs((crop.data[i] ?? 0) - (data[i] ?? 0)));
    assert.ok(maxDiff <= 1, `max difference ${maxDiff}`);
  });

  void it('maps a shifted, scaled, rotated face back onto the template', () => {
    const m = { a: 2 * Math.cos(-0.2), b: 2 * Math.sin(-0.2), tx: 40, ty: 25 };
    const inPhoto = ARCFACE_TEMPLATE_112.map((p) => applySimilarity(m, p));
    const t = arcfaceTransform(inPhoto, 112);
    // warpImage samples output pixel-centre (u + ½, v + ½) at photo pixel-centre coordinates.
    const [u, v] = ARCFACE_TEMPLATE_112[2] ?? [0, 0];
    const x = t.cos * (u + 0.5) - t.sin * (v + 0.5) + t.tx - 0.5;
    const y = t.sin * (u + 0.5) + t.cos * (v + 0.5) + t.ty - 0.5;
    const [px, py] = inPhoto[2] ?? [0, 0];
    assert.ok(Math.abs(x - px) < 1e-9 && Math.abs(y - py) < 1e-9);
    assert.throws(() => arcfaceTransform(inPhoto.slice(0, 4)));
  });
});
