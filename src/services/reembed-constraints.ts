/**
 * Carrying the curation constraints (store/curation.ts: faces kept apart, a face that is not a person, a cluster that
 * is not a person) from the old gallery to the new one, in the new gallery's ids: faces by what this run moved,
 * people by name, clusters by how carryClusters regrouped them.
 */
import type { GalleryConstraints } from '../store/store.js';
import type { ServiceContext } from './context.js';
import type { ReembedOutcome } from './results.js';

/**
 * Stores the old gallery's constraints in the new gallery. A constraint naming a face, person or cluster this run
 * did not bring across (a face that could not be moved, or that an earlier, interrupted run moved) stays behind and
 * is counted in `left`.
 */
export async function carryConstraints(
  source: ServiceContext,
  target: ServiceContext,
  outcomes: readonly ReembedOutcome[],
  clusters: ReadonlyMap<number, number>,
): Promise<{ carried: number; left: number }> {
  const old = await source.store.listConstraints();
  const total = old.facesApart.length + old.faceNotPerson.length + old.clusterNotPerson.length;
  if (total === 0) return { carried: 0, left: 0 };
  const faces = new Map(outcomes.flatMap((outcome): Array<[number, number]> => (outcome.newFaceId === undefined ? [] : [[outcome.faceId, outcome.newFaceId]])));
  const people = new Map<number, number | undefined>();
  const personIn = async (oldId: number): Promise<number | undefined> => {
    if (!people.has(oldId)) {
      const person = await source.store.getPerson(oldId);
      people.set(oldId, person ? (await target.store.findPersonByName(person.name))?.id : undefined);
    }
    return people.get(oldId);
  };
  const carried: GalleryConstraints = { facesApart: [], faceNotPerson: [], clusterNotPerson: [] };
  for (const [face, other] of old.facesApart) {
    const [a, b] = [faces.get(face), faces.get(other)];
    if (a !== undefined && b !== undefined) carried.facesApart.push([a, b]);
  }
  for (const [face, person] of old.faceNotPerson) {
    const [a, p] = [faces.get(face), await personIn(person)];
    if (a !== undefined && p !== undefined) carried.faceNotPerson.push([a, p]);
  }
  for (const [cluster, person] of old.clusterNotPerson) {
    const [c, p] = [clusters.get(cluster), await personIn(person)];
    if (c !== undefined && p !== undefined) carried.clusterNotPerson.push([c, p]);
  }
  const mapped = carried.facesApart.length + carried.faceNotPerson.length + carried.clusterNotPerson.length;
  return { carried: mapped === 0 ? 0 : await target.store.addConstraints(carried), left: total - mapped };
}
