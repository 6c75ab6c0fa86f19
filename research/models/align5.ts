/**
 * ArcFace / InsightFace 5-point face alignment, for the descriptor benchmarks only (research/models/descriptor5.ts).
 * The five points (eye centres, nose tip, mouth corners) come from face-api's 68 iBUG landmarks; the similarity fit and
 * the template are the engine's (src/engine/align.ts, used by the ONNX engine), and the face is resampled bilinearly,
 * black outside the photo (what insightface's norm_crop does with cv2.warpAffine).
 */
import type { Point } from '../../src/core/types.js';
import type { RgbImage } from '../../src/image/image.js';
import {
  applySimilarity as apply,
  ARCFACE_TEMPLATE_112,
  invertSimilarity as invert,
  samplingTransform,
  umeyama,
  warpImage,
  type Similarity,
} from '../../src/engine/align.js';

export { apply, ARCFACE_TEMPLATE_112, invert, umeyama, type Similarity };

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

/**
 * The `size`x`size` ArcFace-aligned crop of the face with these 68 landmarks. The transform is estimated from
 * photo to template (as insightface does) and inverted for sampling; sampling is at integer pixel positions like
 * cv2.warpAffine (align.ts's warpImage samples pixel centres, so its offsets are adjusted to match).
 */
export function arcfaceCrop(image: RgbImage, landmarks: readonly Point[], size = 112, zoom = 1): RgbImage {
  const toTemplate = umeyama(fivePoints(landmarks), template(size, zoom));
  return similarityCrop(image, invert(toTemplate), size); // output pixel (u, v) -> photo pixel (x, y)
}

/** The `size`x`size` chip whose pixel (u, v) (pixel-index coordinates, as the landmarks) sits at photo point m(u, v). */
export function similarityCrop(image: RgbImage, m: Similarity, size: number): RgbImage {
  return warpImage(image, samplingTransform(m), size);
}

// ---------------------------------------------------------------------------------------------------------------
// dlib's face chip (dlib/image_transforms/interpolation.h, get_face_chip_details + extract_image_chip), which is
// what dlib's own face recognition model (dlib_face_recognition_resnet_model_v1, ported to face-api's ResNet-128)
// was trained and is run on: get_face_chip_details(shape, 150, 0.25).

/** dlib's mean face, iBUG points 17–67, in [0, 1] (mean_face_shape_x / mean_face_shape_y in interpolation.h). */
const DLIB_MEAN_FACE_X = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124, 0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
  0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918, 0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
  0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721, 0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
];
const DLIB_MEAN_FACE_Y = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891, 0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
  0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733, 0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
  0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805, 0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
  0.784792, 0.824182, 0.831803, 0.824182,
];

/**
 * dlib's chip template: the iBUG points it fits (17–67 without the eyebrows 17–26 and the lower lip 55–59, 65–67:
 * 33 points) and where they go in a `size`x`size` chip with `padding` (p' = (padding + p) / (2·padding + 1) · size).
 */
export function dlibChipTemplate(size = 150, padding = 0.25): { indices: number[]; points: Point[] } {
  const indices: number[] = [];
  const points: Point[] = [];
  for (let i = 27; i < 68; i++) {
    if ((i >= 55 && i <= 59) || (i >= 65 && i <= 67)) continue;
    indices.push(i);
    const x = DLIB_MEAN_FACE_X[i - 17] ?? 0;
    const y = DLIB_MEAN_FACE_Y[i - 17] ?? 0;
    points.push([((padding + x) / (2 * padding + 1)) * size, ((padding + y) / (2 * padding + 1)) * size]);
  }
  return { indices, points };
}

/**
 * dlib's face chip: the least-squares similarity from the chip template to the photo's landmarks (dlib's
 * find_similarity_transform, chip → photo) sampled at every chip pixel, bilinear, black outside the photo.
 * (dlib's extraction rectangle, chip_details/get_mapping_to_chip, stretches this by under 1 %; dlib also halves the
 * photo with a pyramid first when the chip would shrink it more than 2x, which LFW faces, all upsampled, never need.)
 */
export function dlibChip(image: RgbImage, landmarks: readonly Point[], size = 150, padding = 0.25): RgbImage {
  const { indices, points } = dlibChipTemplate(size, padding);
  const photo = indices.map((i) => {
    const p = landmarks[i];
    if (!p) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
    return p;
  });
  return similarityCrop(image, umeyama(points, photo), size);
}

/**
 * Where points land in face-api's recogniser crop (FaceLandmarks.alignDlib: an upright square of side
 * eye-to-mouth / 0.45 whose top-left corner is 0.5 and 0.43 sides left of and above the centroid of the eye and
 * mouth centres), in `size`x`size` crop pixels, ignoring its clamping to the photo and the floor() roundings.
 */
export function inFaceApiCrop(landmarks: readonly Point[], points: readonly Point[], size = 150): Point[] {
  const leftEye = mean(landmarks, 36, 42);
  const rightEye = mean(landmarks, 42, 48);
  const mouth = mean(landmarks, 48, 68);
  const eyeToMouth = (Math.hypot(mouth[0] - leftEye[0], mouth[1] - leftEye[1]) + Math.hypot(mouth[0] - rightEye[0], mouth[1] - rightEye[1])) / 2;
  const side = eyeToMouth / 0.45;
  const cx = (leftEye[0] + rightEye[0] + mouth[0]) / 3;
  const cy = (leftEye[1] + rightEye[1] + mouth[1]) / 3;
  const x0 = cx - 0.5 * side;
  const y0 = cy - 0.43 * side;
  return points.map(([x, y]) => [((x - x0) / side) * size, ((y - y0) / side) * size] as const);
}

/**
 * A `size`x`size` crop aligned by the least-squares similarity (Umeyama, photo → template) of the five points
 * (fivePoints) onto `template5` (in `size` pixels), scaled by `zoom` about the crop's centre.
 */
export function fivePointChip(image: RgbImage, landmarks: readonly Point[], template5: readonly Point[], size = 150, zoom = 1): RgbImage {
  const c = size / 2;
  const dst = template5.map(([x, y]) => [c + (x - c) * zoom, c + (y - c) * zoom] as const);
  return similarityCrop(image, invert(umeyama(fivePoints(landmarks), dst)), size);
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
