/**
 * The few typed errors facedb raises. Every error a user can cause carries a stable `code`;
 * HTTP statuses and CLI exit codes are derived from the code in exactly one place each
 * (`exit-codes.ts`, and the server's error handler).
 */
export const ERROR_CODES = [
  'invalid_image', // undecodable, empty, truncated, not an image
  'image_too_large', // pixel count over the limit (decompression bombs) or file too big
  'unsupported_media_type',
  'no_face', // an operation that needs a face found none
  'not_found', // missing file, person, face
  'invalid_input', // bad arguments, empty directory, bad config
  'validation_failed',
  'model_mismatch', // gallery pinned to another model
  'unauthorized',
  'forbidden',
  'overloaded',
  'storage_unavailable', // the gallery database cannot be written or read: disk full, read-only, I/O error, gone
  'rate_limited', // too many wrong API keys from one address or with one key
  'request_timeout', // the request was not received in time
  'insufficient_data', // too few people, photos or pairs to measure what was asked (facedb evaluate)
  'conflict', // the request contradicts what is stored: a name taken or look-alike on rename, a face moved to its own person, a person merged into itself, a cluster named into a person it is far from or was rejected for
  'unreachable', // a server or source this process reads from cannot be reached or stopped sending (a facedb server for `facedb client`, the Redis queue, a video stream or camera for `facedb watch`)
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class FacedbError extends Error {
  readonly code: ErrorCode;
  /** Extra machine-readable facts (e.g. the offending path); never a stack trace. */
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FacedbError';
    this.code = code;
    this.details = options?.details;
  }
}

export function isFacedbError(error: unknown): error is FacedbError {
  return error instanceof FacedbError;
}

/** Wraps anything thrown into a FacedbError so callers only ever see typed errors. */
export function toFacedbError(error: unknown): FacedbError {
  if (error instanceof FacedbError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new FacedbError('internal', message, { cause: error });
}
