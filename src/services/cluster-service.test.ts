import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import { ClusterService, clusterThreshold, combineClusterRuns, type ClusterRunSummary } from './cluster-service.js';
import type { FaceService } from './face-service.js';

/** Photos of three people from the shared LFW subset, enrolled with their names hidden. */
const PHOTOS = [lfwPhoto('Britney_Spears', 1), lfwPhoto('Britney_Spears', 2), lfwPhoto('Britney_Spears', 3), lfwPhoto('Bill_Clinton', 1), lfwPhoto('Andre_Agassi', 2)];
const LATER = [lfwPhoto('Britney_Spears', 4), testImage('group.jpg')];

async function expectCode(promise: Promise<unknown>, code: FacedbError['code']): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

void describe('ClusterService on real faces and a real SQLite file', () => {
  let faces: FaceService;
  let clusters: ClusterService;
  let galleryFile: string;

  before(async () => {
    galleryFile = join(await tempDir(), 'gallery.sqlite');
    faces = await openFacedb({ db: galleryFile, workers: 2 });
    clusters = new ClusterService(faces);
  });
  after(async () => {
    await faces.close();
  });

  void it('refuses to cluster an empty gallery', async () => {
    await expectCode(clusters.cluster(), 'invalid_input');
  });

  void it('enrolls every face without a name and clusters them as they arrive', async () => {
    const summary = await clusters.enroll([...PHOTOS, join(galleryFile, 'missing.jpg')]);
    assert.equal(summary.counts.enrolled, PHOTOS.length);
    assert.equal(summary.counts.unreadable, 1);
    assert.equal(summary.facesAdded, summary.outcomes.reduce((n, o) => n + o.facesFound, 0));
    assert.equal(await faces.store.countFaces(), 0, 'no face belongs to a person');
    const run = summary.clustering;
    assert.ok(run);
    assert.equal(run.threshold, clusterThreshold((await faces.engine()).model));
    assert.equal(run.facesClustered, summary.facesAdded);

    const listing = await clusters.listClusters({ limit: 50, offset: 0 }, 10);
    assert.equal(listing.unnamedFaces, summary.facesAdded);
    assert.equal(listing.unclusteredFaces, 0);
    const herFaces = new Set(summary.outcomes.filter((o) => o.path.includes('Britney_Spears')).map((o) => o.faceIds[0]));
    const herCluster = listing.items.find((c) => c.samples.some((s) => herFaces.has(s.id)));
    assert.ok(herCluster);
    // Her three photos land together, and nobody else's labelled face with them.
    assert.deepEqual(
      herCluster.samples.filter((s) => s.sourcePath?.includes('/Britney_Spears/')).map((s) => s.sourcePath).sort(),
      PHOTOS.slice(0, 3),
    );
    assert.ok(herCluster.samples.every((s) => !/Bill_Clinton|Andre_Agassi/.test(s.sourcePath ?? '')));

    // Re-running adds nothing; a later photo of her joins her cluster, the group photo's faces come in too.
    const again = await clusters.enroll(PHOTOS);
    assert.equal(again.counts.already_enrolled, PHOTOS.length);
    assert.equal(again.clustering, null);
    const later = await clusters.enroll(LATER);
    assert.equal(later.counts.enrolled, 2);
    const groupOutcome = later.outcomes.find((o) => o.path.endsWith('group.jpg'));
    assert.ok(groupOutcome && groupOutcome.faceIds.length >= 5, 'every face of the group photo is enrolled');
    const grown = await clusters.listClusters({ limit: 50, offset: 0 }, 10);
    const herNow = grown.items.find((c) => c.id === herCluster.id);
    assert.ok(herNow?.samples.some((s) => s.sourcePath === LATER[0]), 'the new photo joined the existing cluster');
    assert.equal(herNow?.size, 4);
  });

  void it('re-clusters in full to the same groups, keeping their ids', async () => {
    const before = (await clusters.listClusters({ limit: 100, offset: 0 }, 100)).items.map((c) => [c.id, c.samples.map((s) => s.id)]);
    const run = await clusters.cluster({ full: true });
    assert.equal(run.full, true);
    const after = (await clusters.listClusters({ limit: 100, offset: 0 }, 100)).items.map((c) => [c.id, c.samples.map((s) => s.id)]);
    assert.deepEqual(after, before);
  });

  void it('naming a cluster makes a person that identify finds', async () => {
    const listing = await clusters.listClusters({ limit: 50, offset: 0 }, 10);
    const her = listing.items.find((c) => c.samples.some((s) => s.sourcePath === PHOTOS[0]));
    assert.ok(her);
    // The search index is built before naming, so the named faces must reach it through the change log.
    const before = await faces.identify({ path: lfwPhoto('Britney_Spears', 5) });
    assert.equal(before.faces[0]?.match, null);
    await expectCode(clusters.nameCluster(her.id, ' '), 'invalid_input');
    await expectCode(clusters.nameCluster(999_999, 'Britney Spears'), 'not_found');
    const named = await clusters.nameCluster(her.id, '  Britney Spears ');
    assert.equal(named.person.name, 'Britney Spears');
    assert.equal(named.facesNamed, her.size);
    const after = await faces.identify({ path: lfwPhoto('Britney_Spears', 5) });
    assert.equal(after.faces[0]?.match?.person, 'Britney Spears');
    assert.ok((await clusters.listClusters({ limit: 50, offset: 0 }, 1)).items.every((c) => c.id !== her.id));
  });

  void it('an upload is enrolled without a name; a bad one is refused', async () => {
    const outcome = await clusters.enrollImage({ bytes: await readFile(lfwPhoto('Bill_Gates', 1)) });
    assert.equal(outcome.status, 'enrolled');
    assert.equal(outcome.path, '(upload)');
    await expectCode(clusters.enrollImage({ bytes: Buffer.from('not an image') }), 'invalid_image');
    const run = await clusters.cluster();
    assert.equal(run.facesClustered, 1);
  });
});

