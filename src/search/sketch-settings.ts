import type { SketchSettings } from '../core/flat-index.js';

/**
 * The binary-sketch search FACEDB_INDEX=auto moves to from FACEDB_ANN_THRESHOLD faces (FACEDB_INDEX=sketch: always)
 * for embeddings of `dimensions`: 512 sign bits per face, and the faces with the nearest sketches (1,024 for wide
 * embeddings, 4,096 up to 256-D) ranked by exact distance.
 *
 * Chosen by identify's decision (the nearest person within the calibrated threshold, else unknown) against exact
 * search, on galleries shaped like the engines' embeddings (test/clustered-embeddings.ts), 1,000 mated probes and
 * 1,000 strangers per size (research/sketch-search.ts; research/README.md has the tables), chosen at 100,000 faces and
 * confirmed at 1,000,000:
 * - 512-D (engine v5, threshold 1.08). At 100,000 faces 512 bits reach 99.9 % of mated probes from 256 candidates
 *   (the one miss, a mate at 1.071, needs 16,384); 1,024 candidates cost 0.4 ms more than 256; 1,024 bits reach
 *   100 % from 256 but double the scan. At 1,000,000: 100 % of mated and non-mated probes with 1,024 (256: 99.8 %).
 * - 128-D (engine v4, threshold 0.34, where a mate is often within 0.01 of the next person). At 100,000 faces 512 bits
 *   with 1,024 candidates reach 99.7 %, with 4,096 100 % (0.6 ms more); 1,024 bits with 1,024 candidates 100 % too,
 *   but the scan costs twice as much at 1,000,000. At 1,000,000 the choice falls short of 99.9 %: 512 bits with 4,096
 *   candidates agree on 99.7 % of mated probes (bench:scale, with the shipped projections: 99.5 %, p50 11.3 ms; 16,384
 *   candidates: 99.9 %, p50 13 ms; 1,024 bits with 4,096: 99.9 %, 19 ms); the misses are mates within 0.01 of the next
 *   person, where a sketch cannot tell them apart. Kept: at 128-D a gallery that size is better served by engine v5,
 *   and 16,384 candidates cost 1.7 ms more at every size.
 * Non-mated probes always agree: the candidates are ranked exactly, so they cannot bring anybody within the threshold
 * whom exact search does not. `npm run bench:scale` measures these settings as shipped (docs/benchmarks.md, "Scale").
 */
export function sketchSettingsFor(dimensions: number): SketchSettings {
  return { bits: 512, candidates: dimensions > 256 ? 1024 : 4096 };
}
