/**
 * Faces followed from frame to frame and named per track: the one owner of tracking and per-track identity, for
 * `facedb watch` (frames from ffmpeg, watch-service.ts) and the live view (frames from a browser,
 * live-session.ts). Frames come in already analysed; tracking and summaries are pure (src/core/tracking.ts,
 * src/core/track-summary.ts), names come from the same search, threshold and confidence as identify.
 */
import sharp from 'sharp';
import { dominantEmotion, emotionResult } from '../core/emotion.js';
import { FaceTracker, type TrackState } from '../core/tracking.js';
import { TrackSummary, type EmotionSegment } from '../core/track-summary.js';
import type { Box, Emotion, ModelInfo } from '../core/types.js';
import type { FaceAnalysis } from '../engine/engine.js';
import type { DecodedImage, RgbImage } from '../image/image.js';
import { cropRgb, faceSharpness } from '../image/sharpness.js';
import { shrinkFactors } from './original-pixels.js';
import type { EmotionResult, TrackIdentity, TrackRecognizer } from './results.js';

export interface TrackEmotion extends EmotionResult {
  timeline: EmotionSegment[];
}

/** What happens to tracks: the events `facedb watch` prints and the live view receives. */
export type TrackEvent =
  | { type: 'track_started'; track: number; timeMs: number; frame: number; box: Box }
  | { type: 'identity'; track: number; timeMs: number; frame: number; identity: TrackIdentity; previous: string | null | undefined }
  | {
      type: 'track_ended';
      track: number;
      timeMs: number;
      startedMs: number;
      durationMs: number;
      framesSeen: number;
      bestFrame: { frame: number; timeMs: number; box: Box; crop: string };
      identity: TrackIdentity | null;
      emotion: TrackEmotion | null;
    };

/** A face of an analysed frame, on its track: the track's identity so far (undefined until decided). */
export interface TrackedFace {
  track: number;
  box: Box;
  identity: TrackIdentity | undefined;
  emotion?: Emotion;
}

/** A frame and the faces the engine found in it (boxes in the frame's original pixels). */
export interface AnalysedFrame {
  index: number;
  timeMs: number;
  /** The pixels the faces were found in; `original` set when they were shrunk while decoding. */
  image: RgbImage & Pick<DecodedImage, 'original'>;
  faces: readonly FaceAnalysis[];
}

export interface TrackingOptions {
  /** Sightings a track needs before it is reported (default 2). */
  minHits?: number;
  /** A track missed for longer than this ends (default 1,000 ms of video). */
  maxMissedMs?: number;
  /** Sightings before the first identity is decided (default 3; a shorter track is decided when it ends). */
  decideAfter?: number;
}

interface OpenTrack {
  summary: TrackSummary;
  bestCrop: RgbImage | undefined;
  identity: TrackIdentity | undefined;
  /** Best sightings changed since the identity was decided. */
  stale: boolean;
  reported: boolean;
}

/**
 * One stream's tracks. Feed it every analysed frame in order (`observe`); it answers with the events the frame
 * caused and the frame's faces on their tracks. `finish` ends the tracks still open, with their final identity.
 */
export class TrackSession {
  readonly #recognizer: TrackRecognizer;
  readonly #tracker: FaceTracker;
  readonly #decideAfter: number;
  readonly #open = new Map<number, OpenTrack>();
  #tracksReported = 0;

