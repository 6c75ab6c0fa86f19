import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../image/image.js';
import { affineOfSimilarity, boxAffine, grayPlane, mirrorPlanes, NORMALISE, rgbPlanes, swapRedBlue } from './preprocess.js';

/** A width x height image whose pixel (x, y) is (x, y, 100) — easy to read back. */
function ramp(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([x, y, 100], (y * width + x) * 3);
  }
  return { width, height, data };
}

void describe('rgbPlanes', () => {
  void it('copies pixels into R, G and B planes when the map is the identity', () => {
    const image = ramp(4, 3);
    const planes = rgbPlanes(image, boxAffine({ x: 0, y: 0, width: 4, height: 3 }, 4, 3), 4, 3, NORMALISE.unit);
    assert.equal(planes.length, 36);
    // pixel (2, 1): R plane holds x, G plane y, B plane 100, each / 255.
    assert.ok(Math.abs((planes[1 * 4 + 2] ?? 0) - 2 / 255) < 1e-6);
    assert.ok(Math.abs((planes[12 + 1 * 4 + 2] ?? 0) - 1 / 255) < 1e-6);
    assert.ok(Math.abs((planes[24 + 1 * 4 + 2] ?? 0) - 100 / 255) < 1e-6);
  });

  void it('normalises (x − 127) / 128 for the detector and feature nets', () => {
    const image: RgbImage = { width: 1, height: 1, data: Uint8Array.from([255, 127, 0]) };
    const planes = rgbPlanes(image, boxAffine({ x: 0, y: 0, width: 1, height: 1 }, 1, 1), 1, 1, NORMALISE.signed);
    assert.deepEqual(Array.from(planes), [1, 0, -127 / 128]);
  });

  void it('crops a box and resizes it, averaging when it shrinks', () => {
    const image = ramp(8, 8);
    // The right half (x 4..7) shrunk to 2x2: each output pixel averages a 2x2 block of the source.
    const planes = rgbPlanes(image, boxAffine({ x: 4, y: 0, width: 4, height: 8 }, 2, 2), 2, 2, NORMALISE.unit, 'edge');
    assert.ok(Math.abs((planes[0] ?? 0) * 255 - 4.5) < 1e-4, `got ${(planes[0] ?? 0) * 255}`);
    // Samples at x 5.75, 6.25, 6.75 and 7.25 (the last one reads the edge pixel 7).
    assert.ok(Math.abs((planes[1] ?? 0) * 255 - 6.4375) < 1e-4);
    assert.ok(Math.abs((planes[4 + 2] ?? 0) * 255 - 5.5) < 1e-4, 'G of the bottom-left output pixel: rows 4..7');
  });

  void it('reads black outside the photo, or the edge pixel when asked', () => {
    const image: RgbImage = { width: 1, height: 1, data: Uint8Array.from([200, 200, 200]) };
    const outside = boxAffine({ x: 5, y: 5, width: 1, height: 1 }, 1, 1);
    assert.equal(rgbPlanes(image, outside, 1, 1, NORMALISE.unit, 'black')[0], 0);
    assert.ok(Math.abs((rgbPlanes(image, outside, 1, 1, NORMALISE.unit, 'edge')[0] ?? 0) - 200 / 255) < 1e-6);
  });

  void it('follows a rotation given as a similarity transform', () => {
    const image = ramp(3, 3);
    // 90°: output (u, v) samples source (−v + 3, u), i.e. the image turned a quarter.
    const planes = rgbPlanes(image, affineOfSimilarity({ cos: 0, sin: 1, tx: 3, ty: 0 }), 3, 3, NORMALISE.unit);
    // output pixel (0, 0), centre (0.5, 0.5) → source (2.5, 0.5): pixel (2, 0).
    assert.ok(Math.abs((planes[0] ?? 0) * 255 - 2) < 1e-4);
    assert.ok(Math.abs((planes[9] ?? 0) * 255 - 0) < 1e-4);
  });
});

void describe('grayPlane', () => {
  void it('gives BT.601 luma times the scale', () => {
    const image: RgbImage = { width: 1, height: 1, data: Uint8Array.from([255, 0, 0]) };
    const plane = grayPlane(image, boxAffine({ x: 0, y: 0, width: 1, height: 1 }, 1, 1), 1, 1, 1 / 256);
    assert.ok(Math.abs((plane[0] ?? 0) - (0.299 * 255) / 256) < 1e-6);
  });
});

void describe('mirrorPlanes', () => {
  void it('mirrors every row of every plane', () => {
    assert.deepEqual(Array.from(mirrorPlanes(Float32Array.from([1, 2, 3, 4, 5, 6]), 3)), [3, 2, 1, 6, 5, 4]);
  });
});

void describe('swapRedBlue', () => {
  void it('exchanges the first and the third plane', () => {
    assert.deepEqual(Array.from(swapRedBlue(Float32Array.from([1, 2, 3, 4, 5, 6]))), [5, 6, 3, 4, 1, 2]);
    assert.throws(() => swapRedBlue(new Float32Array(4)));
  });
});
