import { euclideanDistance } from '../../core/distance.js';
import { seededRandom } from '../../core/random.js';

/** At most this many impostor distances are kept (80 MB as float64); beyond, a stated deterministic sample. */
export const MAX_IMPOSTOR_PAIRS = 10_000_000;
/** Seed of that sample (fixed, so two runs on one folder agree). */
export const SAMPLING_SEED = 2026;

export interface FaceRow {
  /** Index of the photo in the evaluation's photo list. */
  photo: number;
  /** Index of the person (0..people-1). */
  person: number;
  embedding: Float32Array;
}

export interface PairPass {
  /** Ascending distances of every same-person pair. */
  genuine: Float64Array;
  /** Ascending distances of the impostor pairs kept (all of them, or the sample). */
  impostor: Float64Array;
  impostorInFolder: number;
  sampled: boolean;
  /** Per face row: nearest face of the same person / of another person (row, distance), -1 / Infinity if none. */
  nearestOwn: Int32Array;
  nearestOwnDistance: Float64Array;
  nearestOther: Int32Array;
  nearestOtherDistance: Float64Array;
  /** Every same-person distance per person, for how spread each person is. */
  genuineByPerson: Map<number, number[]>;
  /** Pairs of rows at most `nearDistance` apart: near-duplicate candidates. */
  near: Array<{ a: number; b: number; distance: number }>;
}

/** The photos with a face as rows; people (photos with no face count too) are numbered in their names' sorted order. */
export function faceRows(photos: ReadonlyArray<{ person: string }>, embeddings: ReadonlyArray<Float32Array | null>): { people: string[]; rows: FaceRow[] } {
  const people = [...new Set(photos.map((p) => p.person))].sort();
  const personIndex = new Map(people.map((p, i) => [p, i]));
  const rows = photos.flatMap((photo, i) => {
    const embedding = embeddings[i];
    return embedding ? [{ photo: i, person: personIndex.get(photo.person)!, embedding }] : [];
  });
  return { people, rows };
}

/**
 * pairPass with the near pairs kept up to `nearRatio` × the median same-person distance (scale-free, so no model's
 * distances are built in), and that median.
 */
export function pairPassNear(rows: readonly FaceRow[], nearRatio: number): { pass: PairPass; medianGenuine: number } {
  const genuineByPerson = genuineDistances(rows);
  const medianGenuine = median([...genuineByPerson.values()].flat());
  return { pass: pairPass(rows, nearRatio * medianGenuine, genuineByPerson), medianGenuine };
}

/** Every same-person distance, grouped by person (cheap: only within people). */
export function genuineDistances(rows: readonly FaceRow[]): Map<number, number[]> {
  const byPerson = new Map<number, FaceRow[]>();
  for (const row of rows) byPerson.set(row.person, [...(byPerson.get(row.person) ?? []), row]);
  const out = new Map<number, number[]>();
  for (const [person, faces] of byPerson) {
    const distances: number[] = [];
    for (let i = 0; i < faces.length; i++) for (let j = i + 1; j < faces.length; j++) distances.push(euclideanDistance(faces[i]!.embedding, faces[j]!.embedding));
    if (distances.length > 0) out.set(person, distances);
  }
  return out;
}

/**
 * One pass over every pair of faces: the genuine and impostor distance lists, each face's nearest neighbour of its
 * own person and of another (leave-one-out identification and mislabels), and the pairs closer than `nearDistance`.
 * Every pair's distance is computed (O(n²)); only the impostor list is sampled when it would exceed
 * MAX_IMPOSTOR_PAIRS: each impostor pair is kept with probability MAX / all, drawn in pair order with SAMPLING_SEED.
 */
export function pairPass(rows: readonly FaceRow[], nearDistance: number, genuineByPerson = genuineDistances(rows)): PairPass {
  const n = rows.length;
  let genuineCount = 0;
  for (const d of genuineByPerson.values()) genuineCount += d.length;
  const impostorInFolder = (n * (n - 1)) / 2 - genuineCount;
  const sampled = impostorInFolder > MAX_IMPOSTOR_PAIRS;
  const keep = sampled ? MAX_IMPOSTOR_PAIRS / impostorInFolder : 1;
  const random = seededRandom(SAMPLING_SEED);
  const impostor = new Float64Array(sampled ? Math.ceil(MAX_IMPOSTOR_PAIRS * 1.01) + 1024 : impostorInFolder);
  let kept = 0;
  const nearestOwn = new Int32Array(n).fill(-1);
  const nearestOther = new Int32Array(n).fill(-1);
  const nearestOwnDistance = new Float64Array(n).fill(Infinity);
  const nearestOtherDistance = new Float64Array(n).fill(Infinity);
  const near: PairPass['near'] = [];
  for (let i = 0; i < n; i++) {
    const a = rows[i]!;
    for (let j = i + 1; j < n; j++) {
      const b = rows[j]!;
      const d = euclideanDistance(a.embedding, b.embedding);
      if (d <= nearDistance) near.push({ a: i, b: j, distance: d });
      if (a.person === b.person) {
        if (d < nearestOwnDistance[i]!) [nearestOwnDistance[i], nearestOwn[i]] = [d, j];
        if (d < nearestOwnDistance[j]!) [nearestOwnDistance[j], nearestOwn[j]] = [d, i];
        continue;
      }
      if (d < nearestOtherDistance[i]!) [nearestOtherDistance[i], nearestOther[i]] = [d, j];
      if (d < nearestOtherDistance[j]!) [nearestOtherDistance[j], nearestOther[j]] = [d, i];
      if ((!sampled || random() < keep) && kept < impostor.length) impostor[kept++] = d;
    }
  }
  const genuine = Float64Array.from([...genuineByPerson.values()].flat()).sort();
  return {
    genuine,
    impostor: impostor.subarray(0, kept).sort(),
    impostorInFolder,
    sampled,
    nearestOwn,
    nearestOwnDistance,
    nearestOther,
    nearestOtherDistance,
    genuineByPerson,
    near,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
