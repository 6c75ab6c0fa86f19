import { FacedbError } from '../errors/errors.js';
import { euclideanDistance } from './distance.js';
import { FlatIndex } from './flat-index.js';

/**
 * Grouping faces nobody has named into candidate people: average-linkage agglomerative clustering cut at a
 * distance threshold. Two groups merge while the mean distance over every pair of their faces is at or below
 * the threshold, closest pair of groups first. The threshold is the model's calibrated one-to-one threshold,
 * so "same group" means what "same person" means to verify: on average, the two groups' faces would be
 * accepted as the same person. Average linkage rather than single linkage: one impostor pair below the
 * threshold must not chain two people (or, through them, dozens) into one group.
 *
 * Incremental: the groups of an earlier run are kept whole and new faces start alone, so adding faces only
 * merges (a new face joins a group, forms a new one, or bridges two old groups that it is close to on
 * average). Earlier groups never split; `clusterFaces` over every face with no earlier groups is the full
 * re-clustering. Pure: no model data, the threshold comes in as a parameter.
 */

export interface ClusterInput {
  faceId: number;
  /** The group an earlier run put the face in; null for a face not grouped yet. */
  clusterId: number | null;
  embedding: Float32Array;
}

export interface ClusterGroup {
  /** The earlier group this continues (the oldest, i.e. lowest id, when several merged); null for a new group. */
  clusterId: number | null;
  /** Ascending. */
  faceIds: number[];
  /** Earlier groups merged into this one, which no longer exist. */
  absorbed: number[];
}

export interface ClusterOptions {
  /** Groups merge while their mean pairwise distance is at or below this. */
  threshold: number;
  /**
   * Pairs of face ids that must never end up in one group (cannot-link: two faces of one photo, a face taken out
   * of a cluster and the faces left in it). Two groups holding such a pair never merge, however close.
   */
  apart?: ReadonlyArray<readonly [number, number]>;
}

/** Neighbours fetched per face before widening the search (only faces within the threshold are kept). */
const NEIGHBOUR_BATCH = 32;

/**
 * Clusters `faces`. Deterministic: the result depends only on the input set, not its order. Returns only the
 * groups that changed (new groups, groups that gained faces or absorbed others); earlier groups left as they were
 * are not repeated.
 */
