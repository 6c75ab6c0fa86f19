/**
 * What a track saw, summed up: the embedding it is identified by and its emotion over time. Pure.
 *
 * A track is identified from its best sightings rather than from any single frame. Each sighting is weighed by
 *   quality = detection score × relative size × relative sharpness × frontality
 * where size and sharpness are relative to the track's own largest and sharpest sighting (so no absolute constant
 * has to be tuned: a face is compared with itself), and frontality is 1 − 2·|mean landmark x − box centre x| / box
 * width (a turned head shifts its landmarks towards one side of the box; this needs no knowledge of the
 * landmark layout). The identity embedding is the quality-weighted mean of the best `BEST_SIGHTINGS` embeddings,
 * re-normalised: averaging a few good views cancels noise of single frames, while blurred or turned frames get no say.
 */
import { dominantEmotion } from './emotion.js';
import { EMOTIONS, type Box, type Emotion, type EmotionScores, type Point } from './types.js';

/** Sightings the identity embedding is averaged over. */
export const BEST_SIGHTINGS = 5;

export interface Sighting {
  frame: number;
  timeMs: number;
  box: Box;
  detectionScore: number;
  landmarks: readonly Point[];
  /** Variance of the Laplacian over the face (any consistent sharpness measure). */
  sharpness: number;
  embedding: Float32Array;
  emotion?: EmotionScores;
}

/** Landmark-based frontality in 0..1 (1: landmarks centred in the box). 1 when there are no landmarks. */
export function frontality(box: Box, landmarks: readonly Point[]): number {
  if (landmarks.length === 0 || box.width <= 0) return 1;
  const meanX = landmarks.reduce((sum, [x]) => sum + x, 0) / landmarks.length;
  const offset = Math.abs(meanX - (box.x + box.width / 2)) / box.width;
  return Math.max(0, 1 - 2 * offset);
}

export interface EmotionSegment {
  emotion: Emotion;
  fromMs: number;
  toMs: number;
}

export interface EmotionSummary {
  dominant: Emotion;
  /** Mean probability per emotion over the track's sightings, weighted by quality. */
  scores: EmotionScores;
  /** Runs of the same dominant emotion, in time order (consecutive sightings with the same dominant emotion). */
  timeline: EmotionSegment[];
}

/**
 * Collects a track's sightings with bounded memory: the best `BEST_SIGHTINGS` by quality are kept whole, the
 * emotion figures of every sighting are folded into running sums and a run-length timeline.
 */
export class TrackSummary {
  #best: Sighting[] = [];
  #largest = 0;
  #sharpest = 0;
  #emotionSums = Object.fromEntries(EMOTIONS.map((e) => [e, 0])) as EmotionScores;
  #emotionWeight = 0;
  readonly #timeline: EmotionSegment[] = [];
  #sightings = 0;

  get sightings(): number {
    return this.#sightings;
  }

  /** The sighting with the highest quality so far. */
  get best(): Sighting | undefined {
    return this.#best[0];
  }

  /** Adds a sighting; true when it is among the best kept (the identity may change). */
  add(sighting: Sighting): boolean {
    this.#sightings += 1;
    this.#largest = Math.max(this.#largest, sighting.box.width);
    this.#sharpest = Math.max(this.#sharpest, sighting.sharpness);
    if (sighting.emotion) this.#addEmotion(sighting);
    const all = [...this.#best, sighting].sort((a, b) => this.quality(b) - this.quality(a));
    this.#best = all.slice(0, BEST_SIGHTINGS);
    return this.#best.includes(sighting);
  }

  /** The weight of a sighting against the track's largest and sharpest ones so far. */
  quality(sighting: Sighting): number {
    const size = this.#largest > 0 ? sighting.box.width / this.#largest : 1;
    const sharp = this.#sharpest > 0 ? sighting.sharpness / this.#sharpest : 1;
    return sighting.detectionScore * size * sharp * frontality(sighting.box, sighting.landmarks);
  }

  /** The quality-weighted mean of the best sightings' embeddings, unit length. */
  embedding(): Float32Array | undefined {
    const first = this.#best[0];
    if (!first) return undefined;
    const mean = new Float32Array(first.embedding.length);
    for (const sighting of this.#best) {
      const weight = Math.max(this.quality(sighting), 1e-6);
      for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! + weight * (sighting.embedding[i] ?? 0);
    }
    let norm = 0;
    for (const v of mean) norm += v * v;
    norm = Math.sqrt(norm);
    if (norm > 0) for (let i = 0; i < mean.length; i++) mean[i] = mean[i]! / norm;
    return mean;
  }

  emotion(): EmotionSummary | undefined {
    if (this.#emotionWeight <= 0) return undefined;
    const scores = Object.fromEntries(EMOTIONS.map((e) => [e, this.#emotionSums[e] / this.#emotionWeight])) as EmotionScores;
    return { dominant: dominantEmotion(scores), scores, timeline: this.#timeline.map((segment) => ({ ...segment })) };
  }

  #addEmotion(sighting: Sighting): void {
    const scores = sighting.emotion!;
    const weight = Math.max(sighting.detectionScore, 1e-6);
    for (const emotion of EMOTIONS) this.#emotionSums[emotion] += weight * scores[emotion];
    this.#emotionWeight += weight;
    const dominant = dominantEmotion(scores);
    const last = this.#timeline.at(-1);
    if (last && last.emotion === dominant) last.toMs = sighting.timeMs;
    else this.#timeline.push({ emotion: dominant, fromMs: sighting.timeMs, toMs: sighting.timeMs });
    // Bounded: a flickering emotion over a long track keeps only the latest runs.
    if (this.#timeline.length > 200) this.#timeline.shift();
  }
}
