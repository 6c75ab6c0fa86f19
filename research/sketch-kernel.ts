/**
 * Binary-sketch search over one shared WebAssembly memory (src/core/sketch-kernel.wat with l2-kernel.wat's squaredDistancesAt16): every face has a sketch of B sign bits
 * (SimHash of the embedding minus a centre); a search sketches the query, scans every face's Hamming distance
 * (SIMD popcount), takes the best `candidates` rows by a histogram of the distances (no sort), re-ranks those rows by
 * exact float32 distance and reports the nearest people, scored by their nearest face, with float64 distances as
 * FlatIndex does. Research only (research/sketch-search.ts measures it); written so the kernel and this class could
 * move to src/core and src/search unchanged: the inputs are plain typed arrays, the searches synchronous.
 *
 * The scan can be split over a second thread (SketchHelper): both threads run the same kernel on the same shared
 * memory, each on half of the rows, with its own histogram; the caller's thread waits for the helper with
 * Atomics.wait (a few microseconds), not a message round trip.
 *
 * Layout of the memory (16-byte aligned blocks): query (dims float32), query sketch (bits/8 bytes), projections (bits
 * × dims float32), offsets (bits float32), histograms (one per thread, bits + 1 u32), distances (one u16 per face),
 * candidate rows (i32), candidate scores (float32), sketches (bits/8 bytes per face), vectors (dims float32 per face).
 */
import { readFile } from 'node:fs/promises';
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { squaredEuclideanAt } from '../src/core/distance.js';
import type { PersonMatch } from '../src/core/search-index.js';
import { startWorker, workerModuleUrl } from '../src/threads/start-worker.js';
import { compileKernel, KERNEL_SOURCE, SKETCH_KERNEL_SOURCE } from '../scripts/build-wasm.js';

const PAGE_BYTES = 65_536;
const MAX_PAGES = 65_536;

/** The part of the WebAssembly API used here; @types/node 20 does not declare it and lib.dom is not loaded. */
export interface SharedWasmMemory {
  readonly buffer: SharedArrayBuffer;
}
export interface WasmModule {
  readonly kind: 'module';
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: true }) => SharedWasmMemory;
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: { env: { memory: SharedWasmMemory } }) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The kernel's exports; every argument is a byte address or a count. */
export interface SketchKernel {
  sketchRows(proj: number, offsets: number, bits: number, dims: number, rows: number, count: number, out: number): void;
  hammingScan(q: number, rows: number, count: number, chunks: number, out: number): void;
  histogram(dist: number, count: number, hist: number): void;
  collect(dist: number, count: number, cutoff: number, quota: number, out: number): number;
  squaredDistancesAt16(q: number, rows: number, dims: number, idx: number, n: number, out: number): void;
}
/** The kernel calls a helper thread can run, by number (the control block's op word). */
export const HELPER_OPS = ['quit', 'sketchRows', 'hammingScan', 'squaredDistancesAt16'] as const;

/**
 * The product's sketch kernel (sketchRows, hammingScan, collect) on a shared memory, so two threads can scan halves of
 * one gallery, with the product's gathered re-rank (l2-kernel.wat's squaredDistancesAt16) added.
 */
export async function compileSketchKernel(): Promise<WasmModule> {
  const product = await readFile(SKETCH_KERNEL_SOURCE, 'utf8');
  const memory = '(import "env" "memory" (memory 1))';
  if (!product.includes(memory)) throw new Error(`${SKETCH_KERNEL_SOURCE} no longer imports its memory as ${memory}`);
  const l2 = await readFile(KERNEL_SOURCE, 'utf8');
  const rerank = /\n {2}\(func \(export "squaredDistancesAt16"\)[\s\S]*?\(br \$row\)\)\)\)\n/.exec(l2)?.[0];
  if (rerank === undefined) throw new Error(`${KERNEL_SOURCE} no longer has squaredDistancesAt16 as research/sketch-kernel.ts reads it`);
  const text = `${product.replace(memory, '(import "env" "memory" (memory 1 65536 shared))').trimEnd().replace(/\)$/, '')}${rerank})\n`;
  return new wasm.Module(await compileKernel(SKETCH_KERNEL_SOURCE, { threads: true }, text));
}