export function clusterFaces(faces: readonly ClusterInput[], options: ClusterOptions): ClusterGroup[] {
  const { threshold } = options;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new FacedbError('invalid_input', `clustering threshold must be a non-negative number, got ${threshold}`);
  }
  if (faces.length === 0) return [];
  const dimensions = faces[0]!.embedding.length;
  // Sorted by face id, so ties and group numbering never depend on the caller's order.
  const sorted = [...faces].sort((a, b) => a.faceId - b.faceId);
  const seen = new Set<number>();
  for (const face of sorted) {
    if (face.embedding.length !== dimensions) {
      throw new FacedbError('invalid_input', `face ${face.faceId} has ${face.embedding.length} dimensions, expected ${dimensions}`);
    }
    if (seen.has(face.faceId)) throw new FacedbError('invalid_input', `face ${face.faceId} is given twice`);
    seen.add(face.faceId);
  }

  // Groups: the earlier clusters (by id) first, then one per new face.
  const members: number[][] = [];
  const earlierId: Array<number | null> = [];
  const groupOfCluster = new Map<number, number>();
  const groupOf = new Int32Array(sorted.length);
  const fresh: number[] = [];
  sorted.forEach((face, i) => {
    if (face.clusterId === null) {
      fresh.push(i);
      return;
    }
    let group = groupOfCluster.get(face.clusterId);
    if (group === undefined) {
      group = members.length;
      groupOfCluster.set(face.clusterId, group);
      members.push([]);
      earlierId.push(face.clusterId);
    }
    members[group]!.push(i);
    groupOf[i] = group;
  });
  for (const i of fresh) {
    groupOf[i] = members.length;
    members.push([i]);
    earlierId.push(null);
  }
  const changed = new Set<number>(fresh.map((i) => groupOf[i]!));
  if (fresh.length === 0) return [];
  const apart = apartRows(options.apart ?? [], sorted);
  /** True when merging groups a and b would put a cannot-link pair together. */
  const keptApart = (a: number, b: number): boolean => {
    const [small, other] = members[a]!.length <= members[b]!.length ? [a, b] : [b, a];
    return members[small]!.some((i) => apart.get(i)?.some((j) => groupOf[j] === other) ?? false);
  };

  // Candidate merges: groups joined by at least one pair within the threshold. Earlier groups were already
  // apart from each other on average, so only pairs with a new face can start a merge.
  const index = new FlatIndex(dimensions, sorted.length);
  sorted.forEach((face, i) => index.add(i, i, face.embedding));
  const sums = new PairSums();
  const heap = new MergeHeap();
  for (const i of fresh) {
    for (const j of neighboursWithin(index, sorted[i]!.embedding, threshold)) {
      const a = groupOf[i]!;
      const b = groupOf[j]!;
      if (a === b || sums.has(a, b)) continue;
      const sum = groupDistanceSum(members[a]!, members[b]!, sorted);
      sums.set(a, b, sum);
      const mean = sum / (members[a]!.length * members[b]!.length);
      if (mean <= threshold) heap.push(mean, a, b);
    }
  }

  const alive = new Uint8Array(members.length).fill(1);
  const absorbed: number[][] = members.map(() => []);
  for (let next = heap.pop(); next !== undefined; next = heap.pop()) {
    const [mean, a, b] = next;
    if (mean > threshold) break;
    // Stale entries: a group merged since (its sums were moved to the survivor, with a new entry).
    if (!alive[a] || !alive[b] || sums.get(a, b) === undefined) continue;
    if (sums.get(a, b)! / (members[a]!.length * members[b]!.length) !== mean) continue;
    if (apart.size > 0 && keptApart(a, b)) continue;
    // The survivor is the group holding the oldest earlier cluster, else the lower group number.
    const [keep, gone] = survivorOf(a, b, earlierId);
    // Lance–Williams for average linkage: the sum from the merged group to any other is the sum of the two
    // groups' sums; one that was never needed before (no pair within the threshold) is computed now.
    const goneSums = new Map(sums.removeAll(gone));
    goneSums.delete(keep);
    const keepSums = new Map(sums.entriesOf(keep));
    for (const other of new Set([...goneSums.keys(), ...keepSums.keys()])) {
      const sum =
        (keepSums.get(other) ?? groupDistanceSum(members[keep]!, members[other]!, sorted)) +
        (goneSums.get(other) ?? groupDistanceSum(members[gone]!, members[other]!, sorted));
      sums.set(keep, other, sum);
    }
    for (const i of members[gone]!) groupOf[i] = keep;
    members[keep]!.push(...members[gone]!);
    members[gone] = [];
    absorbed[keep]!.push(...absorbed[gone]!);
    if (earlierId[gone] !== null) absorbed[keep]!.push(earlierId[gone]!);
    alive[gone] = 0;
    changed.add(keep);
    changed.delete(gone);
    for (const [other, sum] of sums.entriesOf(keep)) {
      const merged = sum / (members[keep]!.length * members[other]!.length);
      if (merged <= threshold) heap.push(merged, keep, other);
    }
  }

  return [...changed]
    .filter((group) => alive[group])
    .map((group) => ({
      clusterId: earlierId[group]!,
      faceIds: members[group]!.map((i) => sorted[i]!.faceId).sort((x, y) => x - y),
      absorbed: absorbed[group]!.filter((id) => id !== earlierId[group]).sort((x, y) => x - y),
    }))
    .sort((x, y) => x.faceIds[0]! - y.faceIds[0]!);
}

