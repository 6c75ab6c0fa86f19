/**
 * npm run bench:cluster — clustering unknown faces on the shared LFW subset with the names hidden.
 *
 * Every face of all 1,613 photos is enrolled without a person (the engine's analyses are cached in
 * bench/out/cluster-faces-<engine>.json on the first run), clustered, and compared with the truth: the folder's
 * person for each photo's labelled face (the one nearest the centre of the 250×250 photo; LFW centres the
 * person it names). Other faces of a photo (people in the background) are enrolled and clustered too but have
 * no known identity, so they are left out of the scores.
 *
 * Scores over every pair of labelled faces: precision = same-person pairs among same-cluster pairs, recall =
 * same-cluster pairs among same-person pairs, and the number of clusters holding labelled faces (741 people).
 *
 * The threshold is chosen on half A of the people (sorted by name, every other one) among the model's calibrated
 * points — its 1:1 threshold and FAR 1e-2, 1e-3, 1e-4 — by pairwise F1, and confirmed on half B. Then the whole
 * subset goes through the product path (a SQLite gallery, ClusterService at its CLUSTER_FAR) twice: in four
 * batches of photos clustered incrementally as they arrive, and once more re-clustered in full.
 *
 * Then the corrections scenario (bench/cluster-corrections.ts): the actions a person needs to reach a correct
 * gallery from the clusters, with the clusters' suggestions and without.
 *
 * Options: --engine <id@version> (default faceapi-resnet128@4), --workers <n> (for the first, embedding run).
 * Writes bench/out/cluster.md and cluster.json.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { clusterFaces, type ClusterInput } from '../src/core/clustering.js';
import { calibrationKey, thresholdForFar } from '../src/core/confidence.js';
import { engineForModel } from '../src/engine/registry.js';
import { euclideanDistance } from '../src/core/distance.js';
import type { ModelInfo } from '../src/core/types.js';
import { CLUSTER_FAR, ClusterService, clusterThreshold } from '../src/services/cluster-service.js';
import { FaceService } from '../src/services/face-service.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { REPO_ROOT, tempDir } from '../test/fixtures.js';
import { loadFaces, type CachedPhoto } from './cluster-faces.js';
import { correctionsScenario, type CorrectionCounts } from './cluster-corrections.js';

const { values: args } = parseArgs({
  options: {
    engine: { type: 'string', default: 'faceapi-resnet128@4' },
    workers: { type: 'string' },
  },
});
const workers = args.workers === undefined ? undefined : Number(args.workers);

interface Scores {
  precision: number;
  recall: number;
  f1: number;
  /** Clusters holding at least one labelled face. */
  clusters: number;
  people: number;
  /** Labelled faces alone in their cluster (counting background faces with them). */
  singletons: number;
  labelledFaces: number;
  otherFaces: number;
  /** Background faces that ended up in a cluster with a labelled face. */
  otherFacesWithLabelled: number;
}

/** A face to cluster, with its truth: the folder's person for a photo's labelled face, else null. */
interface BenchFace {
  faceId: number;
  truth: string | null;
  embedding: Float32Array;
}

