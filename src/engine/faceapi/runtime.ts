/**
 * The only module that touches tfjs and face-api: loads the five face-api nets once per thread and turns
 * RGB pixels into plain per-face data. Runs inside an inference worker (see worker.ts).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import sharp from 'sharp';
import type * as FaceApi from '@vladmandic/face-api';
import type * as Tfjs from '@tensorflow/tfjs';
import type * as TfjsWasm from '@tensorflow/tfjs-backend-wasm';
import { EMOTIONS, type Box, type EmotionScores, type Point } from '../../core/types.js';
import { FacedbError, toFacedbError } from '../../errors/errors.js';
import type { RgbImage } from '../../image/image.js';
import {
  clampBox,
  emotionCropTransform,
  emotionFromExpressions,
  eyeLevelTransform,
  FACEAPI_EXPRESSIONS,
  pixelRegion,
  selectFaces,
  warpGray,
  warpImage,
  type EmotionFraming,
} from '../align.js';
import type { AnalyzeOptions, FaceAnalysis } from '../engine.js';
import { padImage, stretchContrast } from '../enhance.js';
import { HUMAN_EMOTIONS, loadHumanModels, predictHumanEmotionGray, type HumanModels } from './human.js';

const require = createRequire(import.meta.url);

type Tensor3D = FaceApi.tf.Tensor3D;

export const ALIGNED_CROP_SIZE = 160;
const ALIGNED_CROP_JPEG_QUALITY = 90;
/** Faces per forward pass of the per-face nets: batching helps, unbounded batches would not fit in memory. */
const FACE_BATCH_SIZE = 16;
/** SSD keeps at most this many candidates before facedb filters them by size and count. */
const DETECTOR_MAX_CANDIDATES = 100;
/**
 * Border added on every side, as a multiple of the image's longer side, when the first pass finds nothing.
 * SSD misses faces that fill the whole frame (tight crops); framed to a third of the image it finds them
 * (48x48 FER crops: 86% found with this border and the contrast stretch, 41% with half of it, 0% without).
 */
const RETRY_BORDER_FRACTION = 1;
/** Longer side the retry pass shrinks larger photos to before adding the border. */
const RETRY_MAX_SIDE = 512;

export interface AnalyzeJob {
  image: RgbImage;
  options: AnalyzeOptions;
}

export interface FaceApiRuntime {
  analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]>;
  /** Tensors alive in this thread's tfjs engine, to check that analyze leaks none. */
  tensorCount(): number;
}

export interface Loaded {
  faceapi: typeof FaceApi;
  tfjs: typeof Tfjs;
  human: HumanModels;
}

/**
 * BlazeFace's box is a square from the brows to below the mouth; face-api's landmark net was trained on SSD's
 * taller box. Measured on 300 LFW photos (median over faces both found): SSD's centre sits 0.09 box heights
 * higher, its width is 0.96x and its height 1.14x BlazeFace's. Feeding the landmark net this mapped box keeps
 * its crop what it was trained on.
 */
const BLAZE_TO_SSD = { dy: -0.09, width: 0.96, height: 1.14 };
/**
 * BlazeFace's scores run higher than SSD's for background clutter: at 0.2 it reports 0.55 extra faces per LFW
 * photo (SSD 0.22), at 0.5 0.11, while the main face of every one of the 1,613 subset photos, colour or grayscale,
 * still scores above 0.6. So BlazeFace candidates below this are dropped whatever the caller's threshold.
 */
const BLAZE_MIN_SCORE = 0.5;
/** BlazeFace candidates overlapping more than this (IoU) are one face. */
const BLAZE_IOU = 0.3;

let loading: Promise<Loaded> | undefined;

