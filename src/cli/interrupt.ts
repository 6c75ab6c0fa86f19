import { EXIT_INTERRUPTED } from '../errors/exit-codes.js';
/** What a long-running command does with Ctrl-C (SIGINT) and SIGTERM. */
export interface Interrupt {
  /** Aborted by the first Ctrl-C: the run finishes what is in flight, then reports. */
  readonly signal: AbortSignal;
  /** Removes the handlers (in a `finally`). */
  release(): void;
}

/**
 * The first Ctrl-C prints `message` to stderr and aborts `signal`; a second one quits at once with exit code 130.
 * Enroll, enroll --unlabelled (local and through `facedb client`) and reembed all stop this way.
 */
export function onInterrupt(message: string): Interrupt {
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(EXIT_INTERRUPTED);
    process.stderr.write(`\ninterrupted: ${message}\n`);
    controller.abort();
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  return {
    signal: controller.signal,
    release: () => {
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
    },
  };
}
