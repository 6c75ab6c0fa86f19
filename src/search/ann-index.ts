import usearch, { type Index as UsearchIndex, type ScalarKind } from 'usearch';
import { FacedbError } from '../errors/errors.js';
import type { PersonMatch } from '../core/search-index.js';
import type { SearchIndex } from './search-index.js';
import { VectorRows } from './vector-rows.js';

/** How the graph stores each embedding: half precision halves the memory at no measured cost in recall (bench:scale). */
export type AnnPrecision = 'f32' | 'f16' | 'bf16' | 'i8';

export interface AnnOptions {
  precision: AnnPrecision;
  /** Graph edges per node (HNSW's M). */
  connectivity: number;
  /** Candidates kept while inserting (efConstruction). */
  expansionAdd: number;
  /** Candidates kept while searching (ef): the recall/speed knob; unlike the others it is not part of a saved graph. */
  expansionSearch: number;
  /**
   * Faces the graph proposes per search, ranked again by their exact float32 distance before people are chosen (the
   * graph's own distances are rounded to its storage precision). A search-time setting, like ef.
   */
  candidates: number;
}

/**
 * Faces re-ranked exactly per search: enough for ten people of several photos each. usearch searches with
 * max(ef_search, this) (bench:scale: ef 64 with 128 candidates answers exactly like ef 128), so the graph's reach is
 * ef_search's; re-ranking 64 512-D faces costs about 0.1 ms (1 ms measured at load 25, where plain JS ran 10× slow).
 */
const CANDIDATES = 64;

/**
 * Measured with `npm run bench:scale` on clustered galleries of 100,000 faces: f16 keeps f32's recall at half the
 * memory (i8 does not); ef_search 256 gives recall@10 of people 0.991 at 128-D.
 */
export const DEFAULT_ANN_OPTIONS: AnnOptions = { precision: 'f16', connectivity: 16, expansionAdd: 128, expansionSearch: 256, candidates: CANDIDATES };

/**
 * Graph settings for embeddings wider than 256 dimensions (mobilefacenet512), measured on 512-D galleries shaped
 * like mobilefacenet512@5's real embeddings (test/clustered-embeddings.ts); recall@10 of people against exact search.
 * - 100,000 faces (research/ann-graphs.ts, probes alternating between graphs on a busy machine; ef_search 256 / 512 /
 *   768 / 1024 / 1536): M=16 finds 0.881 / 0.956 / 0.976 / 0.987 / 0.993, M=32 0.960 / 0.990 / 0.993 / 0.997 /
 *   0.999. A search at M=32 costs ≈ 1.7–2× one at M=16 at the same ef_search, so up to ≈ 0.99 the two are even;
 *   beyond it M=32 is faster, and the gap grows with the gallery. 300,000 faces (bench:scale, ef_search 512 / 1024 /
 *   1536 / 2048): M=16 0.851 / 0.929 / 0.960 / 0.978, M=32 0.947 / 0.985 / 0.993 / 0.997. 1,000,000 faces: M=16
 *   levelled off at 0.976 at ef_search 4080 even on the earlier, easier 512-D shape; M=32 reaches 0.984 at 2048,
 *   0.995 at 3072 and 0.9965 at 4096.
 *   M=32 costs ≈ 1.8× the build time and ≈ 1.2× the memory (1,013 against 831 B/face RSS at 100,000 faces;
 *   1,443 B/face and a 1,308 B/face file at 1,000,000).
 * - ef_construction 256 instead of 128 (M=32, 100,000 faces) adds 0.001–0.01 recall for twice the build time.
 * - bf16 storage (same memory) searched ≈ 1.9× faster per ef_search than f16 on this AVX-512-BF16 machine and built
 *   faster, for slightly less recall (0.985 / 0.990 / 0.992 at 512 / 768 / 1024): ≈ 1.4× faster at recall 0.99. Not
 *   the default: that speed needs bf16 instructions (recent x86, ARMv8.6), elsewhere it is unmeasured. i8 (with
 *   L2) tops out at recall 0.905: its rounding reorders near-tied people. The inner-product metric was as fast as
 *   L2 on unit vectors (f16 and bf16), so distances stay Euclidean.
 */
