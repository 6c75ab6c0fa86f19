import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RgbImage } from '../../image/image.js';
import { affineOfSimilarity, boxAffine, grayPlane, mirrorPlanes, NORMALISE, rgbPlanes, swapRedBlue, type Affine, type Border } from './preprocess.js';
import { seededRandom } from '../../../test/fixtures.js';

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

/**
 * The sampler written plainly (one loop over the four bilinear taps, every tap checked against the photo): the
 * specification the optimised `sample` must match bit for bit, so that embeddings never move with it.
 */
function referenceSample(source: RgbImage, m: Affine, width: number, height: number, border: Border): { r: Float64Array; g: Float64Array; b: Float64Array } {
  const { width: sw, height: sh, data } = source;
  const shrinkBy = Math.max(Math.hypot(m.a, m.c), Math.hypot(m.b, m.d));
  const grid = Math.min(4, Math.max(1, Math.round(shrinkBy)));
  const weight = 1 / (grid * grid);
  const out = { r: new Float64Array(width * height), g: new Float64Array(width * height), b: new Float64Array(width * height) };
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let sv = 0; sv < grid; sv++) {
        const vv = v + (sv + 0.5) / grid;
        for (let su = 0; su < grid; su++) {
          const uu = u + (su + 0.5) / grid;
          const x = m.a * uu + m.b * vv + m.tx - 0.5;
          const y = m.c * uu + m.d * vv + m.ty - 0.5;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          for (let k = 0; k < 4; k++) {
            let px = x0 + (k & 1);
            let py = y0 + (k >> 1);
            const w = ((k & 1) === 1 ? x - x0 : 1 - (x - x0)) * ((k >> 1) === 1 ? y - y0 : 1 - (y - y0));
            if (w === 0) continue;
            if (px < 0 || py < 0 || px >= sw || py >= sh) {
              if (border === 'black') continue;
              px = Math.min(Math.max(px, 0), sw - 1);
              py = Math.min(Math.max(py, 0), sh - 1);
            }
            const i = (py * sw + px) * 3;
            r += w * (data[i] ?? 0);
            g += w * (data[i + 1] ?? 0);
            b += w * (data[i + 2] ?? 0);
          }
        }
      }
      out.r[v * width + u] = r * weight;
      out.g[v * width + u] = g * weight;
      out.b[v * width + u] = b * weight;
    }
  }
  return out;
}

void describe('the optimised sampler', () => {
  void it('gives bit-identical planes to the per-tap reference, for crops, resizes, rotations and borders', () => {
    const random = seededRandom(7);
    const image: RgbImage = { width: 37, height: 29, data: Uint8Array.from({ length: 37 * 29 * 3 }, () => Math.floor(random() * 256)) };
    let compared = 0;
    for (let trial = 0; trial < 60; trial++) {
      // Every third map is a plain crop and resize (no rotation), as most of the nets' inputs are.
      const angle = trial % 3 === 0 ? 0 : (random() - 0.5) * 1.2;
      const zoom = 0.2 + random() * 3; // from enlarging 5x to shrinking 3.2x (a 4x4 sample grid)
      const m: Affine = { a: zoom * Math.cos(angle), b: -zoom * Math.sin(angle), c: zoom * Math.sin(angle), d: zoom * Math.cos(angle), tx: (random() - 0.3) * 30, ty: (random() - 0.3) * 25 };
      const border: Border = trial % 2 === 0 ? 'black' : 'edge';
      const [w, h] = [5 + (trial % 13), 4 + (trial % 11)];
      const reference = referenceSample(image, m, w, h, border);
      const planes = rgbPlanes(image, m, w, h, NORMALISE.signed, border);
      const gray = grayPlane(image, m, w, h, 1 / 256, border);
      for (let i = 0; i < w * h; i++) {
        const [r, g, b] = [reference.r[i]!, reference.g[i]!, reference.b[i]!];
        assert.equal(planes[i], Math.fround((r - 127) * (1 / 128)), `R at ${i} of trial ${trial}`);
        assert.equal(planes[i + w * h], Math.fround((g - 127) * (1 / 128)), `G at ${i} of trial ${trial}`);
        assert.equal(planes[i + 2 * w * h], Math.fround((b - 127) * (1 / 128)), `B at ${i} of trial ${trial}`);
        assert.equal(gray[i], Math.fround((0.299 * r + 0.587 * g + 0.114 * b) * (1 / 256)), `gray at ${i} of trial ${trial}`);
        compared += 1;
      }
    }
    assert.ok(compared > 3000);
  });
});
