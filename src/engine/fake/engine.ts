/**
 * A small deterministic stand-in for a face model, for tests of the services, the server and the CLI whose subject
 * is not the model (enrollment bookkeeping, reembedding, wire formats, exit codes). It runs in the caller's thread
 * and needs no model files:
 * - a photo whose centre is near-uniform (a blank page) has no face; any other photo has one face, a central box;
 * - the embedding is the photo's FAKE_GRID×FAKE_GRID grayscale thumbnail, mean-centred and scaled to unit length:
 *   the same photo always gives the same embedding, other photos land far apart (different people or not);
 * - emotion, age and gender are derived from the pixels, so they are stable but mean nothing.
 * It is selectable as engine `fake` so the built CLI can be tested with it; it recognises nobody in a new photo.
 */
import sharp from 'sharp';
import type { ModelCalibration } from '../../core/confidence.js';
import { EMOTIONS, type Box, type EmotionScores, type FaceAttribute, type ModelInfo, type Point } from '../../core/types.js';
import { FacedbError } from '../../errors/errors.js';
import { checkRgbImage, type RgbImage } from '../../image/image.js';
import type { AnalyzeOptions, FaceAnalysis, FaceAttributeScores, FaceEngine } from '../engine.js';

/** Thumbnail side: the embedding has FAKE_GRID² dimensions. */
const FAKE_GRID = 8;
/** A photo whose central cells' gray levels vary less than this (standard deviation, 0..255) shows no face. */
const UNIFORM_STD = 4;
/** The face box covers this fraction of the photo's width and height, centred. */
const BOX_FRACTION = 0.5;
const CROP_SIZE = 64;

export const FAKE_MODEL: ModelInfo = {
  id: 'fake',
  version: '1',
  dimensions: FAKE_GRID * FAKE_GRID,
  metric: 'euclidean',
  // Re-encodings of one photo stay well within it; two different LFW photos are ~0.8 or more apart.
  defaultThreshold: 0.3,
};

export const FAKE_LANDMARK_LAYOUT = 'fake5';

export interface FakeEngineOptions {
  /** Another model identity (e.g. to test moving a gallery between two models). */
  model?: Partial<Pick<ModelInfo, 'id' | 'version' | 'defaultThreshold'>>;
  /** A calibration to report (synthetic, for tests of how confidences are shown); none by default. */
  calibration?: ModelCalibration;
}

export function createFakeEngine(options: FakeEngineOptions = {}): Promise<FaceEngine> {
  const model: ModelInfo = { ...FAKE_MODEL, ...options.model };
  let running = 0;
  let closed = false;
  return Promise.resolve({
    model,
    landmarkLayout: FAKE_LANDMARK_LAYOUT,
    calibration: options.calibration,
    get queueDepth() {
      return running;
    },
    async analyze(image: RgbImage, analyzeOptions: AnalyzeOptions): Promise<FaceAnalysis[]> {
      if (closed) throw new FacedbError('internal', 'the fake engine is closed');
      checkRgbImage(image);
      running += 1;
      try {
        return await analyze(image, analyzeOptions);
      } finally {
        running -= 1;
      }
    },
    close() {
      closed = true;
      return Promise.resolve();
    },
  });
}

async function analyze(image: RgbImage, options: AnalyzeOptions): Promise<FaceAnalysis[]> {
  const thumbnail = grayThumbnail(image);
  const mean = thumbnail.reduce((sum, v) => sum + v, 0) / thumbnail.length;
  const std = Math.sqrt(thumbnail.reduce((sum, v) => sum + (v - mean) ** 2, 0) / thumbnail.length);
  const whole = options.detect === false;
  if (!whole && standardDeviation(centralCells(thumbnail)) < UNIFORM_STD) return [];
  const box: Box = whole ? { x: 0, y: 0, width: image.width, height: image.height } : {
    x: (image.width * (1 - BOX_FRACTION)) / 2,
    y: (image.height * (1 - BOX_FRACTION)) / 2,
    width: image.width * BOX_FRACTION,
    height: image.height * BOX_FRACTION,
  };
  const detectionScore = whole ? 1 : 0.99;
  if (!whole && (detectionScore < options.minDetectionScore || box.width < options.minFaceSize || options.maxFaces < 1)) return [];
  const face: FaceAnalysis = { box, detectionScore, landmarks: fiveLandmarks(box) };
  if (options.needs.embedding) face.embedding = unitVector(thumbnail.map((v) => v - mean));
  if (options.needs.attributes.length > 0) face.attributes = attributes(image, mean, std, options.needs.attributes);
  if (options.needs.crop) face.alignedCrop = await cropJpeg(image, box);
  return [face];
}