/** Cannot-link pairs by row (position in `sorted`), both ways; pairs naming faces not being clustered are ignored. */
function apartRows(pairs: ReadonlyArray<readonly [number, number]>, sorted: readonly ClusterInput[]): Map<number, number[]> {
  const rowOf = new Map(sorted.map((face, i) => [face.faceId, i]));
  const rows = new Map<number, number[]>();
  const link = (from: number, to: number): void => {
    const list = rows.get(from);
    if (list) list.push(to);
    else rows.set(from, [to]);
  };
  for (const [a, b] of pairs) {
    const i = rowOf.get(a);
    const j = rowOf.get(b);
    if (i === undefined || j === undefined || i === j) continue;
    link(i, j);
    link(j, i);
  }
  return rows;
}

/** Every indexed row within `threshold` of `query` (rows are indexed as their own "person"). */
function neighboursWithin(index: FlatIndex, query: Float32Array, threshold: number): number[] {
  for (let k = NEIGHBOUR_BATCH; ; k *= 2) {
    const hits = index.searchPeople(query, k);
    const within = hits.filter((hit) => hit.distance <= threshold).map((hit) => hit.personId);
    if (within.length < hits.length || hits.length < k) return within;
  }
}

/** Sum of distances over every pair across two groups. */
function groupDistanceSum(a: readonly number[], b: readonly number[], faces: readonly ClusterInput[]): number {
  let sum = 0;
  for (const i of a) for (const j of b) sum += euclideanDistance(faces[i]!.embedding, faces[j]!.embedding);
  return sum;
}

function survivorOf(a: number, b: number, earlierId: ReadonlyArray<number | null>): [number, number] {
  const ia = earlierId[a];
  const ib = earlierId[b];
  if (ia != null && ib != null) return ia < ib ? [a, b] : [b, a];
  if (ia != null) return [a, b];
  if (ib != null) return [b, a];
  return a < b ? [a, b] : [b, a];
}

/** Distance sums between pairs of groups, symmetric. */
class PairSums {
  readonly #byGroup = new Map<number, Map<number, number>>();

  has(a: number, b: number): boolean {
    return this.#byGroup.get(a)?.has(b) ?? false;
  }

  get(a: number, b: number): number | undefined {
    return this.#byGroup.get(a)?.get(b);
  }

  set(a: number, b: number, sum: number): void {
    this.#row(a).set(b, sum);
    this.#row(b).set(a, sum);
  }

  entriesOf(a: number): Array<[number, number]> {
    return [...(this.#byGroup.get(a) ?? new Map<number, number>())];
  }

  /** Forgets every pair with `a`, returning them. */
  removeAll(a: number): Array<[number, number]> {
    const row = this.#byGroup.get(a);
    if (!row) return [];
    this.#byGroup.delete(a);
    for (const other of row.keys()) this.#byGroup.get(other)?.delete(a);
    return [...row];
  }

  #row(a: number): Map<number, number> {
    let row = this.#byGroup.get(a);
    if (!row) {
      row = new Map();
      this.#byGroup.set(a, row);
    }
    return row;
  }
}

/** Min-heap of candidate merges by mean distance, ties by group numbers (so the order is deterministic). */
class MergeHeap {
  readonly #items: Array<[number, number, number]> = [];

  push(mean: number, a: number, b: number): void {
    const item: [number, number, number] = a < b ? [mean, a, b] : [mean, b, a];
    const items = this.#items;
    items.push(item);
    for (let i = items.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): [number, number, number] | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    items[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < items.length && less(items[l]!, items[smallest]!)) smallest = l;
      if (r < items.length && less(items[r]!, items[smallest]!)) smallest = r;
      if (smallest === i) break;
      [items[i], items[smallest]] = [items[smallest]!, items[i]!];
      i = smallest;
    }
    return top;
  }
}

function less(x: readonly [number, number, number], y: readonly [number, number, number]): boolean {
  return x[0] < y[0] || (x[0] === y[0] && (x[1] < y[1] || (x[1] === y[1] && x[2] < y[2])));
}
