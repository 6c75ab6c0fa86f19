/**
 * Pure helpers of the face engine: label mapping, box geometry, face selection and the eye-level
 * alignment of face crops. No model runtime here, so everything is unit-tested directly.
 */
import type { Box, Emotion, EmotionScores, Point } from '../core/types.js';
import type { RgbImage } from '../image/image.js';

/** face-api's expression classes, in the order its expression net outputs them. */
export const FACEAPI_EXPRESSIONS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'] as const;

const EMOTION_OF_EXPRESSION: Record<(typeof FACEAPI_EXPRESSIONS)[number], Emotion> = {
  neutral: 'neutral',
  happy: 'happy',
  sad: 'sad',
  angry: 'angry',
  fearful: 'fear',
  disgusted: 'disgust',
  surprised: 'surprise',
};

/** Maps the expression net's softmax output to facedb's labels, renormalised so float32 rounding still sums to 1. */
export function emotionFromExpressions(probabilities: ArrayLike<number>): EmotionScores {
  if (probabilities.length !== FACEAPI_EXPRESSIONS.length) {
    throw new Error(`expected ${FACEAPI_EXPRESSIONS.length} expression probabilities, got ${probabilities.length}`);
  }
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += probabilities[i] ?? 0;
  if (!Number.isFinite(sum) || sum <= 0) throw new Error('expression net returned no usable probabilities');
  const scores: EmotionScores = { angry: 0, disgust: 0, fear: 0, happy: 0, sad: 0, surprise: 0, neutral: 0 };
  FACEAPI_EXPRESSIONS.forEach((expression, i) => {
    scores[EMOTION_OF_EXPRESSION[expression]] = (probabilities[i] ?? 0) / sum;
  });
  return scores;
}

/** Clips a box to the image; a box entirely outside comes back with zero width or height. */
export function clampBox(box: Box, imageWidth: number, imageHeight: number): Box {
  const left = Math.min(Math.max(box.x, 0), imageWidth);
  const top = Math.min(Math.max(box.y, 0), imageHeight);
  const right = Math.min(Math.max(box.x + box.width, left), imageWidth);
  const bottom = Math.min(Math.max(box.y + box.height, top), imageHeight);
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Whole-pixel region inside the image covering the box, never empty (nets cannot take a 0-pixel crop). */
export function pixelRegion(box: Box, imageWidth: number, imageHeight: number): Box {
  const x = Math.min(Math.max(Math.floor(box.x), 0), imageWidth - 1);
  const y = Math.min(Math.max(Math.floor(box.y), 0), imageHeight - 1);
  const right = Math.min(Math.max(Math.ceil(box.x + box.width), x + 1), imageWidth);
  const bottom = Math.min(Math.max(Math.ceil(box.y + box.height), y + 1), imageHeight);
  return { x, y, width: right - x, height: bottom - y };
}

export interface FaceSelection {
  minDetectionScore: number;
  minFaceSize: number;
  maxFaces: number;
}

/** Drops weak and small detections, then keeps the `maxFaces` largest, largest first. */
export function selectFaces<T extends { box: Box; score: number }>(candidates: readonly T[], selection: FaceSelection): T[] {
  return candidates
    .filter((c) => c.score >= selection.minDetectionScore && c.box.width >= selection.minFaceSize)
    .sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)
    .slice(0, Math.max(0, selection.maxFaces));
}

/**
 * A similarity transform from output pixel (u, v) to source pixel (x, y):
 * x = cos·u − sin·v + tx, y = sin·u + cos·v + ty (cos and sin already include the scale).
 */
export interface SimilarityTransform {
  cos: number;
  sin: number;
  tx: number;
  ty: number;
}

// Same framing as face-api's dlib-style alignment (the crop the recogniser sees), plus rotation:
// the eyes-and-mouth centroid sits at (0.5, 0.43) of the crop and the eye-to-mouth distance is 0.45 of its side.
const CENTROID_X = 0.5;
const CENTROID_Y = 0.43;
const EYE_TO_MOUTH_FRACTION = 0.45;

function centroid(points: readonly Point[], from: number, to: number): Point {
  let x = 0;
  let y = 0;
  for (let i = from; i < to; i++) {
    const point = points[i];
    if (!point) throw new Error(`expected 68 landmarks, got ${points.length}`);
    x += point[0];
    y += point[1];
  }
  const n = to - from;
  return [x / n, y / n];
}

