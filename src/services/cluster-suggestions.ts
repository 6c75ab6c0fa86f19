import { calibrationKey, decisionConfidence, thresholdForFar, type ModelCalibration } from '../core/confidence.js';
import type { ModelInfo } from '../core/types.js';
import { engineForModel, fallbackThreshold } from '../engine/registry.js';
import { FacedbError, toFacedbError } from '../errors/errors.js';
import { galleryThresholdAt } from '../store/calibration.js';
import type { GalleryConstraints } from '../store/curation.js';
import type { GalleryStore, Person, UnnamedEmbedding } from '../store/store.js';
import type { ServiceContext } from './context.js';
import { RecognitionService } from './recognition.js';

/**
 * How far a cluster is from the people of the gallery: the suggestion shown with a cluster ("this looks like
 * Ada"), and the check that keeps `name-cluster` from adding a cluster to a person it is far from. Thresholds are
 * the model's (its calibration, or the gallery's own from `facedb evaluate --apply`), never fixed here.
 *
 * A cluster's distance to a person is the mean, over the cluster's first faces, of each face's distance to that
 * person's closest face, as identify measures it, through the same search. A face that does not have the person
 * among its nearest SEARCH_DEPTH people counts at its farthest one found (so the mean is a lower bound then).
 */

/** Faces of a cluster that speak for it (its lowest ids): enough for a stable mean, few searches per cluster. */
export const FACES_PER_CLUSTER = 8;
/** People fetched per face. */
const SEARCH_DEPTH = 20;

/**
 * Per-pair false-accept rate beyond which a cluster is "far" from a person and `name-cluster` refuses to add it to
 * them without --force: the clustering point (CLUSTER_FAR), so a cluster is added to a person only where
 * clustering would have joined them.
 */
export const NAME_CLUSTER_FAR = 1e-3;

export interface ClusterSuggestion {
  person: { id: number; name: string };
  distance: number;
  /** The calibrated chance that the cluster is this person, as identify reports it; null without calibration. */
  confidence: number | null;
}

/** The model and its calibration: the loaded engine's, else the registry's (without loading the models). */
async function operatingModel(context: ServiceContext, model: ModelInfo): Promise<{ model: ModelInfo; calibration: ModelCalibration | undefined }> {
  if (context.engineLoaded) return context.engine();
  return { model, calibration: engineForModel(model)?.calibration };
}

export class ClusterSuggestions {
  readonly #context: ServiceContext;
  readonly #recognition: RecognitionService;

  constructor(context: ServiceContext) {
    this.#context = context;
    this.#recognition = new RecognitionService(context);
  }

