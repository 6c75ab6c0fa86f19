/**
 * facedb watch: faces in a video, followed from frame to frame and identified per track. Orchestration only: frames
 * come from ffmpeg (src/video), faces from the engine, tracking and summaries are pure (src/core/tracking.ts,
 * src/core/track-summary.ts), names come from the same search, threshold and confidence as identify.
 */
import { checkAttributes } from '../core/attributes.js';
import type { Box, Emotion, FaceAttribute } from '../core/types.js';
import { FacedbError } from '../errors/errors.js';
import type { AnalyzeOptions, FaceEngine } from '../engine/engine.js';
import { openVideoSource, type VideoEnd, type VideoFrame, type VideoSource, type VideoSourceInfo, type VideoSourceOptions } from '../video/ffmpeg-source.js';
import type { ServiceContext } from './context.js';
import { NEEDS } from './face-results.js';
import type { IdentifyOptions, RecognitionService } from './recognition.js';
import type { TrackRecognizer } from './results.js';
import { LiveSession, type LiveOptions } from './live-session.js';
import { TrackSession, type TrackEvent, type TrackingOptions } from './track-session.js';

export type { TrackIdentity, TrackRecognizer } from './results.js';
export type { TrackEmotion, TrackEvent } from './track-session.js';

export type WatchEvent =
  | { type: 'started'; source: VideoSourceInfo }
  | TrackEvent
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

export interface WatchOptions extends Pick<VideoSourceOptions, 'maxSide' | 'maxQueued' | 'stallMs' | 'ffmpeg'>, TrackingOptions {
  /** Analyse every n-th frame (default 1: every frame). */
  every?: number;
  /**
   * The attributes read per face: ['emotion'] (the default) or [] for none (faster). A track sums up its emotion
   * only, so age and gender are refused (invalid_input) rather than computed for nothing.
   */
  attributes?: readonly FaceAttribute[];
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

/**
 * Watches a source to its end (or until `signal` aborts), yielding events in video-time order. Frames are analysed
 * two at a time (one per engine worker) and handled in order, so the tracker sees them as they were filmed.
 */
export async function* watchVideo(deps: WatchDependencies, source: string | VideoSource, options: WatchOptions = {}): AsyncGenerator<WatchEvent> {
  const started = performance.now();
  const video = typeof source === 'string' ? await openVideoSource(source, { ...options, ...(options.signal ? { signal: options.signal } : {}) }) : source;
  const every = Math.max(1, Math.floor(options.every ?? 1));
  const wanted = watchAttributes(options.attributes);
  const session = new TrackSession(deps.recognizer, deps.engine.model, options);
  const analyzeOptions: AnalyzeOptions = { ...deps.analyzeOptions, needs: { embedding: true, attributes: wanted, crop: false } };
  let frames = 0;
  let analyzed = 0;
  let reportedDrops = 0;
  let lastTimeMs = 0;
  let end: VideoEnd = { reason: 'end' };

  yield { type: 'started', source: video.info };

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
      const observed = await session.observe({ ...frame, faces });
      yield* observed.events;
      if (options.onFrame) {
        lastDrawn = observed.faces.map(({ track, box, identity, emotion }) => {
          const name = identity?.person;
          return {
            track,
            box,
            label: `#${track} ${name ?? (identity ? 'unknown' : '…')}`,
            known: name !== undefined && name !== null,
            ...(emotion ? { emotion } : {}),
          };
        });
        await options.onFrame({ frame, faces: lastDrawn });
      }
    }
  } finally {
    video.close();
  }
  // Tracks still open when the video stops end with it (their final identity included).
  yield* await session.finish(lastTimeMs);
  yield {
    type: 'ended',
    reason: end.reason,
    ...('message' in end ? { message: end.message } : {}),
    frames,
    framesAnalyzed: analyzed,
    framesDropped: video.dropped,
    tracks: session.tracksReported,
    elapsedMs: Math.round(performance.now() - started),
  };
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

  /**
   * A live stream of pictures sent one at a time (the web page's camera): each is decoded within the upload limits,
   * and its faces are tracked and named per track as `watch` does.
   */
  async live(options: LiveOptions & IdentifyOptions = {}): Promise<LiveSession> {
    const recognizer = await this.#recognition.trackRecognizer(options);
    const engine = await this.#context.engine();
    const needs = { ...NEEDS.identify, attributes: watchAttributes(options.attributes) };
    return new LiveSession(this.#context, engine, recognizer, this.#context.analyzeOptions(options, needs), options);
  }
}
