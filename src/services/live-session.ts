/**
 * A live stream of pictures sent one at a time (the web page's camera over a WebSocket, or a library caller): each
 * picture is decoded through the one decode path within the upload limits, analysed, and put on tracks by the same
 * TrackSession as `facedb watch`, so faces are followed and named per track exactly as watch names them.
 */
import type { FaceAttribute } from '../core/types.js';
import type { FaceEngine, AnalyzeOptions } from '../engine/engine.js';
import { FacedbError } from '../errors/errors.js';
import type { ServiceContext } from './context.js';
import { imageInfo } from './face-results.js';
import type { ImageInfo, TrackRecognizer } from './results.js';
import { TrackSession, type TrackedFace, type TrackEvent, type TrackingOptions } from './track-session.js';

export interface LiveOptions extends TrackingOptions {
  /** The attributes read per face: ['emotion'] (the default) or [] for none, as for watch. */
  attributes?: readonly FaceAttribute[];
}

/** One picture's answer: its faces on their tracks (boxes in the picture's own pixels) and the events it caused. */
export interface LiveFrame {
  /** 0-based number of the picture in this session. */
  frame: number;
  /** Stream time of the picture, in milliseconds since the session started. */
  timeMs: number;
  image: ImageInfo;
  faces: TrackedFace[];
  events: TrackEvent[];
}

export class LiveSession {
  readonly #context: ServiceContext;
  readonly #engine: FaceEngine;
  readonly #recognizer: TrackRecognizer;
  readonly #analyzeOptions: AnalyzeOptions;
  readonly #tracks: TrackSession;
  readonly #started = performance.now();
  #frames = 0;
  #lastTimeMs = 0;
  #busy = false;

  constructor(context: ServiceContext, engine: FaceEngine, recognizer: TrackRecognizer, analyzeOptions: AnalyzeOptions, options: LiveOptions = {}) {
    this.#context = context;
    this.#engine = engine;
    this.#recognizer = recognizer;
    this.#analyzeOptions = analyzeOptions;
    this.#tracks = new TrackSession(recognizer, engine.model, options);
  }

  /** The match threshold names are decided with (identify's). */
  get threshold(): number {
    return this.#recognizer.threshold;
  }

  /**
   * Analyses the next picture (JPEG, PNG, WebP, … bytes, within the upload limits). One at a time: the tracker must
   * see pictures in the order they were taken. `timeMs` (stream time) defaults to the time since the session began;
   * a picture that cannot be decoded gets its error and leaves the tracks as they were.
   */
  async analyse(bytes: Uint8Array, timeMs?: number): Promise<LiveFrame> {
    if (this.#busy) throw new FacedbError('invalid_input', 'a live session analyses one picture at a time: wait for the previous answer');
    this.#busy = true;
    try {
      const frame = this.#frames;
      this.#frames += 1;
      // Stream time never runs backwards: the tracker measures how long a face was missed by it.
      const at = Math.max(this.#lastTimeMs, timeMs ?? performance.now() - this.#started);
      const { image } = await this.#context.load({ bytes });
      // The engine may hand the pixels over to a worker thread (transferred, not copied); sharpness and crops
      // read them afterwards.
      const faces = await this.#engine.analyze({ ...image, data: image.data.slice() }, this.#analyzeOptions);
      this.#lastTimeMs = at;
      const observed = await this.#tracks.observe({ index: frame, timeMs: at, image, faces });
      return { frame, timeMs: Math.round(at), image: imageInfo(image), faces: observed.faces, events: observed.events };
    } finally {
      this.#busy = false;
    }
  }

  /** Ends the tracks still open (the stream stopped), each with its final identity. */
  finish(): Promise<TrackEvent[]> {
    return this.#tracks.finish(this.#lastTimeMs);
  }
}
