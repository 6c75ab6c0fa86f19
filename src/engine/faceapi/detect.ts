/**
 * Detection job of the face-api engine: BlazeFace first, SSD when BlazeFace finds nothing, and a retry pass on a
 * padded, contrast-stretched copy when both find nothing. Returns candidate boxes in the caller's image and in
 * the pixels the nets should look at.
 */
import sharp from 'sharp';
import type * as FaceApi from '@vladmandic/face-api';
import type * as Tfjs from '@tensorflow/tfjs';
import type { Box, Point } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import { clampBox, selectFaces, type FaceSelection } from '../align.js';
import { padImage, stretchContrast } from '../enhance.js';
import type { Loaded, Tensor3D } from './loader.js';

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

/** The pixels one detection pass ran on, and how they relate to the caller's image. */
export interface Pass {
  pixels: RgbImage;
  /** Border added on every side, in pass pixels. */
  border: number;
  /** Pass pixels per image pixel. */
  scale: number;
}

export interface Candidate {
  score: number;
  /** In the caller's image, clamped to it. */
  box: Box;
  /** In the pass's pixels, unclamped: where the nets should look. */
  passBox: Box;
}

export interface Detection {
  /** The pass's pixels as a tensor; the caller disposes it. */
  input: Tensor3D;
  pass: Pass;
  /** Selected faces, largest first. */
  faces: Candidate[];
}

/**
 * Finds the faces of `image`. BlazeFace (256x256 input, ~1/6 of SSD's cost at 512) runs first; the passes after it
 * run only when every earlier one found nothing, so one face is never reported twice by two passes. With
 * `detect: false` no detector runs and the whole image is the one face (face-api's 68-landmark net then places the
 * points inside it, as inside any detection box, and its own alignment follows from them).
 */
export async function detectFaces(loaded: Loaded, image: RgbImage, selection: FaceSelection & { detect?: boolean }): Promise<Detection> {
  const { tf } = loaded.faceapi;
  let pass: Pass = { pixels: image, border: 0, scale: 1 };
  let input = tf.tensor3d(image.data, [image.height, image.width, 3], 'float32');
  if (selection.detect === false) {
    const whole = { x: 0, y: 0, width: image.width, height: image.height };
    return { input, pass, faces: [{ score: 1, box: whole, passBox: whole }] };
  }
  try {
    let faces = selectFaces(await detectBlaze(loaded, input, pass, image, selection), selection);
    if (faces.length === 0) faces = selectFaces(await detectSsd(loaded.faceapi, input, pass, image, selection), selection);
    if (faces.length === 0) {
      // Only photos where the plain passes found nothing pay for the retry (low contrast, tight crops).
      input.dispose();
      pass = await retryPass(image);
      input = tf.tensor3d(pass.pixels.data, [pass.pixels.height, pass.pixels.width, 3], 'float32');
      faces = selectFaces(await detectBlaze(loaded, input, pass, image, selection), selection);
      if (faces.length === 0) faces = selectFaces(await detectSsd(loaded.faceapi, input, pass, image, selection), selection);
    }
    return { input, pass, faces };
  } catch (error) {
    input.dispose();
    throw error;
  }
}

/** Maps a point of the pass's pixels back to the caller's image. */
export function toImage(pass: Pass, x: number, y: number): Point {
  return [(x - pass.border) / pass.scale, (y - pass.border) / pass.scale];
}

/** A candidate's detection box in the caller's image pixels, unclamped (the emotion nets frame their crop on it). */
export function imageBox(pass: Pass, candidate: Candidate): Box {
  const { passBox } = candidate;
  const [x, y] = toImage(pass, passBox.x, passBox.y);
  return { x, y, width: passBox.width / pass.scale, height: passBox.height / pass.scale };
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

async function detectSsd(faceapi: typeof FaceApi, input: Tensor3D, pass: Pass, image: RgbImage, selection: FaceSelection): Promise<Candidate[]> {
  const detections = await faceapi.nets.ssdMobilenetv1.locateFaces(input, {
    // SSD rejects thresholds of exactly 0 or 1; selectFaces applies the caller's own threshold afterwards.
    minConfidence: Math.min(Math.max(selection.minDetectionScore, 0.01), 0.99),
    maxResults: Math.max(DETECTOR_MAX_CANDIDATES, selection.maxFaces),
  });
  return detections.map(({ score, box }) => {
    const passBox = { x: box.x, y: box.y, width: box.width, height: box.height };
    const [x, y] = toImage(pass, box.x, box.y);
    const inImage = clampBox({ x, y, width: box.width / pass.scale, height: box.height / pass.scale }, image.width, image.height);
    return { score, box: inImage, passBox };
  });
}

async function detectBlaze({ human }: Loaded, input: Tensor3D, pass: Pass, image: RgbImage, selection: FaceSelection): Promise<Candidate[]> {
  const detections = await human.blazeface.detect(
    input as unknown as Tfjs.Tensor3D,
    Math.min(Math.max(selection.minDetectionScore, BLAZE_MIN_SCORE), 0.99),
    Math.max(DETECTOR_MAX_CANDIDATES, selection.maxFaces),
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
