import type { FacedbConfig } from '../config/config.js';
import type { FaceAttribute } from '../core/types.js';
import type { AnalyzeOptions, FaceEngine, FaceNeeds } from '../engine/engine.js';
import { imageLimits, loadImage } from '../image/decode.js';
import type { ImageSource, LoadedImage } from '../image/image.js';
import { GallerySearch } from '../search/gallery-search.js';
import type { GalleryCalibration } from '../store/calibration.js';
import type { GalleryStore } from '../store/store.js';
import { inOriginalPixels } from './original-pixels.js';

/** Per-call detection knobs; anything left out falls back to the configuration. */
export interface DetectOptions {
  maxFaces?: number;
  minFaceSize?: number;
  minDetectionScore?: number;
  /** false: no detector, the whole image is one face (photos that already are face crops). Default true. */
  detect?: boolean;
}

/** Which face attributes to compute and report, for identify, verify, analyze and watch. */
export interface AttributeOptions {
  /** A subset of FACE_ATTRIBUTES; [] for none (no attribute net runs). Default: every one (watch: emotion). */
  attributes?: readonly FaceAttribute[];
}

/**
 * What every domain service shares: the configuration, the gallery store, the engine (loaded on first use, so
 * gallery-only commands never load the models), the gallery's search, the one decode path, and a cache of person
 * names for answers.
 */
export class ServiceContext {
  readonly config: FacedbConfig;
  readonly store: GalleryStore;
  readonly search: GallerySearch;
  readonly #createEngine: () => Promise<FaceEngine>;
  #enginePromise: Promise<FaceEngine> | undefined;
  #loadedEngine: FaceEngine | undefined;
  readonly #personNames = new Map<number, string>();
  #galleryCalibration: GalleryCalibration | null = null;

  constructor(config: FacedbConfig, store: GalleryStore, createEngine: () => Promise<FaceEngine>) {
    this.config = config;
    this.store = store;
    this.#createEngine = createEngine;
    // An empty, unpinned gallery has no dimensions yet: its index is sized for the engine's model.
    this.search = new GallerySearch(
      store,
      config,
      async () => (await this.engine()).model,
      (people) => {
        for (const id of people) this.#personNames.delete(id);
      },
    );
  }

  /** The engine, loading the models on first call. */
  engine(): Promise<FaceEngine> {
    // The gallery's own calibration (facedb evaluate --apply) is read with the models: thresholds prefer it.
    this.#enginePromise ??= this.refreshGalleryCalibration().then(() => this.#createEngine()).then(
      (created) => {
        const engine = inOriginalPixels(created);
        this.#loadedEngine = engine;
        return engine;
      },
      (error: unknown) => {
        this.#enginePromise = undefined; // let a later call try again
        throw error;
      },
    );
    return this.#enginePromise;
  }

  /** The gallery's own calibration in use (read with the models, or by refreshGalleryCalibration); null: the engine's. */
  get galleryCalibration(): GalleryCalibration | null {
    return this.#galleryCalibration;
  }

  /** Re-reads the gallery's own calibration (after `facedb evaluate --apply` or `--reset` changed it). */
  async refreshGalleryCalibration(): Promise<GalleryCalibration | null> {
    this.#galleryCalibration = await this.store.getCalibration();
    return this.#galleryCalibration;
  }

  /** True once the models are loaded (for readiness checks that must not trigger the load). */
  get engineLoaded(): boolean {
    return this.#loadedEngine !== undefined;
  }

  /** The engine's waiting jobs, without loading the models to find out (0 while not loaded). */
  get queueDepth(): number {
    return this.#loadedEngine?.queueDepth ?? 0;
  }

  /** Reads and decodes an image within the configured limits (pixels, file size, and the side it is shrunk to). */
  load(source: ImageSource): Promise<LoadedImage> {
    return loadImage(source, imageLimits(this.config));
  }

  /** Detection limits (per call, else configured) and what the engine must compute for each face. */
  analyzeOptions(options: DetectOptions, needs: FaceNeeds): AnalyzeOptions {
    return {
      maxFaces: options.maxFaces ?? this.config.maxFaces,
      minFaceSize: options.minFaceSize ?? this.config.minFaceSize,
      minDetectionScore: options.minDetectionScore ?? this.config.minDetectionScore,
      detect: options.detect ?? true,
      needs,
    };
  }

  /**
   * A person's name for answers, read once per person. Not kept with FACEDB_INDEX=pgvector: the database answers
   * every search, so no change log is replayed that would tell of another process's rename; the name is read with
   * each answer instead (a primary-key read per candidate).
   */
  async personName(personId: number): Promise<string> {
    let name = this.#personNames.get(personId);
    if (name === undefined) {
      name = (await this.store.getPerson(personId))?.name ?? `#${personId}`;
      this.rememberName(personId, name);
    }
    return name;
  }

  rememberName(personId: number, name: string): void {
    if (this.config.index !== 'pgvector') this.#personNames.set(personId, name);
  }

  forgetName(personId: number): void {
    this.#personNames.delete(personId);
  }

  /** Closes the engine, saves the search index, and closes the store. */
  async close(): Promise<void> {
    const engine = this.#enginePromise;
    this.#enginePromise = undefined;
    this.#loadedEngine = undefined;
    if (engine) await (await engine).close();
    await this.search.close();
    await this.store.close();
  }
}
