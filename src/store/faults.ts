import { FacedbError } from '../errors/errors.js';

/*
 * Storage faults (disk full, read-only, I/O errors, a database file deleted or replaced, a database server
 * gone) as the stores report them: FacedbError('storage_unavailable'), HTTP 503 and its own CLI exit code,
 * never `internal`. Each driver maps its own error codes to these; both remember the last one for readiness.
 */

export type StorageFault = 'full' | 'read_only' | 'io' | 'gone' | 'unreachable';

export function storageUnavailable(fault: StorageFault, message: string, cause?: unknown): FacedbError {
  return new FacedbError('storage_unavailable', message, { cause, details: { fault } });
}

/** How long a write's storage fault keeps `ping` (readiness) failing when no write has succeeded since. */
export const FAULT_MEMORY_MS = 30_000;

/**
 * The last storage fault a write ran into, so readiness reports a disk that filled up or went read-only under
 * a running server (a `SELECT 1` still succeeds then). Cleared by the next write that succeeds, and forgotten
 * after FAULT_MEMORY_MS so that a server nobody writes to comes back once the cause may be gone; the next
 * write then finds out again.
 */
export class FaultMemory {
  #last: { error: FacedbError; at: number } | undefined;

  record(error: unknown): void {
    if (error instanceof FacedbError && error.code === 'storage_unavailable') this.#last = { error, at: Date.now() };
  }

  succeeded(): void {
    this.#last = undefined;
  }

  /** The remembered fault, if recent. */
  current(): FacedbError | undefined {
    if (this.#last !== undefined && Date.now() - this.#last.at > FAULT_MEMORY_MS) this.#last = undefined;
    return this.#last?.error;
  }
}
