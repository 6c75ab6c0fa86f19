import { escapeInvisible } from '../core/names.js';
import { toFacedbError, type ErrorCode, type FacedbError } from '../errors/errors.js';
import { batchExitCode } from '../errors/exit-codes.js';
import type { SkippedEntries } from '../image/scan.js';
import { STOPS_ENROLLMENT, type EnrollStatus } from '../services/results.js';
import type { UnnamedEnrollStatus } from '../services/cluster-service.js';
import { print } from './context.js';
import { ProgressLine } from './progress.js';
import { formatFileError, formatPhotoSummary, formatSkipped } from './report.js';

/**
 * Failures that are the whole run's, not one photo's: every later photo would fail the same way (another model, a
 * storage fault, a wrong key, a server that sheds load or cannot be reached). They stop a command over many photos
 * with their own exit code instead of being reported once per photo.
 */
export const STOPS_RUN: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ...STOPS_ENROLLMENT,
  'unauthorized',
  'forbidden',
  'overloaded',
  'rate_limited',
  'unreachable',
]);

/** What an enrollment outcome means for the exit code: null when the photo is in the gallery, else why not. */
const ENROLL_FAILURE: Record<EnrollStatus | UnnamedEnrollStatus, ErrorCode | null> = {
  enrolled: null,
  enrolled_one_of_several: null,
  already_enrolled: null,
  no_face: 'no_face',
  unreadable: 'invalid_image',
  invalid_name: 'invalid_input',
  not_found: 'not_found',
  failed: 'internal',
};

/** The exit code of an enrollment run (local, queued, through `facedb client`, named or not); see batchExitCode. */
export function enrollExitCode(outcomes: ReadonlyArray<{ status: EnrollStatus | UnnamedEnrollStatus }>): number {
  return batchExitCode(outcomes.map((outcome) => ENROLL_FAILURE[outcome.status]));
}

/** Prints the lines about what a folder listing left out, on stderr (stdout keeps only results). */
export function reportSkipped(skipped: SkippedEntries, layout: string): void {
  for (const line of formatSkipped(skipped, layout)) process.stderr.write(`${line}\n`);
}

const FAILURE_WORDS: Partial<Record<ErrorCode, string>> = {
  invalid_image: 'unreadable',
  image_too_large: 'unreadable',
  unsupported_media_type: 'unreadable',
  not_found: 'not found',
  invalid_input: 'refused',
};

/**
 * One run of identify, analyze or represent (local or through `facedb client`) over its photos: a progress line on
 * stderr when there are several, each photo's report above it, the summary, and the exit code of batchExitCode (a
 * photo without a face counts as one that did not give a result).
 */
export class PhotoBatch {
  private readonly started = performance.now();
  private readonly progress: ProgressLine | undefined;
  private readonly failures: Array<ErrorCode | null> = [];
  private readonly failed = new Map<string, number>();
  private withFaces = 0;
  private noFace = 0;
  private faces = 0;
  private known: number | undefined;

  constructor(
    private readonly total: number,
    private readonly json: boolean | undefined,
  ) {
    if (total > 1) this.progress = new ProgressLine(total);
  }

  /** A photo read and analysed, with its report; `known` counts the faces identify named. */
  analysed(report: string, faces: number, known?: number): void {
    if (faces > 0) this.withFaces += 1;
    else this.noFace += 1;
    this.faces += faces;
    if (known !== undefined) this.known = (this.known ?? 0) + known;
    this.failures.push(faces > 0 ? null : 'no_face');
    this.line(report);
  }

  /** A photo that failed; a failure of the whole run is thrown instead. */
  failedWith(file: string, error: unknown): void {
    const failure: FacedbError = toFacedbError(error);
    if (STOPS_RUN.has(failure.code)) throw failure;
    this.failures.push(failure.code);
    const word = FAILURE_WORDS[failure.code] ?? 'failed';
    this.failed.set(word, (this.failed.get(word) ?? 0) + 1);
    const report = { file, error: { code: failure.code, message: failure.message } };
    this.line(this.json ? JSON.stringify(report) : formatFileError(file, failure));
  }

  /** Ends the progress line, prints the summary of a run over several photos, and sets the exit code. */
  finish(): void {
    const processed = this.failures.length;
    this.progress?.finish(processed);
    if (this.total > 1) {
      const summary = formatPhotoSummary({
        total: this.total,
        processed,
        elapsedMs: performance.now() - this.started,
        withFaces: this.withFaces,
        faces: this.faces,
        ...(this.known === undefined ? {} : { known: this.known }),
        noFace: this.noFace,
        failed: this.failed,
      });
      // JSON lines stay one object per photo on stdout; the summary is then for the person watching.
      if (this.json) process.stderr.write(`${summary}\n`);
      else print(summary);
    }
    process.exitCode = batchExitCode(this.failures);
  }

  /** A photo's report, above the progress line, which then counts the photo. */
  private line(text: string): void {
    if (!this.progress) return print(text);
    this.progress.log(escapeInvisible(text, '\n\t'));
    this.progress.update(this.failures.length);
  }
}

/** What identify, analyze and represent read of a folder, for the line about what they skipped. */
export const FLAT_FOLDER = 'the photos in a folder are read, not its subfolders';