export function instantiateSketchKernel(module: WasmModule, memory: SharedWasmMemory): SketchKernel {
  return new wasm.Instance(module, { env: { memory } }).exports as unknown as SketchKernel;
}

export interface SketchOptions {
  dims: number;
  /** Sketch bits per face: a multiple of 512, at most 3,584 (the scan's byte lanes). */
  bits: number;
  faces: number;
  /** The most candidates a search re-ranks. */
  maxCandidates: number;
  /** Threads that may share a scan (1 or 2): one histogram each. */
  threads: number;
}

const align = (value: number): number => Math.ceil(value / 16) * 16;

/** Byte addresses of each block (see the header). */
export function sketchLayout({ dims, bits, faces, maxCandidates, threads }: SketchOptions) {
  let at = 0;
  const block = (bytes: number): number => {
    const start = at;
    at = align(at + bytes);
    return start;
  };
  const layout = {
    query: block(dims * 4),
    querySketch: block(bits / 8),
    projections: block(bits * dims * 4),
    offsets: block(bits * 4),
    histograms: Array.from({ length: threads }, () => block((bits + 1) * 4)),
    distances: block(faces * 2),
    candidates: block(maxCandidates * 4),
    scores: block(maxCandidates * 4),
    sketches: block((faces * bits) / 8),
    vectors: block(faces * dims * 4),
    bytes: 0,
  };
  layout.bytes = at;
  return layout;
}

/**
 * A second thread that runs kernel calls on the same memory when told: the scan of half the rows, half the sketches
 * of a build. `start` hands it a call and returns at once; `wait` blocks until it is done.
 */
export class SketchHelper {
  readonly #worker: Worker;
  /** [0] calls started, [1] calls finished, [2] op, [3…] arguments. */
  readonly #control: Int32Array;
  #started = 0;

  private constructor(worker: Worker, control: Int32Array) {
    this.#worker = worker;
    this.#control = control;
  }

  static async start(module: WasmModule, memory: SharedWasmMemory): Promise<SketchHelper> {
    const control = new Int32Array(new SharedArrayBuffer(16 * 4));
    const worker = startWorker(workerModuleUrl('./sketch-worker', import.meta.url), { workerData: { module, memory, control: control.buffer } });
    const [ready] = (await once(worker, 'message')) as [string];
    if (ready !== 'ready') throw new Error(`sketch helper: ${ready}`);
    return new SketchHelper(worker, control);
  }

