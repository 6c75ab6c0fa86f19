/**
 * How bench:cluster's threshold was chosen: the LFW subset's faces (bench/cluster-faces.ts's cache, every face of
 * every photo, names hidden) clustered in memory at each of the model's calibrated points — its 1:1 threshold and
 * FAR 1e-2, 1e-3, 1e-4 — on half A of the people (sorted by name, every other one), the best pairwise F1 chosen, and
 * confirmed on half B; single linkage (connected components of the pairs within the threshold) at the chosen point,
 * to compare. The service clusters at CLUSTER_FAR (src/services/cluster-service.ts); bench:cluster measures that
 * point alone.
 *
 *   node --import tsx research/cluster-threshold.ts [--engine faceapi-resnet128@4|mobilefacenet512@6]
 */
import { parseArgs } from 'node:util';
import { calibrationKey, thresholdForFar } from '../src/core/confidence.js';
import { euclideanDistance } from '../src/core/distance.js';
import { engineForModel } from '../src/engine/registry.js';
import { CLUSTER_FAR, clusterThreshold } from '../src/services/cluster-service.js';
import { clusterFaces, type ClusterInput } from '../src/core/clustering.js';
import { labelledFace, loadFaces, score, SCORE_HEADER, scoreRow, type BenchFace, type CachedPhoto, type Scores } from '../bench/cluster-faces.js';

const { values: args } = parseArgs({ options: { engine: { type: 'string', default: 'faceapi-resnet128@4' } } });

/** Every face of the photos of half A or B of the people (sorted by name, every other one), numbered from 1. */
function halfFaces(photos: readonly CachedPhoto[], half: 'A' | 'B'): BenchFace[] {
  const people = [...new Set(photos.map((p) => p.person))].sort();
  const inHalf = new Set(people.filter((_, i) => (i % 2 === 0) === (half === 'A')));
  const faces: BenchFace[] = [];
  for (const photo of photos.filter((p) => inHalf.has(p.person))) {
    const labelled = labelledFace(photo);
    photo.faces.forEach((face, i) => {
      faces.push({ faceId: faces.length + 1, truth: i === labelled ? photo.person : null, embedding: face.embedding });
    });
  }
  return faces;
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

const { model, photos } = await loadFaces(args.engine);
const points = [{ name: '1:1 threshold', threshold: model.defaultThreshold }];
for (const far of [1e-2, 1e-3, 1e-4]) {
  try {
    points.push({ name: `FAR ${far}`, threshold: thresholdForFar(engineForModel(model)?.calibration, far, calibrationKey(model)) });
  } catch {
    // An uncalibrated model has only its 1:1 threshold.
  }
}
const halves = { A: halfFaces(photos, 'A'), B: halfFaces(photos, 'B') };
const sweep = Object.fromEntries(
  (['A', 'B'] as const).map((half) => [half, points.map((point) => ({ ...point, ...score(halves[half], clusterInMemory(halves[half], point.threshold)) }))]),
) as Record<'A' | 'B', Array<{ name: string; threshold: number } & Scores>>;
const chosen = [...sweep.A].sort((a, b) => b.f1 - a.f1)[0]!;
const serviceThreshold = clusterThreshold(model);
const single = (half: 'A' | 'B'): string => scoreRow(`single linkage at ${chosen.name}, to compare`, chosen.threshold, score(halves[half], singleLinkage(halves[half], chosen.threshold)));
console.log(
  [
    `# Clustering threshold — ${args.engine}`,
    '',
    '## Half A (choosing)',
    '',
    SCORE_HEADER,
    ...sweep.A.map((s) => scoreRow(s.name, s.threshold, s)),
    single('A'),
    '',
    `Best F1 on half A: **${chosen.name}** (${chosen.threshold.toFixed(3)}). The service clusters at FAR ${CLUSTER_FAR} → ${serviceThreshold.toFixed(3)}${Math.abs(serviceThreshold - chosen.threshold) < 1e-9 ? ' (the same point)' : ' (NOT the point half A chose: update CLUSTER_FAR)'}.`,
    '',
    '## Half B (confirming)',
    '',
    SCORE_HEADER,
    ...sweep.B.map((s) => scoreRow(s.name, s.threshold, s)),
    single('B'),
    '',
  ].join('\n'),
);
