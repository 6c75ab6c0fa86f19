/**
 * Synthetic galleries of unit-length embeddings that cluster like real faces, for the ANN tests and bench:scale.
 *
 * An embedding is normalise(m + a·z_identity + b_i·z_photo): m is a direction every face shares (real embeddings sit
 * in a narrow cone), z_identity one Gaussian direction per person, z_photo one per photo, with E|z|² = 1. These are
 * nearly orthogonal, so two photos of one person have cosine ≈ (1 + a²) / (1 + a² + b²) and of two people
 * ≈ 1 / (1 + a² + b²). `shapeFor` solves a and b from the median same-person and different-person distances the
 * real model shows (d² = 2 − 2·cos for unit vectors). z is not isotropic: the variance of component d falls as a
 * power law (d + 1)^-spectrumDecay over the first `rank` components and is zero beyond, as measured on real
 * embeddings of the LFW subset (research/embedding-shape.ts; the numbers are at each shape below). Isotropic noise would
 * make every neighbourhood a near-tie in 512 dimensions, far harder for any ANN index than real faces. b_i varies
 * per person (0.75–1.25 × b), and people have 1 to 9 photos (mean ≈ 3.7), so neighbourhoods are uneven, as in a
 * real gallery.
 */
import type { PersonMatch } from '../src/core/search-index.js';
import { seededRandom } from './fixtures.js';

export interface ClusterShape {
  dimensions: number;
  /** Variance of component d ∝ (d + 1)^-spectrumDecay for d < rank, 0 beyond. */
  spectrumDecay: number;
  /** Components that vary at all (real embeddings may span fewer directions than they have dimensions). */
  rank: number;
  /** Median distance between two photos of one person, and of two different people, that a, b were solved for. */
  sameMedian: number;
  differentMedian: number;
  identitySpread: number;
  photoSpread: number;
}

export function shapeFor(
  dimensions: number,
  sameMedian: number,
  differentMedian: number,
  spectrumDecay = 1,
  rank = dimensions,
): ClusterShape {
  const cosSame = 1 - (sameMedian * sameMedian) / 2;
  const cosDifferent = 1 - (differentMedian * differentMedian) / 2;
  const total = 1 / cosDifferent; // 1 + a² + b²
  const withIdentity = cosSame * total; // 1 + a²
  return {
    dimensions,
    spectrumDecay,
    rank: Math.min(rank, dimensions),
    sameMedian,
    differentMedian,
    identitySpread: Math.sqrt(withIdentity - 1),
    photoSpread: Math.sqrt(total - withIdentity),
  };
}

/**
 * faceapi-resnet128@4 on the shared LFW subset (src/core/model-calibration.ts, every pair of 1,613 photos): same
 * person median 0.30, different people median 0.555. Spectrum: PCA of 300 of its embeddings (identity means and
 * within-person residuals) decays with exponent ≈ 1.0 over all 128 components; participation ratio ≈ 28.
 */
export const FACEAPI_128 = shapeFor(128, 0.3, 0.555);
/**
 * mobilefacenet512@5 (the onnx engine) on the shared LFW subset, the largest face of each of the 1,613 photos
 * (741 people, 214 with two or more photos), measured by `research/embedding-shape.ts`:
 * - medians over all pairs: same person 0.795 (8,707 pairs, cosine 0.68), different people 1.410 (1.29 M pairs,
 *   cosine 0.006);
 * - the embeddings span only ≈ 148 of their 512 dimensions: the centred covariance holds 99 % of its variance in
 *   137 components and 99.9 % in 148; the eigenvalue at rank 150 is 1.5·10⁻⁴ of the total, at rank 200 1.6·10⁻⁷;
 * - within those the spectrum is not a clean power law (a flat head, a steeper fall towards the cut): log-log fits
 *   give exponent 0.78 over components 1–137 and 1.00 over 10–137. What sets how crowded a neighbourhood is, the
 *   participation ratio (Σλ)²/Σλ², is matched instead: 77.5 for all embeddings, 67.7 for the 214 identity means,
 *   95.9 for the 1,086 within-person residuals. This generator with the same photo counts, exponent 0.44 over 148
 *   components gives 77.9 / 71.7 / 96.6. The shape used before (exponent 1 over all 512, medians 0.95 / 1.37,
 *   assumed) gives ≈ 30 / 33 for means / residuals: it made 512-D galleries easier for the graph than real ones
 *   (bench:scale, 100,000 faces, M=16, recall@10 of people at ef_search 512: 0.980 then, 0.954 with this shape). Asked for a same-person median of 0.832, its own comes out at the
 *   real 0.795 (the per-person spread and the normalisation pull it down).
 */
export const MOBILEFACENET_512 = shapeFor(512, 0.832, 1.41, 0.44, 148);