void describe('combineClusterRuns: several incremental runs as one', () => {
  const run = (ids: { created?: number[]; grown?: number[]; merged?: number[] }, faces: number, clusters: number): ClusterRunSummary => {
    const clusterIds = { created: ids.created ?? [], grown: ids.grown ?? [], merged: ids.merged ?? [] };
    return {
      threshold: 0.3,
      full: false,
      facesClustered: faces,
      clustersCreated: clusterIds.created.length,
      clustersGrown: clusterIds.grown.length,
      clustersMerged: clusterIds.merged.length,
      clusterIds,
      clusters,
      elapsedMs: 5,
    };
  };

  void it('counts each cluster once, as what it is at the end', () => {
    const combined = combineClusterRuns(
      [
        run({ created: [10] }, 1, 5), // a new cluster…
        run({ grown: [10, 3] }, 2, 5), // …grows, as does earlier cluster 3
        run({ grown: [3] }, 1, 5), // 3 grows again
        run({ created: [11] }, 1, 6), // another new cluster…
        run({ grown: [10], merged: [11, 4] }, 1, 4), // …is merged into 10, with earlier cluster 4
      ],
    );
    assert.ok(combined);
    assert.deepEqual(combined.clusterIds, { created: [10], grown: [3], merged: [4] });
    assert.deepEqual([combined.clustersCreated, combined.clustersGrown, combined.clustersMerged], [1, 1, 1]);
    assert.deepEqual([combined.facesClustered, combined.clusters, combined.elapsedMs, combined.full], [6, 4, 25, false]);
  });

  void it('gives null for no runs, and one run unchanged', () => {
    assert.equal(combineClusterRuns([]), null);
    const one = run({ created: [1, 2], grown: [7], merged: [8] }, 4, 9);
    assert.deepEqual(combineClusterRuns([one]), one);
  });
});
