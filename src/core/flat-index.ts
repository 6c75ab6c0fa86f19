import { FacedbError } from '../errors/errors.js';
import { squaredEuclidean } from './distance.js';
import { RowStore } from './l2-kernel.js';
import { canSketch, sketchCentre, SketchRows, type SketchSettings } from './sketch-rows.js';
import type { PersonMatch } from './search-index.js';

export type { PersonMatch } from './search-index.js';
export type { SketchSettings } from './sketch-rows.js';

/** Embeddings as rows: face i is faceIds[i] of personIds[i], its vector at vectors[i·dimensions …]. */
export interface EmbeddingRows {
  dimensions: number;
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
}

const MIN_CAPACITY = 1024;
/** Rows fromSnapshotSketched sketches per turn of the event loop: about 60 ms at 512-D. */
const SKETCH_ROWS_PER_TURN = 2048;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Exact nearest-neighbour search over every enrolled embedding, kept in one contiguous float32 block so a query
 * is a single linear pass (a WebAssembly SIMD kernel, see l2-kernel.ts). Rows are dense: removing a row moves the
 * last row into its place, so the order of rows is meaningless.
 *
 * The scan ranks in float32; the distances returned are recomputed in float64 for the few rows that are
 * reported, so they equal what a textbook formula gives.
 *
 * People get a dense "slot" so the per-person best distance lives in a typed array indexed
 * by slot rather than a Map lookup per row.
 *
 * With `sketch` settings a search first narrows the rows to those whose binary sketches are nearest the query's
 * (sketch-rows.ts) and ranks only those by exact distance: the large-gallery mode, where reading every vector costs
 * tens of milliseconds. Everything else (rows, slots, removal) is the same.
 */
export class FlatIndex {
  readonly dimensions: number;
  #size = 0;
  readonly #store: RowStore;
  #faceIds: Int32Array;
  #rowSlots: Int32Array;
  readonly #rowOfFace = new Map<number, number>();
  readonly #sketch: SketchRows | undefined;

  readonly #slotOfPerson = new Map<number, number>();
  #personOfSlot = new Int32Array(64);
  #slotFaceCount = new Int32Array(64);
  readonly #freeSlots: number[] = [];
  #slotCount = 0;

  // Scratch space reused by every search; searches are synchronous so they never overlap.
  #best = new Float64Array(64);
  #bestRow = new Int32Array(64);

