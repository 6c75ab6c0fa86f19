import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusteredGallery, identifyDecision, MOBILEFACENET_512 } from '../../test/clustered-embeddings.js';
import { tempDir } from '../../test/fixtures.js';
import { thresholdForFar } from '../core/confidence.js';
import { FlatIndex } from '../core/flat-index.js';
import { CALIBRATION, CALIBRATION_MODEL } from '../engine/onnx/calibration.js';
import { IDENTIFY_DEFAULT_FAR } from '../services/recognition.js';
import { AnnIndex, annOptionsFor } from './ann-index.js';

const FACES = 2000;
const PROBES = 60;
/** identify's default number of people (FACEDB_TOP_K). */
const TOP_K = 5;

void describe("AnnIndex answers identify's decision like exact search (512-D faces shaped like engine v5's)", () => {
  // The threshold identify takes by default from the engine's calibration.
  const threshold = thresholdForFar(CALIBRATION, IDENTIFY_DEFAULT_FAR, CALIBRATION_MODEL);
  const gallery = new ClusteredGallery(MOBILEFACENET_512, 19);
  const built = gallery.build(FACES);
  const exact = FlatIndex.fromSnapshot({ dimensions: 512, ...built, faceIds: built.faceIds.slice() });
  const options = annOptionsFor(512, FACES);
  const ann = AnnIndex.build(512, built, options);

  const mated = Array.from({ length: PROBES }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
  const strangers = Array.from({ length: PROBES }, (_, p) => gallery.photo(built.people + 1 + p, 0));
  // Probes a hair (1e-5) inside or outside the threshold from the nearest face: the graph's f16 distances are off
  // by more than that, so only the exact float32 re-ranking decides these as exact search does.
  const borderline = mated.map((probe, p) => {
    const nearest = exact.searchPeople(probe, 1)[0]!;
    const face = built.vectors.subarray((nearest.faceId - 1) * 512, nearest.faceId * 512);
    const scale = (threshold + (p % 2 === 0 ? -1e-5 : 1e-5)) / nearest.distance;
    return Float32Array.from(face, (value, d) => value + (probe[d]! - value) * scale);
  });

  void it('names the same person, or nobody, with the distances exact search reports', () => {
    let named = 0;
    for (const probe of [...mated, ...strangers, ...borderline]) {
      const truth = exact.searchPeople(probe, TOP_K);
      const answer = ann.searchPeople(probe, TOP_K);
      assert.equal(identifyDecision(answer, threshold), identifyDecision(truth, threshold));
      assert.equal(answer[0]!.distance, truth[0]!.distance);
      if (identifyDecision(truth, threshold) !== null) named++;
    }
    // Both kinds of answer occur, the borderline ones on either side of the threshold.
    assert.ok(named > PROBES && named < 3 * PROBES, `${named} named`);
  });

  void it('reaches every face it holds: each face is the nearest to its own embedding', () => {
    // A face stored but cut off from the graph is never returned, whoever asks (unum-cloud/USearch#735, which hit
    // builds on several threads).
    const unreachable = Array.from(built.faceIds).filter((faceId) => {
      const own = built.vectors.subarray((faceId - 1) * 512, faceId * 512);
      return ann.searchFaces(own, 1)[0]?.faceId !== faceId;
    });
    assert.deepEqual(unreachable, []);
  });

  void it('searches the graph as widely as the faces it re-ranks, even where ef_search is narrower', async () => {
    const dir = await tempDir('ann-candidates-');
    ann.saveGraph(join(dir, 'graph'));
    const narrow = (candidates: number): AnnIndex => AnnIndex.restore(512, { ...options, expansionSearch: 1, candidates }, join(dir, 'graph'), built);
    const disagreements = (index: AnnIndex): number =>
      [...mated, ...borderline].filter((probe) => identifyDecision(index.searchPeople(probe, 1), threshold) !== identifyDecision(exact.searchPeople(probe, 1), threshold)).length;
    try {
      // usearch searches with max(ef_search, faces asked for): asking for 256 faces finds every mate an ef_search of 1
      // misses when only a few faces are asked for.
      assert.equal(disagreements(narrow(4 * options.candidates)), 0);
      assert.ok(disagreements(narrow(1)) > 0);
      // identify's own settings agree with exact search on every probe (the first test), reached by ef_search.
      assert.equal(disagreements(ann), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
