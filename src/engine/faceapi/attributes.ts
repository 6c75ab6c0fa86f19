/**
 * Attributes job of the face-api engine: age and gender from face-api's net on the padded landmark hull, and
 * emotion from an ensemble of face-api's expression net and Human's oarriaga net on a FER-style grayscale crop.
 */
import type * as FaceApi from '@vladmandic/face-api';
import type * as Tfjs from '@tensorflow/tfjs';
import { EMOTIONS, type Box, type EmotionScores, type Gender } from '../../core/types.js';
import type { RgbImage } from '../../image/image.js';
import { emotionCropTransform, emotionFromExpressions, FACEAPI_EXPRESSIONS, warpGray, type EmotionFraming } from '../align.js';
import { perFaceBatches } from './describe.js';
import { HUMAN_EMOTIONS, predictHumanEmotionGray } from './human.js';
import { asArray, FACE_BATCH_SIZE, type Loaded, type Tensor3D } from './loader.js';

/**
 * The emotion nets' crop: FER-2013's framing (48x48 grayscale, an upright loose square from forehead to chin),
 * cut from the caller's image around the detection box. On the six FER PublicTest classes through the whole
 * engine, side 1.55 (chosen on half A of the photos among 1.25 to 2.0) gives 58.2 % with equal weights, against
 * 49.5 % for the landmark-hull crop the nets got before; the median FER photo is 1.39 box sizes wide, but too
 * tight a crop costs more than too loose a one (research/models.md, "Emotion, round 2").
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

export interface AgeGender {
  age: number;
  gender: Gender;
  genderProbability: number;
}

/** Age and gender of each face, on the padded landmark hull face-api's own pipeline uses. */
export async function agesAndGenders(loaded: Loaded, input: Tensor3D, landmarks: readonly FaceApi.FaceLandmarks68[]): Promise<AgeGender[]> {
  const { faceapi } = loaded;
  const attributeBoxes = landmarks.map((set) => set.align());
  const predictions = await perFaceBatches(faceapi, input, attributeBoxes, async (crops) => asArray(await faceapi.nets.ageGenderNet.predictAgeAndGender(crops)));
  return predictions.map((p) => ({
    age: p.age,
    gender: p.gender === faceapi.Gender.MALE ? 'male' : 'female',
    genderProbability: p.genderProbability,
  }));
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
      const humanProbs = predictHumanEmotionGray(tf, human.emotion, gray);
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
