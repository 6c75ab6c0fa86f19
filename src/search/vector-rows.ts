import { squaredEuclideanAt } from '../core/distance.js';

/** Rows per block: 8 MiB at 512-D. Blocks never move, so growing copies nothing and no array passes 2 GiB. */
const ROWS_PER_BLOCK = 4096;

/**
 * The exact float32 embeddings behind an ANN graph, which stores them rounded (f16): the graph proposes candidates
 * and these rank them. Rows freed by removals are reused.
 */
export class VectorRows {
  readonly dimensions: number;
  readonly #blocks: Float32Array[] = [];
  readonly #free: number[] = [];
  #next = 0;

  constructor(dimensions: number) {
    this.dimensions = dimensions;
  }

  /** Stores `vector` (its `dimensions` values from `offset`) and returns its row. */
  put(vector: Float32Array, offset = 0): number {
    const row = this.#free.pop() ?? this.#next++;
    const block = Math.floor(row / ROWS_PER_BLOCK);
    while (this.#blocks.length <= block) this.#blocks.push(new Float32Array(ROWS_PER_BLOCK * this.dimensions));
    this.#blocks[block]!.set(vector.subarray(offset, offset + this.dimensions), (row % ROWS_PER_BLOCK) * this.dimensions);
    return row;
  }

  release(row: number): void {
    this.row(row).fill(0);
    this.#free.push(row);
  }

  /** A view of one row (valid until the row is released). */
  row(row: number): Float32Array {
    const start = (row % ROWS_PER_BLOCK) * this.dimensions;
    return this.#blocks[Math.floor(row / ROWS_PER_BLOCK)]!.subarray(start, start + this.dimensions);
  }

  /** The exact squared distance, summed as exact search (FlatIndex, core/distance.ts) sums the one it reports. */
  squaredDistance(row: number, query: Float32Array): number {
    return squaredEuclideanAt(query, this.#blocks[Math.floor(row / ROWS_PER_BLOCK)]!, (row % ROWS_PER_BLOCK) * this.dimensions);
  }
}
