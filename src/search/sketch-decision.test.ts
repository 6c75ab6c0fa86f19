import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusteredGallery, identifyDecision, MOBILEFACENET_512 } from '../../test/clustered-embeddings.js';
import { thresholdForFar } from '../core/confidence.js';
import { FlatIndex } from '../core/flat-index.js';
import { CALIBRATION, CALIBRATION_MODEL } from '../engine/onnx/calibration.js';
import { IDENTIFY_DEFAULT_FAR } from '../services/recognition.js';

const DIMS = 512;
const FACES = 6000;
const PROBES = 80;

void describe("a sketched FlatIndex answers identify's decision like exact search (512-D faces shaped like engine v5's)", () => {
  const threshold = thresholdForFar(CALIBRATION, IDENTIFY_DEFAULT_FAR, CALIBRATION_MODEL);
  const gallery = new ClusteredGallery(MOBILEFACENET_512, 23);
  const built = gallery.build(FACES);
  // Few candidates against a gallery 25× larger, so a search the sketches did not narrow well would show.
  const settings = { bits: 512, candidates: 256 };
  const mated = Array.from({ length: PROBES }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
  const strangers = Array.from({ length: PROBES }, (_, p) => gallery.photo(built.people + 1 + p, 0));

  function agree(exact: FlatIndex, sketched: FlatIndex): number {
    let named = 0;
    for (const probe of [...mated, ...strangers]) {
      const truth = exact.searchPeople(probe, 5);
      const answer = sketched.searchPeople(probe, 5);
      assert.equal(identifyDecision(answer, threshold), identifyDecision(truth, threshold));
      assert.equal(answer[0]!.distance, truth[0]!.distance);
      if (identifyDecision(truth, threshold) !== null) named++;
    }
    return named;
  }

  void it('names the same person, or nobody, with the same distance', () => {
    const exact = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() });
    const sketched = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() }, settings);
    assert.deepEqual(sketched.sketch, settings);
    const named = agree(exact, sketched);
    assert.ok(named > PROBES / 2 && named < 2 * PROBES, `${named} named`);
    // Each face is found from its own embedding.
    for (let row = 0; row < FACES; row += 97) {
      const own = built.vectors.subarray(row * DIMS, (row + 1) * DIMS);
      assert.equal(sketched.searchFaces(own, 1)[0]!.faceId, built.faceIds[row]);
    }
  });

  void it('keeps agreeing after faces and people are removed and added (rows move, their sketches with them)', () => {
    const exact = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() });
    const sketched = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() }, settings);
    for (const index of [exact, sketched]) {
      for (let faceId = 1; faceId <= FACES; faceId += 3) index.remove(faceId);
      for (let person = 1; person <= built.people; person += 5) index.removePerson(person);
      // More faces than the first capacity, so the sketches grow too.
      const extra = gallery.build(FACES + 3000);
      for (let row = FACES; row < FACES + 3000; row++) index.add(extra.faceIds[row]!, extra.personIds[row]!, extra.vectors.subarray(row * DIMS, (row + 1) * DIMS));
    }
    assert.equal(sketched.size, exact.size);
    agree(exact, sketched);
  });

  void it('lists the nearest faces like exact search, more of them than its candidates too', () => {
    const exact = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() });
    const sketched = FlatIndex.fromSnapshot({ dimensions: DIMS, ...built, faceIds: built.faceIds.slice() }, settings);
    for (const probe of mated.slice(0, 10)) {
      assert.deepEqual(sketched.searchFaces(probe, 3), exact.searchFaces(probe, 3));
      const many = sketched.searchFaces(probe, 400);
      assert.equal(many.length, 400);
      assert.deepEqual(many[0], exact.searchFaces(probe, 1)[0]);
    }
  });
});