  constructor(recognizer: TrackRecognizer, model: Pick<ModelInfo, 'defaultThreshold'>, options: TrackingOptions = {}) {
    this.#recognizer = recognizer;
    this.#tracker = new FaceTracker({
      // The model's 1:1 threshold: two sightings this close are the same face by the model's own measure.
      sameFaceDistance: model.defaultThreshold,
      maxMissedMs: options.maxMissedMs ?? 1000,
      minHits: options.minHits ?? 2,
    });
    this.#decideAfter = options.decideAfter ?? 3;
  }

  /** Tracks reported so far (confirmed by `minHits` sightings). */
  get tracksReported(): number {
    return this.#tracksReported;
  }

  /** Puts a frame's faces on tracks; the events it caused (in order) and its faces with their tracks' identities. */
  async observe(frame: AnalysedFrame): Promise<{ events: TrackEvent[]; faces: TrackedFace[] }> {
    const events: TrackEvent[] = [];
    const withEmbedding = frame.faces.filter((face) => face.embedding !== undefined);
    const update = this.#tracker.update(
      frame.timeMs,
      withEmbedding.map((face) => ({ box: face.box, embedding: face.embedding! })),
    );
    // Boxes are in the frame's original pixels; sharpness and crops read the (possibly shrunk) decoded ones.
    const { x: scaleX, y: scaleY } = shrinkFactors(frame.image);
    for (const [i, face] of withEmbedding.entries()) {
      const id = update.assignments[i]!;
      let track = this.#open.get(id);
      if (!track) {
        track = { summary: new TrackSummary(), bestCrop: undefined, identity: undefined, stale: true, reported: false };
        this.#open.set(id, track);
      }
      const pixels = { x: face.box.x / scaleX, y: face.box.y / scaleY, width: face.box.width / scaleX, height: face.box.height / scaleY };
      const isBest = track.summary.add({
        frame: frame.index,
        timeMs: frame.timeMs,
        box: face.box,
        detectionScore: face.detectionScore,
        landmarks: face.landmarks,
        sharpness: faceSharpness(frame.image, pixels),
        embedding: face.embedding!,
        ...(face.attributes?.emotion ? { emotion: face.attributes.emotion } : {}),
      });
      if (isBest) track.stale = true;
      if (track.summary.best?.frame === frame.index) track.bestCrop = cropRgb(frame.image, pixels);
    }
    for (const id of update.confirmed) {
      const track = this.#open.get(id);
      const state = this.#tracker.tracks.find((candidate) => candidate.id === id);
      if (!track || !state) continue;
      track.reported = true;
      this.#tracksReported += 1;
      events.push({ type: 'track_started', track: id, timeMs: state.firstSeenMs, frame: frame.index, box: roundBox(state.box) });
    }
    for (const [id, track] of this.#open) {
      if (track.reported && track.stale && track.summary.sightings >= this.#decideAfter) {
        const event = await this.#decide(id, track, frame);
        if (event) events.push(event);
      }
    }
    for (const state of update.ended) {
      const event = await this.#end(state, frame.timeMs);
      if (event) events.push(event);
    }
    const faces = withEmbedding.map((face, i): TrackedFace => {
      const id = update.assignments[i]!;
      return {
        track: id,
        box: face.box,
        identity: this.#open.get(id)?.identity,
        ...(face.attributes?.emotion ? { emotion: dominantEmotion(face.attributes.emotion) } : {}),
      };
    });
    return { events, faces };
  }

  /** Ends every track still open (the stream stopped at `timeMs`), each with its final identity. */
  async finish(timeMs: number): Promise<TrackEvent[]> {
    const events: TrackEvent[] = [];
    for (const state of this.#tracker.finish()) {
      const event = await this.#end(state, timeMs);
      if (event) events.push(event);
    }
    return events;
  }

  async #decide(id: number, track: OpenTrack, frame: AnalysedFrame): Promise<TrackEvent | undefined> {
    const embedding = track.summary.embedding();
    if (!embedding) return undefined;
    const identity = await this.#recognizer.identify(embedding);
    track.stale = false;
    const previous = track.identity?.person;
    const changed = track.identity === undefined || previous !== identity.person;
    track.identity = identity;
    if (!changed) return undefined;
    return { type: 'identity', track: id, timeMs: frame.timeMs, frame: frame.index, identity, previous };
  }

  async #end(state: TrackState, timeMs: number): Promise<TrackEvent | undefined> {
    const track = this.#open.get(state.id);
    this.#open.delete(state.id);
    const best = track?.summary.best;
    if (!track || !best || !track.reported) return undefined;
    // The final answer uses every sighting the track had.
    const embedding = track.summary.embedding();
    const identity = embedding ? await this.#recognizer.identify(embedding) : null;
    const emotion = track.summary.emotion();
    const crop = track.bestCrop ? await sharp(track.bestCrop.data, { raw: { width: track.bestCrop.width, height: track.bestCrop.height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer() : Buffer.alloc(0);
    return {
      type: 'track_ended',
      track: state.id,
      timeMs,
      startedMs: state.firstSeenMs,
      durationMs: state.lastSeenMs - state.firstSeenMs,
      framesSeen: track.summary.sightings,
      bestFrame: { frame: best.frame, timeMs: best.timeMs, box: roundBox(best.box), crop: crop.toString('base64') },
      identity,
      emotion: emotion ? { ...emotionResult(emotion.scores), timeline: emotion.timeline } : null,
    };
  }
}

function roundBox(box: Box): Box {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}
