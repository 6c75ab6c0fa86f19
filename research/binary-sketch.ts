/**
 * Could a binary sketch meet bench:scale's 1M × 512-D target where the HNSW graph does not? Each face gets B sign bits
 * (SimHash: the signs of B random Gaussian projections of the embedding minus the gallery's mean); a search ranks the
 * whole gallery by Hamming distance, which a SIMD popcount scan does in a few milliseconds at a million faces, and
 * reranks the best K exactly. This measures the recall@10 of people such a search reaches against exact search, on
 * the same 512-D face-shaped synthetic gallery as bench:scale (test/clustered-embeddings.ts). Speed is not measured:
 * the scan here is plain JavaScript, only the candidates matter.
 *
 *   node --import tsx research/binary-sketch.ts [--faces 200000] [--bits 512] [--probes 200] [--k 100,300,1000,3000,10000]
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FlatIndex } from '../src/core/flat-index.js';
import { ClusteredGallery, MOBILEFACENET_512 } from '../test/clustered-embeddings.js';
import { gaussianProjections } from '../src/core/sketch-rows.js';

/** The mean of the first `sample` rows (of `dims` values each) of `vectors`: the sketch's centre. */
export function sampleMean(vectors: Float32Array, dims: number, sample = 20_000): Float64Array {
  const rows = Math.min(vectors.length / dims, sample);
  const mean = new Float64Array(dims);
  for (let row = 0; row < rows; row++) for (let d = 0; d < dims; d++) mean[d]! += vectors[row * dims + d]! / rows;
  return mean;
}

/** The seed of the research's projections (src/core/sketch-rows.ts gaussianProjections; the product uses its own). */
export const RESEARCH_PROJECTION_SEED = 5;

function main(): void {
  const { values } = parseArgs({
    options: { faces: { type: 'string', default: '200000' }, bits: { type: 'string', default: '512' }, probes: { type: 'string', default: '200' }, k: { type: 'string', default: '100,300,1000,3000,10000' } },
  });
  const faces = Number(values.faces);
  const bits = Number(values.bits);
  const probeCount = Number(values.probes);
  if (!(Number.isInteger(bits) && bits % 32 === 0 && bits > 0)) throw new Error('--bits: a multiple of 32');
  const dims = MOBILEFACENET_512.dimensions;
  const K_VALUES = values.k.split(',').map(Number);
  if (K_VALUES.some((k) => !(Number.isInteger(k) && k > 0 && k <= faces))) throw new Error('--k: counts of candidates, at most --faces');
  const TOP_PEOPLE = 10;

  const gallery = new ClusteredGallery(MOBILEFACENET_512, 20261129);
  const built = gallery.build(faces);
  const probes = Array.from({ length: probeCount }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
  const exact = FlatIndex.fromSnapshot({ dimensions: dims, ...built, faceIds: built.faceIds.slice() });
  const truth = probes.map((probe) => new Set(exact.searchPeople(probe, TOP_PEOPLE).map((m) => m.personId)));

  const mean = sampleMean(built.vectors, dims);
  const projections = gaussianProjections(bits, dims, RESEARCH_PROJECTION_SEED);
  const words = bits / 32;

  function sketch(vectors: Float32Array, offset: number, out: Uint32Array, at: number): void {
    for (let bit = 0; bit < bits; bit++) {
      let dot = 0;
      for (let d = 0; d < dims; d++) dot += projections[bit * dims + d]! * (vectors[offset + d]! - mean[d]!);
      if (dot > 0) out[at + (bit >> 5)]! |= 1 << (bit & 31);
    }
  }

  function popcount(x: number): number {
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
  }

  const sketches = new Uint32Array(faces * words);
  for (let row = 0; row < faces; row++) sketch(built.vectors, row * dims, sketches, row * words);

  const found = new Map<number, number>(K_VALUES.map((k) => [k, 0]));
  let wanted = 0;
  probes.forEach((probe, p) => {
    const query = new Uint32Array(words);
    sketch(probe, 0, query, 0);
    const hamming = new Uint16Array(faces);
    for (let row = 0; row < faces; row++) {
      let h = 0;
      for (let w = 0; w < words; w++) h += popcount(sketches[row * words + w]! ^ query[w]!);
      hamming[row] = h;
    }
    const order = Array.from({ length: faces }, (_, row) => row).sort((a, b) => hamming[a]! - hamming[b]!);
    const expected = truth[p]!;
    wanted += expected.size;
    for (const k of K_VALUES) {
      const reranked = order
        .slice(0, k)
        .map((row) => {
          let sum = 0;
          for (let d = 0; d < dims; d++) sum += (probe[d]! - built.vectors[row * dims + d]!) ** 2;
          return { person: built.personIds[row]!, sum };
        })
        .sort((a, b) => a.sum - b.sum);
      const people = new Set<number>();
      for (const { person } of reranked) if (people.size < TOP_PEOPLE) people.add(person);
      found.set(k, found.get(k)! + [...people].filter((person) => expected.has(person)).length);
    }
  });
  console.log(`${faces.toLocaleString('en')} faces × ${dims}-D, ${bits}-bit sketches, ${probeCount} probes: recall@10 of people after an exact rerank of the best K by Hamming distance`);
  for (const k of K_VALUES) console.log(`  K = ${k}: ${(found.get(k)! / wanted).toFixed(4)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
