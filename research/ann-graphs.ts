/**
 * research/ann-graphs.ts — graph settings compared side by side on one synthetic gallery (test/clustered-embeddings.ts),
 * for a machine that is not quiet: every graph is built first, then each probe is searched on every graph in turn at
 * each ef_search, so a busy spell slows all of them alike and the latency ratios stay meaningful where the absolute
 * numbers of bench:scale would not.
 *
 *   node --expose-gc --import tsx research/ann-graphs.ts [--faces 100k] [--dims 512] [--probes 300]
 *        [--graphs f16:16:128,f16:32:128] [--ef 256,512,1024]
 *
 * A graph is precision:connectivity:expansion_add. Prints per graph and ef_search: recall@10 of people against
 * exact search (FlatIndex), p50 and p99 of a top-10 search, and the build time (not paired: builds run one after
 * another).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClusteredGallery, shapeForDimensions } from '../test/clustered-embeddings.js';
import { FlatIndex } from '../src/core/flat-index.js';
import { AnnIndex, annOptionsFor, type AnnPrecision } from '../src/search/ann-index.js';

const K = 10;

function size(text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(text.trim());
  if (!match) throw new Error(`bad size ${text}`);
  return Math.round(Number(match[1]) * ({ k: 1e3, m: 1e6 }[match[2]!.toLowerCase()] ?? 1));
}

const { values } = parseArgs({
  options: {
    faces: { type: 'string', default: '100k' },
    dims: { type: 'string', default: '512' },
    probes: { type: 'string', default: '300' },
    graphs: { type: 'string', default: 'f16:16:128,f16:32:128' },
    ef: { type: 'string', default: '256,512,1024' },
  },
});
const faces = size(values.faces);
const dims = Number(values.dims);
const probeCount = Number(values.probes);
const efs = values.ef.split(',').map(Number);
const graphs = values.graphs.split(',').map((text) => {
  const [precision, connectivity, expansionAdd] = text.split(':');
  return { precision: precision as AnnPrecision, connectivity: Number(connectivity), expansionAdd: Number(expansionAdd) };
});

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' / ');
console.log(`${faces} faces × ${dims}-D, ${probeCount} probes; load average at start ${load()}`);
const gallery = new ClusteredGallery(shapeForDimensions(dims), 20261129);
const built = gallery.build(faces);
const probes = Array.from({ length: probeCount }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
const exact = FlatIndex.fromSnapshot({ dimensions: dims, ...built, faceIds: built.faceIds.slice() });
const truth = probes.map((probe) => new Set(exact.searchPeople(probe, K).map((m) => m.personId)));

const dir = await mkdtemp(join(tmpdir(), 'facedb-ann-graphs-'));
const indexes = graphs.map((graph, g) => {
  const options = { ...annOptionsFor(dims, faces), ...graph };
  const start = performance.now();
  const index = AnnIndex.build(dims, built, options);
  const buildS = (performance.now() - start) / 1000;
  console.log(`built ${graph.precision} M=${graph.connectivity} ef_add=${graph.expansionAdd} in ${buildS.toFixed(1)} s`);
  const path = join(dir, `graph-${g}`);
  index.saveGraph(path);
  return { graph, options, path, buildS };
});

const percentile = (samples: number[], p: number): number => [...samples].sort((a, b) => a - b)[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
console.log('\n| graph | build s | ef_search | recall@10 | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|');
for (const ef of efs) {
  // ef_search is not part of a saved graph: each graph is loaded again with it.
  const searchers = indexes.map(({ graph, options, path, buildS }) => ({
    graph,
    buildS,
    index: AnnIndex.restore(dims, { ...options, expansionSearch: ef }, path, built),
    times: [] as number[],
    found: 0,
  }));
  for (const searcher of searchers) for (const probe of probes.slice(0, 10)) searcher.index.searchPeople(probe, K);
  probes.forEach((probe, p) => {
    for (const searcher of searchers) {
      const start = performance.now();
      const answer = searcher.index.searchPeople(probe, K);
      searcher.times.push(performance.now() - start);
      searcher.found += answer.filter((m) => truth[p]!.has(m.personId)).length;
    }
  });
  const wanted = truth.reduce((sum, t) => sum + t.size, 0);
  for (const { graph, buildS, times, found } of searchers) {
    console.log(
      `| ${graph.precision} M=${graph.connectivity} ef_add=${graph.expansionAdd} | ${buildS.toFixed(1)} | ${ef} | ${(found / wanted).toFixed(4)} | ${percentile(times, 0.5).toFixed(3)} | ${percentile(times, 0.99).toFixed(3)} |`,
    );
  }
}
await rm(dir, { recursive: true, force: true });
console.log(`\nload average at the end ${load()}`);
