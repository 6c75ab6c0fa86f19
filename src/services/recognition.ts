import type { FacedbConfig } from '../config/config.js';
import { calibrationKey, decisionConfidence, thresholdForFar } from '../core/confidence.js';
import { euclideanDistance } from '../core/distance.js';
import { subjectFace } from '../core/subject-face.js';
import type { FaceAnalysis, FaceEngine, FaceNeeds } from '../engine/engine.js';
import { fallbackThreshold } from '../engine/registry.js';
import { FacedbError } from '../errors/errors.js';
import type { ImageSource } from '../image/image.js';
import { galleryThresholdAt } from '../store/calibration.js';
import { checkPinnedModel } from '../store/validation.js';
import type { AttributeOptions, DetectOptions, ServiceContext } from './context.js';
import { attributes, embeddingOf, imageInfo, NEEDS, round, roundBox, withAttributes } from './face-results.js';
import { operatingPointSource, type OperatingPointSource } from './operating-point-source.js';
import type { AnalyzeResult, Candidate, DetectResult, IdentifyResult, Match, RepresentResult, TrackRecognizer, VerifyResult } from './results.js';
import type { PersonMatch } from '../core/search-index.js';

/** How strict a match must be: a distance threshold, or a target false-accept rate (not both). */
export interface OperatingPoint {
  threshold?: number;
  /** Target false-accept rate, e.g. 0.001; the threshold comes from the model's calibration table. */
  far?: number;
}

export interface IdentifyOptions extends DetectOptions, OperatingPoint, AttributeOptions {
  topK?: number;
}

/**
 * Per-comparison false-accept rate behind identify's default threshold: with a gallery of ~1,600 faces an
 * unknown person is then taken for someone in roughly 1 case in 6, instead of nearly always at the 1:1 optimum.
 */
export const IDENTIFY_DEFAULT_FAR = 1e-4;

/** Recognition: identify against the gallery, verify two photos, and the per-photo analyses (analyze, detect, represent). */
export class RecognitionService {
  readonly #context: ServiceContext;

  constructor(context: ServiceContext) {
    this.#context = context;
  }

