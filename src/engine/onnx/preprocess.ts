/**
 * Pure pre-processing for the ONNX nets: RGB pixels in, planar (NCHW) float tensors out, sampled through an
 * affine map so every crop, resize and rotation is one pass. No runtime here, so it is unit-tested directly.
 */
import type { Box } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import type { SimilarityTransform } from '../align.js';

/**
 * Output point (u, v) → source point (x, y), both in pixel-centre coordinates (pixel (0, 0) spans [0, 1)):
 * x = a·u + b·v + tx, y = c·u + d·v + ty.
 */
export interface Affine {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
}

/** Per channel: value = (pixel − offset) · scale. */
export interface Normalisation {
  offset: readonly [number, number, number];
  scale: readonly [number, number, number];
}

/** What outside the photo reads as: black (cv2.warpAffine's default) or the nearest edge pixel. */
export type Border = 'black' | 'edge';

export function affineOfSimilarity(t: SimilarityTransform): Affine {
  return { a: t.cos, b: -t.sin, c: t.sin, d: t.cos, tx: t.tx, ty: t.ty };
}

/** Maps the whole `width`x`height` output onto `box` of the source (stretching, as a plain resize does). */
export function boxAffine(box: Box, width: number, height: number): Affine {
  return { a: box.width / width, b: 0, c: 0, d: box.height / height, tx: box.x, ty: box.y };
}

/** Source pixels per output pixel, the larger of the two axes. */
function shrink(m: Affine): number {
  return Math.max(Math.hypot(m.a, m.c), Math.hypot(m.b, m.d));
}

/** How `sample` turns one RGB sample into output values: three normalised planes, or one luma plane. */
type Writer = { kind: 'rgb'; offset: readonly [number, number, number]; scale: readonly [number, number, number] } | { kind: 'gray'; scale: number };

/**
 * Samples the source through `m` into planes of `width`x`height` (bilinear). When the map shrinks the source by 1.5x
 * or more, each output pixel averages a grid of round(shrink)² bilinear samples (up to 4x4), so small inputs of
 * large photos are not aliased. Until model version 6 any shrink above 1.01 took a 2x2 grid: a 250x250 photo
 * squeezed 4 % into the detector's 240 rows was blurred for nothing, at four times the cost. Rounding instead lowered
 * false rejects at FAR 1e-4 on both halves of the LFW subset's people (A 1.79 → 1.75 %, B 3.24 → 2.79 %) and raised
 * rank-1 on both (A 479 → 480 of 481, B 602 → 603 of 605): research/models.md, "Sampling".
 *
 * This runs for every input of every net (about 170,000 samples per photo), so it is written for speed: one branch
 * per sample picks the interior case (all four taps inside the photo) and everything is inlined. The arithmetic is
 * the same, in the same order, as the plain per-tap loop kept in preprocess.test.ts as the reference: inputs, and so
 * embeddings, are bit-for-bit what they were (the test compares them).
 */
