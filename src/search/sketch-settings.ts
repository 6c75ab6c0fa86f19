import type { SketchSettings } from '../core/flat-index.js';

/**
 * The binary-sketch search FACEDB_INDEX=auto moves to from FACEDB_ANN_THRESHOLD faces (FACEDB_INDEX=sketch: always):
 * 512 sign bits per face, and the 1,024 faces with the nearest sketches ranked by exact distance.
 *
 * Chosen by identify's decision (the nearest person within the calibrated threshold, else unknown) against exact
 * search, on galleries shaped like engine v5's 512-D embeddings (test/clustered-embeddings.ts), 1,000 mated probes and
 * 1,000 strangers per size (research/sketch-search.ts; research/README.md has the table):
 * - chosen at 100,000 faces: 512 bits reach 99.9 % of mated probes from 256 candidates (the one miss, a mate at 1.071
 *   just inside the threshold 1.08, needs 16,384); 1,024 candidates cost 0.4 ms more than 256 and triple recall@10;
 *   1,024 bits reach 100 % from 256 candidates but double the scan;
 * - confirmed at 1,000,000 faces: 512 bits with 1,024 candidates agree on 100 % of mated and non-mated probes (256
 *   candidates: 99.8 %).
 * Non-mated probes always agree: the candidates are ranked exactly, so they cannot bring anybody within the threshold
 * whom exact search does not. `npm run bench:scale` measures these settings as shipped (docs/benchmarks.md, "Scale").
 */
export const SKETCH_SETTINGS: SketchSettings = { bits: 512, candidates: 1024 };
