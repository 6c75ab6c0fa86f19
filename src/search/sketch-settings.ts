import type { SketchSettings } from '../core/flat-index.js';

/**
 * The binary-sketch search FACEDB_INDEX=auto moves to from FACEDB_ANN_THRESHOLD faces (FACEDB_INDEX=sketch: always):
 * 512 sign bits per face and the 1,024 nearest sketches ranked by exact distance. Chosen by research/sketch-search.ts
 * on galleries shaped like engine v5's 512-D embeddings (test/clustered-embeddings.ts), by identify's decision against
 * exact search at the calibrated threshold: PLACEHOLDER.
 */
export const SKETCH_SETTINGS: SketchSettings = { bits: 512, candidates: 1024 };