/** Loads tfjs (wasm backend) and the models once per thread; later calls share them. */
export async function loadFaceApiRuntime(): Promise<FaceApiRuntime> {
  loading ??= loadModels();
  try {
    const loaded = await loading;
    return {
      analyze: (image, options) => analyze(loaded, image, options),
      tensorCount: () => loaded.tfjs.memory().numTensors,
    };
  } catch (error) {
    loading = undefined;
    throw new FacedbError('internal', `could not load the face models: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The loaded models themselves, for benchmarks that compare their parts (bench/models). */
export function loadRuntimeParts(): Promise<Loaded> {
  loading ??= loadModels();
  return loading;
}

async function loadModels(): Promise<Loaded> {
  // face-api's wasm bundle requires @tensorflow/tfjs itself; requiring it here yields that same instance.
  const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as typeof FaceApi;
  const tfjs = require('@tensorflow/tfjs') as typeof Tfjs;
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof TfjsWasm;
  // A plain path prefix: with the platform-fetch flag tfjs would try Node's fetch, which cannot read files.
  wasm.setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep);
  if (!(await tfjs.setBackend('wasm'))) throw new Error('the tfjs wasm backend could not be initialised');
  await tfjs.ready();
  tfjs.enableProdMode();
  const modelDir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  const { nets } = faceapi;
  await Promise.all([
    nets.ssdMobilenetv1.loadFromDisk(modelDir),
    nets.faceLandmark68Net.loadFromDisk(modelDir),
    nets.faceRecognitionNet.loadFromDisk(modelDir),
    nets.faceExpressionNet.loadFromDisk(modelDir),
    nets.ageGenderNet.loadFromDisk(modelDir),
  ]);
  const human = await loadHumanModels(tfjs);
  return { faceapi, tfjs, human };
}

function checkImage(image: RgbImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || data.length !== width * height * 3) {
    throw new FacedbError('invalid_image', `expected ${width}x${height} packed RGB pixels (${width * height * 3} bytes), got ${data.length} bytes`);
  }
}

/** The pixels one detection pass ran on, and how they relate to the caller's image. */
interface Pass {
  pixels: RgbImage;
  /** Border added on every side, in pass pixels. */
  border: number;
  /** Pass pixels per image pixel. */
  scale: number;
}

interface Candidate {
  score: number;
  /** In the caller's image, clamped to it. */
  box: Box;
  /** In the pass's pixels, unclamped: where the nets should look. */
  passBox: Box;
}

async function analyze(loaded: Loaded, image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
  checkImage(image);
  const { faceapi } = loaded;
  try {
    const { tf } = faceapi;
    let pass: Pass = { pixels: image, border: 0, scale: 1 };
    let input = tf.tensor3d(image.data, [image.height, image.width, 3], 'float32');
    try {
      // BlazeFace first (256x256 input, ~1/6 of SSD's cost at 512); the passes after it run only when every
      // earlier one found nothing, so one face is never reported twice by two passes.
      let faces = selectFaces(await detectBlaze(loaded, input, pass, image, options), options);
      if (faces.length === 0) faces = selectFaces(await detect(faceapi, input, pass, image, options), options);
      if (faces.length === 0) {
        // Only photos where the plain passes found nothing pay for the retry (low contrast, tight crops).
        input.dispose();
        pass = await retryPass(image);
        input = tf.tensor3d(pass.pixels.data, [pass.pixels.height, pass.pixels.width, 3], 'float32');
        faces = selectFaces(await detectBlaze(loaded, input, pass, image, options), options);
        if (faces.length === 0) faces = selectFaces(await detect(faceapi, input, pass, image, options), options);
      }
      return await describe(loaded, input, pass, image, faces, options.withCrop);
    } finally {
      input.dispose();
    }
  } catch (error) {
    throw toFacedbError(error);
  }
}

async function retryPass(image: RgbImage): Promise<Pass> {
  // SSD sees 512 pixels whatever the input, so shrinking a large photo first costs no recall and keeps
  // the bordered copy small (a 3x-wide border would otherwise need 9x the memory).
  const scale = Math.min(1, RETRY_MAX_SIDE / Math.max(image.width, image.height));
  const source = scale === 1 ? image : await resize(image, scale);
  const border = Math.round(Math.max(source.width, source.height) * RETRY_BORDER_FRACTION);
  return { pixels: padImage(stretchContrast(source), border), border, scale };
}

async function resize(image: RgbImage, scale: number): Promise<RgbImage> {
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width, height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** Maps a point of the pass's pixels back to the caller's image. */
function toImage(pass: Pass, x: number, y: number): Point {
  return [(x - pass.border) / pass.scale, (y - pass.border) / pass.scale];
}

async function detect(faceapi: typeof FaceApi, input: Tensor3D, pass: Pass, image: RgbImage, options: AnalyzeOptions): Promise<Candidate[]> {
  const detections = await faceapi.nets.ssdMobilenetv1.locateFaces(input, {
    // SSD rejects thresholds of exactly 0 or 1; selectFaces applies the caller's own threshold afterwards.
    minConfidence: Math.min(Math.max(options.minDetectionScore, 0.01), 0.99),
    maxResults: Math.max(DETECTOR_MAX_CANDIDATES, options.maxFaces),
  });
  return detections.map(({ score, box }) => {
    const passBox = { x: box.x, y: box.y, width: box.width, height: box.height };
    const [x, y] = toImage(pass, box.x, box.y);
    const inImage = clampBox({ x, y, width: box.width / pass.scale, height: box.height / pass.scale }, image.width, image.height);
    return { score, box: inImage, passBox };
  });
}

async function detectBlaze({ human }: Loaded, input: Tensor3D, pass: Pass, image: RgbImage, options: AnalyzeOptions): Promise<Candidate[]> {
  const detections = await human.blazeface.detect(
    input as unknown as Tfjs.Tensor3D,
    Math.min(Math.max(options.minDetectionScore, BLAZE_MIN_SCORE), 0.99),
    Math.max(DETECTOR_MAX_CANDIDATES, options.maxFaces),
    BLAZE_IOU,
  );
  return detections.map(({ score, box }) => {
    const width = box.width * BLAZE_TO_SSD.width;
    const height = box.height * BLAZE_TO_SSD.height;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2 + BLAZE_TO_SSD.dy * box.height;
    const passBox = { x: cx - width / 2, y: cy - height / 2, width, height };
    const [x, y] = toImage(pass, passBox.x, passBox.y);
    const inImage = clampBox({ x, y, width: width / pass.scale, height: height / pass.scale }, image.width, image.height);
    return { score, box: inImage, passBox };
  });
}

function cropAll(faceapi: typeof FaceApi, input: Tensor3D, boxes: readonly Box[]): Tensor3D[] {
  const [height, width] = input.shape;
  return boxes.map((box) => {
    const region = pixelRegion(box, width, height);
    return faceapi.tf.slice3d(input, [region.y, region.x, 0], [region.height, region.width, 3]);
  });
}

/** Runs `run` on the crops of `boxes`, FACE_BATCH_SIZE at a time, disposing every crop. */
async function perFaceBatches<T>(
  faceapi: typeof FaceApi,
  input: Tensor3D,
  boxes: readonly Box[],
  run: (crops: Tensor3D[]) => Promise<T[]>,
): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < boxes.length; start += FACE_BATCH_SIZE) {
    const crops = cropAll(faceapi, input, boxes.slice(start, start + FACE_BATCH_SIZE));
    try {
      results.push(...(await run(crops)));
    } finally {
      for (const crop of crops) crop.dispose();
    }
  }
  return results;
}

/** face-api returns a single result, not an array, for a batch of one. */
function asArray<T>(result: T | T[]): T[] {
  return Array.isArray(result) ? result : [result];
}

/**
 * Horizontal-flip test-time augmentation of the descriptor (average of the crop's and its mirror's descriptors).
 * On since model version 4: on the LFW subset it gains 0.1 points of pair accuracy and 0.7 of rank-1
 * (bench/models.md) for a second ResNet pass (~65 ms per face), which BlazeFace-first detection paid for.
 * Changing it changes every descriptor: bump FACEAPI_MODEL.version with it.
 */
const DESCRIPTOR_FLIP_TTA = true;

/**
 * ResNet-128 descriptor of each crop, L2-normalised (unit vectors: euclidean² = 2·cosine distance), optionally
 * averaged with its mirror image's (DESCRIPTOR_FLIP_TTA). Returns fresh arrays that own their buffers, so the
 * worker can transfer them.
 */
async function flipAveragedDescriptors({ faceapi, tfjs }: Loaded, crops: Tensor3D[]): Promise<Float32Array[]> {
  const flipped = DESCRIPTOR_FLIP_TTA ? crops.map((crop) => tfjs.reverse(crop as unknown as Tfjs.Tensor3D, 1) as unknown as Tensor3D) : [];
  try {
    const plain = asArray(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(crops));
    const mirrored = DESCRIPTOR_FLIP_TTA ? asArray(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(flipped)) : [];
    return plain.map((a, i) => {
      const b = mirrored[i];
      const sum = Float32Array.from(a, (value, k) => value + (b?.[k] ?? 0));
      return unitVector(sum);
    });
  } finally {
    for (const t of flipped) t.dispose();
  }
}

function unitVector(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm);
  if (!(norm > 0)) throw new Error('the recognition net returned a zero descriptor');
  return vector.map((value) => value / norm);
}

/**
 * The emotion nets' crop: FER-2013's framing (48x48 grayscale, an upright loose square from forehead to chin),
 * cut from the caller's image around the detection box. On the six FER PublicTest classes through the whole
 * engine, side 1.55 (chosen on half A of the photos among 1.25 to 2.0) gives 58.2 % with equal weights, against
 * 49.5 % for the landmark-hull crop the nets got before; the median FER photo is 1.39 box sizes wide, but too
 * tight a crop costs more than too loose a one (bench/models.md, "Emotion, round 2").
 */
export const EMOTION_CROP_SIZE = 48;
export const EMOTION_FRAMING: EmotionFraming = { side: 1.55, dy: 0.05 };
/**
 * Weight of Human's oarriaga net in the ensemble (face-api's expression net gets the rest), each net averaged
 * over the crop and its mirror image. Chosen on half A of the FER photos (0.7 of 0.0 to 1.0 in 0.1 steps); the
 * engine then scores 59.5 % on the six classes (60.0 % on half A, 59.0 % on half B). Extra test-time crops
 * (rescaled or shifted) gained nothing on half A, so there is one crop: 4 passes, ~32 ms per face.
 */
export const HUMAN_EMOTION_WEIGHT = 0.7;

let emotionBoxObserver: ((box: Box) => void) | undefined;

/**
 * Benchmarks only (bench/models/emotion.ts): `observer` sees each face's emotion box, in image pixels and
 * unclamped, so other framings can be tried on the engine's own detections. Pass nothing to stop.
 */
export function observeEmotionBoxes(observer?: (box: Box) => void): void {
  emotionBoxObserver = observer;
}

/** FER-style grayscale crop (EMOTION_CROP_SIZE², 0..255) of a face whose detection box, in image pixels, is `box`. */
export function emotionCrop(image: RgbImage, box: Box): Float32Array {
  return warpGray(image, emotionCropTransform(box, EMOTION_CROP_SIZE, EMOTION_FRAMING), EMOTION_CROP_SIZE);
}

/**
 * Emotion of each grayscale crop (see emotionCrop): the weighted average (HUMAN_EMOTION_WEIGHT) of face-api's
 * expression net and Human's oarriaga net, each the mean of the crop's and its mirror image's probabilities.
 */
export async function ensembleEmotions({ faceapi, human, tfjs }: Loaded, crops: readonly Float32Array[]): Promise<EmotionScores[]> {
  const tf = tfjs;
  const size = EMOTION_CROP_SIZE;
  const results: EmotionScores[] = [];
  for (let start = 0; start < crops.length; start += FACE_BATCH_SIZE) {
    const gray = tf.tidy(() => tf.stack(crops.slice(start, start + FACE_BATCH_SIZE).map((crop) => tf.tensor3d(crop, [size, size, 1]))) as Tfjs.Tensor4D);
    // face-api's expression net takes RGB: three equal channels, as the FER photos it is measured on.
    const rgb = tf.tidy(() => tf.unstack(tf.tile(gray, [1, 1, 1, 3])) as Tfjs.Tensor3D[]);
    const mirrored = rgb.map((crop) => tf.reverse(crop, 1));
    try {
      const plain = asArray(await faceapi.nets.faceExpressionNet.predictExpressions(rgb as unknown as Tensor3D[]));
      const flipped = asArray(await faceapi.nets.faceExpressionNet.predictExpressions(mirrored as unknown as Tensor3D[]));
      const humanProbs = predictHumanEmotionGray(tf, human.emotion, gray, true);
      const humanData = await humanProbs.data();
      humanProbs.dispose();
      plain.forEach((expression, i) => {
        const a = emotionFromExpressions(FACEAPI_EXPRESSIONS.map((label) => expression[label]));
        const b = emotionFromExpressions(FACEAPI_EXPRESSIONS.map((label) => flipped[i]?.[label] ?? 0));
        const weighted = EMOTIONS.map(
          (emotion) =>
            ((1 - HUMAN_EMOTION_WEIGHT) * (a[emotion] + b[emotion])) / 2 +
            HUMAN_EMOTION_WEIGHT * (humanData[i * HUMAN_EMOTIONS.length + HUMAN_EMOTIONS.indexOf(emotion)] ?? 0),
        );
        const sum = weighted.reduce((total, x) => total + x, 0);
        const scores = { ...a };
        EMOTIONS.forEach((emotion, k) => {
          scores[emotion] = (weighted[k] ?? 0) / sum;
        });
        results.push(scores);
      });
    } finally {
      tf.dispose([gray, ...rgb, ...mirrored]);
    }
  }
  return results;
}

async function describe(
  loaded: Loaded,
  input: Tensor3D,
  pass: Pass,
  image: RgbImage,
  faces: readonly Candidate[],
  withCrop: boolean,
): Promise<FaceAnalysis[]> {
  if (faces.length === 0) return [];
  const { faceapi } = loaded;
  const { nets } = faceapi;
  const [height, width] = input.shape;

  // Landmarks come back relative to each detection crop; shift them into the pass's pixels.
  const detectionBoxes = faces.map((face) => pixelRegion(face.passBox, width, height));
  const landmarkSets = (
    await perFaceBatches(faceapi, input, detectionBoxes, async (crops) => asArray(await nets.faceLandmark68Net.detectLandmarks(crops)))
  ).map((landmarks, i) => landmarks.shiftBy<FaceApi.FaceLandmarks68>(detectionBoxes[i]?.x ?? 0, detectionBoxes[i]?.y ?? 0));

  // The same crops face-api's own pipeline uses, so descriptors stay comparable with it: a dlib-style square
  // for the recogniser, the padded landmark hull for age and gender.
  const recognitionBoxes = landmarkSets.map((landmarks) => landmarks.align(null, { useDlibAlignment: true }));
  const attributeBoxes = landmarkSets.map((landmarks) => landmarks.align());
  const descriptors = await perFaceBatches(faceapi, input, recognitionBoxes, async (crops) => flipAveragedDescriptors(loaded, crops));
  const ageGenders = await perFaceBatches(faceapi, input, attributeBoxes, async (crops) => asArray(await nets.ageGenderNet.predictAgeAndGender(crops)));
  // The emotion nets get their own FER-style crop of the caller's pixels (not the retry pass's padded,
  // contrast-stretched copy), framed by the detection box mapped back to the image, unclamped.
  const emotions = await ensembleEmotions(
    loaded,
    faces.map(({ passBox }) => {
      const [x, y] = toImage(pass, passBox.x, passBox.y);
      const box = { x, y, width: passBox.width / pass.scale, height: passBox.height / pass.scale };
      emotionBoxObserver?.(box);
      return emotionCrop(image, box);
    }),
  );

  return Promise.all(
    faces.map(async (face, i): Promise<FaceAnalysis> => {
      const landmarks = landmarkSets[i];
      const descriptor = descriptors[i];
      const ageGender = ageGenders[i];
      const emotion = emotions[i];
      if (!landmarks || !descriptor || !ageGender || !emotion) throw new Error('face-api returned fewer results than faces');
      const points = landmarks.positions.map((p) => toImage(pass, p.x, p.y));
      const analysis: FaceAnalysis = {
        box: face.box,
        detectionScore: face.score,
        landmarks: points,
        // A copy that owns its buffer, so the worker can transfer it without dragging anything else along.
        embedding: descriptor,
        emotion,
        age: ageGender.age,
        gender: ageGender.gender === faceapi.Gender.MALE ? 'male' : 'female',
        genderProbability: ageGender.genderProbability,
      };
      if (withCrop) analysis.alignedCrop = await alignedCropJpeg(image, points);
      return analysis;
    }),
  );
}

async function alignedCropJpeg(image: RgbImage, landmarks: readonly Point[]): Promise<Uint8Array> {
  const crop = warpImage(image, eyeLevelTransform(landmarks, ALIGNED_CROP_SIZE), ALIGNED_CROP_SIZE);
  const jpeg = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .jpeg({ quality: ALIGNED_CROP_JPEG_QUALITY })
    .toBuffer();
  return new Uint8Array(jpeg);
}
