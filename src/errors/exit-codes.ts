import type { ErrorCode } from './errors.js';

/**
 * CLI exit codes, documented in the README's table (*Exit codes*). The only place error codes map to exit codes, and
 * the only place the rule for commands over many photos is written (`batchExitCode`).
 */
export const EXIT_OK = 0;
/**
 * Partly done: the command ran to the end, but some of its photos (faces, for `reembed`) could not be used; each one is
 * reported. `reembed` answers it whenever the new gallery is not complete.
 */
export const EXIT_INCOMPLETE = 10;
/** Ctrl-C (or SIGTERM): what was committed before it is kept. */
export const EXIT_INTERRUPTED = 130;

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
  insufficient_data: 11,
  unreachable: 12,
  conflict: 13,
};

export function exitCodeFor(code: ErrorCode): number {
  return EXIT_CODES[code];
}

/**
 * The exit code of a command run over many photos (enroll, identify, analyze, represent, and their `facedb client`
 * twins), from what became of each one: `null` for a photo that gave its result, else the code it failed with. Every
 * photo gave its result (or there was none): 0. Some did and some did not: EXIT_INCOMPLETE. None did: the first
 * failure's own code, exactly as if that photo had been the only one (so one faceless photo exits 4 whichever command
 * was given it). A failure of the whole run (a wrong key, another model, a storage fault) is not a photo's: it stops
 * the command with its own code before this is asked.
 */
export function batchExitCode(failures: Iterable<ErrorCode | null>): number {
  let succeeded = 0;
  let first: ErrorCode | undefined;
  for (const failure of failures) {
    if (failure === null) succeeded += 1;
    else first ??= failure;
  }
  if (first === undefined) return EXIT_OK;
  return succeeded > 0 ? EXIT_INCOMPLETE : exitCodeFor(first);
}
