/**
 * ArcFace / InsightFace 5-point face alignment, for the descriptor benchmarks only (bench/models/descriptor5.ts).
 * The five points (eye centres, nose tip, mouth corners) come from face-api's 68 iBUG landmarks; a least-squares
 * similarity transform (Umeyama 1991, no reflection) maps them onto InsightFace's canonical 112x112 template, and
 * the face is resampled bilinearly through it, black outside the photo (what insightface's norm_crop does with
 * cv2.warpAffine).
 */
import type { Point } from '../../src/core/types.js';
import type { RgbImage } from '../../src/image/image.js';
import { warpImage, type SimilarityTransform } from '../../src/engine/align.js';

/** InsightFace's template for a 112x112 crop, in pixel-index coordinates: left eye, right eye, nose, mouth left, mouth right. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

function mean(points: readonly Point[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i < to; i++) {
    const p = points[i];
    if (!p) throw new Error(`expected 68 landmarks, got ${points.length}`);
    x += p[0];
    y += p[1];
  }
  return [x / (to - from), y / (to - from)];
}

/**
 * The five ArcFace points from 68 iBUG landmarks (image left to right as the template has them): centre of
 * points 36–41 and of 42–47 (the eyes), point 30 (nose tip), points 48 and 54 (mouth corners).
 */
export function fivePoints(landmarks: readonly Point[]): Point[] {
  const at = (i: number): Point => {
    const p = landmarks[i];
    if (!p) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
    return p;
  };
  return [mean(landmarks, 36, 42), mean(landmarks, 42, 48), at(30), at(48), at(54)];
}

/**
 * The template for a `size`x`size` crop. `zoom` < 1 shrinks the face about the crop's centre (more margin),
 * e.g. for models trained on looser crops.
 */
export function template(size: number, zoom = 1): Point[] {
  const s = size / 112;
  const c = size / 2;
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [c + (x * s - c) * zoom, c + (y * s - c) * zoom] as const);
}

/** 2D similarity x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity mapping `from` onto `to` (Umeyama's closed form for 2D, rotation without reflection;
 * the estimate skimage's SimilarityTransform.estimate gives, which insightface uses).
 */
export function umeyama(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  if (n < 2 || to.length !== n) throw new Error('umeyama needs two equally long lists of at least 2 points');
  const [mx, my] = mean(from, 0, n);
  const [nx, ny] = mean(to, 0, n);
  // Cross-covariance terms and the variance of the source.
  let sxx = 0;
  let sxy = 0;
  let syx = 0;
  let syy = 0;
  let variance = 0;
  for (let i = 0; i < n; i++) {
    const [fx, fy] = from[i] ?? [0, 0];
    const [tx, ty] = to[i] ?? [0, 0];
    const px = fx - mx;
    const py = fy - my;
    const qx = tx - nx;
    const qy = ty - ny;
    sxx += qx * px;
    sxy += qx * py;
    syx += qy * px;
    syy += qy * py;
    variance += px * px + py * py;
  }
  // For 2D the optimal rotation+scale reduces to a = (Sxx + Syy)/var, b = (Syx − Sxy)/var.
  const a = (sxx + syy) / variance;
  const b = (syx - sxy) / variance;
  return { a, b, tx: nx - (a * mx - b * my), ty: ny - (b * mx + a * my) };
}

export function invert(m: Similarity): Similarity {
  const d = m.a * m.a + m.b * m.b;
  const a = m.a / d;
  const b = -m.b / d;
  return { a, b, tx: -(a * m.tx - b * m.ty), ty: -(b * m.tx + a * m.ty) };
}

export function apply(m: Similarity, [x, y]: Point): Point {
  return [m.a * x - m.b * y + m.tx, m.b * x + m.a * y + m.ty];
}

/**
 * The `size`x`size` ArcFace-aligned crop of the face with these 68 landmarks. The transform is estimated from
 * photo to template (as insightface does) and inverted for sampling; sampling is at integer pixel positions like
 * cv2.warpAffine (align.ts's warpImage samples pixel centres, so its offsets are adjusted to match).
 */
export function arcfaceCrop(image: RgbImage, landmarks: readonly Point[], size = 112, zoom = 1): RgbImage {
  const toTemplate = umeyama(fivePoints(landmarks), template(size, zoom));
  const m = invert(toTemplate); // output pixel (u, v) -> photo pixel (x, y)
  // warpImage: x = cos·(u+½) − sin·(v+½) + tx − ½; we want x = a·u − b·v + m.tx.
  const transform: SimilarityTransform = {
    cos: m.a,
    sin: m.b,
    tx: m.tx - 0.5 * m.a + 0.5 * m.b + 0.5,
    ty: m.ty - 0.5 * m.b - 0.5 * m.a + 0.5,
  };
  return warpImage(image, transform, size);
}

/** Mean distance, in template pixels, between the five points after alignment and the template (fit residual). */
export function alignmentResidual(landmarks: readonly Point[], size = 112): number {
  const pts = fivePoints(landmarks);
  const dst = template(size);
  const m = umeyama(pts, dst);
  return pts.reduce((sum, p, i) => {
    const [x, y] = apply(m, p);
    const [u, v] = dst[i] ?? [0, 0];
    return sum + Math.hypot(x - u, y - v);
  }, 0) / pts.length;
}
