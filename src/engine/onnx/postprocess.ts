/**
 * Pure post-processing of the ONNX nets' outputs (faceplugin-face-recognition-js's models; see its lib/*.js):
 * detector scores and boxes → faces after non-maximum suppression, landmark decoding, 68 → 5 alignment points,
 * softmax and label order of the expression net, L2 normalisation, SSR-Net age and gender decoding.
 * No runtime here, so everything is unit-tested directly.
 */
import { EMOTIONS, type Box, type Emotion, type EmotionScores, type Gender, type Point } from '../../core/types.js';

/** One detector candidate, corners normalised to the detector's input (0..1). */
export interface RawDetection {
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function iou(a: RawDetection, b: RawDetection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/**
 * The detector's output (Ultra-Light-Fast style, box decoding inside the graph): `scores` holds (background, face)
 * softmax pairs and `boxes` (x1, y1, x2, y2) corners in 0..1 per anchor. Keeps anchors scoring at least `minScore`,
 * then greedy non-maximum suppression: the best box wins over every box overlapping it by more than `maxIou`.
 */
export function decodeDetections(scores: Float32Array, boxes: Float32Array, minScore: number, maxIou: number): RawDetection[] {
  const anchors = scores.length / 2;
  if (!Number.isInteger(anchors) || boxes.length !== anchors * 4) {
    throw new Error(`detector output sizes do not match: ${scores.length} scores, ${boxes.length} box values`);
  }
  const candidates: RawDetection[] = [];
  for (let i = 0; i < anchors; i++) {
    const score = scores[2 * i + 1] ?? 0;
    if (!(score >= minScore)) continue;
    const x1 = boxes[4 * i] ?? 0;
    const y1 = boxes[4 * i + 1] ?? 0;
    const x2 = boxes[4 * i + 2] ?? 0;
    const y2 = boxes[4 * i + 3] ?? 0;
    if (x2 > x1 && y2 > y1) candidates.push({ score, x1, y1, x2, y2 });
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept: RawDetection[] = [];
  for (const candidate of candidates) {
    if (kept.every((k) => iou(k, candidate) <= maxIou)) kept.push(candidate);
  }
  return kept;
}

/**
 * Where the package's per-face nets look: a square of side `scale`·box height centred on the box (the detector's
 * box made square, as its lib/fr_detect.js does), shrunk to fit the image and moved inside it (lib/fr_landmark.js,
 * fr_age.js). Returns whole pixels, never empty.
 */
export function netSquare(box: Box, scale: number, imageWidth: number, imageHeight: number): Box {
  const side = Math.max(1, box.height);
  const s = Math.min((imageHeight - 1) / side, (imageWidth - 1) / side, scale);
  const size = Math.max(1, side * s);
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  let left = cx - size / 2;
  let top = cy - size / 2;
  left = Math.min(Math.max(left, 0), Math.max(0, imageWidth - 1 - size));
  top = Math.min(Math.max(top, 0), Math.max(0, imageHeight - 1 - size));
  const x = Math.floor(left);
  const y = Math.floor(top);
  const width = Math.max(1, Math.min(Math.floor(size), imageWidth - x));
  const height = Math.max(1, Math.min(Math.floor(size), imageHeight - y));
  return { x, y, width, height };
}

/** The landmark net's 136 outputs (x, y pairs relative to its crop, 0..1) → 68 iBUG points in image pixels. */
export function decodeLandmarks(output: ArrayLike<number>, crop: Box): Point[] {
  if (output.length !== 136) throw new Error(`expected 136 landmark values, got ${output.length}`);
  const points: Point[] = [];
  for (let i = 0; i < 68; i++) {
    points.push([crop.x + (output[2 * i] ?? 0) * crop.width, crop.y + (output[2 * i + 1] ?? 0) * crop.height]);
  }
  return points;
}

function average(points: readonly Point[], indices: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    const p = points[i];
    if (!p) throw new Error(`expected 68 landmarks, got ${points.length}`);
    x += p[0];
    y += p[1];
  }
  return [x / indices.length, y / indices.length];
}

/**
 * ArcFace's five points from 68 iBUG landmarks, as the package's lib/fr_feature.js derives them: each eye the mean of
 * its four lid points (37, 38, 40, 41 and 43, 44, 46, 47; the corners left out), the nose tip (30), each mouth corner
 * the mean of the outer and inner lip corners (48 and 60, 54 and 64).
 */
export function fivePointsFrom68(points: readonly Point[]): Point[] {
  return [
    average(points, [37, 38, 40, 41]),
    average(points, [43, 44, 46, 47]),
    average(points, [30]),
    average(points, [48, 60]),
    average(points, [54, 64]),
  ];
}

/** Divides by the L2 norm into a fresh array that owns its buffer; throws on a zero or non-finite vector. */
export function unitVector(vector: ArrayLike<number>): Float32Array {
  let norm = 0;
  for (let i = 0; i < vector.length; i++) norm += (vector[i] ?? 0) ** 2;
  norm = Math.sqrt(norm);
  if (!(norm > 0) || !Number.isFinite(norm)) throw new Error('the feature net returned a zero or non-finite embedding');
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i++) out[i] = (vector[i] ?? 0) / norm;
  return out;
}

/** Numerically stable softmax. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i] ?? -Infinity);
  const out = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    out[i] = Math.exp((logits[i] ?? -Infinity) - max);
    sum += out[i] ?? 0;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) throw new Error('the expression net returned no usable logits');
  for (let i = 0; i < out.length; i++) out[i] = (out[i] ?? 0) / sum;
  return out;
}

/**
 * fr_expression.onnx's output order, read off the shared FER photos (research/models/onnx.ts, "label order"): each
 * class's photos peak on this index far more often than on any other.
 */
export const EXPRESSION_LABELS: readonly Emotion[] = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'];

/** Softmax of the expression logits as facedb's seven emotions (summing to 1). */
export function emotionFromLogits(logits: ArrayLike<number>): EmotionScores {
  if (logits.length !== EXPRESSION_LABELS.length) throw new Error(`expected ${EXPRESSION_LABELS.length} expression logits, got ${logits.length}`);
  const p = softmax(logits);
  const scores = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as EmotionScores;
  EXPRESSION_LABELS.forEach((label, i) => {
    scores[label] += p[i] ?? 0;
  });
  return scores;
}

/** Mean of several emotion score sets (e.g. a crop and its mirror image), still summing to 1. */
export function averageEmotions(sets: readonly EmotionScores[]): EmotionScores {
  if (sets.length === 0) throw new Error('no emotion scores to average');
  const scores = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as EmotionScores;
  for (const set of sets) for (const e of EMOTIONS) scores[e] += set[e] / sets.length;
  return scores;
}

/** The nine SSR-Net outputs of fr_age.onnx and fr_gender.onnx, in the graph's output order. */
export const SSR_OUTPUTS = [
  'prob_stage_1',
  'prob_stage_2',
  'prob_stage_3',
  'stage1_delta_k',
  'stage2_delta_k',
  'stage3_delta_k',
  'index_offset_stage1',
  'index_offset_stage2',
  'index_offset_stage3',
] as const;

/**
 * SSR-Net's soft stagewise regression (Yang et al. 2018; lib/fr_age.js mergeAge with 3 bins per stage, λ = 1):
 * `x` is the concatenation of SSR_OUTPUTS (3 + 3 + 3 probabilities, 3 deltas, 3 + 3 + 3 offsets), `range` the
 * value of a full scale (101 years for age, 1 for gender).
 */
export function ssrRegression(x: ArrayLike<number>, range: number): number {
  if (x.length !== 21) throw new Error(`expected 21 SSR-Net values, got ${x.length}`);
  const at = (i: number): number => x[i] ?? 0;
  const bins = 3;
  const d1 = bins * (1 + at(9));
  const d2 = bins * (1 + at(10));
  const d3 = bins * (1 + at(11));
  let a = 0;
  let b = 0;
  let c = 0;
  for (let i = 0; i < bins; i++) {
    a += (i + at(12 + i)) * at(i);
    b += (i + at(15 + i)) * at(3 + i);
    c += (i + at(18 + i)) * at(6 + i);
  }
  return (a / d1 + b / d1 / d2 + c / d1 / d2 / d3) * range;
}

/**
 * fr_gender's regression runs from 0 (female) to 1 (male) (checked on the shared photos: research/models/onnx.ts);
 * the probability is how far it is from the middle, as a share of the half range.
 */
export function genderFromRegression(value: number): { gender: Gender; genderProbability: number } {
  const male = Math.min(Math.max(value, 0), 1);
  return male >= 0.5 ? { gender: 'male', genderProbability: male } : { gender: 'female', genderProbability: 1 - male };
}

/** Age in years from fr_age's regression, kept within 0..100. */
export function ageFromRegression(value: number): number {
  return Math.min(Math.max(value, 0), 100);
}
