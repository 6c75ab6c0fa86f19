/**
 * Face tracking across video frames: which face in this frame is the same face as one in earlier frames. Pure:
 * frames come in as detections (box + embedding), tracks come out. Position and embedding are used together:
 * position keeps a face that walks across the picture on its track between frames; the embedding keeps two faces
 * that cross each other apart, and takes a face back onto its track after it was missed for a while.
 *
 * The embedding gate (`sameFaceDistance`) is model-specific, so the caller passes it in from the engine.
 */
import { euclideanDistance } from './distance.js';
import type { Box } from './types.js';

export interface TrackerOptions {
  /** Largest embedding distance at which a detection may continue a track (the model's 1:1 threshold, say). */
  sameFaceDistance: number;
  /** A track not seen for longer than this ends (milliseconds of video time). */
  maxMissedMs: number;
  /** Detections a track needs before it is reported (one-frame false detections never become tracks). */
  minHits: number;
}

export interface Detection {
  box: Box;
  embedding: Float32Array;
}

export interface TrackState {
  id: number;
  /** Last box seen. */
  box: Box;
  /** Box motion per millisecond, from the last two sightings (for predicting where the face is now). */
  velocity: { x: number; y: number };
  /** Running mean of the embeddings seen (unit length), for matching. */
  embedding: Float32Array;
  firstSeenMs: number;
  lastSeenMs: number;
  hits: number;
  /** True once `minHits` detections were matched: the track is reported from then on. */
  confirmed: boolean;
}

export interface TrackUpdate {
  /** For each detection of the frame, in order: its track id. */
  assignments: number[];
  /** Tracks confirmed by this frame. */
  confirmed: number[];
  /** Confirmed tracks that ended (not seen for maxMissedMs); unconfirmed ones end silently. */
  ended: TrackState[];
}

/** Fraction of the union two boxes share, 0..1. */
export function intersectionOverUnion(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x);
  const y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width);
  const y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

function center(box: Box): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const v of vector) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i++) vector[i] = vector[i]! / norm;
  return vector;
}

export class FaceTracker {
  readonly #options: TrackerOptions;
  readonly #tracks: TrackState[] = [];
  #nextId = 1;

  constructor(options: TrackerOptions) {
    this.#options = options;
  }

  /** Live tracks (confirmed or not). */
  get tracks(): readonly TrackState[] {
    return this.#tracks;
  }

  /**
   * Matches a frame's detections to the live tracks and starts tracks for the rest. A detection continues a track
   * when its embedding is within `sameFaceDistance` of the track's and it is where the track is predicted to be
   * (boxes overlap, or its centre is within two face widths); a track missed for some frames is taken back by a
   * detection anywhere whose embedding is clearly its own (within 80 % of the gate). Pairs are taken greedily,
   * cheapest first, the cost being the embedding distance less half the overlap: with a handful of faces per frame
   * this gives the same pairs as an optimal assignment in all but contrived cases, at a fraction of the code.
   */
  update(timeMs: number, detections: readonly Detection[]): TrackUpdate {
    const { sameFaceDistance } = this.#options;
    const pairs: Array<{ track: number; detection: number; cost: number }> = [];
    this.#tracks.forEach((track, t) => {
      const gapMs = timeMs - track.lastSeenMs;
      const predicted: Box = {
        ...track.box,
        x: track.box.x + track.velocity.x * gapMs,
        y: track.box.y + track.velocity.y * gapMs,
      };
      detections.forEach((detection, d) => {
        const distance = euclideanDistance(track.embedding, detection.embedding);
        if (distance > sameFaceDistance) return;
        const overlap = intersectionOverUnion(predicted, detection.box);
        const from = center(predicted);
        const to = center(detection.box);
        const near = Math.hypot(from.x - to.x, from.y - to.y) <= 2 * Math.max(track.box.width, detection.box.width);
        const clearlyItsOwn = gapMs > 0 && distance <= 0.8 * sameFaceDistance;
        if (overlap > 0 || near || clearlyItsOwn) pairs.push({ track: t, detection: d, cost: distance - 0.5 * overlap });
      });
    });
    pairs.sort((a, b) => a.cost - b.cost);

    const assignments = new Array<number>(detections.length).fill(0);
    const takenTracks = new Set<number>();
    const confirmed: number[] = [];
    for (const pair of pairs) {
      if (takenTracks.has(pair.track) || assignments[pair.detection] !== 0) continue;
      takenTracks.add(pair.track);
      const track = this.#tracks[pair.track]!;
      const detection = detections[pair.detection]!;
      this.#continue(track, timeMs, detection);
      if (!track.confirmed && track.hits >= this.#options.minHits) {
        track.confirmed = true;
        confirmed.push(track.id);
      }
      assignments[pair.detection] = track.id;
    }
    detections.forEach((detection, d) => {
      if (assignments[d] !== 0) return;
      const track: TrackState = {
        id: this.#nextId++,
        box: detection.box,
        velocity: { x: 0, y: 0 },
        embedding: normalize(Float32Array.from(detection.embedding)),
        firstSeenMs: timeMs,
        lastSeenMs: timeMs,
        hits: 1,
        confirmed: this.#options.minHits <= 1,
      };
      if (track.confirmed) confirmed.push(track.id);
      this.#tracks.push(track);
      assignments[d] = track.id;
    });
    return { assignments, confirmed, ended: this.#expire(timeMs) };
  }

  /** Ends every live track (the video ended); returns the confirmed ones. */
  finish(): TrackState[] {
    const ended = this.#tracks.filter((track) => track.confirmed);
    this.#tracks.length = 0;
    return ended;
  }

  #continue(track: TrackState, timeMs: number, detection: Detection): void {
    const gapMs = timeMs - track.lastSeenMs;
    if (gapMs > 0) {
      const from = center(track.box);
      const to = center(detection.box);
      track.velocity = { x: (to.x - from.x) / gapMs, y: (to.y - from.y) / gapMs };
    }
    // A running mean keeps the track's appearance steady against one odd frame, while following slow changes.
    const weight = 1 / Math.min(track.hits + 1, 10);
    for (let i = 0; i < track.embedding.length; i++) {
      track.embedding[i] = (1 - weight) * track.embedding[i]! + weight * (detection.embedding[i] ?? 0);
    }
    normalize(track.embedding);
    track.box = detection.box;
    track.lastSeenMs = timeMs;
    track.hits += 1;
  }

  #expire(timeMs: number): TrackState[] {
    const ended: TrackState[] = [];
    for (let i = this.#tracks.length - 1; i >= 0; i--) {
      const track = this.#tracks[i]!;
      if (timeMs - track.lastSeenMs <= this.#options.maxMissedMs) continue;
      this.#tracks.splice(i, 1);
      if (track.confirmed) ended.unshift(track);
    }
    return ended;
  }
}
