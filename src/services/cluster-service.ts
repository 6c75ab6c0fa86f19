import { clusterFaces, type ClusterGroup } from '../core/clustering.js';
import { calibrationKey, thresholdForFar, type ModelCalibration } from '../core/confidence.js';
import { engineForModel, fallbackThreshold } from '../engine/registry.js';
import type { ModelInfo } from '../core/types.js';
import type { FaceEngine } from '../engine/engine.js';
import { FacedbError, toFacedbError } from '../errors/errors.js';
import { sha256Hex } from '../image/hash.js';
import type { ImageSource, LoadedImage } from '../image/image.js';
import type { Cluster, NamedCluster, Page, PageOf } from '../store/store.js';
import { lanesFor, runInLanes } from './batch.js';
import { ClusterSuggestions, type ClusterSuggestion } from './cluster-suggestions.js';
import type { ServiceContext } from './context.js';
import { embeddingOf, NEEDS } from './face-results.js';
import { STOPS_ENROLLMENT } from './results.js';

/**
 * Faces nobody has named yet: enrolling every face of a photo without a person, grouping them into candidate
 * people (clusters), and turning a cluster into a person by naming it. Orchestration only: the grouping is
 * src/core/clustering.ts, the storage is the gallery store's.
 */

/**
 * Per-pair false-accept rate behind the clustering threshold, chosen with `npm run bench:cluster` on half A
 * of the LFW subset (people split by name) among the model's calibrated points (its 1:1 threshold and FAR
 * 1e-2, 1e-3, 1e-4) by pairwise F1, and confirmed on half B. One point for every engine: summed over v5 and v4,
 * 1e-3 has the best F1 on half A (v5 alone would pick 1e-4 there, by 0.021) and is the best on half B for both.
 * A model without calibration clusters at its 1:1 threshold.
 */
export const CLUSTER_FAR = 1e-3;

/** Sample faces per cluster in listings unless asked otherwise. */
export const DEFAULT_CLUSTER_SAMPLES = 4;

export type UnnamedEnrollStatus = 'enrolled' | 'already_enrolled' | 'no_face' | 'unreadable' | 'failed';

export interface UnnamedEnrollOutcome {
  path: string;
  status: UnnamedEnrollStatus;
  /** Faces found in the photo (0 for unreadable files). */
  facesFound: number;
  /** Ids of the faces added (every face of the photo; none when it was enrolled before). */
  faceIds: number[];
  message?: string;
}

export interface ClusterRunSummary {
  /** Distance at or below which groups merge (mean over their pairs). */
  threshold: number;
  /** True for a full re-clustering, false when only new faces were placed. */
  full: boolean;
  /** Faces no clustering had seen before this run (all unnamed faces for a full run). */
  facesClustered: number;
  /** Clusters made by this run. */
  clustersCreated: number;
  /** Earlier clusters that gained faces or absorbed others (a full run: earlier clusters whose id carried on). */
  clustersGrown: number;
  /** Earlier clusters merged into others. */
  clustersMerged: number;
  /**
   * The ids behind those three counts, so several runs can be summed up without counting a cluster twice (the
   * client's enrollment clusters once per photo; see combineClusterRuns).
   */
  clusterIds: { created: number[]; grown: number[]; merged: number[] };
  /** Clusters with faces after the run. */
  clusters: number;
  elapsedMs: number;
}

/**
 * Several runs as one (the client's enrollment clusters once per photo, the local command once at the end): each
 * cluster counts once, as what it is at the end. A cluster made and later merged away counts as neither; one made
 * and later grown counts as made; one merged away after growing counts as merged. Faces and times add up; the
 * threshold and the clusters in all are the last run's. None: null.
 */
