import type { FacedbConfig } from '../config/config.js';
import { calibrationKey, decisionConfidence, thresholdForFar } from '../core/confidence.js';
import { euclideanDistance } from '../core/distance.js';
import type { PersonMatch, SearchIndex } from '../core/search-index.js';
import { subjectFace } from '../core/subject-face.js';
import { emotionResult } from '../core/emotion.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine, FaceNeeds } from '../engine/engine.js';
import { FacedbError, toFacedbError } from '../errors/errors.js';
import type { ModelInfo } from '../core/types.js';
import { sha256Hex } from '../image/hash.js';
import { escapeInvisible, normalizePersonName, personNameProblem } from '../core/names.js';
import { checkPinnedModel } from '../store/validation.js';
import { EnrollmentPeople } from './enrollment-people.js';
import { DatabaseSearch } from '../index/database-search.js';
import { openSearchIndex, outgrewExactIndex, persistSearchIndex, type SyncedIndex } from '../index/open-index.js';
import { decodeImage, readImageFile } from '../image/decode.js';
import type { DecodedImage } from '../image/image.js';
import type { Face, GalleryStore, Page, PageOf, Person } from '../store/store.js';
import { inOriginalPixels } from './original-pixels.js';
import { ENROLL_STATUSES, STOPS_ENROLLMENT } from './results.js';
import type {
  AnalyzeResult,
  Candidate,
  DetectResult,
  EnrollOutcome,
  EnrollStatus,
  EnrollSummary,
  FaceAttributes,
  IdentifyResult,
  ImageInfo,
  Match,
  RepresentResult,
  VerifyResult,
} from './results.js';
import { watchVideo, type TrackRecognizer, type WatchEvent, type WatchOptions } from './watch-service.js';
import { reembedGallery, type ReembedOptions, type ReembedSummary } from './reembed.js';

/** Per-call knobs; anything left out falls back to the configuration. */
export interface DetectOptions {
  maxFaces?: number;
  minFaceSize?: number;
  minDetectionScore?: number;
}

/** How strict a match must be: a distance threshold, or a target false-accept rate (not both). */
export interface OperatingPoint {
  threshold?: number;
  /** Target false-accept rate, e.g. 0.001; the threshold comes from the model's calibration table. */
  far?: number;
}

export interface IdentifyOptions extends DetectOptions, OperatingPoint {
  topK?: number;
}

export interface EnrollItem {
  person: string;
  path: string;
}

export interface EnrollOptions {
  /** Called once per file as soon as its outcome is known (completion order). */
  onOutcome?: (outcome: EnrollOutcome, done: number, total: number) => void;
  /** Stops taking new files; files already in flight finish and are committed. */
  signal?: AbortSignal;
}

/** An image given either as bytes (uploads) or as a path on this machine (CLI, library). */
export type ImageSource = { bytes: Uint8Array; path?: string } | { path: string };

interface LoadedImage {
  bytes: Uint8Array;
  image: DecodedImage;
  path: string | null;
}

/**
 * Per-comparison false-accept rate behind identify's default threshold: with a gallery of ~1,600 faces an
 * unknown person is then taken for someone in roughly 1 case in 6, instead of nearly always at the 1:1 optimum.
 */
export const IDENTIFY_DEFAULT_FAR = 1e-4;

/** What each operation asks the engine for beyond the box: it skips the nets nobody needs. */
const NEEDS = {
  detect: { embedding: false, attributes: false, crop: false },
  enroll: { embedding: true, attributes: false, crop: true },
  identify: { embedding: true, attributes: true, crop: false },
  // verify answers with each face's attributes too (its JSON has always carried them).
  verify: { embedding: true, attributes: true, crop: false },
  analyze: { embedding: false, attributes: true, crop: false },
  represent: { embedding: true, attributes: false, crop: false },
} as const satisfies Record<string, FaceNeeds>;

