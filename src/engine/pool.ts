/**
 * A generic pool of worker threads with a FIFO queue. Each worker owns heavy state (models), so jobs go
 * to whichever worker is idle; results and errors come back as plain data and typed FacedbErrors.
 * The worker side of the protocol is `serveJobs`, in this file too so both ends stay in step.
 */
import os from 'node:os';
import { parentPort, type Worker } from 'node:worker_threads';
import { FacedbError, toFacedbError, type ErrorCode } from '../errors/errors.js';
import { startWorker } from '../threads/start-worker.js';

interface SerializedError {
  code: ErrorCode;
  message: string;
  details: Record<string, unknown> | undefined;
}

type ToWorker = { type: 'job'; id: number; job: unknown };
type FromWorker =
  | { type: 'ready' }
  | { type: 'init_failed'; error: SerializedError }
  | { type: 'result'; id: number; result: unknown }
  | { type: 'failed'; id: number; error: SerializedError };

/** What a job handler returns: the result, and the buffers inside it to move rather than copy. */
export interface JobOutput<TResult> {
  result: TResult;
  transfer?: ArrayBuffer[];
}

function serializeError(error: unknown): SerializedError {
  const typed = toFacedbError(error);
  return { code: typed.code, message: typed.message, details: typed.details === undefined ? undefined : { ...typed.details } };
}

function deserializeError(error: SerializedError): FacedbError {
  return new FacedbError(error.code, error.message, error.details === undefined ? undefined : { details: error.details });
}

/**
 * Worker-thread side: runs `init` once (e.g. loads models), then answers jobs one at a time.
 * Any error a handler throws goes back to the caller as a FacedbError; the worker keeps serving.
 */
export function serveJobs<TJob, TResult>(init: () => Promise<(job: TJob) => Promise<JobOutput<TResult>>>): void {
  const port = parentPort;
  if (!port) throw new Error('serveJobs must run inside a worker thread');
  const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
  init().then(
    (handle) => {
      port.on('message', (message: ToWorker) => {
        handle(message.job as TJob).then(
          ({ result, transfer }) => post({ type: 'result', id: message.id, result }, transfer),
          (error: unknown) => post({ type: 'failed', id: message.id, error: serializeError(error) }),
        );
      });
      post({ type: 'ready' });
    },
    (error: unknown) => post({ type: 'init_failed', error: serializeError(error) }),
  );
}

export interface WorkerPoolOptions {
  /** Worker entry module; see `workerModuleUrl`. */
  workerUrl: URL;
  /** Number of workers; default one per core. */
  size?: number;
  /** Handed to every worker as `workerData` (structured-cloned). */
  workerData?: unknown;
}

interface QueuedJob {
  job: unknown;
  transfer: ArrayBuffer[];
  resolve: (result: unknown) => void;
  reject: (error: FacedbError) => void;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current: (QueuedJob & { id: number }) | undefined;
}

export class WorkerPool<TJob, TResult> {
  private readonly workerUrl: URL;
  private readonly workerData: unknown;
  private readonly slots = new Set<Slot>();
  private readonly queue: QueuedJob[] = [];
  private nextJobId = 1;
  private closed = false;

  private constructor(workerUrl: URL, workerData: unknown) {
    this.workerUrl = workerUrl;
    this.workerData = workerData;
  }

  /** Starts every worker and resolves once all are ready, so start-up failures (missing models) surface here. */
  static async start<TJob, TResult>(options: WorkerPoolOptions): Promise<WorkerPool<TJob, TResult>> {
    const size = options.size ?? os.availableParallelism();
    if (!Number.isInteger(size) || size < 1) throw new FacedbError('invalid_input', `worker count must be a positive integer, got ${size}`);
    const pool = new WorkerPool<TJob, TResult>(options.workerUrl, options.workerData);
    try {
      await Promise.all(Array.from({ length: size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  /** Jobs waiting for a free worker. */
  get queueDepth(): number {
    return this.queue.length;
  }

  get size(): number {
    return this.slots.size;
  }

  /**
   * Runs one job on the next free worker. Buffers in `transfer` move to the worker and are
   * unusable (detached) here afterwards.
   */
  run(job: TJob, transfer: ArrayBuffer[] = []): Promise<TResult> {
    if (this.closed) return Promise.reject(new FacedbError('internal', 'worker pool is closed'));
    if (this.slots.size === 0) return Promise.reject(new FacedbError('internal', 'worker pool has no live workers'));
    return new Promise<TResult>((resolve, reject) => {
      this.queue.push({ job, transfer, resolve: resolve as (result: unknown) => void, reject });
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running jobs fail with an `internal` error. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const closing = new FacedbError('internal', 'worker pool closed before the job ran');
    for (const queued of this.queue.splice(0)) queued.reject(closing);
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) slot.current?.reject(closing);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  /** Resolves when the new worker is ready; rejects if it fails to initialise. */
  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = startWorker(this.workerUrl, { workerData: this.workerData });
      const slot: Slot = { worker, ready: false, current: undefined };
      this.slots.add(slot);
      const failStart = (error: FacedbError): void => {
        this.slots.delete(slot);
        void worker.terminate();
        reject(error);
        this.failQueueIfNoWorkers();
      };
      worker.on('message', (message: FromWorker) => {
        switch (message.type) {
          case 'ready':
            slot.ready = true;
            resolve();
            this.dispatch();
            return;
          case 'init_failed':
            failStart(deserializeError(message.error));
            return;
          case 'result':
          case 'failed': {
            const current = slot.current;
            if (current?.id !== message.id) return;
            slot.current = undefined;
            if (message.type === 'result') current.resolve(message.result);
            else current.reject(deserializeError(message.error));
            this.dispatch();
            return;
          }
        }
      });
      // An uncaught exception in the worker arrives here, then 'exit'; listening keeps it from crashing the process.
      worker.on('error', (error) => {
        if (!slot.ready) failStart(new FacedbError('internal', `inference worker failed to start: ${error.message}`, { cause: error }));
      });
      worker.on('exit', (exitCode) => {
        if (!this.slots.delete(slot)) return; // closed, or already retired
        if (!slot.ready) {
          // It never started: respawning would likely loop on the same failure.
          failStart(new FacedbError('internal', `inference worker exited during start-up (code ${exitCode})`));
          return;
        }
        slot.current?.reject(new FacedbError('internal', `inference worker exited unexpectedly (code ${exitCode})`));
        if (!this.closed) this.spawn().catch(() => this.failQueueIfNoWorkers());
      });
    });
  }

  private failQueueIfNoWorkers(): void {
    if (this.slots.size > 0) return;
    const error = new FacedbError('internal', 'no inference worker could be started');
    for (const queued of this.queue.splice(0)) queued.reject(error);
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      while (slot.ready && !slot.current) {
        const next = this.queue.shift();
        if (!next) return;
        this.send(slot, next);
      }
    }
  }

  private send(slot: Slot, queued: QueuedJob): void {
    const id = this.nextJobId++;
    slot.current = { ...queued, id };
    try {
      const message: ToWorker = { type: 'job', id, job: queued.job };
      slot.worker.postMessage(message, queued.transfer);
    } catch (error) {
      // A job that cannot be sent (e.g. not cloneable) fails alone; the worker stays free for the next.
      slot.current = undefined;
      queued.reject(new FacedbError('internal', `could not send job to worker: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
}