export function combineClusterRuns(runs: readonly ClusterRunSummary[]): ClusterRunSummary | null {
  const last = runs.at(-1);
  if (!last) return null;
  const union = (pick: (ids: ClusterRunSummary['clusterIds']) => number[]): Set<number> => new Set(runs.flatMap((run) => pick(run.clusterIds)));
  const made = union((ids) => ids.created);
  const gone = union((ids) => ids.merged);
  const created = [...made].filter((id) => !gone.has(id));
  const grown = [...union((ids) => ids.grown)].filter((id) => !made.has(id) && !gone.has(id));
  const merged = [...gone].filter((id) => !made.has(id));
  return {
    threshold: last.threshold,
    full: runs.some((run) => run.full),
    facesClustered: runs.reduce((total, run) => total + run.facesClustered, 0),
    clustersCreated: created.length,
    clustersGrown: grown.length,
    clustersMerged: merged.length,
    clusterIds: { created, grown, merged },
    clusters: last.clusters,
    elapsedMs: runs.reduce((total, run) => total + run.elapsedMs, 0),
  };
}

export interface UnnamedEnrollSummary {
  total: number;
  counts: Record<UnnamedEnrollStatus, number>;
  facesAdded: number;
  outcomes: UnnamedEnrollOutcome[];
  /** The clustering run that placed the new faces (none when nothing was added). */
  clustering: ClusterRunSummary | null;
  elapsedMs: number;
}

export interface ClusterListing extends PageOf<Cluster & { suggestion: ClusterSuggestion | null }> {
  /** Faces with no person. */
  unnamedFaces: number;
  /** Of those, faces no clustering has placed yet. */
  unclusteredFaces: number;
}

export interface UnnamedEnrollOptions {
  onOutcome?: (outcome: UnnamedEnrollOutcome, done: number, total: number) => void;
  signal?: AbortSignal;
}

const STATUSES: readonly UnnamedEnrollStatus[] = ['enrolled', 'already_enrolled', 'no_face', 'unreadable', 'failed'];

/**
 * The model's clustering threshold: its distance at CLUSTER_FAR, or its 1:1 threshold when it has no calibration.
 * The calibration is the engine's (read from the registry when not given, so clustering needs no models loaded).
 */
export function clusterThreshold(model: ModelInfo, calibration: ModelCalibration | undefined = engineForModel(model)?.calibration): number {
  return calibration ? thresholdForFar(calibration, CLUSTER_FAR, calibrationKey(model)) : fallbackThreshold(model);
}

export class ClusterService {
  readonly #context: ServiceContext;
  readonly #suggestions: ClusterSuggestions;

  /** Given the shared context, or anything holding it (the FaceService facade). */
  constructor(context: ServiceContext | { readonly context: ServiceContext }) {
    this.#context = 'context' in context ? context.context : context;
    this.#suggestions = new ClusterSuggestions(this.#context);
  }

  /**
   * Enrolls every face of each photo without a person, then places the new faces in clusters (incrementally).
   * A bad file never stops the run; each photo is committed on its own, and a photo enrolled this way before is
   * skipped by content hash.
   */
  async enroll(paths: readonly string[], options: UnnamedEnrollOptions = {}): Promise<UnnamedEnrollSummary> {
    const started = performance.now();
    const engine = await this.#context.engine();
    await this.#context.store.ensureModel(engine.model);
    const outcomes = await runInLanes(
      paths,
      (path) =>
        this.#enrollOne({ path }, engine).catch((error: unknown): UnnamedEnrollOutcome => {
          const failure = toFacedbError(error);
          if (STOPS_ENROLLMENT.has(failure.code)) throw failure;
          return { path, status: 'failed', facesFound: 0, faceIds: [], message: failure.message };
        }),
      { lanes: lanesFor(this.#context.config.workers), signal: options.signal, onResult: options.onOutcome },
    );
    const counts = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<UnnamedEnrollStatus, number>;
    for (const outcome of outcomes) counts[outcome.status] += 1;
    const facesAdded = outcomes.reduce((sum, o) => sum + o.faceIds.length, 0);
    const clustering = facesAdded > 0 ? await this.cluster() : null;
    return { total: paths.length, counts, facesAdded, outcomes, clustering, elapsedMs: performance.now() - started };
  }

  /**
   * Enrolls one uploaded photo's faces without a person (no clustering: see `cluster`). Throws on a bad image. A
   * photo enrolled this way before is `already_enrolled` without being decoded or analysed.
   */
  async enrollImage(source: ImageSource): Promise<UnnamedEnrollOutcome> {
    const engine = await this.#context.engine();
    await this.#context.store.ensureModel(engine.model);
    return this.#enrollOne(source, engine);
  }

