/**
 * What the ONNX engine does with one photo, net by net: detect → 68 landmarks → 5-point ArcFace crop → embedding,
 * plus emotion, age and gender when asked. Every step takes the `run` function of runtime.ts, so this module never
 * imports a runtime itself; the experiments in research/models/onnx.ts and research/models/emotion.ts compose the
 * same steps with other settings.
 */
import sharp from 'sharp';
import type { Box, EmotionScores, FaceAttribute, Point } from '../../core/types.js';
import { toFacedbError } from '../../errors/errors.js';
import { checkRgbImage, type RgbImage } from '../../image/image.js';
import { arcfaceTemplateIn, arcfaceTransform, clampBox, selectFaces, warpImage } from '../align.js';
import type { AnalyzeOptions, FaceAnalysis, FaceAttributeScores } from '../engine.js';
import { padImage, stretchContrast } from '../enhance.js';
import { HUMAN_EMOTION_SIZE, humanEmotionScores } from '../human-emotion/postprocess.js';
import {
  ageFromRegression,
  averageEmotions,
  decodeDetections,
  decodeLandmarks,
  emotionFromLogits,
  fivePointsFrom68,
  genderFromRegression,
  netSquare,
  SSR_OUTPUTS,
  ssrRegression,
  unitVector,
  type RawDetection,
} from './postprocess.js';
import { affineOfSimilarity, boxAffine, grayPlane, NORMALISE, rgbPlanes, swapRedBlue } from './preprocess.js';
import type { Recogniser } from './pack.js';
import type { RunNet } from './runtime.js';

export const DETECTOR_WIDTH = 320;
export const DETECTOR_HEIGHT = 240;
/**
 * Candidates below this are dropped whatever the caller's threshold. Every LFW subset photo's face scores at least
 * 0.98 in colour and 0.886 in grayscale; from 0.9 half B of the subset loses grayscale photos and group.jpg a face,
 * while lower floors only add faces (research/models.md, "ONNX engine (v5)").
 */
export const DETECTOR_MIN_SCORE = 0.8;
/** Candidates overlapping a better one by more than this (IoU) are the same face. */
export const DETECTOR_MAX_IOU = 0.4;
/**
 * Border added on every side, as a multiple of the image's longer side, when the plain pass finds nothing: the
 * detector misses faces that fill the whole frame (tight crops such as the FER photos); see enhance.ts.
 */
export const RETRY_BORDER_FRACTION = 0.5;

const LANDMARK_SIZE = 64;
const FEATURE_SIZE = 112;
const EXPRESSION_SIZE = 224;
const AGE_GENDER_SIZE = 64;
/** The age and gender nets see the square box enlarged 1.4x (lib/fr_age.js). */
const AGE_GENDER_SCALE = 1.4;

/** Thumbnail: the ArcFace-aligned crop at this size, as a JPEG. */
export const ALIGNED_CROP_SIZE = 160;
const ALIGNED_CROP_JPEG_QUALITY = 90;

/**
 * The expression net was trained on FER-style face crops. It sees an upright square of EXPRESSION_SIDE box sizes
 * m = sqrt(width·height) around the face (the median FER photo's framing of this detector's box, measured on half A
 * of emotion-fer); a photo whose face box is at least WHOLE_PHOTO_COVERAGE of it (sqrt of the areas) already is
 * such a crop, and the net sees the whole photo. On emotion-fer (research/models.md, "ONNX engine (v5)"): the square
 * alone 61.0 % (half A) / 58.7 % (half B), with the whole-photo rule 65.0 % / 60.0 % (no-face photos counted
 * wrong); the rule's 0.5 was chosen on half A among 0.5, 0.6 and 0.7; the mirror image did not pay on half A.
 */
export const EXPRESSION_SIDE = 1.31;
export const WHOLE_PHOTO_COVERAGE = 0.5;

export interface Detected {
  score: number;
  /** In the caller's image, unclamped. */
  box: Box;
}

