import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusteredGallery, shapeForDimensions } from '../../test/clustered-embeddings.js';
import { FlatIndex } from '../core/flat-index.js';
import { isFacedbError } from '../errors/errors.js';
import { annOptionsFor } from './ann-index.js';
import { buildAnnIndexInWorker } from './build-in-worker.js';

void describe('building the ANN index in a worker thread', () => {
  const dimensions = 128;
  const gallery = new ClusteredGallery(shapeForDimensions(dimensions), 3);

  void it('gives an index with every face and person, answering as exact search does', async () => {
    const built = gallery.build(2000);
    const exact = FlatIndex.fromSnapshot({ dimensions, faceIds: built.faceIds.slice(), personIds: built.personIds.slice(), vectors: built.vectors.slice() });
    const probes = Array.from({ length: 50 }, (_, p) => gallery.probe(1 + ((p * 7919) % built.people), p));
    const ann = await buildAnnIndexInWorker(dimensions, built, annOptionsFor(dimensions));
    assert.equal(built.vectors.length, 0, 'the vectors moved to the worker instead of being copied');
    assert.equal(ann.size, 2000);
    assert.equal(ann.people, built.people);
    let same = 0;
    for (const probe of probes) if (ann.searchPeople(probe, 1)[0]?.personId === exact.searchPeople(probe, 1)[0]?.personId) same += 1;
    assert.ok(same >= 49, `nearest person agrees with exact search for ${same} of 50 probes`);
  });

  void it('keeps the event loop turning while the graph is built', async () => {
    const built = gallery.build(40_000);
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 5);
    try {
      await buildAnnIndexInWorker(dimensions, built, annOptionsFor(dimensions));
    } finally {
      clearInterval(timer);
    }
    // Built on the main thread, the native call would hold the loop for the whole build: no tick at all.
    assert.ok(ticks >= 5, `${ticks} timer ticks during the build`);
  });

  void it('copies a view into a larger buffer instead of detaching that buffer, and reports bad input as typed errors', async () => {
    const built = gallery.build(100);
    const backing = new Float32Array(built.vectors.length + dimensions);
    backing.set(built.vectors, dimensions);
    const view = backing.subarray(dimensions);
    const ann = await buildAnnIndexInWorker(dimensions, { faceIds: built.faceIds, personIds: built.personIds, vectors: view }, annOptionsFor(dimensions));
    assert.equal(ann.size, 100);
    assert.equal(backing.length, built.vectors.length + dimensions, 'the caller’s buffer is intact');
    const broken = { faceIds: built.faceIds, personIds: built.personIds, vectors: built.vectors.slice(0, dimensions * 50) };
    await assert.rejects(buildAnnIndexInWorker(dimensions, broken, annOptionsFor(dimensions)), (error: unknown) => isFacedbError(error) && error.code === 'invalid_input');
  });
});
