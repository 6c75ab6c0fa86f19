import { availableParallelism } from 'node:os';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceService } from '../services/face-service.js';

/**
 * Front door to inference, and what bounds the server's memory. Two limits:
 *
 * - admission (`admit`, an onRequest hook of every route that takes photos): at most `capacity` requests
 *   between their first byte and their answer. Counting starts before the body is read, so a burst cannot
 *   slip past the check while earlier requests are still uploading or decoding; the excess gets 503 with
 *   Retry-After at once, before its body is buffered.
 * - concurrency (`run`): at most `concurrency` photos are decoded and analysed at a time; the other admitted
 *   requests wait holding only their compressed upload. A request still waiting or running at its deadline
 *   gets 503; its job cannot be cancelled, so it keeps its slot until it really ends.
 *
 * So the photos in memory at once are at most `concurrency`, each shrunk to `maxImageSide` while decoding.
 */
export class InferenceGate {
  /** Photos decoded and analysed at once: two per engine worker, so a worker never idles while the next decodes. */
  readonly concurrency: number;
  /** Requests admitted at once: the ones running plus `maxQueue` waiting. */
  readonly capacity: number;
  private admitted = 0;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly service: FaceService,
    private readonly config: FacedbConfig,
  ) {
    this.concurrency = 2 * (config.workers ?? availableParallelism());
    this.capacity = this.concurrency + config.maxQueue;
  }

  /** onRequest hook: admits the request or refuses it with 503 overloaded; the count drops when the reply closes. */
  readonly admit = (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const queued = this.service.queueDepth();
    if (this.admitted >= this.capacity || queued >= this.config.maxQueue) {
      const busy = Math.max(this.admitted - this.concurrency, queued);
      done(new FacedbError('overloaded', `the server is busy (${busy} requests waiting); retry shortly`));
      return;
    }
    this.admitted += 1;
    // 'close' fires once, when the answer is sent or the client goes away, whichever comes first.
    reply.raw.once('close', () => {
      this.admitted -= 1;
    });
    done();
  };

  /** Runs one photo's work (decode and inference) in a free slot, within the request deadline. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new FacedbError('overloaded', `the request did not finish within ${this.config.requestTimeoutMs} ms`));
      }, this.config.requestTimeoutMs);
    });
    const job = this.acquire().then(async () => {
      if (timedOut) {
        this.release();
        throw new FacedbError('overloaded', 'the request timed out waiting for a free slot');
      }
      try {
        return await work();
      } finally {
        this.release();
      }
    });
    try {
      return await Promise.race([job, deadline]);
    } finally {
      clearTimeout(timer);
      // A job that lost the race may still fail later; that failure has no one left to tell.
      job.catch(() => undefined);
    }
  }

  /**
   * Runs one live video frame's work (decode and inference) only if a slot is free now and no photo is waiting for
   * one; undefined when busy. Frames never queue: a request waiting for a slot gets the next one that frees, so a
   * stream of frames delays identify and the other photo routes by one frame's work at most, and a frame that would
   * wait is better skipped than answered late.
   */
  tryRun<T>(work: () => Promise<T>): Promise<T> | undefined {
    if (this.running >= this.concurrency || this.waiting.length > 0 || this.service.queueDepth() >= this.config.maxQueue) return undefined;
    this.running += 1;
    return (async () => {
      try {
        return await work();
      } finally {
        this.release();
      }
    })();
  }

  private acquire(): Promise<void> {
    if (this.running < this.concurrency) {
      this.running += 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      // The slot passes straight from the releasing job to this one: `running` stays counted.
      this.waiting.push(resolve);
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running -= 1;
  }
}