/** Index of the face whose box centre is nearest the photo's centre (250×250 LFW photos). */
function labelledFace(photo: CachedPhoto): number {
  let best = 0;
  let bestDistance = Number.POSITIVE_INFINITY;
  photo.faces.forEach((face, i) => {
    const distance = Math.hypot(face.box.x + face.box.width / 2 - 125, face.box.y + face.box.height / 2 - 125);
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  return best;
}

function benchFaces(photos: readonly CachedPhoto[]): BenchFace[] {
  const faces: BenchFace[] = [];
  for (const photo of photos) {
    const labelled = labelledFace(photo);
    photo.faces.forEach((face, i) => {
      faces.push({ faceId: faces.length + 1, truth: i === labelled ? photo.person : null, embedding: face.embedding });
    });
  }
  return faces;
}

function score(faces: readonly BenchFace[], clusterOf: ReadonlyMap<number, number>): Scores {
  const labelled = faces.filter((f) => f.truth !== null);
  let together = 0;
  let same = 0;
  let both = 0;
  for (let i = 0; i < labelled.length; i++) {
    for (let j = i + 1; j < labelled.length; j++) {
      const a = labelled[i]!;
      const b = labelled[j]!;
      const isSame = a.truth === b.truth;
      const isTogether = clusterOf.get(a.faceId) === clusterOf.get(b.faceId);
      if (isSame) same++;
      if (isTogether) together++;
      if (isSame && isTogether) both++;
    }
  }
  const size = new Map<number, number>();
  for (const face of faces) size.set(clusterOf.get(face.faceId)!, (size.get(clusterOf.get(face.faceId)!) ?? 0) + 1);
  const withLabelled = new Set(labelled.map((f) => clusterOf.get(f.faceId)!));
  const others = faces.filter((f) => f.truth === null);
  const precision = together === 0 ? 1 : both / together;
  const recall = same === 0 ? 1 : both / same;
  return {
    precision,
    recall,
    f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall),
    clusters: withLabelled.size,
    people: new Set(labelled.map((f) => f.truth)).size,
    singletons: labelled.filter((f) => size.get(clusterOf.get(f.faceId)!) === 1).length,
    labelledFaces: labelled.length,
    otherFaces: others.length,
    otherFacesWithLabelled: others.filter((f) => withLabelled.has(clusterOf.get(f.faceId)!)).length,
  };
}

/** Clusters in memory (the same function the service runs), every face new. */
function clusterInMemory(faces: readonly BenchFace[], threshold: number): Map<number, number> {
  const input: ClusterInput[] = faces.map((f) => ({ faceId: f.faceId, clusterId: null, embedding: f.embedding }));
  const clusterOf = new Map<number, number>();
  clusterFaces(input, { threshold }).forEach((group, i) => group.faceIds.forEach((id) => clusterOf.set(id, i)));
  return clusterOf;
}

/** Single linkage (connected components of the pairs within the threshold), only to compare with. */
function singleLinkage(faces: readonly BenchFace[], threshold: number): Map<number, number> {
  const parent = faces.map((_, i) => i);
  const root = (i: number): number => {
    while (parent[i] !== i) i = parent[i] = parent[parent[i]!]!;
    return i;
  };
  for (let i = 0; i < faces.length; i++) {
    for (let j = i + 1; j < faces.length; j++) {
      if (euclideanDistance(faces[i]!.embedding, faces[j]!.embedding) <= threshold) parent[root(i)] = root(j);
    }
  }
  return new Map(faces.map((face, i) => [face.faceId, root(i)]));
}

interface Candidate {
  name: string;
  threshold: number;
}

function candidates(model: ModelInfo): Candidate[] {
  const points: Candidate[] = [{ name: `1:1 threshold`, threshold: model.defaultThreshold }];
  const calibration = engineForModel(model)?.calibration;
  for (const far of [1e-2, 1e-3, 1e-4]) {
    try {
      points.push({ name: `FAR ${far}`, threshold: thresholdForFar(calibration, far, calibrationKey(model)) });
    } catch {
      // An uncalibrated model has only its 1:1 threshold.
    }
  }
  return points;
}

/**
 * The product path on the whole subset: a SQLite gallery, photos enrolled unnamed in `batches` batches with
 * an incremental clustering run after each, then (optionally) a full re-clustering.
 */
async function productRun(photos: readonly CachedPhoto[], model: ModelInfo, batches: number) {
  const dir = await tempDir('facedb-bench-cluster-');
  const store = await openSqliteStore(join(dir, 'gallery.sqlite'));
  const config = loadConfig({ db: join(dir, 'gallery.sqlite') });
  const faces = new FaceService(config, store, () => Promise.reject(new Error('the benchmark enrolls cached analyses')));
  const clusters = new ClusterService(faces);
  try {
    await store.ensureModel(model);
    const truthOf = new Map<number, string | null>();
    const embeddingOf = new Map<number, Float32Array>();
    const runs = [];
    const size = Math.ceil(photos.length / batches);
    let enrollMs = 0;
    for (let start = 0; start < photos.length; start += size) {
      const began = performance.now();
      for (const photo of photos.slice(start, start + size)) {
        const labelled = labelledFace(photo);
        const added = await store.addUnnamedFaces(
          photo.faces.map((face) => ({ sourcePath: photo.file, contentHash: photo.contentHash, box: face.box, detectionScore: face.detectionScore, embedding: face.embedding, crop: null })),
        );
        added.forEach((face, i) => {
          truthOf.set(face.id, i === labelled ? photo.person : null);
          embeddingOf.set(face.id, photo.faces[i]!.embedding);
        });
      }
      enrollMs += performance.now() - began;
      runs.push(await clusters.cluster());
    }
    const current = async (): Promise<Scores> => {
      const clusterOf = new Map((await store.loadUnnamedEmbeddings()).map((f) => [f.faceId, f.clusterId ?? -f.faceId]));
      const benchFaces = [...truthOf].map(([faceId, truth]) => ({ faceId, truth, embedding: embeddingOf.get(faceId)! }));
      return score(benchFaces, clusterOf);
    };
    const incremental = await current();
    const full = await clusters.cluster({ full: true });
    const afterFull = await current();
    return { threshold: clusterThreshold(model), enrollMs, runs, incremental, full, afterFull };
  } finally {
    await faces.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

function row(label: string, threshold: number, s: Scores): string {
  return `| ${label} | ${threshold.toFixed(3)} | ${pct(s.precision)} | ${pct(s.recall)} | ${s.f1.toFixed(4)} | ${s.clusters} / ${s.people} | ${s.singletons} |`;
}

const HEADER = '| point | threshold | pairwise precision | pairwise recall | F1 | clusters / people | labelled faces alone |\n| --- | --- | --- | --- | --- | --- | --- |';

const cache = await loadFaces(args.engine, workers);
const { model } = cache;
const people = [...new Set(cache.photos.map((p) => p.person))].sort();
const halfOf = new Map(people.map((person, i) => [person, i % 2 === 0 ? 'A' : 'B']));
const half = (name: 'A' | 'B'): BenchFace[] => benchFaces(cache.photos.filter((p) => halfOf.get(p.person) === name));

const points = candidates(model);
const sweep = { A: [] as Array<Candidate & Scores>, B: [] as Array<Candidate & Scores> };
for (const name of ['A', 'B'] as const) {
  const faces = half(name);
  for (const point of points) sweep[name].push({ ...point, ...score(faces, clusterInMemory(faces, point.threshold)) });
}
const chosen = [...sweep.A].sort((a, b) => b.f1 - a.f1)[0]!;
const single = { A: score(half('A'), singleLinkage(half('A'), chosen.threshold)), B: score(half('B'), singleLinkage(half('B'), chosen.threshold)) };
const serviceThreshold = clusterThreshold(model);
const product = await productRun(cache.photos, model, 4);
const corrections = {
  withSuggestions: await correctionsScenario(cache.photos, model, labelledFace, true),
  without: await correctionsScenario(cache.photos, model, labelledFace, false),
};
const correctionRow = (label: string, c: CorrectionCounts) =>
  `| ${label} | **${c.total}** | ${c.accepted} | ${c.typed} | ${c.rejected} | ${c.forced} | ${c.moved} | ${c.takenOut} |`;

const lines = [
  `# bench:cluster — ${args.engine}`,
  '',
  `${cache.photos.length} photos, ${cache.photos.reduce((n, p) => n + p.faces.length, 0)} faces (${cache.photos.filter((p) => p.faces.length > 1).length} photos with several), ${people.length} people (${[...new Set(cache.photos.map((p) => p.person))].filter((person) => cache.photos.filter((p) => p.person === person).length === 1).length} with a single photo); names hidden. Half A: ${half('A').filter((f) => f.truth).length} labelled faces of ${people.filter((p) => halfOf.get(p) === 'A').length} people; half B: ${half('B').filter((f) => f.truth).length} of ${people.filter((p) => halfOf.get(p) === 'B').length}.`,
  '',
  '## Half A (choosing)',
  '',
  HEADER,
  ...sweep.A.map((s) => row(s.name, s.threshold, s)),
  '',
  row(`single linkage at ${chosen.name}, to compare`, chosen.threshold, single.A),
  '',
  `Best F1 on half A: **${chosen.name}** (${chosen.threshold.toFixed(3)}). The service clusters at FAR ${CLUSTER_FAR} → ${serviceThreshold.toFixed(3)}${Math.abs(serviceThreshold - chosen.threshold) < 1e-9 ? ' (the same point)' : ' (NOT the point half A chose: update CLUSTER_FAR)'}.`,
  '',
  '## Half B (confirming)',
  '',
  HEADER,
  ...sweep.B.map((s) => row(s.name, s.threshold, s)),
  row(`single linkage at ${chosen.name}, to compare`, chosen.threshold, single.B),
  '',
  '## Whole subset through the service (SQLite gallery)',
  '',
  HEADER,
  row('incremental, 4 batches', product.threshold, product.incremental),
  row('full re-cluster', product.threshold, product.afterFull),
  '',
  `Enrolling the cached analyses: ${(product.enrollMs / 1000).toFixed(1)} s; clustering runs (incremental, one per batch): ${product.runs.map((r) => `${r.elapsedMs.toFixed(0)} ms`).join(', ')}; full re-cluster ${product.full.elapsedMs.toFixed(0)} ms. Background faces: ${product.afterFull.otherFaces}, of which ${product.afterFull.otherFacesWithLabelled} share a cluster with a labelled face (full run).`,
  '',
  '## Corrections: actions to a correct gallery (bench/cluster-corrections.ts)',
  '',
  'The first photo of every person with two or more is enrolled under their name; the other photos are added unnamed and clustered; an oracle with the true identities makes the fewest corrections until every labelled face is in its true person (checked).',
  '',
  '| scenario | actions | suggestions accepted (a click) | names typed | suggestions rejected | refused names confirmed | faces moved | background faces taken out |',
  '| --- | --- | --- | --- | --- | --- | --- | --- |',
  correctionRow('with suggestions', corrections.withSuggestions),
  correctionRow('naming clusters without suggestions', corrections.without),
  '',
  `Suggestions: ${corrections.withSuggestions.suggestions.right} right, ${corrections.withSuggestions.suggestions.wrong} wrong, ${corrections.withSuggestions.suggestions.missing} clusters of a person already in the gallery got none.`,
  '',
];
await mkdir(join(REPO_ROOT, 'bench/out'), { recursive: true });
await writeFile(join(REPO_ROOT, 'bench/out/cluster.md'), lines.join('\n'));
await writeFile(join(REPO_ROOT, 'bench/out/cluster.json'), JSON.stringify({ engine: args.engine, sweep, single, chosen, serviceThreshold, product, corrections }, null, 2));
process.stdout.write(lines.join('\n'));
