/**
 * Binary sketches of the flat index's rows, so a search over a large gallery need not read every float32 vector:
 * each row gets `bits` sign bits (SimHash: the signs of `bits` random Gaussian projections of the embedding minus a
 * centre), a query's sketch is compared with every row's by Hamming distance (a WebAssembly SIMD popcount scan,
 * sketch-kernel.wat), and the `candidates` nearest rows by that distance go back to FlatIndex to be ranked by their
 * exact distance. The Hamming distance of two sketches estimates the angle between the embeddings, so a face within
 * identify's threshold lands among the candidates unless thousands of strangers are about as close
 * (research/sketch-search.ts measures identify's decision against exact search; docs/internals.md, "Search").
 *
 * Layout of the linear memory (16-byte aligned blocks): the query, its sketch, the projections (bits × dims float32),
 * their offsets (dot(projection, centre)), the histogram of distances, the candidate rows, a scratch block of float32
 * rows being sketched; then `capacity` sketches, then one u16 distance per row. Growing moves only the distances,
 * which every search writes anew.
 */
import { FacedbError } from '../errors/errors.js';
import { seededRandom } from './random.js';
import { SKETCH_KERNEL_WASM } from './sketch-kernel.wasm.js';
import { alignUp, growTo, instantiateKernel, type WasmMemory } from './wasm.js';

export interface SketchSettings {
  /** Sign bits per face: a multiple of 512 (the scan reads 64-byte chunks), at most 3,584 (its byte counters). */
  bits: number;
  /** Rows ranked by exact distance per search. */
  candidates: number;
}

/** Rows sketched per kernel call: their float32 vectors are copied into the scratch block first. */
const SCRATCH_ROWS = 256;
/** The projections are the same on every run, so a gallery's sketches never depend on when it was loaded. */
const PROJECTION_SEED = 0x5e7c4;

interface SketchKernel {
  sketchRows(proj: number, offsets: number, bits: number, dims: number, rows: number, count: number, out: number): void;
  hammingScan(q: number, rows: number, count: number, chunks: number, out: number): void;
  histogram(dist: number, count: number, hist: number): void;
  collect(dist: number, count: number, cutoff: number, quota: number, out: number): number;
}

/** Whether rows of `dimensions` can be sketched: the kernel projects four float32 at a time. */
export function canSketch(dimensions: number): boolean {
  return dimensions % 4 === 0;
}

export class SketchRows {
  readonly dimensions: number;
  readonly settings: SketchSettings;
  readonly #memory: WasmMemory;
  readonly #kernel: SketchKernel;
  readonly #bytesPerSketch: number;
  readonly #at: { query: number; querySketch: number; projections: number; offsets: number; histogram: number; candidates: number; scratch: number; sketches: number };
  #capacity = 0;
  #distances = 0;

  /** `centre`: the point the projections are taken around, e.g. the mean of the gallery's embeddings. */
  constructor(dimensions: number, settings: SketchSettings, centre: Float32Array, capacity: number) {
    const { bits, candidates } = settings;
    if (!canSketch(dimensions)) throw new FacedbError('invalid_input', `cannot sketch ${dimensions}-D embeddings (a multiple of 4 is needed)`);
    if (!(Number.isInteger(bits) && bits > 0 && bits % 512 === 0 && bits <= 3584)) throw new FacedbError('invalid_input', `sketch bits must be a multiple of 512 up to 3584, got ${bits}`);
    if (!(Number.isInteger(candidates) && candidates > 0)) throw new FacedbError('invalid_input', `sketch candidates must be a positive integer, got ${candidates}`);
    this.dimensions = dimensions;
    this.settings = { bits, candidates };
    this.#bytesPerSketch = bits / 8;
    let end = 0;
    const block = (bytes: number): number => {
      const start = end;
      end = alignUp(end + bytes);
      return start;
    };
    this.#at = {
      query: block(dimensions * 4),
      querySketch: block(bits / 8),
      projections: block(bits * dimensions * 4),
      offsets: block(bits * 4),
      histogram: block((bits + 1) * 4),
      candidates: block(candidates * 4),
      scratch: block(SCRATCH_ROWS * dimensions * 4),
      sketches: end,
    };
    const { memory, exports } = instantiateKernel(SKETCH_KERNEL_WASM);
    this.#memory = memory;
    this.#kernel = exports as unknown as SketchKernel;
    this.reserve(capacity);