function normalizedOrProblem(name: string): string | { problem: string } {
  const problem = personNameProblem(name);
  return problem === null ? normalizePersonName(name) : { problem };
}

function removedMessage(name: string): string {
  return `${escapeInvisible(name)} was removed from the gallery during this enrollment; nothing was added`;
}

function blockedOutcome(
  blocked: NonNullable<ReturnType<EnrollmentPeople['blocked']>>,
): Pick<EnrollOutcome, 'status' | 'message' | 'facesFound'> {
  if ('removed' in blocked) return { status: 'not_found', facesFound: 0, message: 'the person was removed from the gallery during this enrollment' };
  return { status: 'invalid_name', facesFound: 0, message: blocked.refused.message };
}

/**
 * The one service layer under the CLI, the HTTP server and the library API.
 * The engine and the search index are created on first use, so gallery-only
 * commands (people, remove) never load the models.
 */
export class FaceService {
  readonly config: FacedbConfig;
  readonly store: GalleryStore;
  private readonly createEngine: () => Promise<FaceEngine>;
  private enginePromise: Promise<FaceEngine> | undefined;
  private loadedEngine: FaceEngine | undefined;
  private indexPromise: Promise<SyncedIndex> | undefined;
  private syncing: Promise<SearchIndex> | undefined;
  private readonly personNames = new Map<number, string>();

  constructor(config: FacedbConfig, store: GalleryStore, createEngine: () => Promise<FaceEngine>) {
    this.config = config;
    this.store = store;
    this.createEngine = createEngine;
  }

  /** The engine, loading the models on first call. */
  engine(): Promise<FaceEngine> {
    this.enginePromise ??= this.createEngine().then(
      (created) => {
        const engine = inOriginalPixels(created);
        this.loadedEngine = engine;
        return engine;
      },
      (error: unknown) => {
        this.enginePromise = undefined; // let a later call try again
        throw error;
      },
    );
    return this.enginePromise;
  }

  /** True once the models are loaded (for readiness checks that must not trigger the load). */
  get engineLoaded(): boolean {
    return this.loadedEngine !== undefined;
  }

  async close(): Promise<void> {
    const engine = this.enginePromise;
    this.enginePromise = undefined;
    this.loadedEngine = undefined;
    if (engine) await (await engine).close();
    // An ANN index saved now loads at the next start instead of being rebuilt; a failed save only costs that rebuild.
    const synced = this.indexPromise && (await this.indexPromise.catch(() => undefined));
    if (synced) await persistSearchIndex(this.store, this.config, synced).catch(() => undefined);
    await this.store.close();
  }

  // ---------------------------------------------------------------- enrollment