async function detectOnce(run: RunNet, pixels: RgbImage, minScore: number): Promise<RawDetection[]> {
  const input = rgbPlanes(pixels, boxAffine({ x: 0, y: 0, width: pixels.width, height: pixels.height }, DETECTOR_WIDTH, DETECTOR_HEIGHT), DETECTOR_WIDTH, DETECTOR_HEIGHT, NORMALISE.signed, 'edge');
  const out = await run('detect', input, [1, 3, DETECTOR_HEIGHT, DETECTOR_WIDTH]);
  const { scores, boxes } = out;
  if (!scores || !boxes) throw new Error('detector returned no scores or boxes');
  return decodeDetections(scores, boxes, minScore, DETECTOR_MAX_IOU);
}

/**
 * Every face the detector finds with at least `minScore`, in the caller's image. When the plain pass finds none,
 * a second pass runs on a contrast-stretched copy framed by a grey border (tight crops, washed-out photos).
 */
export async function detectFaces(run: RunNet, image: RgbImage, minScore: number): Promise<Detected[]> {
  const plain = await detectOnce(run, image, minScore);
  const toBox = (d: RawDetection, width: number, height: number, border: number): Box => ({
    x: d.x1 * width - border,
    y: d.y1 * height - border,
    width: (d.x2 - d.x1) * width,
    height: (d.y2 - d.y1) * height,
  });
  if (plain.length > 0) return plain.map((d) => ({ score: d.score, box: toBox(d, image.width, image.height, 0) }));
  const border = Math.round(Math.max(image.width, image.height) * RETRY_BORDER_FRACTION);
  const padded = padImage(stretchContrast(image), border);
  const retry = await detectOnce(run, padded, minScore);
  return retry.map((d) => ({ score: d.score, box: toBox(d, padded.width, padded.height, border) }));
}

/** 68 iBUG landmarks of the face in `box`, in image pixels. */
export async function landmarks68(run: RunNet, image: RgbImage, box: Box): Promise<Point[]> {
  const crop = netSquare(box, 1, image.width, image.height);
  const input = grayPlane(image, boxAffine(crop, LANDMARK_SIZE, LANDMARK_SIZE), LANDMARK_SIZE, LANDMARK_SIZE, 1 / 256);
  const { output } = await run('landmark', input, [1, 1, LANDMARK_SIZE, LANDMARK_SIZE]);
  if (!output) throw new Error('landmark net returned nothing');
  return decodeLandmarks(output, crop);
}

/**
 * The feature net reads its planes as B, G, R (OpenCV's order, which it was evidently trained with, whatever the
 * package's browser demo feeds it): on half A of the subset's people, false rejects at a per-pair FAR of 1e-4 fall from
 * 4.50 % (RGB) to 2.23 % and rank-1 rises from 99.58 % to 100 % (research/models.md, "ONNX engine (v5)").
 */
export const FEATURE_CHANNELS: 'bgr' | 'rgb' = 'bgr';

/** The built-in recogniser (fr_feature.onnx): the 112x112 ArcFace crop, (x − 127) / 128, planes in FEATURE_CHANNELS order. */
export const BUILT_IN_RECOGNISER: Recogniser = { input: FEATURE_SIZE, channels: FEATURE_CHANNELS, mean: 127, std: 128, dimensions: 512 };

/** The recogniser's input: the ArcFace crop of the five points at its size, normalised and in its plane order. */
export function featureInput(image: RgbImage, fivePoints: readonly Point[], recogniser = BUILT_IN_RECOGNISER): Float32Array {
  const { input: size, mean, std } = recogniser;
  const normalise = { offset: [mean, mean, mean], scale: [1 / std, 1 / std, 1 / std] } as const;
  const planes = rgbPlanes(image, affineOfSimilarity(arcfaceTransform(fivePoints, size)), size, size, normalise, 'black');
  return recogniser.channels === 'bgr' ? swapRedBlue(planes) : planes;
}

/** Raw output of the recogniser ('feature' net) for one input of its size. */
export async function featureOf(run: RunNet, input: Float32Array, size = BUILT_IN_RECOGNISER.input): Promise<Float32Array> {
  const { output } = await run('feature', input, [1, 3, size, size]);
  if (!output) throw new Error('feature net returned nothing');
  return output;
}

