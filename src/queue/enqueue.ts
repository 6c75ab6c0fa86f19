import { Queue, QueueEvents } from 'bullmq';
import { toFacedbError } from '../errors/errors.js';
import { readImageBytes } from '../image/decode.js';
import { sha256Hex } from '../image/hash.js';
import type { EnrollItem, EnrollOptions } from '../services/face-service.js';
import { ENROLL_STATUSES } from '../services/results.js';
import type { EnrollOutcome, EnrollStatus, EnrollSummary } from '../services/results.js';
import { checkQueueServer, type QueueAddress } from './connection.js';
import {
  ENROLL_JOB,
  ENROLL_QUEUE,
  JOB_ATTEMPTS,
  RETRY_DELAY_MS,
  enrollJobId,
  type EnrollJobData,
  type EnrollJobResult,
} from './jobs.js';

export interface QueueEnrollOptions extends EnrollOptions {
  /** Larger files are refused here, before they reach the queue (FACEDB_MAX_FILE_BYTES). */
  maxFileBytes: number;
  /**
   * Photos queued and not finished yet, at most: further photos are read as earlier ones finish, so Redis never
   * holds a whole archive and an interrupted run leaves little behind. Default 500.
   */
  maxQueued?: number;
  /** The same cap in bytes of photo data. Default 256 MiB. */
  maxQueuedBytes?: number;
  /** Tries per job (first run included). Default JOB_ATTEMPTS. */
  attempts?: number;
  /** Delay before the first retry, doubled for each further one. Default RETRY_DELAY_MS. */
  retryDelayMs?: number;
  /** After this long without news from the queue, ask it directly about the jobs still waited for. Default 5 s. */
  recheckAfterMs?: number;
  /** Things the user should know while waiting (no worker connected). */
  onNotice?: (message: string) => void;
}

interface PendingJob {
  /** Every item of this run that is this photo for this person (the first is the one queued). */
  items: EnrollItem[];
  bytes: number;
}

const MIB = 1024 * 1024;

/**
 * Enrolls through the queue: one job per photo for `facedb worker` processes on any machine, each outcome
 * reported back as it arrives, in the same form as a local enroll (`FaceService.enroll`). Photos the enqueuer cannot
 * read, or that are over the size limit, are reported `unreadable` here and never queued.
 *
 * An aborted `signal` stops queueing and waiting at once: jobs already queued stay queued and the workers finish
 * them; a re-run reports them as already enrolled.
 */