  /**
   * Enrolls many files, never stopping on a bad one: every file gets exactly one outcome (a name that breaks the
   * name rules is `invalid_name`; a person erased while the run enrolls them is `not_found` for their remaining
   * photos, and is never re-created: see EnrollmentPeople). Each file is committed on its own, so an interrupted
   * run keeps everything finished so far and a re-run skips it by content hash. A storage fault (disk full,
   * read-only gallery) or a gallery pinned to another model stops the run with that error.
   */
  async enroll(items: readonly EnrollItem[], options: EnrollOptions = {}): Promise<EnrollSummary> {
    const started = performance.now();
    const engine = await this.engine();
    await this.store.ensureModel(engine.model);
    // Enrolling needs no search: the index is only kept current when something has loaded it already.
    const index = this.indexPromise ? await this.index() : undefined;
    const enrolled = await this.store.enrolledContent();
    // Names as folders give them ("Brad_Pitt" → "Brad Pitt"), held to the same rules as any other name.
    const names = items.map((item) => normalizedOrProblem(item.person));
    const people = new EnrollmentPeople(this.store);
    await people.bindExisting(names.flatMap((name) => (typeof name === 'string' ? [name] : [])));

    const outcomes: EnrollOutcome[] = [];
    let next = 0;
    // Keep every worker busy while the next photos are read and decoded.
    const lanes = Math.max(2, (this.config.workers ?? 2) * 2);
    // A failure that stops the run (STOPS_ENROLLMENT) also stops the other lanes taking new photos.
    let stopped: FacedbError | undefined;
    const runLane = async (): Promise<void> => {
      while (next < items.length && !options.signal?.aborted && stopped === undefined) {
        const position = next++;
        const item = items[position];
        const name = names[position];
        if (!item || name === undefined) break;
        let outcome: EnrollOutcome;
        try {
          outcome =
            typeof name === 'string'
              ? await this.enrollOne({ ...item, person: name }, people, engine, index, enrolled)
              : { path: item.path, person: item.person, status: 'invalid_name', facesFound: 0, message: name.problem };
        } catch (error) {
          stopped ??= toFacedbError(error);
          return;
        }
        outcomes.push(outcome);
        options.onOutcome?.(outcome, outcomes.length, items.length);
      }
    };
    await Promise.all(Array.from({ length: lanes }, runLane));
    if (stopped !== undefined) throw stopped;

    const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, 0])) as Record<EnrollStatus, number>;
    for (const outcome of outcomes) counts[outcome.status] += 1;
    return { total: items.length, counts, outcomes, elapsedMs: performance.now() - started };
  }

  /**
   * Enrolls one photo (an upload or a file) for a person, taking its subject's face (core/subject-face.ts). Given an
   * id, the photo goes to that person or to nobody: `not_found` when they do not exist (any more). Given a name, the
   * person is found or created (invalid_input for a name that breaks the name rules). A photo the person already has
   * is `already_enrolled` without being analysed. Throws on other failures.
   */
  async enrollImage(person: string | number, source: ImageSource): Promise<EnrollOutcome> {
    const engine = await this.engine();
    await this.store.ensureModel(engine.model);
    // Adding a face needs no search: a queue worker or a server that has not searched yet skips loading the whole
    // gallery into memory; an index built later reads the new face from the store.
    const index = this.indexPromise ? await this.index() : undefined;
    const people = new EnrollmentPeople(this.store);
    let name: string;
    if (typeof person === 'number') {
      const found = await this.store.getPerson(person);
      if (found === null) return { path: source.path ?? '(upload)', person: `#${person}`, status: 'not_found', facesFound: 0, message: `no person with id ${person}` };
      name = found.name;
      people.bind(name, found.id);
    } else {
      name = normalizePersonName(person);
      await people.bindExisting([name]);
    }
    const loaded = await this.load(source);
    // Loading every hash for one upload would cost more: the store is asked about this photo only.
    return this.addLargestFace(name, loaded, people, engine, index, new Map());
  }

  private async enrollOne(
    item: EnrollItem,
    people: EnrollmentPeople,
    engine: FaceEngine,
    index: SearchIndex | undefined,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const base = { path: item.path, person: item.person };
    const blocked = people.blocked(item.person);
    if (blocked) return { ...base, ...blockedOutcome(blocked) };
    let loaded: LoadedImage;
    try {
      loaded = await this.load({ path: item.path });
    } catch (error) {
      const failure = toFacedbError(error);
      return { ...base, status: 'unreadable', facesFound: 0, message: failure.message };
    }
    try {
      return await this.addLargestFace(item.person, loaded, people, engine, index, enrolled);
    } catch (error) {
      const failure = toFacedbError(error);
      if (STOPS_ENROLLMENT.has(failure.code)) throw failure;
      return { ...base, status: 'failed', facesFound: 0, message: failure.message };
    }
  }

  private async addLargestFace(
    personName: string,
    loaded: LoadedImage,
    people: EnrollmentPeople,
    engine: FaceEngine,
    index: SearchIndex | undefined,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const path = loaded.path ?? '(upload)';
    const contentHash = sha256Hex(loaded.bytes);
    const boundId = people.boundId(personName);
    // Checked before the analysis: a duplicate (an upload sent twice, a re-run) costs no inference.
    const bound = await boundId?.catch(() => undefined);
    const known = enrolled.get(contentHash)?.has(personName) || (bound !== undefined && (await this.store.hasPhoto(bound, contentHash)));
    if (known) return { path, person: personName, status: 'already_enrolled', facesFound: 0 };
    const faces = await engine.analyze(loaded.image, this.analyzeOptions({}, NEEDS.enroll));
    const subject = subjectFace(faces, loaded.image.width, loaded.image.height);
    if (!subject) return { path, person: personName, status: 'no_face', facesFound: 0 };
    const embedding = embeddingOf(subject);

    // Checked again after the analysis: the person may have been erased (or refused) meanwhile.
    const blocked = people.blocked(personName);
    if (blocked) return { path, person: personName, ...blockedOutcome(blocked), facesFound: faces.length };
    let personId: number;
    try {
      personId = await people.idFor(personName);
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code !== 'invalid_input') throw failure;
      return { path, person: personName, status: 'invalid_name', facesFound: faces.length, message: failure.message };
    }
    let face: Face | undefined;
    try {
      [face] = await this.store.addFaces(personId, [
        {
          sourcePath: loaded.path,
          contentHash,
          box: subject.box,
          detectionScore: subject.detectionScore,
          embedding,
          crop: subject.alignedCrop ?? null,
          // Without a path to read it again, keep the photo itself so the face can be re-embedded later.
          photo: loaded.path === null ? loaded.bytes : null,
        },
      ]);
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code !== 'not_found') throw failure;
      // Erased while this run was enrolling them: final. Nothing is re-created under the name.
      people.markRemoved(personName);
      return { path, person: personName, status: 'not_found', facesFound: faces.length, message: removedMessage(personName) };
    }
    const owners = enrolled.get(contentHash);
    if (owners) owners.add(personName);
    else enrolled.set(contentHash, new Set([personName]));
    if (!face) return { path, person: personName, status: 'already_enrolled', facesFound: faces.length };
    // A sync running meanwhile may have picked the new face up from the change log already.
    if (index && !index.has(face.id)) index.add(face.id, personId, embedding);
    this.personNames.set(personId, face.personName);
    return {
      path,
      person: personName,
      status: faces.length > 1 ? 'enrolled_one_of_several' : 'enrolled',
      facesFound: faces.length,
      faceId: face.id,
    };
  }

  // ---------------------------------------------------------------- recognition

  async identify(source: ImageSource, options: IdentifyOptions = {}): Promise<IdentifyResult> {
    refuseThresholdWithFar(options, this.config); // before the models load or the photo is read
    const engine = await this.engine();
    checkPinnedModel(await this.store.getModel(), engine.model);
    const threshold = this.threshold(engine, options, 'identify'); // a FAR the model was not measured at, too
    const loaded = await this.load(source);
    const [faces, index] = await Promise.all([engine.analyze(loaded.image, this.analyzeOptions(options, NEEDS.identify)), this.index()]);
    const topK = options.topK ?? this.config.topK;
    // The gallery size turns the 1:1 likelihood into the chance that the probe is this one of N people
    // (decisionConfidence), so "unknown" never comes with "99 % likely Bono".
    const people = faces.length > 0 ? (await this.store.listPeople({ limit: 0, offset: 0 })).total : 0;
    const identified = [];
    for (const face of faces) {
      const { match, candidates } = await this.nameEmbedding(engine, index, embeddingOf(face), { threshold, topK, people });
      identified.push({ ...attributes(face), match, candidates });
    }
    return { image: imageInfo(loaded.image), threshold, faces: identified };
  }

  /** The nearest people to an embedding, and the match when the nearest is within the threshold. */
  private async nameEmbedding(
    engine: FaceEngine,
    index: SearchIndex,
    embedding: Float32Array,
    decision: { threshold: number; topK: number; people: number },
  ): Promise<{ match: Match | null; candidates: Candidate[] }> {
    const { threshold, people } = decision;
    const candidates = await this.named(await this.nearestPeople(index, embedding, decision.topK), (d) =>
      decisionConfidence(engine.calibration, d, { threshold, people }),
    );
    const nearest = candidates[0];
    return { match: nearest && nearest.distance <= threshold ? { ...nearest, threshold } : null, candidates };
  }

  /**
   * Names embeddings (a video track's) exactly as identify names a face: same search, same threshold (per call,
   * configured, or the model's identify default), same calibrated confidence.
   */
  async trackRecognizer(options: IdentifyOptions = {}): Promise<TrackRecognizer> {
    refuseThresholdWithFar(options, this.config);
    const engine = await this.engine();
    checkPinnedModel(await this.store.getModel(), engine.model);
    const threshold = this.threshold(engine, options, 'identify');
    const topK = options.topK ?? this.config.topK;
    return {
      threshold,
      identify: async (embedding) => {
        const index = await this.index();
        const people = (await this.store.listPeople({ limit: 0, offset: 0 })).total;
        const { match, candidates } = await this.nameEmbedding(engine, index, embedding, { threshold, topK, people });
        const nearest = candidates[0];
        return {
          person: match?.person ?? null,
          personId: match?.personId ?? null,
          distance: nearest?.distance ?? null,
          confidence: nearest?.confidence ?? null,
          threshold,
          candidates,
        };
      },
    };
  }

  /**
   * Watches a video file, stream or camera: faces tracked from frame to frame, each track named from its best
   * sightings like identify names a face (see watch-service.ts). Yields events until the source ends or `signal`
   * aborts.
   */
  async *watch(source: string, options: WatchOptions & IdentifyOptions = {}): AsyncGenerator<WatchEvent> {
    const recognizer = await this.trackRecognizer(options);
    const engine = await this.engine();
    // The watch asks for embeddings and, unless told otherwise, emotion: it sets `needs` itself.
    const settings = { stallMs: this.config.watchStallMs, ffmpeg: this.config.ffmpeg, ...options };
    yield* watchVideo({ engine, recognizer, analyzeOptions: this.analyzeOptions(options, NEEDS.identify) }, source, settings);
  }

  /** Same person or not, comparing the subject's face of each photo (core/subject-face.ts). */
  async verify(a: ImageSource, b: ImageSource, options: OperatingPoint = {}): Promise<VerifyResult> {
    refuseThresholdWithFar(options, this.config);
    const engine = await this.engine();
    const threshold = this.threshold(engine, options); // a bad FAR fails before any inference
    const [faceA, faceB] = await Promise.all([this.subjectFace(a, engine), this.subjectFace(b, engine)]);
    const raw = euclideanDistance(embeddingOf(faceA), embeddingOf(faceB));
    const distance = round(raw);
    return {
      verified: distance <= threshold,
      distance,
      // One comparison (N = 1): the 1:1 posterior, held to the threshold so it agrees with `verified`.
      confidence: decisionConfidence(engine.calibration, raw, { threshold, people: 1 }),
      threshold,
      faces: [attributes(faceA), attributes(faceB)],
    };
  }

  /**
   * The match threshold: a per-call threshold or target FAR, else the configured one, else the model's
   * default. Identification defaults to a stricter point than a one-to-one comparison: the nearest of N
   * enrolled faces is the smallest of N distances, so an unknown person slips under a per-pair threshold
   * about N times as often. A target FAR is looked up in the engine's calibration; invalid_input when it has none,
   * the FAR is outside what was measured, or a threshold and a FAR are both given at the same level.
   */
  threshold(
    engine: Pick<FaceEngine, 'model' | 'calibration'>,
    options: OperatingPoint = {},
    purpose: 'verify' | 'identify' = 'verify',
  ): number {
    refuseThresholdWithFar(options, this.config);
    const { model, calibration } = engine;
    const name = calibrationKey(model);
    const pick = (threshold: number | undefined, far: number | undefined, names: string): number | undefined => {
      if (threshold !== undefined && far !== undefined) {
        throw new FacedbError('invalid_input', `give ${names}, not both`);
      }
      return threshold ?? (far === undefined ? undefined : thresholdForFar(calibration, far, name));
    };
    return (
      pick(options.threshold, options.far, 'a threshold or a target FAR') ??
      pick(this.config.threshold, this.config.targetFar, 'FACEDB_THRESHOLD (--threshold) or FACEDB_TARGET_FAR (--far)') ??
      (purpose === 'identify' && calibration ? thresholdForFar(calibration, IDENTIFY_DEFAULT_FAR, name) : undefined) ??
      model.defaultThreshold
    );
  }

  async analyze(source: ImageSource, options: DetectOptions = {}): Promise<AnalyzeResult> {
    const engine = await this.engine();
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, this.analyzeOptions(options, NEEDS.analyze));
    return { image: imageInfo(loaded.image), faces: faces.map(attributes) };
  }

  /** Boxes and detection scores only: no embedding, emotion, age or gender is computed. */
  async detect(source: ImageSource, options: DetectOptions = {}): Promise<DetectResult> {
    const engine = await this.engine();
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, this.analyzeOptions(options, NEEDS.detect));
    return {
      image: imageInfo(loaded.image),
      faces: faces.map((face) => ({ box: roundBox(face.box), detectionScore: round(face.detectionScore) })),
    };
  }

  async represent(source: ImageSource, options: DetectOptions = {}): Promise<RepresentResult> {
    const engine = await this.engine();
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, this.analyzeOptions(options, NEEDS.represent));
    return {
      image: imageInfo(loaded.image),
      model: { id: engine.model.id, version: engine.model.version },
      faces: faces.map((face) => ({
        box: roundBox(face.box),
        detectionScore: round(face.detectionScore),
        embedding: Array.from(embeddingOf(face)),
      })),
    };
  }

  // ---------------------------------------------------------------- moving to another model

  /**
   * Re-embeds every face of this gallery into `target` (a new gallery, normally opened with another engine), from
   * each photo's source path or kept upload bytes, checked against its content hash. This gallery is only read.
   * Resumable: faces `target` already has are skipped. See reembed.ts.
   */
  reembed(target: FaceService, options: ReembedOptions = {}): Promise<ReembedSummary> {
    return reembedGallery(this, target, options);
  }

  // ---------------------------------------------------------------- gallery

  listPeople(page: Page): Promise<PageOf<Person>> {
    return this.store.listPeople(page);
  }

  async findPerson(nameOrId: string | number): Promise<Person> {
    const person =
      typeof nameOrId === 'number' ? await this.store.getPerson(nameOrId) : await this.store.findPersonByName(nameOrId);
    if (!person) throw new FacedbError('not_found', `no person ${JSON.stringify(nameOrId)} in the gallery`);
    return person;
  }

  /** Erases a person with all their faces and embeddings; returns how many faces went. */
  async removePerson(nameOrId: string | number): Promise<{ person: Person; facesRemoved: number }> {
    const person = await this.findPerson(nameOrId);
    const facesRemoved = await this.store.removePerson(person.id);
    if (this.indexPromise) (await this.indexPromise).index.removePerson(person.id);
    this.personNames.delete(person.id);
    return { person, facesRemoved };
  }

  async removeFace(faceId: number): Promise<void> {
    await this.store.removeFace(faceId);
    if (this.indexPromise) (await this.indexPromise).index.remove(faceId);
  }

  // ---------------------------------------------------------------- internals

  /**
   * The search index, first brought up to date with what other processes wrote to the gallery (a CLI enrolling
   * into the file a server reads, several servers on one PostgreSQL database). This service's own writes reach
   * the index at once; the change log replays them too, which is harmless. Concurrent callers share one sync.
   */
  private index(): Promise<SearchIndex> {
    this.syncing ??= this.syncIndex().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async syncIndex(): Promise<SearchIndex> {
    const synced = await this.loadedIndex();
    if (synced.index instanceof DatabaseSearch) return synced.index;
    const changes = await this.store.embeddingChangesSince(synced.changeSeq);
    if (!changes.complete) {
      // Too far behind for the change log (or the gallery was restored from a backup): start again.
      this.indexPromise = undefined;
      return (await this.loadedIndex()).index;
    }
    const { index } = synced;
    for (const faceId of changes.removed) index.remove(faceId);
    for (const { faceId, personId, embedding } of changes.added) if (!index.has(faceId)) index.add(faceId, personId, embedding);
    synced.changeSeq = Math.max(synced.changeSeq, changes.changeSeq);
    if (outgrewExactIndex(this.config, index)) {
      this.indexPromise = undefined;
      return (await this.loadedIndex()).index;
    }
    return index;
  }

  private loadedIndex(): Promise<SyncedIndex> {
    this.indexPromise ??= this.buildIndex().catch((error: unknown) => {
      this.indexPromise = undefined; // a failed load (e.g. a busy database) must not poison later calls
      throw error;
    });
    return this.indexPromise;
  }

  private async buildIndex(): Promise<SyncedIndex> {
    // An empty, unpinned gallery has no dimensions yet: size the index for the engine's model.
    const model = async (): Promise<ModelInfo> => (await this.store.getModel()) ?? (await this.engine()).model;
    if (this.config.index === 'pgvector') return { index: new DatabaseSearch((await model()).dimensions), changeSeq: 0 };
    return openSearchIndex(this.store, this.config, model);
  }

  /** The in-memory index's answer, or the database's when it searches (FACEDB_INDEX=pgvector). */
  private async nearestPeople(index: SearchIndex, query: Float32Array, k: number): Promise<PersonMatch[]> {
    if (!(index instanceof DatabaseSearch)) return index.searchPeople(query, k);
    if (!this.store.nearestPeople) throw new FacedbError('internal', 'this gallery database cannot search embeddings');
    return this.store.nearestPeople(query, k);
  }

  private async load(source: ImageSource): Promise<LoadedImage> {
    const limits = { maxPixels: this.config.maxPixels, maxFileBytes: this.config.maxFileBytes, maxSide: this.config.maxImageSide };
    if ('bytes' in source) {
      return { bytes: source.bytes, image: await decodeImage(source.bytes, limits), path: source.path ?? null };
    }
    const { bytes, image } = await readImageFile(source.path, limits);
    return { bytes, image, path: source.path };
  }

  private async subjectFace(source: ImageSource, engine: FaceEngine): Promise<FaceAnalysis> {
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, this.analyzeOptions({}, NEEDS.verify));
    const face = subjectFace(faces, loaded.image.width, loaded.image.height);
    if (!face) {
      const name = loaded.path ?? 'the image';
      throw new FacedbError('no_face', `no face found in ${name}`, { details: { path: loaded.path } });
    }
    return face;
  }

  /** Detection limits (per call, else configured) and what the engine must compute for each face. */
  analyzeOptions(options: DetectOptions, needs: FaceNeeds): AnalyzeOptions {
    return {
      maxFaces: options.maxFaces ?? this.config.maxFaces,
      minFaceSize: options.minFaceSize ?? this.config.minFaceSize,
      minDetectionScore: options.minDetectionScore ?? this.config.minDetectionScore,
      needs,
    };
  }

  private async named(
    hits: ReadonlyArray<{ personId: number; distance: number }>,
    confidenceOf: (distance: number) => number | null,
  ): Promise<Candidate[]> {
    const named: Candidate[] = [];
    for (const hit of hits) {
      let name = this.personNames.get(hit.personId);
      if (name === undefined) {
        name = (await this.store.getPerson(hit.personId))?.name ?? `#${hit.personId}`;
        this.personNames.set(hit.personId, name);
      }
      named.push({ personId: hit.personId, person: name, distance: round(hit.distance), confidence: confidenceOf(hit.distance) });
    }
    return named;
  }

  // ---- used by the HTTP API

  /**
   * Finds a person by name or creates them; `created` says which. invalid_input when the name breaks the name
   * rules (core/names.ts) or is a look-alike of an existing person's.
   */
  async createPerson(name: string): Promise<{ person: Person; created: boolean }> {
    const normalized = normalizePersonName(name);
    const existing = await this.store.findPersonByName(normalized);
    if (existing) return { person: existing, created: false };
    return { person: await this.store.upsertPerson(normalized), created: true };
  }

  /**
   * Readiness: models loaded, and the gallery reachable, its file still the one opened, and no recent storage
   * fault on writes. `storage` names the fault (full, read_only, io, gone, unreachable) without details, which
   * stay in the server's log.
   */
  async health(): Promise<{ models: boolean; db: boolean; storage?: string; problem?: FacedbError }> {
    const models = this.engineLoaded;
    try {
      await this.store.ping();
      return { models, db: true };
    } catch (error) {
      const problem = toFacedbError(error);
      const fault = problem.details?.fault;
      return { models, db: false, storage: typeof fault === 'string' ? fault : 'error', problem };
    }
  }

  /** How many people and faces the gallery holds (metrics). */
  async counts(): Promise<{ people: number; faces: number }> {
    const [{ total: people }, faces] = await Promise.all([this.store.listPeople({ limit: 1, offset: 0 }), this.store.countFaces()]);
    return { people, faces };
  }

  /** A person's enrolled faces (no embeddings). Throws not_found for an unknown person. */
  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return this.store.listFaces(personId, page);
  }

  /** JPEG of a face's aligned crop, kept at enrollment. */
  async faceCrop(faceId: number): Promise<Uint8Array> {
    const crop = await this.store.getFaceCrop(faceId);
    if (!crop) throw new FacedbError('not_found', `no face #${faceId}, or no image kept for it`);
    return crop;
  }

  /** The engine's waiting jobs, without loading the models to find out (0 while not loaded). */
  queueDepth(): number {
    return this.loadedEngine?.queueDepth ?? 0;
  }
}

