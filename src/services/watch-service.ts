/**
 * facedb watch: faces in a video, followed from frame to frame and identified per track. Orchestration only: frames
 * come from ffmpeg (src/video), faces from the engine, tracking and summaries are pure (src/core/tracking.ts,
 * src/core/track-summary.ts), names come from the same search, threshold and confidence as identify.
 */
import sharp from 'sharp';
import { dominantEmotion, emotionResult } from '../core/emotion.js';
import { FaceTracker, type TrackState } from '../core/tracking.js';
import { TrackSummary, type EmotionSegment } from '../core/track-summary.js';
import { checkAttributes } from '../core/attributes.js';
import type { Box, Emotion, FaceAttribute } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import type { AnalyzeOptions, FaceEngine } from '../engine/engine.js';
import type { RgbImage } from '../image/image.js';
import { cropRgb, faceSharpness } from '../image/sharpness.js';
import { openVideoSource, type VideoEnd, type VideoFrame, type VideoSource, type VideoSourceInfo, type VideoSourceOptions } from '../video/ffmpeg-source.js';
import type { ServiceContext } from './context.js';
import { NEEDS } from './face-results.js';
import type { IdentifyOptions, RecognitionService } from './recognition.js';
import type { EmotionResult, TrackIdentity, TrackRecognizer } from './results.js';

export type { TrackIdentity, TrackRecognizer } from './results.js';

export interface TrackEmotion extends EmotionResult {
  timeline: EmotionSegment[];
}

export type WatchEvent =
  | { type: 'started'; source: VideoSourceInfo }
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
    }
  | { type: 'frames_dropped'; timeMs: number; count: number; total: number }
  | {
      type: 'ended';
      reason: VideoEnd['reason'];
      message?: string;
      frames: number;
      framesAnalyzed: number;
      framesDropped: number;
      tracks: number;
      elapsedMs: number;
    };

/** What a frame looked like after analysis, for drawing (--annotate, the live view). */
export interface AnnotatedFrame {
  frame: VideoFrame;
  faces: Array<{ track: number; box: Box; label: string; known: boolean; emotion?: Emotion }>;
}

export interface WatchOptions extends Pick<VideoSourceOptions, 'maxSide' | 'maxQueued' | 'stallMs' | 'ffmpeg'> {
  /** Analyse every n-th frame (default 1: every frame). */
  every?: number;
  /**
   * The attributes read per face: ['emotion'] (the default) or [] for none (faster). A track sums up its emotion
   * only, so age and gender are refused (invalid_input) rather than computed for nothing.
   */
  attributes?: readonly FaceAttribute[];
  /** Sightings a track needs before it is reported (default 2). */
  minHits?: number;
  /** A track missed for longer than this ends (default 1,000 ms of video). */
  maxMissedMs?: number;
  /** Sightings before the first identity is decided (default 3; a shorter track is decided when it ends). */
  decideAfter?: number;
  /** Called for every analysed frame, in order, with its labelled faces. */
  onFrame?: (annotated: AnnotatedFrame) => void | Promise<void>;
  signal?: AbortSignal;
}

/** What the watch reads per face unless told otherwise. */
export const WATCH_DEFAULT_ATTRIBUTES: readonly FaceAttribute[] = ['emotion'];

export interface WatchDependencies {
  engine: FaceEngine;
  recognizer: TrackRecognizer;
  /** Detection limits, as identify uses them. */
  analyzeOptions: Omit<AnalyzeOptions, 'needs'>;
}

interface LiveTrack {
  summary: TrackSummary;
  bestCrop: RgbImage | undefined;
  identity: TrackIdentity | undefined;
  /** Best sightings changed since the identity was decided. */
  stale: boolean;
  reported: boolean;
}

/**
 * Watches a source to its end (or until `signal` aborts), yielding events in video-time order. Frames are analysed
 * two at a time (one per engine worker) and handled in order, so the tracker sees them as they were filmed.
 */