/**
 * Unit-length embedding of the face with these five points by `recogniser`. The crop alone: averaging with the mirror
 * image's embedding doubles the feature net's cost and did not pay on both halves (research/models.md, "flip averaging").
 */
export async function embeddingOf(run: RunNet, image: RgbImage, fivePoints: readonly Point[], recogniser = BUILT_IN_RECOGNISER): Promise<Float32Array> {
  return unitVector(await featureOf(run, featureInput(image, fivePoints, recogniser), recogniser.input));
}

/** Where the expression net looks for the face in `box` (see EXPRESSION_SIDE and WHOLE_PHOTO_COVERAGE). */
export function expressionRegion(image: RgbImage, box: Box): Box {
  const m = Math.sqrt(Math.max(box.width, 0) * Math.max(box.height, 0));
  if (m / Math.sqrt(image.width * image.height) >= WHOLE_PHOTO_COVERAGE) return { x: 0, y: 0, width: image.width, height: image.height };
  const side = Math.max(1, EXPRESSION_SIDE * m);
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, width: side, height: side };
}

/** The expression net's input: `region` of the photo resized to 224x224, RGB / 255 (lib/fr_expression.js). */
export function expressionInput(image: RgbImage, region: Box): Float32Array {
  return rgbPlanes(image, boxAffine(region, EXPRESSION_SIZE, EXPRESSION_SIZE), EXPRESSION_SIZE, EXPRESSION_SIZE, NORMALISE.unit, 'edge');
}

export async function expressionLogits(run: RunNet, input: Float32Array): Promise<Float32Array> {
  const { output } = await run('expression', input, [1, 3, EXPRESSION_SIZE, EXPRESSION_SIZE]);
  if (!output) throw new Error('expression net returned nothing');
  return output;
}

/**
 * Human's emotion net's input: the same `region` as the expression net's, resized to 64x64 grayscale (BT.601 luma)
 * scaled to −1..1. On half A of emotion-fer Human's net alone scores 62.5 % on this region against 55.8 % on engine
 * v4's FER-style square (side 1.55 box sizes) around this detector's box (research/models.md, "ONNX engine (v5)").
 */
export function humanEmotionInput(image: RgbImage, region: Box): Float32Array {
  const size = HUMAN_EMOTION_SIZE;
  return grayPlane(image, boxAffine(region, size, size), size, size, 1 / 127.5, 'edge').map((v) => v - 1);
}

/** Human's emotion net's probabilities (HUMAN_EMOTIONS order) for one humanEmotionInput. */
export async function humanEmotionProbabilities(run: RunNet, input: Float32Array): Promise<Float32Array> {
  const size = HUMAN_EMOTION_SIZE;
  if (input.length !== size * size) throw new Error(`expected a ${size}x${size} emotion input, got ${input.length} values`);
  const { output } = await run('humanEmotion', input, [1, size, size, 1]);
  if (!output) throw new Error("Human's emotion net returned nothing");
  return output;
}

/**
 * Emotion of the face in `box`: the equal-weight mean of the probabilities of fr_expression.onnx and of Human's
 * oarriaga net (two nets trained apart, no weight to tune), both on expressionRegion. On the six PublicTest classes
 * of emotion-fer, faces found: expression net alone 68.2 % (half A) / 62.8 % (half B), Human's alone 62.5 % /
 * 60.3 %, this mean 68.2 % / 66.3 % (research/models.md, "ONNX engine (v5)" → "Emotion", for every other candidate
 * and how the choice was made). Human's net costs about 1 ms more per face.
 */
export async function emotionOf(run: RunNet, image: RgbImage, box: Box): Promise<EmotionScores> {
  const region = expressionRegion(image, box);
  const expression = emotionFromLogits(await expressionLogits(run, expressionInput(image, region)));
  const human = humanEmotionScores(await humanEmotionProbabilities(run, humanEmotionInput(image, region)));
  return averageEmotions([expression, human]);
}

