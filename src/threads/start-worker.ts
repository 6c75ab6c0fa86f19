/**
 * Where a worker thread's entry module is, whether facedb runs from its TypeScript sources (tests, under tsx) or
 * compiled, and how it is started: shared by the engines' inference pools and the ANN index builder.
 */
import { readFileSync } from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * URL of a worker entry next to the calling module, `.ts` when running from sources under tsx (tests)
 * and `.js` once compiled. `base` is the caller's `import.meta.url`.
 */
export function workerModuleUrl(pathWithoutExtension: string, base: string): URL {
  const extension = new URL(base).pathname.endsWith('.ts') ? '.ts' : '.js';
  return new URL(pathWithoutExtension + extension, base);
}

/**
 * What to hand `new Worker()`. Node 20 does not apply the parent's `--import tsx` to a worker's entry module (it
 * fails with "Unknown file extension .ts"), so a TypeScript entry gets a tiny bootstrap that registers tsx first.
 */
function runnableEntry(workerUrl: URL): URL {
  if (!workerUrl.pathname.endsWith('.ts')) return workerUrl;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(workerUrl.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}

/**
 * Stack for a worker thread, in MiB. ONNX Runtime (1.30, POSIX) sets up its telemetry the first time a worker makes
 * an environment: it matches regular expressions against `/proc/self/cmdline` with libstdc++'s std::regex, whose
 * matcher recurses about three frames (≈290 bytes of stack) per character of the command line. On Node's default
 * 4 MiB worker stack that overflows (SIGSEGV, no message) once the command line passes ≈14.3 KB, e.g. 300 photos
 * named by absolute path. Measured with one worker per stack size: 4 MiB holds up to ≈14.35 KB, 8 MiB ≈29.0 KB,
 * 16 MiB ≈57.9 KB, i.e. 289–292 bytes per character. So each worker gets Node's default 4 MiB plus 320 bytes per
 * byte of this process's command line (Linux allows up to 2 MiB of it: at most ≈620 MiB, reserved, not touched).
 */
export function workerStackSizeMb(commandLineBytes = commandLineLength()): number {
  return DEFAULT_WORKER_STACK_MB + Math.ceil((commandLineBytes * STACK_BYTES_PER_COMMAND_LINE_BYTE) / 2 ** 20);
}

const DEFAULT_WORKER_STACK_MB = 4;
const STACK_BYTES_PER_COMMAND_LINE_BYTE = 320;

/** Bytes of `/proc/self/cmdline` (what ONNX Runtime reads), or of argv joined the same way where there is no /proc. */
function commandLineLength(): number {
  try {
    return readFileSync('/proc/self/cmdline').length;
  } catch {
    return [process.execPath, ...process.execArgv, ...process.argv.slice(1)].reduce((sum, arg) => sum + Buffer.byteLength(arg) + 1, 0);
  }
}

/**
 * Every worker thread facedb runs starts here (the engines' inference pools and the ANN index builder), so each
 * gets a runnable entry and the stack ONNX Runtime needs (see workerStackSizeMb).
 */
export function startWorker(workerUrl: URL, options: Omit<WorkerOptions, 'resourceLimits'> = {}): Worker {
  return new Worker(runnableEntry(workerUrl), { ...options, resourceLimits: { stackSizeMb: workerStackSizeMb() } });
}
