import type { FacedbConfig } from '../config/config.js';
import type { AnalyzeOptions, FaceAnalysis, FaceEngine, FaceNeeds } from '../engine/engine.js';
import type { GalleryCalibration } from '../store/calibration.js';
import type { ImageSource } from '../image/image.js';
import type { Face, GalleryStore, Page, PageOf, Person } from '../store/store.js';
import { ClusterService } from './cluster-service.js';
import { CurationService, type FacePage, type FaceQuery, type FacesPage } from './curation.js';
import type { MergedClusters, MergedPeople, MovedFaces } from '../store/curation.js';
import { ServiceContext, type AttributeOptions, type DetectOptions } from './context.js';
import { searchByFace, type FaceSearchOptions } from './face-search.js';
import { exportGallery, type ExportOptions } from './transfer/export.js';
import { importGallery } from './transfer/import.js';
import { EnrollmentService, type EnrollItem, type EnrollOptions } from './enrollment.js';
import { GalleryService } from './gallery.js';
import { HealthService, type Health } from './health.js';
import { reembedGallery, type ReembedOptions, type ReembedSummary } from './reembed.js';
import { RecognitionService, type IdentifyOptions, type OperatingPoint } from './recognition.js';
import type { LiveOptions, LiveSession } from './live-session.js';
import { WatchService, type WatchEvent, type WatchOptions } from './watch-service.js';
import type {
  AnalyzeResult,
  DetectResult,
  EnrollOutcome,
  EnrollSummary,
  FaceSearchResult,
  IdentifyResult,
  ImportSummary,
  RepresentResult,
  VerifyResult,
} from './results.js';

export type { AttributeOptions, DetectOptions } from './context.js';
export type { EnrollItem, EnrollOptions } from './enrollment.js';
export { embeddingOf } from './face-results.js';
export type { ImageSource } from '../image/image.js';
export type { ExportOptions } from './transfer/export.js';
export { DEFAULT_SEARCH_TOP, MAX_SEARCH_TOP, type FaceSearchOptions } from './face-search.js';
export { IDENTIFY_DEFAULT_FAR, type IdentifyOptions, type OperatingPoint } from './recognition.js';

/**
 * What the CLI, the HTTP server, the queue worker and the library call: one object over the domain services
 * (enrollment.ts, recognition.ts, gallery.ts, cluster-service.ts, health.ts), which share one ServiceContext
 * (configuration, store, the lazily loaded engine, the gallery's search). It only delegates.
 */
export class FaceService {
  readonly context: ServiceContext;
  readonly enrollment: EnrollmentService;
  readonly recognition: RecognitionService;
  readonly gallery: GalleryService;
  readonly clusters: ClusterService;
  readonly curation: CurationService;
  readonly healthChecks: HealthService;
  readonly video: WatchService;

  constructor(config: FacedbConfig, store: GalleryStore, createEngine: () => Promise<FaceEngine>) {
    this.context = new ServiceContext(config, store, createEngine);
    this.enrollment = new EnrollmentService(this.context);
    this.recognition = new RecognitionService(this.context);
    this.gallery = new GalleryService(this.context);
    this.clusters = new ClusterService(this.context);
    this.curation = new CurationService(this.context, this.gallery);
    this.healthChecks = new HealthService(this.context);
    this.video = new WatchService(this.context, this.recognition);
  }

  get config(): FacedbConfig {
    return this.context.config;
  }

  get store(): GalleryStore {
    return this.context.store;
  }

  /** The engine, loading the models on first call. */
  engine(): Promise<FaceEngine> {
    return this.context.engine();
  }

  /** True once the models are loaded (for readiness checks that must not trigger the load). */
  get engineLoaded(): boolean {
    return this.context.engineLoaded;
  }

  /** The gallery's own calibration in use (facedb evaluate --apply); null: the engine's. */
  get galleryCalibrationInUse(): GalleryCalibration | null {
    return this.context.galleryCalibration;
  }

  /** Re-reads the gallery's own calibration (after `facedb evaluate --apply` or `--reset` changed it). */
  refreshGalleryCalibration(): Promise<GalleryCalibration | null> {
    return this.context.refreshGalleryCalibration();
  }

  /** Closes the engine, saves the search index (so the next start loads it instead of rebuilding), closes the store. */
  close(): Promise<void> {
    return this.context.close();
  }

  analyzeOptions(options: DetectOptions, needs: FaceNeeds): AnalyzeOptions {
    return this.context.analyzeOptions(options, needs);
  }

  // ---- enrollment

  /** See EnrollmentService.enroll. */
  enroll(items: readonly EnrollItem[], options: EnrollOptions = {}): Promise<EnrollSummary> {
    return this.enrollment.enroll(items, options);
  }

  /** See EnrollmentService.enrollImage. */
  enrollImage(person: string | number, source: ImageSource): Promise<EnrollOutcome> {
    return this.enrollment.enrollImage(person, source);
  }

  /** See EnrollmentService.enrollmentFaces. */
  enrollmentFaces(path: string): Promise<{ faces: FaceAnalysis[]; subject: FaceAnalysis | undefined; bytes: Uint8Array; width: number; height: number }> {
    return this.enrollment.enrollmentFaces(path);
  }

  // ---- recognition

