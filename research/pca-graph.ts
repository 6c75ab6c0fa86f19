/**
 * Would the HNSW graph reach bench:scale's recall faster on a PCA projection? Real mobilefacenet512 embeddings hold
 * 99.9 % of their variance in about 148 of their 512 dimensions (test/clustered-embeddings.ts), so a graph over the
 * top components computes each distance 3x cheaper and reads a third of the memory. This builds the same graph
 * (f16, M=32, ef_construction 128) over the full 512-D embeddings and over their top --components principal
 * components (fitted on 20,000 of them), and compares top-10 people search at each ef_search against exact search
 * over the full embeddings: p50/p99 latency and recall@10 of people.
 *
 *   node --import tsx research/pca-graph.ts [--faces 100000] [--components 160] [--ef 256,512,768,1024] [--probes 300]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FlatIndex } from '../src/core/flat-index.js';
import { AnnIndex, annOptionsFor, type AnnOptions } from '../src/search/ann-index.js';
import { ClusteredGallery, MOBILEFACENET_512 } from '../test/clustered-embeddings.js';
import { seededRandom } from '../test/fixtures.js';

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '100000' },
    components: { type: 'string', default: '160' },
    ef: { type: 'string', default: '256,512,768,1024' },
    probes: { type: 'string', default: '300' },
  },
});
const faces = Number(values.faces);
const components = Number(values.components);
const efs = values.ef.split(',').map(Number);
const probeCount = Number(values.probes);
const dims = MOBILEFACENET_512.dimensions;
const K = 10;
const FIT_SAMPLE = 20_000;
const POWER_ITERATIONS = 30;

const gallery = new ClusteredGallery(MOBILEFACENET_512, 20261129);
const built = gallery.build(faces);
const probes = Array.from({ length: probeCount }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
const exact = FlatIndex.fromSnapshot({ dimensions: dims, ...built, faceIds: built.faceIds.slice() });
const truth = probes.map((probe) => new Set(exact.searchPeople(probe, K).map((m) => m.personId)));

// PCA by subspace iteration on the sample covariance.
const sample = Math.min(faces, FIT_SAMPLE);
const mean = new Float64Array(dims);
for (let row = 0; row < sample; row++) for (let d = 0; d < dims; d++) mean[d]! += built.vectors[row * dims + d]! / sample;
const covariance = new Float64Array(dims * dims);
const centred = new Float64Array(dims);
for (let row = 0; row < sample; row++) {
  for (let d = 0; d < dims; d++) centred[d] = built.vectors[row * dims + d]! - mean[d]!;
  for (let i = 0; i < dims; i++) {
    const ci = centred[i]! / sample;
    for (let j = i; j < dims; j++) covariance[i * dims + j]! += ci * centred[j]!;
  }
}
for (let i = 0; i < dims; i++) for (let j = 0; j < i; j++) covariance[i * dims + j] = covariance[j * dims + i]!;
const random = seededRandom(3);
let basis = Float64Array.from({ length: dims * components }, () => random() - 0.5); // column c at [d * components + c]
/** Gram-Schmidt, each projection done twice: components past the data's rank are rounding noise, which one pass leaves skewed. */
function orthonormalise(q: Float64Array): void {
  for (let c = 0; c < components; c++) {
    for (let pass = 0; pass < 2; pass++) {
      for (let prev = 0; prev < c; prev++) {
        let dot = 0;
        for (let d = 0; d < dims; d++) dot += q[d * components + c]! * q[d * components + prev]!;
        for (let d = 0; d < dims; d++) q[d * components + c]! -= dot * q[d * components + prev]!;
      }
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += q[d * components + c]! ** 2;
    norm = Math.sqrt(norm);
    for (let d = 0; d < dims; d++) q[d * components + c]! /= norm;
  }
}
orthonormalise(basis);
for (let iteration = 0; iteration < POWER_ITERATIONS; iteration++) {
  const next = new Float64Array(dims * components);
  for (let i = 0; i < dims; i++) {
    for (let k = 0; k < dims; k++) {
      const cik = covariance[i * dims + k]!;
      if (cik === 0) continue;
      for (let c = 0; c < components; c++) next[i * components + c]! += cik * basis[k * components + c]!;
    }
  }
  orthonormalise(next);
  basis = next;
}
let captured = 0;
let trace = 0;
for (let d = 0; d < dims; d++) trace += covariance[d * dims + d]!;
for (let c = 0; c < components; c++) {
  for (let i = 0; i < dims; i++) {
    let row = 0;
    for (let k = 0; k < dims; k++) row += covariance[i * dims + k]! * basis[k * components + c]!;
    captured += basis[i * components + c]! * row;
  }
}

function project(vectors: Float32Array, count: number): Float32Array {
  const out = new Float32Array(count * components);
  for (let row = 0; row < count; row++) {
    for (let d = 0; d < dims; d++) {
      const x = vectors[row * dims + d]! - mean[d]!;
      if (x === 0) continue;
      for (let c = 0; c < components; c++) out[row * components + c]! += x * basis[d * components + c]!;
    }
  }
  return out;
}
const projected = project(built.vectors, faces);
const projectedProbes = probes.map((probe) => project(probe, 1));
console.log(`${faces.toLocaleString('en')} faces, ${built.people.toLocaleString('en')} people; the top ${components} components hold ${((100 * captured) / trace).toFixed(2)} % of the variance`);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const base = annOptionsFor(dims, faces);
const dir = await mkdtemp(join(tmpdir(), 'facedb-pca-graph-'));
console.log('\n| graph | build s | ef_search | p50 ms | p99 ms | recall@10 of people |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const variant of [
  { label: `${dims}-D`, width: dims, vectors: built.vectors, queries: probes },
  { label: `PCA ${components}-D`, width: components, vectors: projected, queries: projectedProbes },
]) {
  const started = performance.now();
  const graph = AnnIndex.build(variant.width, { faceIds: built.faceIds, personIds: built.personIds, vectors: variant.vectors }, base);
  const buildS = (performance.now() - started) / 1000;
  const file = join(dir, `${variant.width}.graph`);
  graph.saveGraph(file);
  for (const ef of efs) {
    const options: AnnOptions = { ...base, expansionSearch: ef };
    const index = AnnIndex.restore(variant.width, options, file, { ...built, vectors: variant.vectors });
    for (const query of variant.queries.slice(0, 10)) index.searchPeople(query, K);
    const times: number[] = [];
    let found = 0;
    variant.queries.forEach((query, p) => {
      const t0 = performance.now();
      const answer = index.searchPeople(query, K);
      times.push(performance.now() - t0);
      found += answer.filter((m) => truth[p]!.has(m.personId)).length;
    });
    const wanted = truth.reduce((n, set) => n + set.size, 0);
    console.log(`| ${variant.label} | ${buildS.toFixed(0)} | ${ef} | ${percentile(times, 0.5).toFixed(2)} | ${percentile(times, 0.99).toFixed(2)} | ${(found / wanted).toFixed(4)} |`);
  }
}
await rm(dir, { recursive: true, force: true });
