import { createHash } from 'node:crypto';
import type { EnrollOutcome } from '../services/results.js';

/**
 * The contract between `facedb enroll --queue` and `facedb worker`: one BullMQ queue per Redis database, one job
 * per photo. A queue feeds one gallery: workers of another gallery need another Redis database (`redis://host/2`).
 */
export const ENROLL_QUEUE = 'facedb-enroll';
export const ENROLL_JOB = 'enroll';

/** What a worker on another machine needs: the photo itself (no shared file system), whose it is, where it came from. */
export interface EnrollJobData {
  person: string;
  /** The photo's path on the enqueuing machine: reported back and kept as the face's source path. */
  path: string;
  /** SHA-256 (hex) of the photo's bytes, checked by the worker. */
  contentHash: string;
  /** The photo's bytes, base64 (job data is JSON). */
  image: string;
}

/** What a finished job returns: the same outcome a local enroll gives the photo. */
export type EnrollJobResult = EnrollOutcome;

/** Tries per job: the first run and up to three retries after transient failures (storage, overload). */
export const JOB_ATTEMPTS = 4;
/** Delay before the first retry; doubled for each further one (1 s, 2 s, 4 s). */
export const RETRY_DELAY_MS = 1_000;

/**
 * The job id of a photo for a person: the same photo queued again for the same person, by this run or another,
 * joins the job already waiting instead of adding a second one. Colons are not allowed in BullMQ ids.
 */
export function enrollJobId(contentHash: string, person: string): string {
  return `${contentHash}-${createHash('sha256').update(person, 'utf8').digest('hex')}`;
}