  identify(source: ImageSource, options: IdentifyOptions = {}): Promise<IdentifyResult> {
    return this.recognition.identify(source, options);
  }

  verify(a: ImageSource, b: ImageSource, options: OperatingPoint & AttributeOptions & Pick<DetectOptions, 'detect'> = {}): Promise<VerifyResult> {
    return this.recognition.verify(a, b, options);
  }

  /** See RecognitionService.threshold. */
  threshold(engine: Pick<FaceEngine, 'model' | 'calibration'>, options: OperatingPoint = {}, purpose: 'verify' | 'identify' = 'verify'): number {
    return this.recognition.threshold(engine, options, purpose);
  }

  /** See WatchService.watch: faces in a video file, stream or camera, followed as tracks and named per track. */
  watch(source: string, options: WatchOptions & IdentifyOptions = {}): AsyncGenerator<WatchEvent> {
    return this.video.watch(source, options);
  }

  /** See WatchService.live: pictures sent one at a time (a camera), faces tracked and named per track as by watch. */
  liveSession(options: LiveOptions & IdentifyOptions = {}): Promise<LiveSession> {
    return this.video.live(options);
  }

  analyze(source: ImageSource, options: DetectOptions & AttributeOptions = {}): Promise<AnalyzeResult> {
    return this.recognition.analyze(source, options);
  }

  detect(source: ImageSource, options: DetectOptions = {}): Promise<DetectResult> {
    return this.recognition.detect(source, options);
  }

  represent(source: ImageSource, options: DetectOptions = {}): Promise<RepresentResult> {
    return this.recognition.represent(source, options);
  }

  /** See face-search.ts: for every face of a photo, the stored faces nearest to it (named and unnamed, or unnamed only). */
  searchByFace(source: ImageSource, options: FaceSearchOptions = {}): Promise<FaceSearchResult> {
    return searchByFace(this.context, source, options);
  }

  /**
   * The gallery as a portable file (JSON lines, transfer/format.ts), line by line as it is read: write the lines to
   * a file or a response in order. With photos: the photo bytes facedb keeps (uploads) too.
   */
  exportGallery(options: ExportOptions = {}): AsyncGenerator<string> {
    return exportGallery(this.context, options);
  }

  /** Loads a file written by exportGallery; checked whole before anything is written (see transfer/import.ts). */
  importGallery(path: string): Promise<ImportSummary> {
    return importGallery(this.context, path);
  }

  // ---- moving to another model

  /**
   * Re-embeds every face of this gallery into `target` (a new gallery, normally opened with another engine). This
   * gallery is only read. Resumable: faces `target` already has are skipped. See reembed.ts.
   */
  reembed(target: FaceService, options: ReembedOptions = {}): Promise<ReembedSummary> {
    return reembedGallery(this.context, target.context, options);
  }

  // ---- gallery

  listPeople(page: Page): Promise<PageOf<Person>> {
    return this.gallery.listPeople(page);
  }

  findPerson(nameOrId: string | number): Promise<Person> {
    return this.gallery.findPerson(nameOrId);
  }

  createPerson(name: string): Promise<{ person: Person; created: boolean }> {
    return this.gallery.createPerson(name);
  }

  removePerson(nameOrId: string | number): Promise<{ person: Person; facesRemoved: number }> {
    return this.gallery.removePerson(nameOrId);
  }

  removeFace(faceId: number): Promise<{ named: boolean }> {
    return this.gallery.removeFace(faceId);
  }

  listFaces(personId: number, page: Page): Promise<PageOf<Face>> {
    return this.gallery.listFaces(personId, page);
  }

  faceCrop(faceId: number): Promise<Uint8Array> {
    return this.gallery.faceCrop(faceId);
  }

  // ---- curation (curation.ts): corrections, and the constraints they leave

  /** Stored faces of any kind (a person's, a cluster's, unnamed), a page at a time. See CurationService.listFaces. */
  faces(query: FaceQuery = {}, page: FacePage = { limit: 100 }): Promise<FacesPage> {
    return this.curation.listFaces(query, page);
  }

  /** Gives faces to a person (created when new). See CurationService.moveFaces. */
  moveFaces(faceIds: number[], to: string): Promise<MovedFaces> {
    return this.curation.moveFaces(faceIds, to);
  }

  /** Takes faces out of their person or cluster, for good. See CurationService.unassignFaces. */
  unassignFaces(faceIds: number[]): Promise<{ unassigned: number }> {
    return this.curation.unassignFaces(faceIds);
  }

  renamePerson(person: string | number, name: string): Promise<Person> {
    return this.curation.renamePerson(person, name);
  }

  mergePeople(from: string | number, into: string | number): Promise<MergedPeople> {
    return this.curation.mergePeople(from, into);
  }

  mergeClusters(from: number, into: number): Promise<MergedClusters> {
    return this.curation.mergeClusters(from, into);
  }

  /** Records that a cluster is not this person. */
  rejectCluster(clusterId: number, person: string | number): Promise<{ clusterId: number; person: Person }> {
    return this.curation.rejectCluster(clusterId, person);
  }

  // ---- health

  health(): Promise<Health> {
    return this.healthChecks.health();
  }

  counts(): Promise<{ people: number; faces: number }> {
    return this.healthChecks.counts();
  }

  queueDepth(): number {
    return this.healthChecks.queueDepth();
  }
}