export async function enrollViaQueue(
  address: QueueAddress,
  items: readonly EnrollItem[],
  options: QueueEnrollOptions,
): Promise<EnrollSummary> {
  const started = performance.now();
  const maxQueued = options.maxQueued ?? 500;
  const maxQueuedBytes = options.maxQueuedBytes ?? 256 * MIB;
  const recheckAfterMs = options.recheckAfterMs ?? 5_000;
  const jobOptions = {
    attempts: options.attempts ?? JOB_ATTEMPTS,
    backoff: { type: 'exponential', delay: options.retryDelayMs ?? RETRY_DELAY_MS },
    // The outcome travels in the completion event; keeping finished jobs would keep their photos in Redis.
    removeOnComplete: true,
    removeOnFail: true,
  };
  const { signal } = options;

  await checkQueueServer(address);
  const queue = new Queue<EnrollJobData, EnrollJobResult, typeof ENROLL_JOB>(ENROLL_QUEUE, { connection: address.connection });
  const events = new QueueEvents(ENROLL_QUEUE, { connection: address.connection });
  // Connection trouble after the start is retried by the client (an unhandled 'error' event would end the process):
  // say so once per distinct problem, and wait.
  let lastProblem = '';
  const problem = (error: Error): void => {
    if (error.message === lastProblem) return;
    lastProblem = error.message;
    options.onNotice?.(`queue at ${address.display}: ${error.message} (retrying)`);
  };
  queue.on('error', problem);
  events.on('error', problem);

  const outcomes: EnrollOutcome[] = [];
  const pending = new Map<string, PendingJob>();
  let queuedBytes = 0;
  let wake: () => void = () => {};
  let warnedNoWorkers = false;

  const record = (outcome: EnrollOutcome): void => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome, outcomes.length, items.length);
  };
  const settle = (jobId: string, result: EnrollOutcome): void => {
    const job = pending.get(jobId);
    if (!job) return; // another run's job, or one already settled
    pending.delete(jobId);
    queuedBytes -= job.bytes;
    job.items.forEach((item, i) => {
      const taken = result.status === 'enrolled' || result.status === 'enrolled_one_of_several';
      // The same photo listed twice for one person: a local enroll enrolls it once and skips the copy.
      if (i > 0 && taken) record({ path: item.path, person: item.person, status: 'already_enrolled', facesFound: 0 });
      else record({ ...result, path: item.path, person: item.person });
    });
    wake();
  };
  const news = (): void => wake();
  events.on('completed', ({ jobId, returnvalue }) => settle(jobId, outcomeOf(returnvalue)));
  events.on('failed', ({ jobId, failedReason }) => settle(jobId, failure(failedReason)));
  events.on('active', news);
  const onAbort = (): void => wake();
  signal?.addEventListener('abort', onAbort);

  /** Resolves on news from the queue or an abort (true), or after `recheckAfterMs` of silence (false). */
  const nextNews = (): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), recheckAfterMs);
      wake = () => {
        clearTimeout(timer);
        wake = () => {};
        resolve(true);
      };
    });

  const add = async (item: EnrollItem, bytes: Buffer, contentHash: string, jobId: string): Promise<void> => {
    const data: EnrollJobData = { person: item.person, path: item.path, contentHash, image: bytes.toString('base64') };
    // A job with this id still in the queue (an earlier, interrupted run) is kept as it is: this one waits for it.
    await queue.add(ENROLL_JOB, data, { ...jobOptions, jobId });
  };

  /**
   * Completion events are a stream Redis trims: one missed while this process was busy would leave its photo
   * waited for forever. After a silence, ask for each awaited job: a job that is gone finished unseen, so it is
   * queued again, and the worker answers at once from the gallery (already enrolled) or runs it again.
   */
  const recheck = async (): Promise<void> => {
    const workers = await queue.getWorkersCount();
    if (workers === 0 && !warnedNoWorkers) {
      options.onNotice?.(`no worker is connected to ${address.display}: start one with facedb worker --queue <url> --db <gallery>`);
    }
    warnedNoWorkers = workers === 0;
    for (const [jobId, job] of [...pending]) {
      if (signal?.aborted) return;
      const state = await queue.getJobState(jobId);
      if (state === 'completed' || state === 'failed') {
        const finished = await queue.getJob(jobId);
        if (finished && state === 'completed') settle(jobId, outcomeOf(finished.returnvalue));
        else if (finished) settle(jobId, failure(finished.failedReason));
      } else if (state === 'unknown' && pending.has(jobId)) {
        const [first] = job.items;
        if (!first) continue;
        try {
          const bytes = await readImageBytes(first.path, { maxFileBytes: options.maxFileBytes });
          const contentHash = sha256Hex(bytes);
          if (enrollJobId(contentHash, first.person) === jobId) await add(first, bytes, contentHash, jobId);
          else settle(jobId, failure(`${first.path} changed while it was being enrolled`));
        } catch (error) {
          settle(jobId, { ...unreadable(first, error) });
        }
      }
    }
  };

  /** Waits for news; after a silence, rechecks. */
  const waitForNews = async (): Promise<void> => {
    if (!(await nextNews()) && !signal?.aborted) await recheck();
  };

  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    if ((await queue.getWorkersCount()) === 0) {
      warnedNoWorkers = true;
      options.onNotice?.(`no worker is connected to ${address.display} yet: photos wait in the queue until one is (facedb worker --queue <url> --db <gallery>)`);
    }
    for (const item of items) {
      while (!signal?.aborted && (pending.size >= maxQueued || queuedBytes >= maxQueuedBytes)) await waitForNews();
      if (signal?.aborted) break;
      let bytes: Buffer;
      try {
        bytes = await readImageBytes(item.path, { maxFileBytes: options.maxFileBytes });
      } catch (error) {
        record(unreadable(item, error));
        continue;
      }
      const contentHash = sha256Hex(bytes);
      const jobId = enrollJobId(contentHash, item.person);
      const same = pending.get(jobId);
      if (same) {
        same.items.push(item);
        continue;
      }
      pending.set(jobId, { items: [item], bytes: bytes.length });
      queuedBytes += bytes.length;
      await add(item, bytes, contentHash, jobId);
    }
    while (!signal?.aborted && pending.size > 0) await waitForNews();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.allSettled([events.close(), queue.close()]);
  }

  const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, 0])) as Record<EnrollStatus, number>;
  for (const outcome of outcomes) counts[outcome.status] += 1;
  return { total: items.length, counts, outcomes, elapsedMs: performance.now() - started };
}

function unreadable(item: EnrollItem, error: unknown): EnrollOutcome {
  return { path: item.path, person: item.person, status: 'unreadable', facesFound: 0, message: toFacedbError(error).message };
}

/** A job that failed for good (its retries used up, or its worker died too often): the photo `failed`. */
function failure(reason: string | undefined): EnrollOutcome {
  return { path: '', person: '', status: 'failed', facesFound: 0, message: reason || 'the job failed without a reason' };
}

/** A worker's return value, checked: it crossed a network and may come from another facedb version. */
function outcomeOf(value: unknown): EnrollOutcome {
  const parsed: unknown = typeof value === 'string' ? safeJson(value) : value;
  if (typeof parsed === 'object' && parsed !== null) {
    const outcome = parsed as Partial<EnrollOutcome>;
    if (typeof outcome.status === 'string' && (ENROLL_STATUSES as readonly string[]).includes(outcome.status)) {
      return {
        path: '',
        person: '',
        status: outcome.status,
        facesFound: typeof outcome.facesFound === 'number' ? outcome.facesFound : 0,
        ...(typeof outcome.faceId === 'number' ? { faceId: outcome.faceId } : {}),
        ...(typeof outcome.message === 'string' ? { message: outcome.message } : {}),
      };
    }
  }
  return failure('the worker returned no outcome');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