/** Mean gray level of each cell of a FAKE_GRID×FAKE_GRID grid over the photo. */
function grayThumbnail({ width, height, data }: RgbImage): Float64Array {
  const sums = new Float64Array(FAKE_GRID * FAKE_GRID);
  const counts = new Float64Array(FAKE_GRID * FAKE_GRID);
  for (let y = 0; y < height; y++) {
    const row = Math.min(FAKE_GRID - 1, Math.floor((y * FAKE_GRID) / height)) * FAKE_GRID;
    for (let x = 0; x < width; x++) {
      const cell = row + Math.min(FAKE_GRID - 1, Math.floor((x * FAKE_GRID) / width));
      const i = (y * width + x) * 3;
      sums[cell]! += 0.299 * data[i]! + 0.587 * data[i + 1]! + 0.114 * data[i + 2]!;
      counts[cell]! += 1;
    }
  }
  // A photo narrower or shorter than the grid leaves cells empty: they take the photo's mean.
  const total = sums.reduce((a, b) => a + b, 0) / counts.reduce((a, b) => a + b, 0);
  return sums.map((sum, cell) => (counts[cell]! > 0 ? sum / counts[cell]! : total));
}

/** The cells under the face box (the central half of the grid in each direction). */
function centralCells(thumbnail: Float64Array): number[] {
  const from = Math.floor(FAKE_GRID / 4);
  const to = FAKE_GRID - from;
  const cells: number[] = [];
  for (let row = from; row < to; row++) for (let col = from; col < to; col++) cells.push(thumbnail[row * FAKE_GRID + col]!);
  return cells;
}

function standardDeviation(values: readonly number[]): number {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
}

function unitVector(values: Float64Array): Float32Array {
  const norm = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0));
  return Float32Array.from(values, (v) => v / norm);
}

/** Eyes, nose tip and mouth corners at fixed places of the box. */
function fiveLandmarks(box: Box): Point[] {
  const at = (u: number, v: number): Point => [box.x + u * box.width, box.y + v * box.height];
  return [at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.6), at(0.35, 0.8), at(0.65, 0.8)];
}

/** Stable numbers from the pixels, those in `wanted` only; they say nothing about the face. */
function attributes(image: RgbImage, mean: number, std: number, wanted: readonly FaceAttribute[]): FaceAttributeScores {
  const scores: FaceAttributeScores = {};
  if (wanted.includes('emotion')) {
    const raw = EMOTIONS.map((_, k) => Math.exp(Math.sin(mean * (k + 1) + std)));
    const sum = raw.reduce((a, b) => a + b, 0);
    scores.emotion = Object.fromEntries(EMOTIONS.map((e, k) => [e, raw[k]! / sum])) as EmotionScores;
  }
  if (wanted.includes('age')) scores.age = 20 + (mean % 50);
  if (wanted.includes('gender')) {
    let red = 0;
    let blue = 0;
    for (let i = 0; i < image.data.length; i += 3) {
      red += image.data[i]!;
      blue += image.data[i + 2]!;
    }
    scores.gender = red >= blue ? 'male' : 'female';
    scores.genderProbability = 0.5 + Math.min(std, 100) / 250;
  }
  return scores;
}

async function cropJpeg(image: RgbImage, box: Box): Promise<Uint8Array> {
  const region = {
    left: Math.floor(box.x),
    top: Math.floor(box.y),
    width: Math.max(1, Math.floor(box.width)),
    height: Math.max(1, Math.floor(box.height)),
  };
  const jpeg = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract(region)
    .resize(CROP_SIZE, CROP_SIZE, { fit: 'fill' })
    .jpeg({ quality: 80 })
    .toBuffer();
  return new Uint8Array(jpeg);
}