  async identify(source: ImageSource, options: IdentifyOptions = {}): Promise<IdentifyResult> {
    const { config, store, search } = this.#context;
    refuseThresholdWithFar(options, config); // before the models load or the photo is read
    const engine = await this.#context.engine();
    checkPinnedModel(await store.getModel(), engine.model);
    // The gallery's own calibration may have been applied or reset by another process (`facedb evaluate --apply`
    // while a server runs): one small read per request keeps every process at the same operating point.
    await this.#context.refreshGalleryCalibration();
    const threshold = this.threshold(engine, options, 'identify'); // a FAR the model was not measured at, too
    const needs = withAttributes(NEEDS.identify, options.attributes); // an unknown attribute fails before the photo is read
    const loaded = await this.#context.load(source);
    const [faces, nearestPeople] = await Promise.all([engine.analyze(loaded.image, this.#context.analyzeOptions(options, needs)), search.searcher()]);
    const topK = options.topK ?? config.topK;
    // The gallery size turns the 1:1 likelihood into the chance that the probe is this one of N people
    // (decisionConfidence), so "unknown" never comes with "99 % likely Bono".
    const people = faces.length > 0 ? (await store.listPeople({ limit: 0, offset: 0 })).total : 0;
    const identified = [];
    for (const face of faces) {
      const { match, candidates } = await this.#nameEmbedding(engine, nearestPeople, embeddingOf(face), { threshold, topK, people });
      identified.push({ ...attributes(face, needs.attributes), match, candidates });
    }
    return { image: imageInfo(loaded.image), threshold, thresholdSource: this.#thresholdSource(engine, options), faces: identified };
  }

  /**
   * Names embeddings (a video track's) exactly as identify names a face: same search, same threshold (per call,
   * configured, the gallery's or the model's identify default), same calibrated confidence.
   */
  async trackRecognizer(options: IdentifyOptions = {}): Promise<TrackRecognizer> {
    const { config, store, search } = this.#context;
    refuseThresholdWithFar(options, config);
    const engine = await this.#context.engine();
    checkPinnedModel(await store.getModel(), engine.model);
    await this.#context.refreshGalleryCalibration(); // as identify: another process may have applied one
    const threshold = this.threshold(engine, options, 'identify');
    const topK = options.topK ?? config.topK;
    return {
      threshold,
      identify: async (embedding) => {
        const people = (await store.listPeople({ limit: 0, offset: 0 })).total;
        const { match, candidates } = await this.#nameEmbedding(engine, await search.searcher(), embedding, { threshold, topK, people });
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

  /** The nearest people to an embedding, and the match when the nearest is within the threshold. */
  async #nameEmbedding(
    engine: FaceEngine,
    nearestPeople: (query: Float32Array, k: number) => Promise<PersonMatch[]>,
    embedding: Float32Array,
    decision: { threshold: number; topK: number; people: number },
  ): Promise<{ match: Match | null; candidates: Candidate[] }> {
    const { threshold, people } = decision;
    // The gallery size turns the 1:1 likelihood into the chance that the probe is this one of N people.
    const candidates = await this.#named(await nearestPeople(embedding, decision.topK), (d) =>
      decisionConfidence(engine.calibration, d, { threshold, people }),
    );
    const nearest = candidates[0];
    return { match: nearest && nearest.distance <= threshold ? { ...nearest, threshold } : null, candidates };
  }

  /** Same person or not, comparing the subject's face of each photo (core/subject-face.ts). */
  async verify(a: ImageSource, b: ImageSource, options: OperatingPoint & AttributeOptions & Pick<DetectOptions, 'detect'> = {}): Promise<VerifyResult> {
    refuseThresholdWithFar(options, this.#context.config);
    const needs = withAttributes(NEEDS.verify, options.attributes);
    const engine = await this.#context.engine();
    await this.#context.refreshGalleryCalibration(); // as identify: another process may have applied one
    const threshold = this.threshold(engine, options); // a bad FAR fails before any inference
    const [faceA, faceB] = await Promise.all([this.#subjectFace(a, engine, options, needs), this.#subjectFace(b, engine, options, needs)]);
    const raw = euclideanDistance(embeddingOf(faceA), embeddingOf(faceB));
    const distance = round(raw);
    return {
      verified: distance <= threshold,
      distance,
      // One comparison (N = 1): the 1:1 posterior, held to the threshold so it agrees with `verified`.
      confidence: decisionConfidence(engine.calibration, raw, { threshold, people: 1 }),
      threshold,
      thresholdSource: this.#thresholdSource(engine, options),
      faces: [attributes(faceA, needs.attributes), attributes(faceB, needs.attributes)],
    };
  }

  /**
   * The match threshold: a per-call threshold or target FAR, else the configured one, else the model's
   * default. Identification defaults to a stricter point than a one-to-one comparison: the nearest of N
   * enrolled faces is the smallest of N distances, so an unknown person slips under a per-pair threshold
   * about N times as often. A gallery calibrated with `facedb evaluate --apply` uses its own operating point for both
   * (and its own threshold for any FAR it measured) before the engine's. A target FAR is looked up in the engine's
   * calibration; invalid_input when it has none,
   * the FAR is outside what was measured, or a threshold and a FAR are both given at the same level.
   */
  threshold(
    engine: Pick<FaceEngine, 'model' | 'calibration'>,
    options: OperatingPoint = {},
    purpose: 'verify' | 'identify' = 'verify',
  ): number {
    const { config } = this.#context;
    refuseThresholdWithFar(options, config);
    const { model, calibration } = engine;
    const name = calibrationKey(model);
    // The gallery's own operating points (facedb evaluate --apply) come before the engine's built-in calibration.
    const calibrated = this.#context.galleryCalibration;
    const gallery = calibrated?.model === name ? calibrated : null;
    const pick = (threshold: number | undefined, far: number | undefined, names: string): number | undefined => {
      if (threshold !== undefined && far !== undefined) {
        throw new FacedbError('invalid_input', `give ${names}, not both`);
      }
      return threshold ?? (far === undefined ? undefined : (galleryThresholdAt(gallery, far) ?? thresholdForFar(calibration, far, name)));
    };
    return (
      pick(options.threshold, options.far, 'a threshold or a target FAR') ??
      pick(config.threshold, config.targetFar, 'FACEDB_THRESHOLD (--threshold) or FACEDB_TARGET_FAR (--far)') ??
      galleryThresholdAt(gallery, gallery?.far ?? Number.NaN) ??
      (purpose === 'identify' && calibration ? thresholdForFar(calibration, IDENTIFY_DEFAULT_FAR, name) : undefined) ??
      fallbackThreshold(model)
    );
  }

  #thresholdSource(engine: Pick<FaceEngine, 'model' | 'calibration'>, options: OperatingPoint): OperatingPointSource {
    return operatingPointSource(this.#context.config, options, this.#context.galleryCalibration, engine);
  }

  async analyze(source: ImageSource, options: DetectOptions & AttributeOptions = {}): Promise<AnalyzeResult> {
    const needs = withAttributes(NEEDS.analyze, options.attributes);
    const engine = await this.#context.engine();
    const loaded = await this.#context.load(source);
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions(options, needs));
    return { image: imageInfo(loaded.image), faces: faces.map((face) => attributes(face, needs.attributes)) };
  }

  /** Boxes and detection scores only: no embedding, emotion, age or gender is computed. */
  async detect(source: ImageSource, options: DetectOptions = {}): Promise<DetectResult> {
    const engine = await this.#context.engine();
    const loaded = await this.#context.load(source);
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions(options, NEEDS.detect));
    return {
      image: imageInfo(loaded.image),
      faces: faces.map((face) => ({ box: roundBox(face.box), detectionScore: round(face.detectionScore) })),
    };
  }

  async represent(source: ImageSource, options: DetectOptions = {}): Promise<RepresentResult> {
    const engine = await this.#context.engine();
    const loaded = await this.#context.load(source);
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions(options, NEEDS.represent));
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

  async #subjectFace(source: ImageSource, engine: FaceEngine, options: Pick<DetectOptions, 'detect'>, needs: FaceNeeds): Promise<FaceAnalysis> {
    const loaded = await this.#context.load(source);
    const faces = await engine.analyze(loaded.image, this.#context.analyzeOptions({ detect: options.detect }, needs));
    const face = subjectFace(faces, loaded.image.width, loaded.image.height);
    if (!face) {
      const name = loaded.path ?? 'the image';
      throw new FacedbError('no_face', `no face found in ${name}`, { details: { path: loaded.path } });
    }
    return face;
  }

  async #named(
    hits: ReadonlyArray<{ personId: number; distance: number }>,
    confidenceOf: (distance: number) => number | null,
  ): Promise<Candidate[]> {
    const named: Candidate[] = [];
    for (const hit of hits) {
      const name = await this.#context.personName(hit.personId);
      named.push({ personId: hit.personId, person: name, distance: round(hit.distance), confidence: confidenceOf(hit.distance) });
    }
    return named;
  }
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