  start(op: (typeof HELPER_OPS)[number], args: number[]): void {
    const control = this.#control;
    control[2] = HELPER_OPS.indexOf(op);
    args.forEach((arg, i) => (control[3 + i] = arg));
    Atomics.store(control, 0, ++this.#started);
    Atomics.notify(control, 0);
  }

  wait(): void {
    const control = this.#control;
    for (let done = Atomics.load(control, 1); done !== this.#started; done = Atomics.load(control, 1)) Atomics.wait(control, 1, done);
  }

  async close(): Promise<void> {
    this.start('quit', []);
    await once(this.#worker, 'exit');
  }
}

/** Time spent in each step of the last search, in ms. */
export interface SearchSteps {
  sketch: number;
  scan: number;
  select: number;
  rerank: number;
  people: number;
}

export class SketchSearch {
  readonly options: SketchOptions;
  readonly memory: SharedWasmMemory;
  readonly layout: ReturnType<typeof sketchLayout>;
  readonly #kernel: SketchKernel;
  readonly #vectors: Float32Array;
  readonly #faceIds: Int32Array;
  readonly #rowSlots: Int32Array;
  readonly #personOfSlot: Int32Array;
  // Per-search scratch: the best score of each person touched, stamped with the search that wrote it.
  readonly #best: Float32Array;
  readonly #bestRow: Int32Array;
  readonly #stamp: Int32Array;
  readonly #touched: Int32Array;
  #searches = 0;
  readonly steps: SearchSteps = { sketch: 0, scan: 0, select: 0, rerank: 0, people: 0 };

  /** Face row r is face `faceIds[r]` of person `personIds[r]`. Write the vectors into `vectors`, then `setProjections`, then `buildSketches`. */
  constructor(module: WasmModule, options: SketchOptions, { faceIds, personIds }: { faceIds: Int32Array; personIds: Int32Array }) {
    const { dims, bits, faces } = options;
    if (dims % 16 !== 0) throw new Error('dims: a multiple of 16');
    if (bits % 512 !== 0 || bits > 3584) throw new Error('bits: a multiple of 512, at most 3,584');
    if (personIds.length !== faces || faceIds.length !== faces) throw new Error('one face id and one person id per face');
    if (options.threads < 1 || options.threads > 2) throw new Error('threads: 1 or 2');
    this.options = options;
    this.layout = sketchLayout(options);
    const pages = Math.ceil(this.layout.bytes / PAGE_BYTES);
    if (pages > MAX_PAGES) throw new Error(`${faces} faces need ${(this.layout.bytes / 2 ** 30).toFixed(2)} GiB, beyond wasm32's 4 GiB`);
    this.memory = new wasm.Memory({ initial: pages, maximum: MAX_PAGES, shared: true });
    this.#kernel = instantiateSketchKernel(module, this.memory);
    this.#faceIds = faceIds;
    this.#vectors = new Float32Array(this.memory.buffer, this.layout.vectors, faces * dims);
    const slotOfPerson = new Map<number, number>();
    this.#rowSlots = new Int32Array(faces);
    const persons: number[] = [];
    personIds.forEach((person, row) => {
      let slot = slotOfPerson.get(person);
      if (slot === undefined) {
        slot = persons.push(person) - 1;
        slotOfPerson.set(person, slot);
      }
      this.#rowSlots[row] = slot;
    });
    this.#personOfSlot = Int32Array.from(persons);
    this.#best = new Float32Array(persons.length);
    this.#bestRow = new Int32Array(persons.length);
    this.#stamp = new Int32Array(persons.length);
    this.#touched = new Int32Array(options.maxCandidates);
  }

  /** The face vectors, row after row, in the kernel's memory: write them here before building. */
  get vectors(): Float32Array {
    return this.#vectors;
  }

  /** SimHash projections (bits × dims) and the centre they are taken around (dims values). */
  setProjections(projections: Float32Array, centre: ArrayLike<number>): void {
    const { dims, bits } = this.options;
    if (projections.length !== bits * dims || centre.length !== dims) throw new Error('projections: bits × dims; centre: dims');
    new Float32Array(this.memory.buffer, this.layout.projections, bits * dims).set(projections);
    const offsets = new Float32Array(this.memory.buffer, this.layout.offsets, bits);
    for (let b = 0; b < bits; b++) {
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += projections[b * dims + d]! * centre[d]!;
      offsets[b] = dot;
    }
  }

  /** Sketches every face (rows split with `helper` when given). */
  buildSketches(helper?: SketchHelper): void {
    const { dims, bits, faces } = this.options;
    const { projections, offsets, vectors, sketches } = this.layout;
    const half = helper === undefined ? faces : Math.ceil(faces / 2);
    helper?.start('sketchRows', [projections, offsets, bits, dims, vectors + half * dims * 4, faces - half, sketches + (half * bits) / 8]);
    this.#kernel.sketchRows(projections, offsets, bits, dims, vectors, half, sketches);
    helper?.wait();
  }

  /** The sketches, bits/8 bytes per face (for checks). */
  get sketches(): Uint8Array {
    return new Uint8Array(this.memory.buffer, this.layout.sketches, (this.options.faces * this.options.bits) / 8);
  }

  /**
   * The `top` people nearest `query` among the faces of the `candidates` rows nearest by Hamming distance, each scored
   * by its nearest candidate face, nearest first. With `helper` the scan is split over two threads.
   */
  searchPeople(query: Float32Array, candidates: number, top: number, helper?: SketchHelper): PersonMatch[] {
    const { dims, bits, faces, maxCandidates } = this.options;
    if (candidates > maxCandidates) throw new Error(`at most ${maxCandidates} candidates`);
    if (helper !== undefined && this.layout.histograms.length < 2) throw new Error('built for one thread');
    const kernel = this.#kernel;
    const layout = this.layout;
    const buffer = this.memory.buffer;
    const t0 = performance.now();
    new Float32Array(buffer, layout.query, dims).set(query);
    kernel.sketchRows(layout.projections, layout.offsets, bits, dims, layout.query, 1, layout.querySketch);
    const t1 = performance.now();

    const histogram = new Uint32Array(buffer, layout.histograms[0], bits + 1);
    histogram.fill(0);
    const chunks = bits / 512;
    if (helper === undefined) {
      kernel.hammingScan(layout.querySketch, layout.sketches, faces, chunks, layout.distances);
      kernel.histogram(layout.distances, faces, layout.histograms[0]!);
    } else {
      const half = Math.ceil(faces / 16) * 8;
      const other = new Uint32Array(buffer, layout.histograms[1], bits + 1);
      other.fill(0);
      helper.start('hammingScan', [layout.querySketch, layout.sketches + (half * bits) / 8, faces - half, chunks, layout.distances + half * 2, layout.histograms[1]!]);
      kernel.hammingScan(layout.querySketch, layout.sketches, half, chunks, layout.distances);
      kernel.histogram(layout.distances, half, layout.histograms[0]!);
      helper.wait();
      for (let h = 0; h <= bits; h++) histogram[h]! += other[h]!;
    }
    const t2 = performance.now();

    // The cut-off: every row below it, and as many at it as fill `candidates`.
    let cutoff = 0;
    let below = 0;
    while (cutoff < bits && below + histogram[cutoff]! < candidates) below += histogram[cutoff++]!;
    const count = kernel.collect(layout.distances, faces, cutoff, candidates - below, layout.candidates);
    const t3 = performance.now();

    kernel.squaredDistancesAt16(layout.query, layout.vectors, dims, layout.candidates, count, layout.scores);
    const t4 = performance.now();

    const rows = new Int32Array(buffer, layout.candidates, count);
    const scores = new Float32Array(buffer, layout.scores, count);
    const stamp = ++this.#searches;
    const best = this.#best;
    const bestRow = this.#bestRow;
    const stamps = this.#stamp;
    const touched = this.#touched;
    let people = 0;
    for (let i = 0; i < count; i++) {
      const row = rows[i]!;
      const slot = this.#rowSlots[row]!;
      const score = scores[i]!;
      if (stamps[slot] !== stamp) {
        stamps[slot] = stamp;
        best[slot] = score;
        bestRow[slot] = row;
        touched[people++] = slot;
      } else if (score < best[slot]!) {
        best[slot] = score;
        bestRow[slot] = row;
      }
    }
    // The `top` smallest, by insertion into a short sorted list.
    const chosen: number[] = [];
    for (let i = 0; i < people; i++) {
      const slot = touched[i]!;
      const score = best[slot]!;
      if (chosen.length === top && score >= best[chosen[top - 1]!]!) continue;
      let at = Math.min(chosen.length, top - 1);
      while (at > 0 && best[chosen[at - 1]!]! > score) at--;
      chosen.splice(at, 0, slot);
      if (chosen.length > top) chosen.pop();
    }
    const vectors = this.#vectors;
    const answer = chosen
      .map((slot) => ({ personId: this.#personOfSlot[slot]!, faceId: this.#faceIds[bestRow[slot]!]!, distance: Math.sqrt(squaredEuclideanAt(query, vectors, bestRow[slot]! * dims)) }))
      // float32 may order two near-equal distances differently from the float64 ones reported (as FlatIndex).
      .sort((a, b) => a.distance - b.distance);
    const t5 = performance.now();
    Object.assign(this.steps, { sketch: t1 - t0, scan: t2 - t1, select: t3 - t2, rerank: t4 - t3, people: t5 - t4 });
    return answer;
  }
}
