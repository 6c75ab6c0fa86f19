/**
 * bench:cluster's corrections scenario (issue 17): how many actions a person needs to turn the clusters of the
 * shared subset's unnamed photos into a correct gallery, with cluster suggestions and without.
 *
 * The gallery: for every person with two photos or more, their first photo's labelled face is enrolled under their
 * name (so suggestions have someone to suggest); every face of every other photo is added unnamed and clustered.
 * An oracle plays the person, using the true LFW identities, one cluster at a time (largest first), and makes the
 * fewest corrections: the cluster is its labelled faces' most common person T; each face of another person is moved
 * to that person (typed name), each background face (no known identity) is taken out; then the cluster is named T.
 * With suggestions, a right suggestion is accepted (one click), a wrong one rejected (and the next one considered);
 * without, T is typed. A refused name (409, far from T) is confirmed with force: one more action. Background-only
 * clusters are left as they are. Merging two clusters of T costs what naming the second one T costs (one action).
 * At the end every labelled face must be in its true person (checked), else the scenario fails.
 */
import type { ModelInfo } from '../src/core/types.js';
import { toFacedbError } from '../src/errors/errors.js';
import { ClusterSuggestions } from '../src/services/cluster-suggestions.js';
import { labelledFace, storedFace, withCachedGallery, type CachedPhoto } from './cluster-faces.js';

/**
 * Actions by kind: suggestions accepted (a click), rejected, clusters named by typing, refused names confirmed,
 * faces of another known person moved to them (typed), background faces taken out; and how the suggestions fared.
 */
export interface CorrectionCounts {
  accepted: number;
  rejected: number;
  typed: number;
  forced: number;
  moved: number;
  takenOut: number;
  total: number;
  /** Clusters whose suggestion was right / wrong / absent though their person was in the gallery. */
  suggestions: { right: number; wrong: number; missing: number };
}

export async function correctionsScenario(photos: readonly CachedPhoto[], model: ModelInfo, withSuggestions: boolean): Promise<CorrectionCounts> {
  return withCachedGallery(model, async (faces, store) => {
    const { clusters } = faces;
    const suggestions = new ClusterSuggestions(faces.context);
    const n: CorrectionCounts = { accepted: 0, rejected: 0, typed: 0, forced: 0, moved: 0, takenOut: 0, total: 0, suggestions: { right: 0, wrong: 0, missing: 0 } };
    const truthOf = new Map<number, string | null>();
    const enrolled = new Set<string>();
    const photoCount = new Map<string, number>();
    for (const photo of photos) photoCount.set(photo.person, (photoCount.get(photo.person) ?? 0) + 1);
    for (const photo of photos) {
      const labelled = labelledFace(photo);
      if (photo.faces.length > 0 && photoCount.get(photo.person)! >= 2 && !enrolled.has(photo.person)) {
        enrolled.add(photo.person);
        const [face] = await store.addFaces((await store.upsertPerson(photo.person)).id, [storedFace(photo, labelled)]);
        truthOf.set(face!.id, photo.person);
        continue;
      }
      const added = await store.addUnnamedFaces(photo.faces.map((_, i) => storedFace(photo, i)));
      added.forEach((face, i) => truthOf.set(face.id, i === labelled ? photo.person : null));
    }
    await clusters.cluster();

    const handled = new Set<number>();
    for (;;) {
      // Largest first, as the page lists them; the suggestion is the listing's own, for this one cluster.
      const listing = await clusters.listClusters({ limit: 1000, offset: 0 }, 0, { suggest: false });
      const cluster = listing.items.find((c) => !handled.has(c.id));
      if (cluster === undefined) break;
      const suggestion = withSuggestions ? (await suggestions.suggest([cluster.id])).get(cluster.id) ?? null : null;
      const members = (await faces.faces({ cluster: cluster.id }, { limit: 1000 })).items.map((f) => f.id);
      const votes = new Map<string, number>();
      for (const id of members) {
        const truth = truthOf.get(id);
        if (truth) votes.set(truth, (votes.get(truth) ?? 0) + 1);
      }
      const person = [...votes].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0];
      if (person === undefined) {
        handled.add(cluster.id);
        continue;
      }
      for (const id of members) {
        const truth = truthOf.get(id) ?? null;
        if (truth === person) continue;
        if (truth === null) {
          await faces.unassignFaces([id]);
          n.takenOut++;
        } else {
          await faces.moveFaces([id], truth);
          n.moved++;
        }
      }
      const suggested = suggestion?.person.name ?? null;
      if (withSuggestions && suggested === null && (await store.findPersonByName(person)) !== null) n.suggestions.missing++;
      if (suggested !== null && suggested !== person) {
        n.suggestions.wrong++;
        n.rejected++;
        await faces.curation.rejectCluster(cluster.id, suggestion!.person.id);
        continue; // the same cluster again, with its next suggestion
      }
      if (suggested === person) {
        n.suggestions.right++;
        n.accepted++;
      } else n.typed++;
      try {
        await clusters.nameCluster(cluster.id, person);
      } catch (error) {
        if (toFacedbError(error).code !== 'conflict') throw error;
        n.forced++;
        await clusters.nameCluster(cluster.id, person, { force: true });
      }
      handled.add(cluster.id);
    }
    // Faces no cluster held (none expected): moved one by one.
    for (const [id, truth] of truthOf) {
      const [face] = await store.getStoredFaces([id]);
      if (truth !== null && face?.personName !== truth) {
        await faces.moveFaces([id], truth);
        n.moved++;
      }
    }
    const wrong = [...truthOf].filter(([, truth]) => truth !== null);
    const stored = await store.getStoredFaces(wrong.map(([id]) => id));
    const misplaced = stored.filter((face) => face.personName !== truthOf.get(face.id)).length;
    if (misplaced > 0 || stored.length !== wrong.length) throw new Error(`${misplaced} labelled faces are not with their person after the corrections`);
    n.total = n.accepted + n.rejected + n.typed + n.forced + n.moved + n.takenOut;
    return n;
  });
}
