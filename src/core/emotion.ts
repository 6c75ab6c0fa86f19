import { EMOTIONS, type Emotion, type EmotionScores } from './types.js';

export interface EmotionPercentages {
  dominant: Emotion;
  /** Percent per emotion with one decimal, summing to exactly 100. */
  scores: Record<Emotion, number>;
}

/**
 * Turns probabilities into percentages that add up to exactly 100.0 after rounding
 * (largest-remainder rounding), so reports never show 99.9 or 100.1 in total.
 */
export function emotionResult(probabilities: EmotionScores): EmotionPercentages {
  const total = EMOTIONS.reduce((sum, e) => sum + Math.max(0, probabilities[e]), 0);
  const tenths = EMOTIONS.map((emotion) => {
    const exact = total > 0 ? (Math.max(0, probabilities[emotion]) / total) * 1000 : 1000 / EMOTIONS.length;
    return { emotion, floor: Math.floor(exact), remainder: exact - Math.floor(exact) };
  });
  let missing = 1000 - tenths.reduce((sum, t) => sum + t.floor, 0);
  for (const t of [...tenths].sort((a, b) => b.remainder - a.remainder)) {
    if (missing <= 0) break;
    t.floor += 1;
    missing -= 1;
  }
  const scores = Object.fromEntries(tenths.map((t) => [t.emotion, t.floor / 10])) as Record<Emotion, number>;
  return { dominant: dominantEmotion(probabilities), scores };
}

/** The emotion with the highest score; neutral on a tie with it. */
export function dominantEmotion(probabilities: EmotionScores): Emotion {
  let dominant: Emotion = 'neutral';
  for (const emotion of EMOTIONS) if (probabilities[emotion] > probabilities[dominant]) dominant = emotion;
  return dominant;
}
