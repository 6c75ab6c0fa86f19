import { Worker, type Job } from 'bullmq';
import { FacedbError, toFacedbError, type ErrorCode } from '../errors/errors.js';
import { sha256Hex } from '../image/hash.js';
import type { FaceService } from '../services/face-service.js';
import { lanesFor } from '../services/batch.js';
import type { EnrollOutcome } from '../services/results.js';
import { checkQueueServer, type QueueAddress } from './connection.js';
import { ENROLL_QUEUE, type EnrollJobData, type EnrollJobResult } from './jobs.js';

export interface EnrollWorkerOptions {
  /** Photos enrolled at once by this process; default 2 per inference thread, as a local enroll keeps busy. */
  concurrency?: number;
  /** Shown in the job as the worker that ran it (BullMQ's processedBy). */
  name?: string;
  /**
   * How long a job stays locked to this worker without a renewal. A worker that dies (kill -9, power loss) holds
   * its jobs this long; then any other worker's stalled check puts them back in the queue. BullMQ's default: 30 s.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs whose worker died. BullMQ's default: 30 s. */
  stalledIntervalMs?: number;
  /** Called once per finished photo (retries of transient failures are not finished). */
  onOutcome?: (outcome: EnrollOutcome) => void;
  /** Called when a job fails for good after its retries, or BullMQ reports a problem. */
  onProblem?: (message: string) => void;
}

export interface EnrollWorker {
  /** Stops taking jobs and resolves once the jobs in flight are finished and committed. */
  close(): Promise<void>;
}

/** The image cannot be used, whoever retries: the photo is reported `unreadable`, as a local enroll would. */
const UNREADABLE: ReadonlySet<ErrorCode> = new Set(['invalid_image', 'image_too_large', 'unsupported_media_type']);
/** Worth another try later: the database or the engine was busy or briefly unreachable. */
const TRANSIENT: ReadonlySet<ErrorCode> = new Set(['internal', 'overloaded']);

/**
 * Enrolls photos from the queue into the service's gallery until closed. Checks the queue and the gallery's model
 * first, so a worker pointed at the wrong place stops at once rather than failing every job.
 */
export async function startEnrollWorker(
  service: FaceService,
  address: QueueAddress,
  options: EnrollWorkerOptions = {},
): Promise<EnrollWorker> {
  await checkQueueServer(address);
  const engine = await service.engine();
  await service.store.ensureModel(engine.model);

  const worker = new Worker<EnrollJobData, EnrollJobResult>(
    ENROLL_QUEUE,
    async (job: Job<EnrollJobData, EnrollJobResult>) => {
      const outcome = await enrollJob(service, job.data);
      options.onOutcome?.(outcome);
      return outcome;
    },
    {
      connection: address.connection,
      concurrency: options.concurrency ?? lanesFor(service.config.workers),
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
    },
  );
  worker.on('failed', (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
      options.onProblem?.(`failed after ${job.attemptsMade} tries: ${job.data.person}  ${job.data.path}: ${error.message}`);
    }
  });
  worker.on('error', (error) => options.onProblem?.(`queue: ${error.message}`));
  await worker.waitUntilReady();
  return { close: () => worker.close() };
}

/**
 * One photo: the outcome a local enroll would give it. Throws (so BullMQ retries with backoff) only for failures
 * that may pass: storage or engine trouble. A photo without a face, an unreadable one or any other permanent
 * failure completes the job with its outcome, so it is never retried.
 */
export async function enrollJob(service: FaceService, data: EnrollJobData): Promise<EnrollOutcome> {
  const base = { path: data.path, person: data.person };
  // A re-run, or a job run again after its worker died having committed it: skip the model.
  if (await personHasPhoto(service, data.person, data.contentHash)) return { ...base, status: 'already_enrolled', facesFound: 0 };
  const bytes = Buffer.from(data.image, 'base64');
  if (sha256Hex(bytes) !== data.contentHash) {
    return { ...base, status: 'unreadable', facesFound: 0, message: 'the queued photo does not match its content hash' };
  }
  try {
    return await service.enrollImage(data.person, { bytes, path: data.path });
  } catch (error) {
    const failure = toFacedbError(error);
    if (TRANSIENT.has(failure.code)) throw failure;
    // Worded as a local enroll words them: a file it could not read names the file.
    if (UNREADABLE.has(failure.code)) return { ...base, status: 'unreadable', facesFound: 0, message: `${data.path}: ${failure.message}` };
    return { ...base, status: 'failed', facesFound: 0, message: failure.message };
  }
}

/** Whether the gallery already holds this photo for this person, by content hash, without loading every hash. */
async function personHasPhoto(service: FaceService, name: string, contentHash: string): Promise<boolean> {
  let personId: number;
  try {
    personId = (await service.findPerson(name)).id;
  } catch (error) {
    if (error instanceof FacedbError && error.code === 'not_found') return false;
    throw error;
  }
  const limit = 500;
  for (let offset = 0; ; offset += limit) {
    const page = await service.listFaces(personId, { limit, offset });
    if (page.items.some((face) => face.contentHash === contentHash)) return true;
    if (offset + limit >= page.total || page.items.length === 0) return false;
  }
}