  /**
   * The model's distance at `far`: the gallery's own calibration first, then the engine's, then its 1:1 threshold
   * (a model without calibration). Shared with clustering (CLUSTER_FAR).
   */
  async thresholdAt(far: number): Promise<number> {
    const model = await this.#pinned();
    const calibrated = await this.#context.store.getCalibration();
    const own = calibrated?.model === calibrationKey(model) ? galleryThresholdAt(calibrated, far) : undefined;
    const { calibration } = await operatingModel(this.#context, model);
    return own ?? (calibration ? thresholdForFar(calibration, far, calibrationKey(model)) : fallbackThreshold(model));
  }

  /**
   * For each cluster, the nearest person when the cluster is within identify's threshold of them, unless the
   * cluster was rejected for them or holds a face taken from them. Null for the others.
   */
  async suggest(clusterIds: readonly number[]): Promise<Map<number, ClusterSuggestion | null>> {
    const suggestions = new Map<number, ClusterSuggestion | null>(clusterIds.map((id) => [id, null]));
    const { store } = this.#context;
    if (clusterIds.length === 0 || (await store.countFaces()) === 0) return suggestions;
    const model = await this.#pinned();
    const engine = await operatingModel(this.#context, model);
    await this.#context.refreshGalleryCalibration(); // as identify: another process may have applied one
    let threshold: number;
    try {
      threshold = this.#recognition.threshold(engine, {}, 'identify');
    } catch (error) {
      // A model pack not calibrated yet has no threshold to suggest at: the listing goes without suggestions.
      if (toFacedbError(error).code === 'invalid_input') return suggestions;
      throw error;
    }
    const [faces, constraints, people] = await Promise.all([
      store.loadClusterEmbeddings([...clusterIds], FACES_PER_CLUSTER),
      store.listConstraints(),
      store.listPeople({ limit: 0, offset: 0 }),
    ]);
    const byCluster = facesByCluster(faces, new Set(clusterIds));
    const refused = await refusedPeopleOf(store, constraints);
    for (const clusterId of clusterIds) {
      const distances = await this.#distances(byCluster.get(clusterId) ?? []);
      const blocked = refused.get(clusterId);
      const nearest = [...distances].filter(([personId]) => !blocked?.has(personId)).sort((a, b) => a[1] - b[1])[0];
      if (nearest === undefined || nearest[1] > threshold) continue;
      const [personId, distance] = nearest;
      suggestions.set(clusterId, {
        person: { id: personId, name: await this.#context.personName(personId) },
        distance: round(distance),
        confidence: decisionConfidence(engine.calibration, distance, { threshold, people: people.total }),
      });
    }
    return suggestions;
  }

  /**
   * Throws conflict when a cluster should not be added to an existing person: it was rejected for them, or it is
   * farther from them than the NAME_CLUSTER_FAR threshold. The message says which, and that --force overrides.
   */
  async checkNaming(clusterId: number, person: Person): Promise<void> {
    const { store } = this.#context;
    const [faces, constraints] = await Promise.all([store.loadClusterEmbeddings([clusterId], FACES_PER_CLUSTER), store.listConstraints()]);
    const mine = faces;
    if (mine.length === 0) return; // unknown or empty: naming answers not_found
    // Faces taken from this person stay behind when it is named (the store sees to that): only a rejection refuses.
    if (constraints.clusterNotPerson.some(([cluster, personId]) => cluster === clusterId && personId === person.id)) {
      throw new FacedbError('conflict', `cluster ${clusterId} was marked as not "${person.name}" (facedb reject); use --force to name it so anyway`, {
        details: { rule: 'rejected', clusterId, personId: person.id },
      });
    }
    const limit = await this.thresholdAt(NAME_CLUSTER_FAR);
    const distance = (await this.#distances(mine)).get(person.id);
    if (distance === undefined || distance > limit) {
      const how = distance === undefined ? `not among the ${SEARCH_DEPTH} people nearest to its faces` : `at distance ${round(distance)}`;
      throw new FacedbError(
        'conflict',
        `cluster ${clusterId} is far from "${person.name}" (${how}, beyond ${round(limit)}, the threshold for a false-accept rate of ${NAME_CLUSTER_FAR}): ` +
          'it is probably someone else; use --force to add it to them anyway',
        { details: { rule: 'far', clusterId, personId: person.id, distance: distance === undefined ? null : round(distance), threshold: round(limit) } },
      );
    }
  }

  /** Mean distance from a cluster's faces to each person found near them (see the note at the top). */
  async #distances(faces: readonly UnnamedEmbedding[]): Promise<Map<number, number>> {
    const sample = faces.slice(0, FACES_PER_CLUSTER);
    if (sample.length === 0 || (await this.#context.store.countFaces()) === 0) return new Map();
    const search = await this.#context.search.searcher();
    const perFace = await Promise.all(sample.map((face) => search(face.embedding, SEARCH_DEPTH)));
    const people = new Set(perFace.flatMap((hits) => hits.map((hit) => hit.personId)));
    const means = new Map<number, number>();
    for (const personId of people) {
      let sum = 0;
      for (const hits of perFace) sum += hits.find((hit) => hit.personId === personId)?.distance ?? hits.at(-1)!.distance;
      means.set(personId, sum / perFace.length);
    }
    return means;
  }

  async #pinned(): Promise<ModelInfo> {
    const model = await this.#context.store.getModel();
    if (model === null) throw new FacedbError('invalid_input', 'the gallery is empty: enroll photos first');
    return model;
  }
}

/** Each asked-for cluster's faces, lowest ids first (loadUnnamedEmbeddings is in id order). */
function facesByCluster(faces: readonly UnnamedEmbedding[], clusters: ReadonlySet<number>): Map<number, UnnamedEmbedding[]> {
  const byCluster = new Map<number, UnnamedEmbedding[]>();
  for (const face of faces) {
    if (face.clusterId === null || !clusters.has(face.clusterId)) continue;
    const list = byCluster.get(face.clusterId);
    if (list) list.push(face);
    else byCluster.set(face.clusterId, [face]);
  }
  return byCluster;
}

/** People each cluster must not be suggested for: rejected for it, or a face in it was taken from them. */
async function refusedPeopleOf(store: GalleryStore, constraints: GalleryConstraints): Promise<Map<number, Set<number>>> {
  const refused = new Map<number, Set<number>>();
  const add = (clusterId: number, personId: number): void => {
    const set = refused.get(clusterId);
    if (set) set.add(personId);
    else refused.set(clusterId, new Set([personId]));
  };
  for (const [clusterId, personId] of constraints.clusterNotPerson) add(clusterId, personId);
  const taken = constraints.faceNotPerson;
  if (taken.length === 0) return refused;
  const clusterOf = new Map((await store.getStoredFaces([...new Set(taken.map(([faceId]) => faceId))])).map((face) => [face.id, face.clusterId]));
  for (const [faceId, personId] of taken) {
    const clusterId = clusterOf.get(faceId);
    if (clusterId != null) add(clusterId, personId);
  }
  return refused;
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}