  async #enrollOne(source: ImageSource, engine: FaceEngine): Promise<UnnamedEnrollOutcome> {
    const path = source.path ?? '(upload)';
    const { store } = this.#context;
    // Checked before decoding: a photo sent twice costs neither the decode nor the inference.
    if ('bytes' in source && (await store.hasUnnamedPhoto(sha256Hex(source.bytes)))) {
      return { path, status: 'already_enrolled', facesFound: 0, faceIds: [] };
    }
    let loaded: LoadedImage;
    try {
      loaded = await this.#context.load(source);
    } catch (error) {
      if ('bytes' in source) throw error; // an upload's caller answers with the error itself
      return { path, status: 'unreadable', facesFound: 0, faceIds: [], message: toFacedbError(error).message };
    }
    const contentHash = sha256Hex(loaded.bytes);
    if (!('bytes' in source) && (await store.hasUnnamedPhoto(contentHash))) {
      return { path, status: 'already_enrolled', facesFound: 0, faceIds: [] };
    }
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions({}, NEEDS.enroll));
    if (faces.length === 0) return { path, status: 'no_face', facesFound: 0, faceIds: [] };
    const added = await store.addUnnamedFaces(
      faces.map((face) => ({
        sourcePath: source.path ?? null,
        uploadName: 'bytes' in source ? (source.uploadName ?? null) : null,
        contentHash,
        box: face.box,
        detectionScore: face.detectionScore,
        embedding: embeddingOf(face),
        crop: face.alignedCrop ?? null,
      })),
    );
    return {
      path,
      status: added.length === 0 ? 'already_enrolled' : 'enrolled',
      facesFound: faces.length,
      faceIds: added.map((face) => face.id),
    };
  }

  /**
   * Groups unnamed faces into clusters at the model's clustering threshold. By default only faces no run has
   * placed yet are added to the existing clusters (joining one, forming new ones, or bridging two); `full`
   * re-clusters every unnamed face from scratch, keeping the ids of clusters that carry on where it can.
   */
  async cluster(options: { full?: boolean } = {}): Promise<ClusterRunSummary> {
    const started = performance.now();
    const { store } = this.#context;
    const model = await store.getModel();
    if (model === null) {
      throw new FacedbError('invalid_input', 'the gallery is empty: enroll photos (e.g. facedb enroll --unlabelled <dir>) first');
    }
    // A gallery calibrated on its own people (facedb evaluate --apply) clusters at its own threshold for CLUSTER_FAR.
    const threshold = await this.#suggestions.thresholdAt(CLUSTER_FAR);
    const [faces, constraints] = await Promise.all([store.loadUnnamedEmbeddings(), store.listConstraints()]);
    const full = options.full ?? false;
    const input = full ? faces.map((face) => ({ ...face, clusterId: null })) : faces;
    // Kept apart: two faces of one photo (never one person), and faces taken out of a cluster from those left in it.
    const groups = clusterFaces(input, { threshold, apart: [...samePhotoPairs(faces), ...constraints.facesApart] });
    const updates = full ? keepClusterIds(groups, faces) : groups;
    const ids = await store.saveClusters(updates.map((group) => ({ clusterId: group.clusterId, faceIds: group.faceIds })));
    const createdIds = ids.filter((id, i) => updates[i]!.clusterId !== id);
    const grownIds = ids.filter((id, i) => updates[i]!.clusterId === id);
    const mergedIds = updates.flatMap((group) => group.absorbed);
    const { total } = await store.listClusters({ limit: 0, offset: 0 }, 0);
    return {
      threshold,
      full,
      facesClustered: input.filter((face) => face.clusterId === null).length,
      clustersCreated: createdIds.length,
      clustersGrown: grownIds.length,
      clustersMerged: mergedIds.length,
      clusterIds: { created: createdIds, grown: grownIds, merged: mergedIds },
      clusters: total,
      elapsedMs: performance.now() - started,
    };
  }

  /**
   * Clusters, largest first, with sample faces, how many unnamed faces there are, and (unless `suggest` is false)
   * each cluster's suggested person (cluster-suggestions.ts).
   */
  async listClusters(page: Page, samples = DEFAULT_CLUSTER_SAMPLES, options: { suggest?: boolean } = {}): Promise<ClusterListing> {
    const { store } = this.#context;
    const [listing, counts] = await Promise.all([store.listClusters(page, samples), store.countUnnamedFaces()]);
    const suggestions = options.suggest === false ? new Map<number, ClusterSuggestion | null>() : await this.#suggestions.suggest(listing.items.map((c) => c.id));
    return {
      ...listing,
      items: listing.items.map((cluster) => ({ ...cluster, suggestion: suggestions.get(cluster.id) ?? null })),
      unnamedFaces: counts.total,
      unclusteredFaces: counts.unclustered,
    };
  }

  /**
   * Makes a cluster a person: a new person of that name, or more faces for the person who has it already.
   * The faces reach every process's search index through the gallery's change log. Throws not_found; conflict,
   * unless `force`, when the person exists and the cluster was rejected for them or is far from them.
   */
  async nameCluster(clusterId: number, name: string, options: { force?: boolean } = {}): Promise<NamedCluster> {
    // Person names follow one set of rules (normalisation, refused characters, look-alikes): a new person is made
    // by upsertPerson, and taken back if the cluster turns out not to exist.
    const { store } = this.#context;
    const existing = await store.findPersonByName(name);
    if (existing && options.force !== true) await this.#suggestions.checkNaming(clusterId, existing);
    const person = existing ?? (await store.upsertPerson(name));
    try {
      return await store.nameCluster(clusterId, person.name);
    } catch (error) {
      if (!existing && toFacedbError(error).code === 'not_found') await store.removePerson(person.id).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Erases a cluster with every unnamed face in it (crops, photo bytes, embeddings); returns how many faces went.
   * Unnamed faces are not in the search index, so it has nothing to forget. Throws not_found.
   */
  async removeCluster(clusterId: number): Promise<{ clusterId: number; facesRemoved: number }> {
    return { clusterId, facesRemoved: await this.#context.store.removeCluster(clusterId) };
  }
}

/** Every pair of faces from one photo (by content hash): clustering never puts them together. */
function samePhotoPairs(faces: ReadonlyArray<{ faceId: number; contentHash: string }>): Array<[number, number]> {
  const byPhoto = new Map<string, number[]>();
  for (const face of faces) {
    const list = byPhoto.get(face.contentHash);
    if (list) list.push(face.faceId);
    else byPhoto.set(face.contentHash, [face.faceId]);
  }
  const pairs: Array<[number, number]> = [];
  for (const ids of byPhoto.values()) for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairs.push([ids[i]!, ids[j]!]);
  return pairs;
}

/**
 * After a full re-clustering, each new group carries on the earlier cluster most of its faces were in (each
 * earlier cluster going to one group at most, the group holding most of its faces), so names and links to a
 * cluster survive a re-run that changes little. Every face is in one of the groups.
 */
function keepClusterIds(groups: readonly ClusterGroup[], faces: ReadonlyArray<{ faceId: number; clusterId: number | null }>): ClusterGroup[] {
  const earlier = new Map(faces.map((face) => [face.faceId, face.clusterId]));
  const votes: Array<{ group: number; cluster: number; count: number }> = [];
  groups.forEach((group, i) => {
    const counts = new Map<number, number>();
    for (const faceId of group.faceIds) {
      const cluster = earlier.get(faceId);
      if (cluster != null) counts.set(cluster, (counts.get(cluster) ?? 0) + 1);
    }
    for (const [cluster, count] of counts) votes.push({ group: i, cluster, count });
  });
  votes.sort((a, b) => b.count - a.count || a.cluster - b.cluster || a.group - b.group);
  const clusterOf = new Map<number, number>();
  const taken = new Set<number>();
  for (const vote of votes) {
    if (clusterOf.has(vote.group) || taken.has(vote.cluster)) continue;
    clusterOf.set(vote.group, vote.cluster);
    taken.add(vote.cluster);
  }
  return groups.map((group, i) => ({ ...group, clusterId: clusterOf.get(i) ?? null, absorbed: [] }));
}