  /**
   * `sketch`: search through binary sketches taken around `centre` (the gallery's mean embedding; zero when not
   * given), for dimensions a multiple of 4 (else the search stays exact).
   */
  constructor(dimensions: number, initialCapacity = MIN_CAPACITY, sketch?: { settings: SketchSettings; centre?: Float32Array }) {
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new FacedbError('invalid_input', `embedding dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    const capacity = Math.max(MIN_CAPACITY, Math.ceil(initialCapacity));
    this.#store = new RowStore(dimensions, capacity);
    this.#faceIds = new Int32Array(capacity);
    this.#rowSlots = new Int32Array(capacity);
    if (sketch !== undefined && canSketch(dimensions)) this.#sketch = new SketchRows(dimensions, sketch.settings, sketch.centre ?? new Float32Array(dimensions), capacity);
  }

  /** The sketch settings searches use, or undefined when every search reads every row. */
  get sketch(): SketchSettings | undefined {
    return this.#sketch?.settings;
  }

  /**
   * Builds the index over a store snapshot. The vectors are copied into the kernel's memory; `snapshot.faceIds`
   * is taken over, so the caller must not modify it afterwards. With `sketch`, each row is sketched too (about 30 µs
   * per 512-D face): fromSnapshotSketched does that between turns of the event loop.
   */
  static fromSnapshot(snapshot: EmbeddingRows, sketch?: SketchSettings): FlatIndex {
    const index = FlatIndex.#filled(snapshot, sketch);
    index.#sketch?.write(0, snapshot.vectors, index.#size);
    return index;
  }

  /** fromSnapshot with `sketch`, a few thousand rows per turn of the event loop, so a server is not held still for seconds. */
  static async fromSnapshotSketched(snapshot: EmbeddingRows, sketch: SketchSettings): Promise<FlatIndex> {
    const index = FlatIndex.#filled(snapshot, sketch);
    const { dimensions, vectors } = snapshot;
    for (let row = 0; row < index.#size; row += SKETCH_ROWS_PER_TURN) {
      index.#sketch?.write(row, vectors, Math.min(SKETCH_ROWS_PER_TURN, index.#size - row), row * dimensions);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return index;
  }

  /** The index over `snapshot`, its sketches (if any) not yet written. */
  static #filled(snapshot: EmbeddingRows, sketch: SketchSettings | undefined): FlatIndex {
    const { dimensions, faceIds, personIds, vectors } = snapshot;
    const rows = faceIds.length;
    if (personIds.length !== rows || vectors.length !== rows * dimensions) {
      throw new FacedbError('invalid_input', 'embedding snapshot arrays have inconsistent lengths', {
        details: { dimensions, faceIds: rows, personIds: personIds.length, values: vectors.length },
      });
    }
    const index = new FlatIndex(dimensions, rows, sketch && { settings: sketch, centre: sketchCentre(vectors, dimensions, rows) });
    if (rows === 0) return index;
    index.#store.rows.set(vectors);
    if (faceIds.length === index.#faceIds.length) index.#faceIds = faceIds;
    else index.#faceIds.set(faceIds);
    const rowOfFace = index.#rowOfFace;
    for (let row = 0; row < rows; row++) {
      const faceId = faceIds[row]!;
      rowOfFace.set(faceId, row);
      // The map only stops growing when an id repeats.
      if (rowOfFace.size === row) throw new FacedbError('invalid_input', `face ${faceId} appears twice in the embedding snapshot`);
      index.#rowSlots[row] = index.#acquireSlot(personIds[row]!);
    }
    index.#size = rows;
    return index;
  }

  get size(): number {
    return this.#size;
  }

  has(faceId: number): boolean {
    return this.#rowOfFace.has(faceId);
  }

  /** The person a face is indexed under, or undefined when it is not indexed. */
  personOf(faceId: number): number | undefined {
    const row = this.#rowOfFace.get(faceId);
    return row === undefined ? undefined : this.#personOfSlot[this.#rowSlots[row]!];
  }

  add(faceId: number, personId: number, vector: Float32Array): void {
    checkId('face', faceId);
    checkId('person', personId);
    this.#checkVector(vector);
    if (this.#rowOfFace.has(faceId)) throw new FacedbError('invalid_input', `face ${faceId} is already indexed`);
    if (this.#size === this.#store.capacity) this.#grow();
    const row = this.#size++;
    this.#store.rows.set(vector, row * this.dimensions);
    this.#sketch?.write(row, vector);
    this.#faceIds[row] = faceId;
    this.#rowSlots[row] = this.#acquireSlot(personId);
    this.#rowOfFace.set(faceId, row);
  }

  /** Returns false when the face was not indexed. */
  remove(faceId: number): boolean {
    const row = this.#rowOfFace.get(faceId);
    if (row === undefined) return false;
    this.#removeRow(row);
    return true;
  }

  /** Removes every face of the person; returns how many. */
  removePerson(personId: number): number {
    const slot = this.#slotOfPerson.get(personId);
    if (slot === undefined) return 0;
    let removed = 0;
    // Walking backwards means the row swapped into a hole has already been looked at.
    for (let row = this.#size - 1; row >= 0; row--) {
      if (this.#rowSlots[row] === slot) {
        this.#removeRow(row);
        removed++;
      }
    }
    return removed;
  }

  /**
   * The `k` people closest to `query`, each scored by their closest face, nearest first.
   * Returns fewer than `k` when fewer people are indexed.
   */
  searchPeople(query: Float32Array, k: number): PersonMatch[] {
    this.#checkVector(query);
    if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
    const slots = this.#slotCount;
    if (k === 0 || this.#size === 0) return [];

    const candidates = this.#candidateRows(query);
    if (candidates !== undefined) return this.#peopleAmong(query, candidates, k);
    const best = this.#best;
    const bestRow = this.#bestRow;
    best.fill(Infinity, 0, slots);
    const rowSlots = this.#rowSlots;
    // Ranked in float32, the kernel's scores.
    const scores = this.#store.squaredDistances(query, this.#size);
    for (let row = 0; row < scores.length; row++) {
      const score = scores[row]!;
      const slot = rowSlots[row]!;
      if (score < best[slot]!) {
        best[slot] = score;
        bestRow[slot] = row;
      }
    }
    return this.#matches(query, selectSmallest(best, slots, k).map((slot) => bestRow[slot]!));
  }

  /**
   * searchPeople over the sketch's candidate rows only: each person's nearest candidate, without touching the
   * per-person arrays sized to everybody (a million faces are some 280,000 people; filling and scanning those arrays
   * would cost more than the candidates).
   */
  #peopleAmong(query: Float32Array, candidates: Int32Array, k: number): PersonMatch[] {
    const scores = this.#store.squaredDistancesAt(query, candidates);
    const nearest = new Map<number, number>(); // slot → index into candidates
    for (let i = 0; i < candidates.length; i++) {
      const slot = this.#rowSlots[candidates[i]!]!;
      const held = nearest.get(slot);
      if (held === undefined || scores[i]! < scores[held]!) nearest.set(slot, i);
    }
    const picked = [...nearest.values()].sort((a, b) => scores[a]! - scores[b]!).slice(0, k);
    return this.#matches(query, picked.map((i) => candidates[i]!));
  }

  /** Each row's face and person with its float64 distance to `query`, nearest first. */
  #matches(query: Float32Array, rows: readonly number[]): PersonMatch[] {
    const dims = this.dimensions;
    const stored = this.#store.rows;
    return (
      rows
        .map((row) => ({
          personId: this.#personOfSlot[this.#rowSlots[row]!]!,
          faceId: this.#faceIds[row]!,
          distance: Math.sqrt(squaredEuclidean(query, stored.subarray(row * dims, (row + 1) * dims))),
        }))
        // float32 may order two near-equal distances differently from the float64 ones reported.
        .sort((a, b) => a.distance - b.distance)
    );
  }


  /**
   * The `k` faces closest to `query`, nearest first, whoever they belong to (several of one person may be listed):
   * "where else does this face appear". Fewer when fewer faces are indexed.
   */
  searchFaces(query: Float32Array, k: number): PersonMatch[] {
    this.#checkVector(query);
    if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
    if (k === 0 || this.#size === 0) return [];
    const candidates = this.#candidateRows(query, k);
    const found =
      candidates === undefined
        ? selectSmallest(this.#store.squaredDistances(query, this.#size), this.#size, k)
        : selectSmallest(this.#store.squaredDistancesAt(query, candidates), candidates.length, k).map((i) => candidates[i]!);
    return this.#matches(query, found);
  }

  /** The rows a sketched search ranks exactly (at least `atLeast`), or undefined when every row is to be read. */
  #candidateRows(query: Float32Array, atLeast = 0): Int32Array | undefined {
    const sketch = this.#sketch;
    if (sketch === undefined || this.#size <= Math.max(sketch.settings.candidates, atLeast)) return undefined;
    return sketch.nearestRows(query, this.#size, atLeast);
  }

  #checkVector(vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new FacedbError(
        'invalid_input',
        `embedding has ${vector.length} dimensions, the index holds ${this.dimensions}-dimensional embeddings`,
      );
    }
    // NaN compares false with everything, so it would silently drop rows from results.
    if (!vector.every(Number.isFinite)) throw new FacedbError('invalid_input', 'embedding contains NaN or infinite values');
  }

  #grow(): void {
    const capacity = this.#store.capacity * 2;
    this.#store.reserve(capacity);
    this.#sketch?.reserve(capacity);
    this.#faceIds = resized(this.#faceIds, capacity);
    this.#rowSlots = resized(this.#rowSlots, capacity);
  }

  #removeRow(row: number): void {
    const last = this.#size - 1;
    const faceId = this.#faceIds[row]!;
    this.#releaseSlot(this.#rowSlots[row]!);
    this.#rowOfFace.delete(faceId);
    if (row !== last) {
      const dims = this.dimensions;
      this.#store.rows.copyWithin(row * dims, last * dims, (last + 1) * dims);
      this.#sketch?.move(last, row);
      this.#rowSlots[row] = this.#rowSlots[last]!;
      const movedFace = this.#faceIds[last]!;
      this.#faceIds[row] = movedFace;
      this.#rowOfFace.set(movedFace, row);
    }
    this.#size = last;
  }

  #acquireSlot(personId: number): number {
    let slot = this.#slotOfPerson.get(personId);
    if (slot === undefined) {
      slot = this.#freeSlots.pop() ?? this.#newSlot();
      this.#slotOfPerson.set(personId, slot);
      this.#personOfSlot[slot] = personId;
    }
    this.#slotFaceCount[slot]!++;
    return slot;
  }

  #newSlot(): number {
    const slot = this.#slotCount++;
    if (slot === this.#personOfSlot.length) {
      const length = slot * 2;
      this.#personOfSlot = resized(this.#personOfSlot, length);
      this.#slotFaceCount = resized(this.#slotFaceCount, length);
      this.#best = resized(this.#best, length);
      this.#bestRow = resized(this.#bestRow, length);
    }
    return slot;
  }

  /** A slot whose person has no faces left is recycled, so `best` only spans live people. */
  #releaseSlot(slot: number): void {
    if (--this.#slotFaceCount[slot]! > 0) return;
    this.#slotOfPerson.delete(this.#personOfSlot[slot]!);
    // A freed slot keeps best = Infinity in searches, so it can never be selected.
    this.#freeSlots.push(slot);
  }
}

function checkId(kind: string, id: number): void {
  if (!Number.isInteger(id) || id < INT32_MIN || id > INT32_MAX) {
    throw new FacedbError('invalid_input', `${kind} id must be a 32-bit integer, got ${id}`);
  }
}

type TypedArray = Float32Array | Float64Array | Int32Array;

function resized<T extends TypedArray>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array.subarray(0, Math.min(array.length, length)));
  return next;
}

/**
 * Indices of the `k` smallest finite values in values[0..count), ascending. A bounded max-heap
 * keeps this O(count log k) instead of sorting every person.
 */
function selectSmallest(values: Float32Array | Float64Array, count: number, k: number): number[] {
  const heap: number[] = [];
  const greater = (a: number, b: number): boolean => values[a]! > values[b]!;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    if (v === Infinity) continue;
    if (heap.length < k) {
      heap.push(i);
      let c = heap.length - 1;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!greater(heap[c]!, heap[p]!)) break;
        [heap[c], heap[p]] = [heap[p]!, heap[c]!];
        c = p;
      }
    } else if (v < values[heap[0]!]!) {
      heap[0] = i;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < heap.length && greater(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && greater(heap[r]!, heap[m]!)) m = r;
        if (m === p) break;
        [heap[m], heap[p]] = [heap[p]!, heap[m]!];
        p = m;
      }
    }
  }
  return heap.sort((a, b) => values[a]! - values[b]!);
}