export async function* watchVideo(deps: WatchDependencies, source: string | VideoSource, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const started = performance.now();
  const video = typeof source === 'string' ? await openVideoSource(source, { ...options, ...(options.signal ? { signal: options.signal } : {}) }) : source;
  const every = Math.max(1, Math.floor(options.every ?? 1));
  const wanted = watchAttributes(options.attributes);
  const tracker = new FaceTracker({
    // The engine's 1:1 threshold: two sightings this close are the same face by the model's own measure.
    sameFaceDistance: deps.engine.model.defaultThreshold,
    maxMissedMs: options.maxMissedMs ?? 1000,
    minHits: options.minHits ?? 2,
  });
  const decideAfter = options.decideAfter ?? 3;
  const live = new Map<number, LiveTrack>();
  const analyzeOptions: AnalyzeOptions = { ...deps.analyzeOptions, needs: { embedding: true, attributes: wanted, crop: false } };
  let frames = 0;
  let analyzed = 0;
  let reportedDrops = 0;
  let tracksReported = 0;
  let lastTimeMs = 0;
  let end: VideoEnd = { reason: 'end' };

  yield { type: 'started', source: video.info };

  const decide = async (id: number, track: LiveTrack, frame: VideoFrame): Promise<WatchEvent | undefined> => {
    const embedding = track.summary.embedding();
    if (!embedding) return undefined;
    const identity = await deps.recognizer.identify(embedding);
    track.stale = false;
    const previous = track.identity?.person;
    const changed = track.identity === undefined || previous !== identity.person;
    track.identity = identity;
    if (!changed) return undefined;
    return { type: 'identity', track: id, timeMs: frame.timeMs, frame: frame.index, identity, previous };
  };

  const endTrack = async (state: TrackState, timeMs: number): Promise<WatchEvent | undefined> => {
    const track = live.get(state.id);
    live.delete(state.id);
    const best = track?.summary.best;
    if (!track || !best || !track.reported) return undefined;
    // The final answer uses every sighting the track had.
    const embedding = track.summary.embedding();
    const identity = embedding ? await deps.recognizer.identify(embedding) : null;
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
  };

  // Frames in flight, oldest first: analysis overlaps, handling stays in order.
  // Frames skipped by `every` ride along (without analysis) only when someone draws them.
  const inFlight: Array<{ frame: VideoFrame; faces: Promise<Awaited<ReturnType<FaceEngine['analyze']>>> | undefined }> = [];
  let analysing = 0;
  let lastDrawn: AnnotatedFrame['faces'] = [];
  const iterator = video.frames();
  let sourceDone = false;
  try {
    for (;;) {
      while (!sourceDone && analysing < 2) {
        const next = await iterator.next();
        if (next.done) {
          end = next.value;
          sourceDone = true;
          break;
        }
        frames += 1;
        const frame = next.value;
        if (frame.index % every !== 0) {
          if (options.onFrame) inFlight.push({ frame, faces: undefined });
          continue;
        }
        // The engine may hand the pixels over to a worker thread (transferred, not copied): it gets its own copy,
        // since sharpness, crops and drawing read the frame afterwards.
        const faces = deps.engine.analyze({ ...frame.image, data: frame.image.data.slice() }, analyzeOptions);
        faces.catch(() => undefined); // handled in order below; never an unhandled rejection meanwhile
        inFlight.push({ frame, faces });
        analysing += 1;
      }
      const current = inFlight.shift();
      if (!current) break;
      const { frame } = current;
      if (current.faces === undefined) {
        await options.onFrame?.({ frame, faces: lastDrawn });
        continue;
      }
      const faces = await current.faces;
      analysing -= 1;
      analyzed += 1;
      lastTimeMs = frame.timeMs;
      if (video.dropped > reportedDrops) {
        yield { type: 'frames_dropped', timeMs: frame.timeMs, count: video.dropped - reportedDrops, total: video.dropped };
        reportedDrops = video.dropped;
      }
      const withEmbedding = faces.filter((face) => face.embedding !== undefined);
      const update = tracker.update(
        frame.timeMs,
        withEmbedding.map((face) => ({ box: face.box, embedding: face.embedding! })),
      );
      for (const [i, face] of withEmbedding.entries()) {
        const id = update.assignments[i]!;
        let track = live.get(id);
        if (!track) {
          track = { summary: new TrackSummary(), bestCrop: undefined, identity: undefined, stale: true, reported: false };
          live.set(id, track);
        }
        const isBest = track.summary.add({
          frame: frame.index,
          timeMs: frame.timeMs,
          box: face.box,
          detectionScore: face.detectionScore,
          landmarks: face.landmarks,
          sharpness: faceSharpness(frame.image, face.box),
          embedding: face.embedding!,
          ...(face.attributes?.emotion ? { emotion: face.attributes.emotion } : {}),
        });
        if (isBest) track.stale = true;
        if (track.summary.best?.frame === frame.index) track.bestCrop = cropRgb(frame.image, face.box);
      }
      for (const id of update.confirmed) {
        const track = live.get(id);
        const state = tracker.tracks.find((candidate) => candidate.id === id);
        if (!track || !state) continue;
        track.reported = true;
        tracksReported += 1;
        yield { type: 'track_started', track: id, timeMs: state.firstSeenMs, frame: frame.index, box: roundBox(state.box) };
      }
      for (const [id, track] of live) {
        if (track.reported && track.stale && track.summary.sightings >= decideAfter) {
          const event = await decide(id, track, frame);
          if (event) yield event;
        }
      }
      for (const state of update.ended) {
        const event = await endTrack(state, frame.timeMs);
        if (event) yield event;
      }
      if (options.onFrame) {
        lastDrawn = withEmbedding.map((face, i) => {
          const id = update.assignments[i]!;
          const track = live.get(id);
          const name = track?.identity?.person;
          return {
            track: id,
            box: face.box,
            label: `#${id} ${name ?? (track?.identity ? 'unknown' : '…')}`,
            known: name !== undefined && name !== null,
            ...(face.attributes?.emotion ? { emotion: dominantEmotion(face.attributes.emotion) } : {}),
          };
        });
        await options.onFrame({ frame, faces: lastDrawn });
      }
    }
  } finally {
    video.close();
  }
  // Tracks still open when the video stops end with it (their final identity included).
  for (const state of tracker.finish()) {
    const event = await endTrack(state, lastTimeMs);
    if (event) yield event;
  }
  yield {
    type: 'ended',
    reason: end.reason,
    ...('message' in end ? { message: end.message } : {}),
    frames,
    framesAnalyzed: analyzed,
    framesDropped: video.dropped,
    tracks: tracksReported,
    elapsedMs: Math.round(performance.now() - started),
  };
}

