import type { FacedbConfig } from '../config/config.js';
import { calibrationFor, confidence, thresholdForFar } from '../core/confidence.js';
import { euclideanDistance } from '../core/distance.js';
import type { PersonMatch, SearchIndex } from '../core/search-index.js';
import { emotionResult } from '../core/emotion.js';
import type { ModelInfo } from '../core/types.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine } from '../engine/engine.js';
import { FacedbError, toFacedbError } from '../errors/errors.js';
import { sha256Hex } from '../image/hash.js';
import { DatabaseSearch } from '../index/database-search.js';
import { openSearchIndex, outgrewExactIndex, persistSearchIndex, type SyncedIndex } from '../index/open-index.js';
import { decodeImage, readImageFile } from '../image/decode.js';
import type { DecodedImage } from '../image/image.js';
import type { Face, GalleryStore, Page, PageOf, Person } from '../store/store.js';
import type {
  AnalyzeResult,
  Candidate,
  EnrollOutcome,
  EnrollStatus,
  EnrollSummary,
  FaceAttributes,
  IdentifyResult,
  ImageInfo,
  RepresentResult,
  VerifyResult,
} from './results.js';

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

const ENROLL_STATUSES: readonly EnrollStatus[] = [
  'enrolled',
  'enrolled_largest_of_several',
  'already_enrolled',
  'no_face',
  'unreadable',
  'failed',
];

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
      (engine) => {
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
   * Enrolls many files, never stopping on a bad one: every file gets exactly one outcome.
   * Each file is committed on its own, so an interrupted run keeps everything finished so far
   * and a re-run skips it by content hash.
   */
  async enroll(items: readonly EnrollItem[], options: EnrollOptions = {}): Promise<EnrollSummary> {
    const started = performance.now();
    const engine = await this.engine();
    await this.store.ensureModel(engine.model);
    const index = await this.index();
    const enrolled = await this.store.enrolledContent();

    const outcomes: EnrollOutcome[] = [];
    let next = 0;
    // Keep every worker busy while the next photos are read and decoded.
    const lanes = Math.max(2, (this.config.workers ?? 2) * 2);
    const runLane = async (): Promise<void> => {
      while (next < items.length && !options.signal?.aborted) {
        const item = items[next++];
        if (!item) break;
        const outcome = await this.enrollOne(item, engine, index, enrolled);
        outcomes.push(outcome);
        options.onOutcome?.(outcome, outcomes.length, items.length);
      }
    };
    await Promise.all(Array.from({ length: lanes }, runLane));

    const counts = Object.fromEntries(ENROLL_STATUSES.map((s) => [s, 0])) as Record<EnrollStatus, number>;
    for (const outcome of outcomes) counts[outcome.status] += 1;
    return { total: items.length, counts, outcomes, elapsedMs: performance.now() - started };
  }

  /** Enrolls one photo (an upload or a file) for `person`, taking its largest face. Throws on failure. */
  async enrollImage(person: string, source: ImageSource): Promise<EnrollOutcome> {
    const engine = await this.engine();
    await this.store.ensureModel(engine.model);
    const index = await this.index();
    const loaded = await this.load(source);
    // The store skips a photo the person already has; loading every hash for one upload would cost more.
    return this.addLargestFace(person, loaded, engine, index, new Map());
  }

  private async enrollOne(
    item: EnrollItem,
    engine: FaceEngine,
    index: SearchIndex,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const base = { path: item.path, person: item.person };
    let loaded: LoadedImage;
    try {
      loaded = await this.load({ path: item.path });
    } catch (error) {
      const failure = toFacedbError(error);
      return { ...base, status: 'unreadable', facesFound: 0, message: failure.message };
    }
    try {
      return await this.addLargestFace(item.person, loaded, engine, index, enrolled);
    } catch (error) {
      const failure = toFacedbError(error);
      if (failure.code === 'model_mismatch') throw failure;
      return { ...base, status: 'failed', facesFound: 0, message: failure.message };
    }
  }

  private async addLargestFace(
    personName: string,
    loaded: LoadedImage,
    engine: FaceEngine,
    index: SearchIndex,
    enrolled: Map<string, Set<string>>,
  ): Promise<EnrollOutcome> {
    const path = loaded.path ?? '(upload)';
    const contentHash = sha256Hex(loaded.bytes);
    if (enrolled.get(contentHash)?.has(personName)) {
      return { path, person: personName, status: 'already_enrolled', facesFound: 0 };
    }
    const faces = await engine.analyze(loaded.image, { ...this.analyzeOptions({}), withCrop: true });
    const largest = faces[0];
    if (!largest) return { path, person: personName, status: 'no_face', facesFound: 0 };

    const person = await this.store.upsertPerson(personName);
    const [face] = await this.store.addFaces(person.id, [
      {
        sourcePath: loaded.path,
        contentHash,
        box: largest.box,
        detectionScore: largest.detectionScore,
        embedding: largest.embedding,
        crop: largest.alignedCrop ?? null,
      },
    ]);
    const owners = enrolled.get(contentHash);
    if (owners) owners.add(personName);
    else enrolled.set(contentHash, new Set([personName]));
    if (!face) return { path, person: personName, status: 'already_enrolled', facesFound: faces.length };
    // A sync running meanwhile may have picked the new face up from the change log already.
    if (!index.has(face.id)) index.add(face.id, person.id, largest.embedding);
    this.personNames.set(person.id, person.name);
    return {
      path,
      person: personName,
      status: faces.length > 1 ? 'enrolled_largest_of_several' : 'enrolled',
      facesFound: faces.length,
      faceId: face.id,
    };
  }

  // ---------------------------------------------------------------- recognition

  async identify(source: ImageSource, options: IdentifyOptions = {}): Promise<IdentifyResult> {
    const engine = await this.engine();
    await this.assertGalleryModel(engine.model);
    const loaded = await this.load(source);
    const [faces, index] = await Promise.all([
      engine.analyze(loaded.image, { ...this.analyzeOptions(options), withCrop: false }),
      this.index(),
    ]);
    const threshold = this.threshold(engine.model, options, 'identify');
    const topK = options.topK ?? this.config.topK;
    const calibration = calibrationFor(engine.model);
    const identified = [];
    for (const face of faces) {
      const candidates = await this.named(await this.nearestPeople(index, face.embedding, topK), (d) => confidence(calibration, d));
      const nearest = candidates[0];
      identified.push({
        ...attributes(face),
        match: nearest && nearest.distance <= threshold ? { ...nearest, threshold } : null,
        candidates,
      });
    }
    return { image: imageInfo(loaded.image), threshold, faces: identified };
  }

  /** Same person or not, comparing the largest face of each photo. */
  async verify(a: ImageSource, b: ImageSource, options: OperatingPoint = {}): Promise<VerifyResult> {
    const engine = await this.engine();
    const threshold = this.threshold(engine.model, options); // a bad FAR fails before any inference
    const [faceA, faceB] = await Promise.all([this.largestFace(a, engine), this.largestFace(b, engine)]);
    const raw = euclideanDistance(faceA.embedding, faceB.embedding);
    const distance = round(raw);
    return {
      verified: distance <= threshold,
      distance,
      confidence: confidence(calibrationFor(engine.model), raw),
      threshold,
      faces: [attributes(faceA), attributes(faceB)],
    };
  }

  /**
   * The match threshold: a per-call threshold or target FAR, else the configured one, else the model's
   * default. Identification defaults to a stricter point than a one-to-one comparison: the nearest of N
   * enrolled faces is the smallest of N distances, so an unknown person slips under a per-pair threshold
   * about N times as often. A target FAR is looked up in the model's calibration; invalid_input when the model has none,
   * the FAR is outside what was measured, or a threshold and a FAR are both given at the same level.
   */
  threshold(model: ModelInfo, options: OperatingPoint = {}, purpose: 'verify' | 'identify' = 'verify'): number {
    const pick = (threshold: number | undefined, far: number | undefined, names: string): number | undefined => {
      if (threshold !== undefined && far !== undefined) {
        throw new FacedbError('invalid_input', `give ${names}, not both`);
      }
      return threshold ?? (far === undefined ? undefined : thresholdForFar(model, far));
    };
    return (
      pick(options.threshold, options.far, 'a threshold or a target FAR') ??
      pick(this.config.threshold, this.config.targetFar, 'FACEDB_THRESHOLD (--threshold) or FACEDB_TARGET_FAR (--far)') ??
      (purpose === 'identify' && calibrationFor(model) ? thresholdForFar(model, IDENTIFY_DEFAULT_FAR) : undefined) ??
      model.defaultThreshold
    );
  }

  async analyze(source: ImageSource, options: DetectOptions = {}): Promise<AnalyzeResult> {
    const engine = await this.engine();
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, { ...this.analyzeOptions(options), withCrop: false });
    return { image: imageInfo(loaded.image), faces: faces.map(attributes) };
  }

  async represent(source: ImageSource, options: DetectOptions = {}): Promise<RepresentResult> {
    const engine = await this.engine();
    const loaded = await this.load(source);
    const faces = await engine.analyze(loaded.image, { ...this.analyzeOptions(options), withCrop: false });
    return {
      image: imageInfo(loaded.image),
      model: { id: engine.model.id, version: engine.model.version },
      faces: faces.map((face) => ({
        box: roundBox(face.box),
        detectionScore: round(face.detectionScore),
        embedding: Array.from(face.embedding),
      })),
    };
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

  private async assertGalleryModel(model: ModelInfo): Promise<void> {
    const pinned = await this.store.getModel();
    if (pinned && (pinned.id !== model.id || pinned.version !== model.version)) {
      throw new FacedbError(
        'model_mismatch',
        `the gallery was enrolled with ${pinned.id}@${pinned.version} but the engine is ${model.id}@${model.version}; re-enroll into a new database`,
      );
    }
  }

  private async load(source: ImageSource): Promise<LoadedImage> {
    const limits = { maxPixels: this.config.maxPixels, maxFileBytes: this.config.maxFileBytes };
    if ('bytes' in source) {
      return { bytes: source.bytes, image: await decodeImage(source.bytes, limits), path: source.path ?? null };
    }
    const { bytes, image } = await readImageFile(source.path, limits);
    return { bytes, image, path: source.path };
  }

  private async largestFace(source: ImageSource, engine: FaceEngine): Promise<FaceAnalysis> {
    const loaded = await this.load(source);
    const [face] = await engine.analyze(loaded.image, { ...this.analyzeOptions({}), withCrop: false });
    if (!face) {
      const name = loaded.path ?? 'the image';
      throw new FacedbError('no_face', `no face found in ${name}`, { details: { path: loaded.path } });
    }
    return face;
  }

  private analyzeOptions(options: DetectOptions): Omit<AnalyzeOptions, 'withCrop'> {
    return {
      maxFaces: options.maxFaces ?? this.config.maxFaces,
      minFaceSize: options.minFaceSize ?? this.config.minFaceSize,
      minDetectionScore: options.minDetectionScore ?? this.config.minDetectionScore,
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

  /** Finds a person by exact name or creates them; `created` says which. */
  async createPerson(name: string): Promise<{ person: Person; created: boolean }> {
    const existing = await this.store.findPersonByName(name);
    if (existing) return { person: existing, created: false };
    return { person: await this.store.upsertPerson(name), created: true };
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

function attributes(face: FaceAnalysis): FaceAttributes {
  return {
    box: roundBox(face.box),
    detectionScore: round(face.detectionScore),
    emotion: emotionResult(face.emotion),
    age: Math.round(face.age * 10) / 10,
    gender: face.gender,
    genderProbability: round(face.genderProbability),
  };
}

function imageInfo(image: DecodedImage): ImageInfo {
  return { width: image.width, height: image.height, format: image.format };
}

function round(value: number, digits = 4): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundBox(box: FaceAttributes['box']): FaceAttributes['box'] {
  return { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
}
