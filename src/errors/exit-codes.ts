import type { ErrorCode } from './errors.js';

/** CLI exit codes, documented in the README. The only place error codes map to exit codes. */
export const EXIT_OK = 0;
/** `facedb reembed` ran to the end but some faces could not be moved (each one is reported): the new gallery is not complete. */
export const EXIT_INCOMPLETE = 10;
const EXIT_CODES: Record<ErrorCode, number> = {
  internal: 1,
  invalid_input: 2,
  validation_failed: 2,
  invalid_image: 3,
  image_too_large: 3,
  unsupported_media_type: 3,
  no_face: 4,
  not_found: 5,
  model_mismatch: 6,
  unauthorized: 7,
  forbidden: 7,
  overloaded: 8,
  storage_unavailable: 9,
  rate_limited: 8,
  request_timeout: 8,
  source_unavailable: 11,
};

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code];
}