export function shapeForDimensions(dimensions: number): ClusterShape {
  if (dimensions === 128) return FACEAPI_128;
  if (dimensions === 512) return MOBILEFACENET_512;
  throw new Error(`no cluster shape for ${dimensions}-D embeddings`);
}

export class ClusteredGallery {
  readonly shape: ClusterShape;
  readonly #seed: number;
  readonly #mean: Float32Array;
  /** Standard deviation of each component of z. */
  readonly #scale: Float64Array;

  constructor(shape: ClusterShape, seed = 1) {
    this.shape = shape;
    this.#seed = seed;
    this.#mean = gaussianVector(shape.dimensions, seededRandom(hash(seed, 0x6d65616e)));
    const norm = Math.hypot(...this.#mean);
    for (let i = 0; i < this.#mean.length; i++) this.#mean[i]! /= norm;
    const weights = Array.from({ length: shape.dimensions }, (_, d) => (d < shape.rank ? (d + 1) ** -shape.spectrumDecay : 0));
    const total = weights.reduce((a, b) => a + b, 0);
    this.#scale = Float64Array.from(weights, (w) => Math.sqrt(w / total));
  }

  /** Photos person `identity` has in the gallery (1–9). */
  photosOf(identity: number): number {
    const u = seededRandom(hash(this.#seed, identity, 0x636f756e))();
    return 1 + Math.floor(u * u * 9);
  }

  /** Writes photo `photo` of person `identity` (unit length) into `out` at `offset`. Photos ≥ photosOf are probes. */
  photo(identity: number, photo: number, out: Float32Array = new Float32Array(this.shape.dimensions), offset = 0): Float32Array {
    const { dimensions, identitySpread, photoSpread } = this.shape;
    const identityRandom = seededRandom(hash(this.#seed, identity, 0x69646e74));
    const spread = photoSpread * (0.75 + 0.5 * identityRandom());
    const photoRandom = seededRandom(hash(this.#seed, identity, photo + 1));
    const scale = this.#scale;
    let norm = 0;
    let spare: number | undefined;
    let sparePhoto: number | undefined;
    for (let d = 0; d < dimensions; d++) {
      let zi: number;
      if (spare === undefined) [zi, spare] = gaussianPair(identityRandom);
      else [zi, spare] = [spare, undefined];
      let zp: number;
      if (sparePhoto === undefined) [zp, sparePhoto] = gaussianPair(photoRandom);
      else [zp, sparePhoto] = [sparePhoto, undefined];
      const value = this.#mean[d]! + scale[d]! * (identitySpread * zi + spread * zp);
      out[offset + d] = value;
      norm += value * value;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dimensions; d++) out[offset + d]! *= inv;
    return out;
  }

  /**
   * The first `faces` photos of people 1, 2, 3, …: face ids 1..faces, person ids = identity numbers, one contiguous
   * block of vectors, and the number of people drawn.
   */
  build(faces: number): { faceIds: Int32Array; personIds: Int32Array; vectors: Float32Array; people: number } {
    const dims = this.shape.dimensions;
    const faceIds = new Int32Array(faces);
    const personIds = new Int32Array(faces);
    const vectors = new Float32Array(faces * dims);
    let row = 0;
    let identity = 0;
    while (row < faces) {
      identity++;
      const photos = Math.min(this.photosOf(identity), faces - row);
      for (let p = 0; p < photos; p++, row++) {
        faceIds[row] = row + 1;
        personIds[row] = identity;
        this.photo(identity, p, vectors, row * dims);
      }
    }
    return { faceIds, personIds, vectors, people: identity };
  }

  /** A new photo (not in the gallery) of an enrolled person. */
  probe(identity: number, n = 0): Float32Array {
    return this.photo(identity, 1000 + n);
  }
}

function gaussianVector(dimensions: number, random: () => number): Float32Array {
  const out = new Float32Array(dimensions);
  for (let d = 0; d < dimensions; d += 2) {
    const [a, b] = gaussianPair(random);
    out[d] = a;
    if (d + 1 < dimensions) out[d + 1] = b;
  }
  return out;
}

/** Box–Muller: two independent standard normal numbers. */
function gaussianPair(random: () => number): [number, number] {
  const u = 1 - random();
  const v = random();
  const r = Math.sqrt(-2 * Math.log(u));
  return [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
}

function hash(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
  }
  return h >>> 0;
}

/**
 * identify's decision on a search's answer, what the index tests and bench:scale compare with exact search's: the
 * nearest person when within the threshold, else unknown (null).
 */
export function identifyDecision(answer: readonly PersonMatch[], threshold: number): number | null {
  return answer[0] !== undefined && answer[0].distance <= threshold ? answer[0].personId : null;
}