const WIDE_GRAPH = { precision: 'f16', connectivity: 32, expansionAdd: 128 } as const satisfies Partial<AnnOptions>;
/**
 * ef_search for 100,000 faces, by width; it grows with the gallery as (faces / 100,000)^EF_GROWTH. 512-D: 768 gives
 * recall 0.993 at 100,000 faces; the growth gives 3056 at 1,000,000, measured at 0.9945 (p50 64 ms on a busy
 * machine, exact search 93 ms). Lower is not safe for identify: bench:scale's decision agreement with exact search
 * (1,000 mated probes, 100,000 faces, M=32) is 97.7 / 99.3 / 99.6 / 99.9 % at ef_search 128 / 256 / 512 / 768, because the
 * graph loses mates (mostly people with one photo) whatever the margin to the nearest stranger.
 */
const BASE_EF_SEARCH = { narrow: 256, wide: 768 };
const EF_GROWTH = 0.6;

/**
 * The settings for a gallery of `faces` embeddings of `dimensions`. Wider embeddings and larger galleries need a
 * wider search for the same recall (bench:scale, recall@10 of people, f16): 128-D at ef_search 256 gives 0.991 at
 * 100,000 faces, 0.966 at 300,000 (0.9905 at 512, 0.996 at 1024) and 0.916 at 1,000,000. So ef_search starts at
 * 256 (128-D) for 100,000 faces and grows as (faces / 100,000)^0.6, which meets the 300,000-face measurement.
 * Wider embeddings get a denser graph (WIDE_GRAPH) and their own ef_search (BASE_EF_SEARCH).
 */
export function annOptionsFor(dimensions: number, faces = 0): AnnOptions {
  const wide = dimensions > 256;
  const base = wide ? BASE_EF_SEARCH.wide : BASE_EF_SEARCH.narrow;
  const growth = Math.max(1, (faces / 100_000) ** EF_GROWTH);
  return { ...DEFAULT_ANN_OPTIONS, ...(wide ? WIDE_GRAPH : {}), expansionSearch: Math.round((base * growth) / 16) * 16 };
}

const MAX_FACE_ID = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
/** First search asks for this many faces per wanted person; people with many photos then rarely force a second pass. */
const FACES_PER_PERSON_ASKED = 4;

/**
 * Approximate nearest-neighbour search (an HNSW graph from usearch, a native library shipped prebuilt in its npm
 * package) behind the same interface as the exact FlatIndex. The graph knows faces only; which person a face
 * belongs to is kept here in an array indexed by face id (face ids are small positive integers in every store).
 * Removed faces are dropped from the graph at once, so they are never returned.
 */
export class AnnIndex implements SearchIndex {
  readonly dimensions: number;
  readonly options: AnnOptions;
  #graph: UsearchIndex;
  /** personOfFace[faceId] and rowOfFace[faceId] (in #vectors), valid where present[faceId] is 1. */
  #personOfFace = new Int32Array(1024);
  #rowOfFace = new Int32Array(1024);
  readonly #vectors: VectorRows;
  #present = new Uint8Array(1024);
  #size = 0;
  /** Faces per person, to know how many distinct people exist. */
  readonly #facesOfPerson = new Map<number, number>();

