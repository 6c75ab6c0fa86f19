/**
 * Exact search speed for bench:speed: the in-memory FlatIndex's top-10 people on a seeded synthetic 128-D gallery
 * (about 10 faces per person) at each size. research/prototype-sql.ts times the prototype's SQL search on the same
 * galleries.
 */
import { FlatIndex } from '../src/core/flat-index.js';
import type { PersonMatch } from '../src/core/search-index.js';
import { seededRandom as prng } from '../test/fixtures.js';
import { percentile } from './common.js';

const DIMENSIONS = 128;
const FACES_PER_PERSON = 10;
const INDEX_QUERIES = 50;

export interface Gallery {
  dimensions: number;
  people: number;
  faceIds: Int32Array;
  personIds: Int32Array;
  vectors: Float32Array;
}

/** People as random centres, their faces scattered around them, roughly on face-api's value scale. */
export function syntheticGallery(faces: number, seed: number): Gallery {
  const random = prng(seed);
  const people = Math.ceil(faces / FACES_PER_PERSON);
  const centre = new Float32Array(DIMENSIONS);
  const vectors = new Float32Array(faces * DIMENSIONS);
  const faceIds = new Int32Array(faces);
  const personIds = new Int32Array(faces);
  for (let row = 0; row < faces; row++) {
    if (row % FACES_PER_PERSON === 0) for (let j = 0; j < DIMENSIONS; j++) centre[j] = (random() - 0.5) * 0.4;
    faceIds[row] = row + 1;
    personIds[row] = Math.floor(row / FACES_PER_PERSON) + 1;
    for (let j = 0; j < DIMENSIONS; j++) vectors[row * DIMENSIONS + j] = centre[j]! + (random() - 0.5) * 0.1;
  }
  return { dimensions: DIMENSIONS, people, faceIds, personIds, vectors };
}

/** Queries close to enrolled faces, as new photos of known people would be. */
export function nearQueries(gallery: Gallery, count = INDEX_QUERIES): Float32Array[] {
  return Array.from({ length: count }, (_, i) => {
    const random = prng(1000 + i);
    const row = Math.floor(random() * gallery.faceIds.length);
    return Float32Array.from(gallery.vectors.subarray(row * DIMENSIONS, (row + 1) * DIMENSIONS), (v) => v + (random() - 0.5) * 0.05);
  });
}

/** Builds the index from the gallery, then times a top-10 search per query (after 5 warm-up searches). */
export function measureIndex(gallery: Gallery, queries: Float32Array[]): { buildMs: number; p50Ms: number; p95Ms: number; topFaces: number[] } {
  let start = performance.now();
  const index = FlatIndex.fromSnapshot(gallery);
  const buildMs = performance.now() - start;
  // Warm-up, so the JIT has compiled the search loop before it is timed.
  for (const query of queries.slice(0, 5)) index.searchPeople(query, 10);
  const times: number[] = [];
  const topFaces: number[] = [];
  for (const query of queries) {
    start = performance.now();
    const matches = index.searchPeople(query, 10);
    times.push(performance.now() - start);
    topFaces.push(matches[0]!.faceId);
  }
  return { buildMs, p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95), topFaces };
}

export const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v.toFixed(2));

/** bench:speed's search table: the index built from the synthetic gallery of each size, its build time and top-10 p50/p95. */
export function searchTable(sizes: number[]): string {
  const rows = sizes.map((faces) => {
    const gallery = syntheticGallery(faces, 42);
    const index = measureIndex(gallery, nearQueries(gallery));
    return `| ${faces.toLocaleString('en')} | ${gallery.people.toLocaleString('en')} | ${ms(index.buildMs)} | ${ms(index.p50Ms)} | ${ms(index.p95Ms)} |`;
  });
  return ['| faces | people | FlatIndex build ms | FlatIndex p50 ms | FlatIndex p95 ms |', '|---:|---:|---:|---:|---:|', ...rows].join('\n');
}

/** recall@k of people: the share of exact search's people (`truth`, per probe) that `answers` also return. */
export function recallOf(answers: readonly PersonMatch[][], truth: readonly PersonMatch[][]): number {
  let found = 0;
  let wanted = 0;
  answers.forEach((answer, p) => {
    const got = new Set(answer.map((m) => m.personId));
    wanted += truth[p]!.length;
    found += truth[p]!.filter((m) => got.has(m.personId)).length;
  });
  return found / wanted;
}
