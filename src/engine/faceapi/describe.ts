/**
 * Description job of the face-api engine: 68 landmarks per detected face, the ResNet-128 descriptor of face-api's
 * own dlib-style crop (flip-averaged, unit length) and the eye-level JPEG crop kept for thumbnails.
 */
import sharp from 'sharp';
import type * as FaceApi from '@vladmandic/face-api';
import type * as Tfjs from '@tensorflow/tfjs';
import type { Box, Point } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import { eyeLevelTransform, pixelRegion, warpImage } from '../align.js';
import type { Candidate, Pass } from './detect.js';
import { toImage } from './detect.js';
import { asArray, FACE_BATCH_SIZE, type Loaded, type Tensor3D } from './loader.js';

export const ALIGNED_CROP_SIZE = 160;
const ALIGNED_CROP_JPEG_QUALITY = 90;

/**
 * Horizontal-flip test-time augmentation of the descriptor (average of the crop's and its mirror's descriptors).
 * On since model version 4: on the LFW subset it gains 0.1 points of pair accuracy and 0.7 of rank-1
 * (research/models.md) for a second ResNet pass (~65 ms per face), which BlazeFace-first detection paid for.
 * Changing it changes every descriptor: bump FACEAPI_MODEL.version with it.
 */
const DESCRIPTOR_FLIP_TTA = true;

function cropAll(faceapi: typeof FaceApi, input: Tensor3D, boxes: readonly Box[]): Tensor3D[] {
  const [height, width] = input.shape;
  return boxes.map((box) => {
    const region = pixelRegion(box, width, height);
    return faceapi.tf.slice3d(input, [region.y, region.x, 0], [region.height, region.width, 3]);
  });
}

/** Runs `run` on the crops of `boxes`, FACE_BATCH_SIZE at a time, disposing every crop. */
export async function perFaceBatches<T>(
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

/** face-api's 68 landmarks of each face, in the pass's pixels (what the other nets crop by). */
export async function landmarks68(loaded: Loaded, input: Tensor3D, faces: readonly Candidate[]): Promise<FaceApi.FaceLandmarks68[]> {
  const { faceapi } = loaded;
  const [height, width] = input.shape;
  // Landmarks come back relative to each detection crop; shift them into the pass's pixels.
  const detectionBoxes = faces.map((face) => pixelRegion(face.passBox, width, height));
  const sets = await perFaceBatches(faceapi, input, detectionBoxes, async (crops) => asArray(await faceapi.nets.faceLandmark68Net.detectLandmarks(crops)));
  return sets.map((landmarks, i) => landmarks.shiftBy<FaceApi.FaceLandmarks68>(detectionBoxes[i]?.x ?? 0, detectionBoxes[i]?.y ?? 0));
}

/** The landmarks in the caller's image pixels. */
export function imageLandmarks(pass: Pass, landmarks: FaceApi.FaceLandmarks68): Point[] {
  return landmarks.positions.map((p) => toImage(pass, p.x, p.y));
}

/**
 * The ResNet-128 descriptor of each face on the same crop face-api's own pipeline uses (a dlib-style square from
 * the landmarks), so descriptors stay comparable with it.
 */
export async function descriptors(loaded: Loaded, input: Tensor3D, landmarks: readonly FaceApi.FaceLandmarks68[]): Promise<Float32Array[]> {
  const recognitionBoxes = landmarks.map((set) => set.align(null, { useDlibAlignment: true }));
  return perFaceBatches(loaded.faceapi, input, recognitionBoxes, async (crops) => flipAveragedDescriptors(loaded, crops));
}

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

/** JPEG of the eye-level ALIGNED_CROP_SIZE² crop of a face, from its 68 landmarks in image pixels. */
export async function alignedCropJpeg(image: RgbImage, landmarks: readonly Point[]): Promise<Uint8Array> {
  const crop = warpImage(image, eyeLevelTransform(landmarks, ALIGNED_CROP_SIZE), ALIGNED_CROP_SIZE);
  const jpeg = await sharp(crop.data, { raw: { width: crop.width, height: crop.height, channels: 3 } })
    .jpeg({ quality: ALIGNED_CROP_JPEG_QUALITY })
    .toBuffer();
  return new Uint8Array(jpeg);
}