async function ssr(run: RunNet, net: 'age' | 'gender', input: Float32Array): Promise<number[]> {
  const out = await run(net, input, [1, 3, AGE_GENDER_SIZE, AGE_GENDER_SIZE]);
  return SSR_OUTPUTS.flatMap((name) => {
    const values = out[name];
    if (!values) throw new Error(`${net} net returned no ${name}`);
    return Array.from(values);
  });
}

/**
 * The attributes in `wanted` of the face in `box`: emotion (expression net and Human's net, see emotionOf), age and
 * gender (one SSR-Net each, on the same crop). A net whose attribute is not wanted does not run.
 */
export async function attributesOf(run: RunNet, image: RgbImage, box: Box, wanted: readonly FaceAttribute[]): Promise<FaceAttributeScores> {
  const scores: FaceAttributeScores = {};
  if (wanted.includes('emotion')) scores.emotion = await emotionOf(run, image, box);
  if (!wanted.includes('age') && !wanted.includes('gender')) return scores;
  const square = netSquare(box, AGE_GENDER_SCALE, image.width, image.height);
  const input = rgbPlanes(image, boxAffine(square, AGE_GENDER_SIZE, AGE_GENDER_SIZE), AGE_GENDER_SIZE, AGE_GENDER_SIZE, NORMALISE.imagenet);
  if (wanted.includes('age')) scores.age = ageFromRegression(ssrRegression(await ssr(run, 'age', input), 101));
  if (wanted.includes('gender')) Object.assign(scores, genderFromRegression(ssrRegression(await ssr(run, 'gender', input), 1)));
  return scores;
}

async function alignedCropJpeg(image: RgbImage, fivePoints: readonly Point[]): Promise<Uint8Array> {
  const crop = warpImage(image, arcfaceTransform(fivePoints, ALIGNED_CROP_SIZE), ALIGNED_CROP_SIZE);
  const jpeg = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .jpeg({ quality: ALIGNED_CROP_JPEG_QUALITY })
    .toBuffer();
  return new Uint8Array(jpeg);
}

/** The detector's faces, chosen by the caller's limits, largest first. */
async function detectedFaces(run: RunNet, image: RgbImage, options: AnalyzeOptions): Promise<Array<{ score: number; box: Box; detectionBox: Box }>> {
  const minScore = Math.max(options.minDetectionScore, DETECTOR_MIN_SCORE);
  const detected = await detectFaces(run, image, minScore);
  // Sizes and order from the box clamped to the photo; the nets look at the detector's own (unclamped) box.
  return selectFaces(
    detected
      .map((d) => ({ score: d.score, box: clampBox(d.box, image.width, image.height), detectionBox: d.box }))
      .filter((d) => d.box.width > 0 && d.box.height > 0),
    options,
  );
}

/** The engine's analyze: faces largest first, each with what `options.needs` asks for (embeddings by `recogniser`). */
export async function analyzeFaces(run: RunNet, image: RgbImage, options: AnalyzeOptions, recogniser = BUILT_IN_RECOGNISER): Promise<FaceAnalysis[]> {
  checkRgbImage(image);
  try {
    const whole = { x: 0, y: 0, width: image.width, height: image.height };
    // Without detection the whole image is the face, its five points ArcFace's template stretched to it.
    const faces = options.detect === false ? [{ score: 1, box: whole, detectionBox: whole }] : await detectedFaces(run, image, options);
    const results: FaceAnalysis[] = [];
    for (const face of faces) {
      const points = options.detect === false ? arcfaceTemplateIn(image.width, image.height) : fivePointsFrom68(await landmarks68(run, image, face.detectionBox));
      const analysis: FaceAnalysis = { box: face.box, detectionScore: face.score, landmarks: points };
      if (options.needs.embedding) analysis.embedding = await embeddingOf(run, image, points, recogniser);
      if (options.needs.attributes.length > 0) analysis.attributes = await attributesOf(run, image, face.detectionBox, options.needs.attributes);
      if (options.needs.crop) analysis.alignedCrop = await alignedCropJpeg(image, points);
      results.push(analysis);
    }
    return results;
  } catch (error) {
    throw toFacedbError(error);
  }
}
