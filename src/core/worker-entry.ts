/**
 * Where a worker thread's entry module is, whether facedb runs from its TypeScript sources (tests, under tsx) or
 * compiled: shared by the engines' inference pools and the ANN index builder.
 */

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
export function runnableEntry(workerUrl: URL): URL {
  if (!workerUrl.pathname.endsWith('.ts')) return workerUrl;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(workerUrl.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`);
}