  constructor(dimensions: number, options: AnnOptions = DEFAULT_ANN_OPTIONS) {
    if (!Number.isInteger(dimensions) || dimensions <= 0) {
      throw new FacedbError('invalid_input', `embedding dimensions must be a positive integer, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    this.options = { ...options };
    this.#graph = newGraph(dimensions, options);
    this.#vectors = new VectorRows(dimensions);
  }

  /**
   * Builds the index over many faces at once (the graph is built on every core). The arrays are only read.
   */
  static build(
    dimensions: number,
    faces: { faceIds: Int32Array; personIds: Int32Array; vectors: Float32Array },
    options: AnnOptions = DEFAULT_ANN_OPTIONS,
  ): AnnIndex {
    const index = new AnnIndex(dimensions, options);
    const { faceIds, personIds, vectors } = faces;
    const rows = faceIds.length;
    if (personIds.length !== rows || vectors.length !== rows * dimensions) {
      throw new FacedbError('invalid_input', 'embedding arrays have inconsistent lengths', {
        details: { dimensions, faceIds: rows, personIds: personIds.length, values: vectors.length },
      });
    }
    if (rows === 0) return index;
    checkFinite(vectors);
    for (let row = 0; row < rows; row++) index.#claim(faceIds[row]!, personIds[row]!, vectors, row * dimensions);
    addAll(index.#graph, faceIds, vectors);
    return index;
  }

  /**
   * Builds only the graph over `faces` and writes it to `path` (the build worker's part; `restore` then makes the
   * index from the file and the same faces). Face ids are checked when restored.
   */
  static writeGraph(dimensions: number, faces: { faceIds: Int32Array; vectors: Float32Array }, options: AnnOptions, path: string): void {
    if (faces.vectors.length !== faces.faceIds.length * dimensions) {
      throw new FacedbError('invalid_input', 'embedding arrays have inconsistent lengths');
    }
    checkFinite(faces.vectors);
    const graph = newGraph(dimensions, options);
    if (faces.faceIds.length > 0) addAll(graph, faces.faceIds, faces.vectors);
    graph.save(path);
  }

  /**
   * An index from a graph file written by `saveGraph` and the faces (id, person, exact vector by row) saved with it.
   * The caller has checked that the file is intact (src/search/index-file.ts): the native loader trusts its input.
   */
  static restore(
    dimensions: number,
    options: AnnOptions,
    graphPath: string,
    faces: { faceIds: Int32Array; personIds: Int32Array; vectors: Float32Array },
  ): AnnIndex {
    const { faceIds, personIds, vectors } = faces;
    if (personIds.length !== faceIds.length || vectors.length !== faceIds.length * dimensions) {
      throw new FacedbError('invalid_input', 'embedding arrays have inconsistent lengths');
    }
    const index = new AnnIndex(dimensions, options);
    index.#graph.load(graphPath);
    for (let row = 0; row < faceIds.length; row++) index.#claim(faceIds[row]!, personIds[row]!, vectors, row * dimensions);
    if (index.#graph.size() !== index.#size || index.#graph.dimensions() !== dimensions) {
      throw new FacedbError('invalid_input', `the saved index at ${graphPath} does not match its face list`, {
        details: { graphFaces: index.#graph.size(), listedFaces: index.#size },
      });
    }
    return index;
  }

  get size(): number {
    return this.#size;
  }

  /** Distinct people indexed. */
  get people(): number {
    return this.#facesOfPerson.size;
  }

  has(faceId: number): boolean {
    return Number.isInteger(faceId) && faceId >= 0 && faceId < this.#present.length && this.#present[faceId] === 1;
  }

  personOf(faceId: number): number | undefined {
    return this.has(faceId) ? this.#personOfFace[faceId] : undefined;
  }

  add(faceId: number, personId: number, vector: Float32Array): void {
    this.#checkVector(vector);
    this.#claim(faceId, personId, vector, 0);
    try {
      this.#graph.add(BigInt(faceId), vector, 1);
    } catch (error) {
      this.#release(faceId);
      throw error;
    }
  }

  remove(faceId: number): boolean {
    if (!this.has(faceId)) return false;
    this.#graph.remove(BigInt(faceId));
    this.#release(faceId);
    return true;
  }

  removePerson(personId: number): number {
    if (!this.#facesOfPerson.has(personId)) return 0;
    const faces: number[] = [];
    const present = this.#present;
    const personOfFace = this.#personOfFace;
    for (let faceId = 0; faceId < present.length; faceId++) {
      if (present[faceId] === 1 && personOfFace[faceId] === personId) faces.push(faceId);
    }
    if (faces.length > 0) this.#graph.remove(BigUint64Array.from(faces, (id) => BigInt(id)));
    for (const faceId of faces) this.#release(faceId);
    return faces.length;
  }

  /**
   * The `k` people closest to `query`. The graph proposes `options.candidates` faces (more for a large k); each is
   * ranked again by its exact float32 distance, the one exact search reports, so a decision against a threshold and
   * the order of near-equal people do not depend on the graph's rounded distances. A few people's many photos can
   * fill the candidates: then the graph is asked again for more.
   */
  searchPeople(query: Float32Array, k: number): PersonMatch[] {
    this.#checkVector(query);
    if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
    const wanted = Math.min(k, this.#facesOfPerson.size);
    if (wanted === 0) return [];
    let asked = Math.min(this.#size, Math.max(this.options.candidates, wanted * FACES_PER_PERSON_ASKED));
    for (;;) {
      const { keys } = this.#graph.search(query, asked, 1);
      const found: Array<{ faceId: number; squared: number }> = [];
      for (const key of keys) {
        const faceId = Number(key);
        if (this.has(faceId)) found.push({ faceId, squared: this.#vectors.squaredDistance(this.#rowOfFace[faceId]!, query) });
      }
      found.sort((a, b) => a.squared - b.squared);
      const matches: PersonMatch[] = [];
      const seen = new Set<number>();
      for (const { faceId, squared } of found) {
        const personId = this.#personOfFace[faceId]!;
        if (seen.has(personId)) continue;
        seen.add(personId);
        matches.push({ personId, faceId, distance: Math.sqrt(squared) });
        if (matches.length === wanted) break;
      }
      if (matches.length >= wanted || asked >= this.#size) return matches;
      asked = Math.min(this.#size, asked * 4);
    }
  }

  /** The exact vector of an indexed face (a view; do not keep it across changes to the index). */
  vectorOf(faceId: number): Float32Array {
    if (!this.has(faceId)) throw new FacedbError('not_found', `face ${faceId} is not indexed`);
    return this.#vectors.row(this.#rowOfFace[faceId]!);
  }

  /**
   * The `k` faces closest to `query`, nearest first, whoever they belong to: the graph proposes at least
   * `options.candidates` faces and each is ranked again by its exact float32 distance, as in searchPeople.
   */
  searchFaces(query: Float32Array, k: number): PersonMatch[] {
    this.#checkVector(query);
    if (!Number.isInteger(k) || k < 0) throw new FacedbError('invalid_input', `k must be a non-negative integer, got ${k}`);
    const wanted = Math.min(k, this.#size);
    if (wanted === 0) return [];
    const { keys } = this.#graph.search(query, Math.min(this.#size, Math.max(this.options.candidates, wanted)), 1);
    const found: PersonMatch[] = [];
    for (const key of keys) {
      const faceId = Number(key);
      if (this.has(faceId)) found.push({ personId: this.#personOfFace[faceId]!, faceId, distance: Math.sqrt(this.#vectors.squaredDistance(this.#rowOfFace[faceId]!, query)) });
    }
    return found.sort((a, b) => a.distance - b.distance).slice(0, wanted);
  }

  /** Writes the graph (not the face → person pairs: see `faces()`). */
  saveGraph(path: string): void {
    this.#graph.save(path);
  }

  /** Every indexed face with its person, in face id order. */
  faces(): { faceIds: Int32Array; personIds: Int32Array } {
    const faceIds = new Int32Array(this.#size);
    const personIds = new Int32Array(this.#size);
    let row = 0;
    for (let faceId = 0; faceId < this.#present.length; faceId++) {
      if (this.#present[faceId] !== 1) continue;
      faceIds[row] = faceId;
      personIds[row] = this.#personOfFace[faceId]!;
      row++;
    }
    return { faceIds, personIds };
  }

  #claim(faceId: number, personId: number, vectors: Float32Array, offset: number): void {
    if (!Number.isInteger(faceId) || faceId < 0 || faceId > MAX_FACE_ID) {
      throw new FacedbError('invalid_input', `face id must be a non-negative 32-bit integer, got ${faceId}`);
    }
    if (!Number.isInteger(personId) || personId < INT32_MIN || personId > MAX_FACE_ID) {
      throw new FacedbError('invalid_input', `person id must be a 32-bit integer, got ${personId}`);
    }
    if (this.has(faceId)) throw new FacedbError('invalid_input', `face ${faceId} is already indexed`);
    if (faceId >= this.#present.length) this.#growTo(faceId + 1);
    this.#present[faceId] = 1;
    this.#personOfFace[faceId] = personId;
    this.#rowOfFace[faceId] = this.#vectors.put(vectors, offset);
    this.#facesOfPerson.set(personId, (this.#facesOfPerson.get(personId) ?? 0) + 1);
    this.#size++;
  }

  #release(faceId: number): void {
    const personId = this.#personOfFace[faceId]!;
    this.#present[faceId] = 0;
    this.#vectors.release(this.#rowOfFace[faceId]!);
    const left = (this.#facesOfPerson.get(personId) ?? 1) - 1;
    if (left === 0) this.#facesOfPerson.delete(personId);
    else this.#facesOfPerson.set(personId, left);
    this.#size--;
  }

  #growTo(length: number): void {
    const capacity = Math.max(length, this.#present.length * 2);
    const present = new Uint8Array(capacity);
    present.set(this.#present);
    const personOfFace = new Int32Array(capacity);
    personOfFace.set(this.#personOfFace);
    const rowOfFace = new Int32Array(capacity);
    rowOfFace.set(this.#rowOfFace);
    this.#present = present;
    this.#personOfFace = personOfFace;
    this.#rowOfFace = rowOfFace;
  }

  #checkVector(vector: Float32Array): void {
    if (vector.length !== this.dimensions) {
      throw new FacedbError(
        'invalid_input',
        `embedding has ${vector.length} dimensions, the index holds ${this.dimensions}-dimensional embeddings`,
      );
    }
    checkFinite(vector);
  }
}

/**
 * Keys go to the graph as 64-bit integers. One thread: usearch 2.26's concurrent inserts can leave a face stored yet
 * unreachable by search (unum-cloud/USearch#735), which here cost whole people in about one 2,000-face build in 30
 * (src/search/ann-decision.test.ts); one thread never did in 200. Builds of large galleries run in a worker thread
 * (build-in-worker.ts), so the slower build does not hold up requests.
 */
function addAll(graph: UsearchIndex, faceIds: Int32Array, vectors: Float32Array): void {
  const keys = new BigUint64Array(faceIds.length);
  for (let row = 0; row < faceIds.length; row++) keys[row] = BigInt(faceIds[row]!);
  graph.add(keys, vectors, 1);
}

function newGraph(dimensions: number, options: AnnOptions): UsearchIndex {
  return new usearch.Index({
    dimensions,
    metric: usearch.MetricKind.L2sq,
    quantization: SCALAR_KINDS[options.precision],
    connectivity: options.connectivity,
    expansion_add: options.expansionAdd,
    expansion_search: options.expansionSearch,
    multi: false,
  });
}

const SCALAR_KINDS: Record<AnnPrecision, ScalarKind> = {
  f32: usearch.ScalarKind.F32,
  f16: usearch.ScalarKind.F16,
  bf16: usearch.ScalarKind.BF16,
  i8: usearch.ScalarKind.I8,
};

function checkFinite(values: Float32Array): void {
  // NaN compares false with everything: it would silently corrupt the graph's ordering.
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) throw new FacedbError('invalid_input', 'embedding contains NaN or infinite values');
  }
}
