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
 * The whole subset through the product path (a SQLite gallery, ClusterService, at CLUSTER_FAR in the engine's
 * calibration) twice: in four batches of photos clustered incrementally as they arrive, and once more re-clustered in
 * full. Each half of the people at CLUSTER_FAR and the model's other calibrated points (how CLUSTER_FAR was chosen on
 * half A and confirmed on half B, single linkage to compare): research/cluster-threshold.ts.
 *
 * Then the corrections scenario (bench/cluster-corrections.ts): the actions a person needs to reach a correct
 * gallery from the clusters, with the clusters' suggestions and without.
 *
 * Options: --engine <id@version> (default faceapi-resnet128@4). Writes bench/out/cluster.md and cluster.json.
 */
import { parseArgs } from 'node:util';
import type { ModelInfo } from '../src/core/types.js';
import { CLUSTER_FAR, ClusterService, clusterThreshold } from '../src/services/cluster-service.js';
import { labelledFace, loadFaces, score, SCORE_HEADER, scoreRow, storedFace, withCachedGallery, type CachedPhoto, type Scores } from './cluster-faces.js';
import { correctionsScenario, type CorrectionCounts } from './cluster-corrections.js';
import { writeReport } from './common.js';

const { values: args } = parseArgs({ options: { engine: { type: 'string', default: 'faceapi-resnet128@4' } } });

/**
 * The product path on the whole subset: a SQLite gallery, photos enrolled unnamed in `batches` batches with
 * an incremental clustering run after each, then (optionally) a full re-clustering.
 */
async function productRun(photos: readonly CachedPhoto[], model: ModelInfo, batches: number) {
  return withCachedGallery(model, async (faces, store) => {
    const clusters = new ClusterService(faces);
    const truthOf = new Map<number, string | null>();
    const embeddingOf = new Map<number, Float32Array>();
    const runs = [];
    const size = Math.ceil(photos.length / batches);
    let enrollMs = 0;
    for (let start = 0; start < photos.length; start += size) {
      const began = performance.now();
      for (const photo of photos.slice(start, start + size)) {
        const labelled = labelledFace(photo);
        const added = await store.addUnnamedFaces(photo.faces.map((_, i) => storedFace(photo, i)));
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
  });
}

const cache = await loadFaces(args.engine);
const { model } = cache;
const people = [...new Set(cache.photos.map((p) => p.person))].sort();
const product = await productRun(cache.photos, model, 4);
const corrections = {
  withSuggestions: await correctionsScenario(cache.photos, model, true),
  without: await correctionsScenario(cache.photos, model, false),
};
const correctionRow = (label: string, c: CorrectionCounts) =>
  `| ${label} | **${c.total}** | ${c.accepted} | ${c.typed} | ${c.rejected} | ${c.forced} | ${c.moved} | ${c.takenOut} |`;

const lines = [
  `# bench:cluster — ${args.engine}`,
  '',
  `${cache.photos.length} photos, ${cache.photos.reduce((n, p) => n + p.faces.length, 0)} faces (${cache.photos.filter((p) => p.faces.length > 1).length} photos with several), ${people.length} people (${[...new Set(cache.photos.map((p) => p.person))].filter((person) => cache.photos.filter((p) => p.person === person).length === 1).length} with a single photo); names hidden.`,
  '',
  `## Whole subset through the service (SQLite gallery, FAR ${CLUSTER_FAR})`,
  '',
  SCORE_HEADER,
  scoreRow('incremental, 4 batches', product.threshold, product.incremental),
  scoreRow('full re-cluster', product.threshold, product.afterFull),
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
await writeReport('cluster.md', lines.join('\n'));
await writeReport('cluster.json', JSON.stringify({ engine: args.engine, product, corrections }, null, 2));
process.stdout.write(lines.join('\n'));