/** Transform producing a `size`x`size` crop of the face with the eyes level, from 68 iBUG landmarks. */
export function eyeLevelTransform(landmarks: readonly Point[], size: number): SimilarityTransform {
  const leftEye = centroid(landmarks, 36, 42);
  const rightEye = centroid(landmarks, 42, 48);
  const mouth = centroid(landmarks, 48, 68);
  const eyeToMouth = (Math.hypot(mouth[0] - leftEye[0], mouth[1] - leftEye[1]) + Math.hypot(mouth[0] - rightEye[0], mouth[1] - rightEye[1])) / 2;
  // Guard against degenerate landmarks so the crop is never a single smeared pixel.
  const sourceSide = Math.max(eyeToMouth / EYE_TO_MOUTH_FRACTION, 1);
  const scale = sourceSide / size;
  const angle = Math.atan2(rightEye[1] - leftEye[1], rightEye[0] - leftEye[0]);
  const cos = Math.cos(angle) * scale;
  const sin = Math.sin(angle) * scale;
  const centerX = (leftEye[0] + rightEye[0] + mouth[0]) / 3;
  const centerY = (leftEye[1] + rightEye[1] + mouth[1]) / 3;
  const u = CENTROID_X * size;
  const v = CENTROID_Y * size;
  return { cos, sin, tx: centerX - (cos * u - sin * v), ty: centerY - (sin * u + cos * v) };
}

/** Resamples a `size`x`size` RGB image through the transform (bilinear); pixels from outside the source are black. */
export function warpImage(source: RgbImage, transform: SimilarityTransform, size: number): RgbImage {
  const { width, height, data } = source;
  const out = new Uint8Array(size * size * 3);
  const sample = (x: number, y: number, c: number): number =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : (data[(y * width + x) * 3 + c] ?? 0);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const target = (v * size + u) * 3;
      for (let c = 0; c < 3; c++) {
        out[target + c] = Math.round(bilinearAt(transform, u + 0.5, v + 0.5, (x, y) => sample(x, y, c)));
      }
    }
  }
  return { width: size, height: size, data: out };
}

/**
 * Where the emotion crop sits relative to the detection box (SSD-style, in image pixels), in multiples of the
 * box's size m = sqrt(width·height): an upright square of side `side`·m centred `dy`·m below the box's centre.
 * FER-2013's crops, which both emotion nets were trained on, are loose upright detector boxes (forehead to chin).
 */
export interface EmotionFraming {
  side: number;
  dy: number;
}

/** Transform producing a `size`x`size` upright square crop around a detection box, framed by `framing`. */
export function emotionCropTransform(box: Box, size: number, framing: EmotionFraming): SimilarityTransform {
  const m = Math.sqrt(Math.max(box.width, 0) * Math.max(box.height, 0));
  const side = Math.max(m * framing.side, 1);
  const centerX = box.x + box.width / 2;
  const centerY = box.y + box.height / 2 + framing.dy * m;
  const scale = side / size;
  return { cos: scale, sin: 0, tx: centerX - side / 2, ty: centerY - side / 2 };
}

/**
 * Resamples a `size`x`size` grayscale crop (BT.601 luma, 0..255, one value per pixel) through the transform.
 * Pixels beyond the source repeat its edge; when the crop shrinks the face, each output pixel averages a grid of
 * up to 4x4 bilinear samples, so small crops of large photos are not aliased.
 */
export function warpGray(source: RgbImage, transform: SimilarityTransform, size: number): Float32Array {
  const { width, height, data } = source;
  const out = new Float32Array(size * size);
  const scale = Math.hypot(transform.cos, transform.sin);
  const grid = Math.min(4, Math.max(1, Math.ceil(scale - 0.01)));
  const luma = (x: number, y: number): number => {
    const cx = Math.min(Math.max(x, 0), width - 1);
    const cy = Math.min(Math.max(y, 0), height - 1);
    const i = (cy * width + cx) * 3;
    return 0.299 * (data[i] ?? 0) + 0.587 * (data[i + 1] ?? 0) + 0.114 * (data[i + 2] ?? 0);
  };
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      let total = 0;
      for (let sv = 0; sv < grid; sv++) {
        for (let su = 0; su < grid; su++) total += bilinearAt(transform, u + (su + 0.5) / grid, v + (sv + 0.5) / grid, luma);
      }
      out[v * size + u] = total / (grid * grid);
    }
  }
  return out;
}

/**
 * Bilinear sample of `pixel` at output position (u, v) mapped through `transform`. Positions are pixel centres, so a
 * pure scale maps the image without a half-pixel shift.
 */
