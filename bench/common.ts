/**
 * What several benchmarks share: the LFW subset's listing, the analysis options and limits enrollment uses, the batch
 * loop with a progress line, option checks, percentiles and number formats, the machine line of a report and the
 * report folder (bench/out/, git-ignored).
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import type { FaceAttribute } from '../src/core/types.js';
import type { AnalyzeOptions } from '../src/engine/engine.js';
import { runInLanes } from '../src/services/batch.js';
import { LFW_SUBSET, REPO_ROOT } from '../test/fixtures.js';

/** The configuration a user gets with no settings: its limits and detection options are what the benchmarks use. */
export const config = loadConfig({});
export const limits = { maxPixels: config.maxPixels, maxFileBytes: config.maxFileBytes };

/** The analysis enrollment and identify ask for (`attributes: []`, no crop), or analyze (some attributes, no embedding). */
export function analyzeOptions(attributes: readonly FaceAttribute[] = []): AnalyzeOptions {
  const needs = { embedding: attributes.length === 0, attributes, crop: false };
  return { minDetectionScore: config.minDetectionScore, minFaceSize: config.minFaceSize, maxFaces: config.maxFaces, needs };
}

/** The subset's people (folder names, sorted) with their photos' file names (sorted), the first `limitPeople` only. */
export async function lfwPeople(limitPeople?: number): Promise<Array<{ person: string; files: string[] }>> {
  const people = (await readdir(LFW_SUBSET)).sort().slice(0, limitPeople);
  return Promise.all(people.map(async (person) => ({ person, files: (await readdir(join(LFW_SUBSET, person))).sort() })));
}

/** The product's batch loop over `count` items, with a progress line every 100. */
export async function inLanes(count: number, lanes: number, label: string, work: (i: number) => Promise<void>): Promise<void> {
  const started = performance.now();
  await runInLanes(Array.from({ length: count }, (_, i) => i), work, {
    lanes,
    onResult: (_, done) => {
      if (done % 100 === 0 || done === count) process.stderr.write(`${label} ${done}/${count} (${(done / ((performance.now() - started) / 1000)).toFixed(1)} items/s)\n`);
    },
  });
}

/** A number option in 1..max (whole unless `whole` is false); undefined when the option was not given. */
export function numberOption(value: string | undefined, flag: string, max = Infinity, whole = true): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0 && n <= max && (!whole || Number.isInteger(n)))) throw new Error(`--${flag}: ${whole ? 'a whole number' : 'a number'} from 1${max === Infinity ? '' : ` to ${max}`}, not ${value}`);
  return n;
}

/** A comma-separated list of whole numbers in 1..max. */
export function numberList(value: string, flag: string, max = Infinity): number[] {
  return value
    .split(',')
    .filter((n) => n !== '')
    .map((n) => numberOption(n, flag, max)!);
}

/** The sample at fraction p (0.5: p50) of the samples in ascending order: the ⌊p·n⌋-th, counting from 0. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

export const pct = (share: number, digits = 2): string => `${(100 * share).toFixed(digits)} %`;
export const mb = (bytes: number): string => `${Math.round(bytes / 1024 / 1024)} MB`;
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const loadAverage = (): string => (loadavg()[0] ?? 0).toFixed(1);

/** The machine a report was measured on: cores, CPU model and Node version. */
export function machine(): string {
  return `${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}`;
}

/** Writes a report file into bench/out/. */
export async function writeReport(file: string, text: string): Promise<void> {
  await mkdir(join(REPO_ROOT, 'bench/out'), { recursive: true });
  await writeFile(join(REPO_ROOT, 'bench/out', file), text);
}
