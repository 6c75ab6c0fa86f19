/**
 * facedb as a library: `openFacedb()` gives the same service the CLI and the HTTP server use.
 *
 *   import { openFacedb } from 'facedb';
 *   const facedb = await openFacedb({ db: './faces.sqlite' });
 *   await facedb.enroll([{ person: 'Bono', path: 'bono.jpg' }]);
 *   const { faces } = await facedb.identify({ path: 'concert.jpg' });
 *   await facedb.close();
 */
export { openFacedb, type OpenOptions } from './facedb.js';
export { FaceService } from './services/face-service.js';
export type {
  DetectOptions,
  EnrollItem,
  EnrollOptions,
  AttributeOptions,
  ExportOptions,
  FaceSearchOptions,
  IdentifyOptions,
  ImageSource,
} from './services/face-service.js';
export type { ReembedOptions } from './services/reembed.js';
export type * from './services/results.js';
export { ClusterService, CLUSTER_FAR } from './services/cluster-service.js';
export { CurationService } from './services/curation.js';
export type { FacePage, FaceQuery, FacesPage } from './services/curation.js';
export type { ClusterSuggestion } from './services/cluster-suggestions.js';
export type { GalleryConstraints, MergedClusters, MergedPeople, MovedFaces, StoredFace } from './store/curation.js';
export { CONSTRAINTS_TABLE } from './store/curation.js';
export type { ClusterListing, ClusterRunSummary, UnnamedEnrollOutcome, UnnamedEnrollSummary } from './services/cluster-service.js';
export { loadConfig, configSchema, type FacedbConfig, type ConfigInput } from './config/config.js';
export { FacedbError, ERROR_CODES, type ErrorCode } from './errors/errors.js';
export { exitCodeFor } from './errors/exit-codes.js';
export { EMOTIONS, FACE_ATTRIBUTES, GENDERS, type Emotion, type FaceAttribute, type Gender, type Box, type ModelInfo } from './core/types.js';
export type { FaceEngine, FaceAnalysis, AnalyzeOptions, FaceNeeds, FaceAttributeScores } from './engine/engine.js';
export { DEFAULT_ENGINE, ENGINE_NAMES } from './engine/registry.js';
export type { GalleryStore, Person, Face, Cluster, NamedCluster, UnnamedFace } from './store/store.js';
export { scanLfwLayout } from './image/scan.js';
export { evaluateFolder, DEFAULT_FARS, type EvaluateOptions, type Evaluation } from './services/evaluation/evaluate.js';
export { applyEvaluation, resetCalibration } from './services/evaluation/apply.js';
export { renderEvaluationHtml } from './services/evaluation/html.js';
export type * from './services/evaluation/types.js';
export type { GalleryCalibration, GalleryOperatingPoint } from './store/calibration.js';
export type { OperatingPointSource } from './services/operating-point-source.js';
export type { WatchEvent, WatchOptions, AnnotatedFrame, TrackEmotion } from './services/watch-service.js';
export type { LiveSession, LiveOptions, LiveFrame } from './services/live-session.js';
export type { TrackEvent, TrackedFace, TrackingOptions } from './services/track-session.js';
export type { VideoSourceInfo, VideoEnd } from './video/ffmpeg-source.js';