/** The embedding the engine was asked for; its absence is an engine bug, not the caller's. */
export function embeddingOf(face: FaceAnalysis): Float32Array {
  if (!face.embedding) throw new FacedbError('internal', 'the engine returned a face without the embedding it was asked for');
  return face.embedding;
}

/**
 * A threshold and a target FAR given at the same level (per call, or in the configuration) contradict each other.
 * The configuration's pair only matters when the call gives neither (a per-call value wins, as in `threshold`).
 */
function refuseThresholdWithFar(options: OperatingPoint, config: FacedbConfig): void {
  if (options.threshold !== undefined && options.far !== undefined) {
    throw new FacedbError('invalid_input', 'give a threshold or a target FAR, not both');
  }
  const perCall = options.threshold !== undefined || options.far !== undefined;
  if (!perCall && config.threshold !== undefined && config.targetFar !== undefined) {
    throw new FacedbError('invalid_input', 'give FACEDB_THRESHOLD (--threshold) or FACEDB_TARGET_FAR (--far), not both');
  }
}

function attributes(face: FaceAnalysis): FaceAttributes {
  const scores = face.attributes;
  if (!scores) throw new FacedbError('internal', 'the engine returned a face without the attributes it was asked for');
  return {
    box: roundBox(face.box),
    detectionScore: round(face.detectionScore),
    emotion: emotionResult(scores.emotion),
    age: Math.round(scores.age * 10) / 10,
    gender: scores.gender,
    genderProbability: round(scores.genderProbability),
  };
}

function imageInfo(image: DecodedImage): ImageInfo {
  return { width: image.original?.width ?? image.width, height: image.original?.height ?? image.height, format: image.format };
}

function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundBox(box: FaceAttributes['box']): FaceAttributes['box'] {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}