function roundBox(box: Box): Box {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}

/** The watch's attributes, checked: emotion (the default) or none; age and gender are not summed up per track. */
function watchAttributes(asked: readonly FaceAttribute[] | undefined): readonly FaceAttribute[] {
  const wanted = asked === undefined ? WATCH_DEFAULT_ATTRIBUTES : checkAttributes(asked);
  const unsupported = wanted.filter((name) => !WATCH_DEFAULT_ATTRIBUTES.includes(name));
  if (unsupported.length > 0) {
    throw new FacedbError('invalid_input', `watch reads emotion per track only, not ${unsupported.join(' or ')}: ask for emotion or none`);
  }
  return wanted;
}

/** The watch as a domain service: frames from a source, faces tracked and named with the recognition service. */
export class WatchService {
  readonly #context: ServiceContext;
  readonly #recognition: RecognitionService;

  constructor(context: ServiceContext, recognition: RecognitionService) {
    this.#context = context;
    this.#recognition = recognition;
  }

  /**
   * Watches a video file, stream or camera: faces tracked from frame to frame, each track named from its best
   * sightings as identify names a face. Yields events until the source ends or `signal` aborts.
   */
  async *watch(source: string, options: WatchOptions & IdentifyOptions = {}): AsyncGenerator<WatchEvent> {
    const recognizer = await this.#recognition.trackRecognizer(options);
    const engine = await this.#context.engine();
    const { config } = this.#context;
    const settings = { stallMs: config.watchStallMs, ffmpeg: config.ffmpeg, ...options };
    watchAttributes(options.attributes); // a bad list fails before the video opens
    // The watch asks for embeddings and, unless told otherwise, emotion: it sets `needs` itself.
    yield* watchVideo({ engine, recognizer, analyzeOptions: this.#context.analyzeOptions(options, NEEDS.identify) }, source, settings);
  }
}