    const projections = new Float32Array(memory.buffer, this.#at.projections, bits * dimensions);
    projections.set(gaussianProjections(bits, dimensions, PROJECTION_SEED));
    const offsets = new Float32Array(memory.buffer, this.#at.offsets, bits);
    for (let b = 0; b < bits; b++) {
      let offset = 0;
      for (let d = 0; d < dimensions; d++) offset += projections[b * dimensions + d]! * centre[d]!;
      offsets[b] = offset;
    }
  }

  /** Makes room for at least `capacity` sketches, keeping those already written. */
  reserve(capacity: number): void {
    if (capacity <= this.#capacity) return;
    const distances = alignUp(this.#at.sketches + capacity * this.#bytesPerSketch);
    if (!growTo(this.#memory, distances + capacity * 2)) {
      throw new FacedbError('invalid_input', `the sketches of ${capacity.toLocaleString('en')} faces do not fit in 4 GiB`);
    }
    this.#capacity = capacity;
    this.#distances = distances;
  }

  /** Sketches the `count` vectors in `vectors` (from `offset`) into rows `row`, `row + 1`, … */
  write(row: number, vectors: Float32Array, count = vectors.length / this.dimensions, offset = 0): void {
    if (row + count > this.#capacity) throw new FacedbError('internal', `sketch rows ${row}+${count} beyond capacity ${this.#capacity}`);
    const { dimensions } = this;
    const scratch = new Float32Array(this.#memory.buffer, this.#at.scratch, SCRATCH_ROWS * dimensions);
    for (let done = 0; done < count; done += SCRATCH_ROWS) {
      const n = Math.min(SCRATCH_ROWS, count - done);
      scratch.set(vectors.subarray(offset + done * dimensions, offset + (done + n) * dimensions));
      this.#kernel.sketchRows(this.#at.projections, this.#at.offsets, this.settings.bits, dimensions, this.#at.scratch, n, this.#sketchAt(row + done));
    }
  }

  /** Copies row `from`'s sketch over row `to`'s (FlatIndex fills a removed row with its last one). */
  move(from: number, to: number): void {
    const bytes = new Uint8Array(this.#memory.buffer);
    bytes.copyWithin(this.#sketchAt(to), this.#sketchAt(from), this.#sketchAt(from) + this.#bytesPerSketch);
  }

  /**
   * The rows among the first `count` whose sketches are nearest to `query`'s: `max(candidates, atLeast)` of them (all
   * rows when there are fewer), in row order. Ties at the cut-off go to the lowest rows. The result is a view that the
   * next call overwrites.
   */
  nearestRows(query: Float32Array, count: number, atLeast = 0): Int32Array {
    const wanted = Math.min(count, Math.max(this.settings.candidates, atLeast));
    if (wanted > this.settings.candidates) return this.#nearestRowsSlow(query, count, wanted);
    const { bits } = this.settings;
    const buffer = this.#memory.buffer;
    new Float32Array(buffer, this.#at.query, this.dimensions).set(query);
    this.#kernel.sketchRows(this.#at.projections, this.#at.offsets, bits, this.dimensions, this.#at.query, 1, this.#at.querySketch);
    const histogram = new Uint32Array(buffer, this.#at.histogram, bits + 1);
    histogram.fill(0);
    this.#kernel.hammingScan(this.#at.querySketch, this.#at.sketches, count, bits / 512, this.#distances);
    this.#kernel.histogram(this.#distances, count, this.#at.histogram);
    // The cut-off: the smallest distance with `wanted` rows at or below it; of the rows at it, only enough are taken.
    let below = 0;
    let cutoff = 0;
    while (below + histogram[cutoff]! < wanted) below += histogram[cutoff++]!;
    const found = this.#kernel.collect(this.#distances, count, cutoff, wanted - below, this.#at.candidates);
    return new Int32Array(buffer, this.#at.candidates, found);
  }

  /** A request for more rows than the candidate block holds (a search for many faces): the same answer, in JS. */
  #nearestRowsSlow(query: Float32Array, count: number, wanted: number): Int32Array {
    this.nearestRows(query, count);
    const distances = new Uint16Array(this.#memory.buffer, this.#distances, count);
    const rows = Int32Array.from({ length: count }, (_, row) => row);
    rows.sort((a, b) => distances[a]! - distances[b]! || a - b);
    return rows.subarray(0, wanted).sort();
  }

  #sketchAt(row: number): number {
    return this.#at.sketches + row * this.#bytesPerSketch;
  }
}

/** `bits` random Gaussian directions of `dims` values, row after row (SimHash's projections), the same for one `seed`. */
export function gaussianProjections(bits: number, dims: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const gaussian = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return Float32Array.from({ length: bits * dims }, gaussian);
}

/** The mean of up to `sample` rows spread over the `count` vectors: the centre a gallery's sketches are taken around. */
export function sketchCentre(vectors: Float32Array, dimensions: number, count: number, sample = 20_000): Float32Array {
  const centre = new Float32Array(dimensions);
  if (count === 0) return centre;
  const step = Math.max(1, Math.floor(count / sample));
  let taken = 0;
  const sum = new Float64Array(dimensions);
  for (let row = 0; row < count; row += step, taken++) {
    for (let d = 0; d < dimensions; d++) sum[d]! += vectors[row * dimensions + d]!;
  }
  for (let d = 0; d < dimensions; d++) centre[d] = sum[d]! / taken;
  return centre;
}
