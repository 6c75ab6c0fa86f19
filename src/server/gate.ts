import type { FacedbConfig } from '../config/config.js';
import { FacedbError } from '../errors/errors.js';
import type { FaceService } from '../services/face-service.js';

/**
 * Front door to inference: refuses work when the engine's queue is full (503 with Retry-After beats
 * piling up requests until they all time out) and answers 503 when a request runs past the deadline.
 * The worker job itself cannot be cancelled; it finishes and its result is dropped.
 */
export class InferenceGate {
  constructor(
    private readonly service: FaceService,
    private readonly config: FacedbConfig,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    const depth = this.service.queueDepth();
    if (depth >= this.config.maxQueue) {
      throw new FacedbError('overloaded', `the server is busy (${depth} jobs queued); retry shortly`);
    }
    const job = work();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new FacedbError('overloaded', `the request did not finish within ${this.config.requestTimeoutMs} ms`));
      }, this.config.requestTimeoutMs);
    });
    try {
      return await Promise.race([job, deadline]);
    } finally {
      clearTimeout(timer);
      // A job that lost the race may still fail later; that failure has no one left to tell.
      job.catch(() => undefined);
    }
  }
}
