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

  /**
   * The exact squared distance, summed as exact search (FlatIndex, core/distance.ts) sums the one it reports, in
   * place (a subarray per candidate costs more than the sum).
   */
  squaredDistance(row: number, query: Float32Array): number {
    const block = this.#blocks[Math.floor(row / ROWS_PER_BLOCK)]!;
    const start = (row % ROWS_PER_BLOCK) * this.dimensions;
    const n = this.dimensions;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    for (; j + 3 < n; j += 4) {
      const d0 = query[j]! - block[start + j]!;
      const d1 = query[j + 1]! - block[start + j + 1]!;
      const d2 = query[j + 2]! - block[start + j + 2]!;
      const d3 = query[j + 3]! - block[start + j + 3]!;
      s0 += d0 * d0;
      s1 += d1 * d1;
      s2 += d2 * d2;
      s3 += d3 * d3;
    }
    for (; j < n; j++) {
      const d = query[j]! - block[start + j]!;
      s0 += d * d;
    }
    return s0 + s1 + s2 + s3;
  }
}