function sample(source: RgbImage, m: Affine, width: number, height: number, border: Border, writer: Writer): Float32Array {
  const { width: sw, height: sh, data } = source;
  const planeSize = width * height;
  const out = new Float32Array((writer.kind === 'rgb' ? 3 : 1) * planeSize);
  const grid = Math.min(4, Math.max(1, Math.round(shrink(m))));
  const weight = 1 / (grid * grid);
  const edge = border === 'edge';
  const stride = sw * 3;
  const { a, b: mb, c, d, tx, ty } = m;
  const [o0, o1, o2] = writer.kind === 'rgb' ? writer.offset : [0, 0, 0];
  const [s0, s1, s2] = writer.kind === 'rgb' ? writer.scale : [writer.scale, 0, 0];
  const rgb = writer.kind === 'rgb';
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      let r = 0;
      let g = 0;
      let bl = 0;
      for (let sv = 0; sv < grid; sv++) {
        const vv = v + (sv + 0.5) / grid;
        for (let su = 0; su < grid; su++) {
          const uu = u + (su + 0.5) / grid;
          const x = a * uu + mb * vv + tx - 0.5;
          const y = c * uu + d * vv + ty - 0.5;
          const x0 = Math.floor(x);
          const y0 = Math.floor(y);
          const fx = x - x0;
          const fy = y - y0;
          if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
            const w0 = (1 - fx) * (1 - fy);
            const w1 = fx * (1 - fy);
            const w2 = (1 - fx) * fy;
            const w3 = fx * fy;
            const i0 = (y0 * sw + x0) * 3;
            const i2 = i0 + stride;
            r += w0 * data[i0]!;
            g += w0 * data[i0 + 1]!;
            bl += w0 * data[i0 + 2]!;
            r += w1 * data[i0 + 3]!;
            g += w1 * data[i0 + 4]!;
            bl += w1 * data[i0 + 5]!;
            r += w2 * data[i2]!;
            g += w2 * data[i2 + 1]!;
            bl += w2 * data[i2 + 2]!;
            r += w3 * data[i2 + 3]!;
            g += w3 * data[i2 + 4]!;
            bl += w3 * data[i2 + 5]!;
            continue;
          }
          for (let k = 0; k < 4; k++) {
            let px = x0 + (k & 1);
            let py = y0 + (k >> 1);
            const w = ((k & 1) === 1 ? fx : 1 - fx) * ((k >> 1) === 1 ? fy : 1 - fy);
            if (w === 0) continue;
            if (px < 0 || py < 0 || px >= sw || py >= sh) {
              if (!edge) continue; // black contributes nothing
              px = Math.min(Math.max(px, 0), sw - 1);
              py = Math.min(Math.max(py, 0), sh - 1);
            }
            const i = (py * sw + px) * 3;
            r += w * data[i]!;
            g += w * data[i + 1]!;
            bl += w * data[i + 2]!;
          }
        }
      }
      const index = v * width + u;
      if (rgb) {
        out[index] = (r * weight - o0) * s0;
        out[index + planeSize] = (g * weight - o1) * s1;
        out[index + 2 * planeSize] = (bl * weight - o2) * s2;
      } else {
        out[index] = (0.299 * (r * weight) + 0.587 * (g * weight) + 0.114 * (bl * weight)) * s0;
      }
    }
  }
  return out;
}

/** A 1x3xHxW RGB tensor of the source seen through `m`, normalised per channel. */
export function rgbPlanes(source: RgbImage, m: Affine, width: number, height: number, norm: Normalisation, border: Border = 'black'): Float32Array {
  return sample(source, m, width, height, border, { kind: 'rgb', offset: norm.offset, scale: norm.scale });
}

/** A 1x1xHxW luma tensor (BT.601) of the source seen through `m`, times `scale`. */
export function grayPlane(source: RgbImage, m: Affine, width: number, height: number, scale: number, border: Border = 'edge'): Float32Array {
  return sample(source, m, width, height, border, { kind: 'gray', scale });
}

/** The same three planes in the other order (RGB ↔ BGR). */
export function swapRedBlue(planes: Float32Array): Float32Array {
  const size = planes.length / 3;
  if (!Number.isInteger(size)) throw new Error(`expected three planes, got ${planes.length} values`);
  const out = new Float32Array(planes.length);
  out.set(planes.subarray(2 * size), 0);
  out.set(planes.subarray(size, 2 * size), size);
  out.set(planes.subarray(0, size), 2 * size);
  return out;
}

/** Mirrors each W-wide row of every plane of a planar tensor (test-time flip). */
export function mirrorPlanes(planes: Float32Array, width: number): Float32Array {
  const out = new Float32Array(planes.length);
  for (let row = 0; row < planes.length; row += width) {
    for (let x = 0; x < width; x++) out[row + x] = planes[row + width - 1 - x] ?? 0;
  }
  return out;
}

/** The nets' normalisations, from the package's lib/*.js. */
export const NORMALISE = {
  /** fr_detect and fr_feature: (x − 127) / 128. */
  signed: { offset: [127, 127, 127], scale: [1 / 128, 1 / 128, 1 / 128] },
  /** fr_expression: x / 255. */
  unit: { offset: [0, 0, 0], scale: [1 / 255, 1 / 255, 1 / 255] },
  /** fr_age and fr_gender: ImageNet mean and standard deviation on x / 255. */
  imagenet: { offset: [0.485 * 255, 0.456 * 255, 0.406 * 255], scale: [1 / (0.229 * 255), 1 / (0.224 * 255), 1 / (0.225 * 255)] },
} as const satisfies Record<string, Normalisation>;