function bilinearAt(transform: SimilarityTransform, u: number, v: number, pixel: (x: number, y: number) => number): number {
  const x = transform.cos * u - transform.sin * v + transform.tx - 0.5;
  const y = transform.sin * u + transform.cos * v + transform.ty - 0.5;
  const x0 = Math.floor(x);
  const y0 = Math.floor(y);
  const fx = x - x0;
  const fy = y - y0;
  const top = pixel(x0, y0) * (1 - fx) + pixel(x0 + 1, y0) * fx;
  const bottom = pixel(x0, y0 + 1) * (1 - fx) + pixel(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}

// ---------------------------------------------------------------------------------------------------------------
// ArcFace / InsightFace 5-point alignment: what ArcFace-trained descriptors (e.g. MobileFaceNet) were trained on.

/**
 * InsightFace's template for a 112x112 crop, in pixel-index coordinates (pixel (0, 0)'s centre is (0, 0)):
 * left eye, right eye, nose tip, left mouth corner, right mouth corner (left and right as seen in the photo).
 */
export const ARCFACE_TEMPLATE_112: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/**
 * The five ArcFace points where they fall in a `width`x`height` image that already is an ArcFace-style face crop:
 * the template stretched to the image. Used when detection is skipped (the whole image is the face).
 */
export function arcfaceTemplateIn(width: number, height: number): Point[] {
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [(x * width) / 112, (y * height) / 112]);
}

/** 2D similarity (rotation, uniform scale, translation): x' = a·x − b·y + tx, y' = b·x + a·y + ty. */
export interface Similarity {
  a: number;
  b: number;
  tx: number;
  ty: number;
}

/**
 * Least-squares similarity mapping `from` onto `to` (Umeyama 1991 in closed form for 2D, rotation without
 * reflection: the estimate insightface's norm_crop gets from skimage's SimilarityTransform).
 */
export function umeyama(from: readonly Point[], to: readonly Point[]): Similarity {
  const n = from.length;
  if (n < 2 || to.length !== n) throw new Error('umeyama needs two equally long lists of at least 2 points');
  let mx = 0;
  let my = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < n; i++) {
    const [fx, fy] = from[i] ?? [0, 0];
    const [tx, ty] = to[i] ?? [0, 0];
    mx += fx / n;
    my += fy / n;
    nx += tx / n;
    ny += ty / n;
  }
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
  // Degenerate input (all points equal): an identity-scale shift, so a crop is still produced.
  if (!(variance > 0)) return { a: 1, b: 0, tx: nx - mx, ty: ny - my };
  // For 2D the optimal rotation+scale reduces to a = (Sxx + Syy)/var, b = (Syx − Sxy)/var.
  const a = (sxx + syy) / variance;
  const b = (syx - sxy) / variance;
  return { a, b, tx: nx - (a * mx - b * my), ty: ny - (b * mx + a * my) };
}

export function invertSimilarity(m: Similarity): Similarity {
  const d = m.a * m.a + m.b * m.b;
  const a = m.a / d;
  const b = -m.b / d;
  return { a, b, tx: -(a * m.tx - b * m.ty), ty: -(b * m.tx + a * m.ty) };
}

export function applySimilarity(m: Similarity, [x, y]: Point): Point {
  return [m.a * x - m.b * y + m.tx, m.b * x + m.a * y + m.ty];
}

/**
 * The sampling transform (see warpImage) of a chip whose pixel (u, v), in pixel-index coordinates like the
 * landmarks, sits at photo point m(u, v). Pixel-index and pixel-centre coordinates differ by ½ on both sides.
 */
export function samplingTransform(m: Similarity): SimilarityTransform {
  return { cos: m.a, sin: m.b, tx: m.tx - 0.5 * m.a + 0.5 * m.b + 0.5, ty: m.ty - 0.5 * m.b - 0.5 * m.a + 0.5 };
}

/**
 * Sampling transform of the `size`x`size` ArcFace-aligned crop of the face whose five points (ARCFACE_TEMPLATE_112's
 * order, photo pixels) are given: estimated photo → template as insightface does, inverted for sampling.
 */
export function arcfaceTransform(fivePoints: readonly Point[], size = 112): SimilarityTransform {
  if (fivePoints.length !== 5) throw new Error(`expected 5 alignment points, got ${fivePoints.length}`);
  const scale = size / 112;
  const template = ARCFACE_TEMPLATE_112.map(([x, y]) => [x * scale, y * scale] as const);
  return samplingTransform(invertSimilarity(umeyama(fivePoints, template)));
}

/** The `size`x`size` ArcFace-aligned RGB crop (bilinear, black outside the photo, as cv2.warpAffine). */
export function arcfaceCrop(image: RgbImage, fivePoints: readonly Point[], size = 112): RgbImage {
  return warpImage(image, arcfaceTransform(fivePoints, size), size);
}
