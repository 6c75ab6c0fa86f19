import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../test/fixtures.js';
import { FaceTracker, intersectionOverUnion } from './tracking.js';
import { frontality, TrackSummary, type Sighting } from './track-summary.js';

const DIMS = 16;

function unit(vector: Float32Array): Float32Array {
  const norm = Math.hypot(...vector);
  return vector.map((v) => v / norm);
}

/** A person's appearance: a random unit direction; each sighting is that direction with a little noise. */
function person(seed: number): (noiseSeed: number) => Float32Array {
  const random = seededRandom(seed);
  const centre = unit(Float32Array.from({ length: DIMS }, () => random() * 2 - 1));
  return (noiseSeed) => {
    const noise = seededRandom(noiseSeed);
    return unit(centre.map((v) => v + (noise() - 0.5) * 0.1));
  };
}

const options = { sameFaceDistance: 0.8, maxMissedMs: 500, minHits: 2 };

describe('FaceTracker', () => {
  it('follows one face across the picture as one track, and ends it after it leaves', () => {
    const alice = person(1);
    const tracker = new FaceTracker(options);
    const ids = new Set<number>();
    for (let frame = 0; frame < 20; frame++) {
      const update = tracker.update(frame * 100, [{ box: { x: 20 + frame * 25, y: 100, width: 80, height: 100 }, embedding: alice(frame) }]);
      ids.add(update.assignments[0]!);
      if (frame === 1) assert.deepEqual(update.confirmed, [update.assignments[0]]);
      assert.deepEqual(update.ended, []);
    }
    assert.equal(ids.size, 1);
    assert.deepEqual(tracker.update(2000, []).ended.length, 0, 'still within maxMissedMs of the last sighting');
    const ended = tracker.update(2500, []).ended;
    assert.equal(ended.length, 1);
    assert.equal(ended[0]!.hits, 20);
  });

  it('keeps two faces that cross each other on their own tracks (the embedding decides)', () => {
    const alice = person(1);
    const bob = person(2);
    const tracker = new FaceTracker(options);
    const trackOf = { alice: new Set<number>(), bob: new Set<number>() };
    for (let frame = 0; frame < 15; frame++) {
      // Alice walks right, Bob walks left; their boxes overlap in the middle frames.
      const update = tracker.update(frame * 100, [
        { box: { x: 20 + frame * 30, y: 100, width: 80, height: 100 }, embedding: alice(100 + frame) },
        { box: { x: 440 - frame * 30, y: 110, width: 80, height: 100 }, embedding: bob(200 + frame) },
      ]);
      trackOf.alice.add(update.assignments[0]!);
      trackOf.bob.add(update.assignments[1]!);
    }
    assert.equal(trackOf.alice.size, 1);
    assert.equal(trackOf.bob.size, 1);
    assert.notDeepEqual([...trackOf.alice], [...trackOf.bob]);
  });

  it('takes a face back onto its track after a few missed frames, even where it reappears', () => {
    const alice = person(3);
    const tracker = new FaceTracker(options);
    const first = tracker.update(0, [{ box: { x: 10, y: 10, width: 80, height: 80 }, embedding: alice(1) }]).assignments[0];
    tracker.update(100, [{ box: { x: 20, y: 10, width: 80, height: 80 }, embedding: alice(2) }]);
    tracker.update(200, []);
    tracker.update(300, []);
    const back = tracker.update(400, [{ box: { x: 400, y: 300, width: 80, height: 80 }, embedding: alice(3) }]).assignments[0];
    assert.equal(back, first);
  });

  it('never reports a one-frame detection, and starts a new track for a new person', () => {
    const alice = person(4);
    const bob = person(5);
    const tracker = new FaceTracker(options);
    const a = tracker.update(0, [{ box: { x: 10, y: 10, width: 80, height: 80 }, embedding: alice(1) }]);
    assert.deepEqual(a.confirmed, []);
    const b = tracker.update(100, [{ box: { x: 15, y: 10, width: 80, height: 80 }, embedding: bob(1) }]);
    assert.notEqual(b.assignments[0], a.assignments[0], 'a different face at the same place is not the same track');
    const ended = tracker.update(1000, []).ended;
    assert.deepEqual(ended, [], 'unconfirmed tracks end silently');
    assert.equal(tracker.tracks.length, 0);
  });

  it('finish() ends the live confirmed tracks', () => {
    const alice = person(6);
    const tracker = new FaceTracker(options);
    tracker.update(0, [{ box: { x: 10, y: 10, width: 80, height: 80 }, embedding: alice(1) }]);
    tracker.update(100, [{ box: { x: 12, y: 10, width: 80, height: 80 }, embedding: alice(2) }]);
    assert.equal(tracker.finish().length, 1);
    assert.equal(tracker.tracks.length, 0);
  });

  it('intersectionOverUnion', () => {
    assert.equal(intersectionOverUnion({ x: 0, y: 0, width: 10, height: 10 }, { x: 0, y: 0, width: 10, height: 10 }), 1);
    assert.equal(intersectionOverUnion({ x: 0, y: 0, width: 10, height: 10 }, { x: 20, y: 0, width: 10, height: 10 }), 0);
    assert.equal(intersectionOverUnion({ x: 0, y: 0, width: 10, height: 10 }, { x: 5, y: 0, width: 10, height: 10 }), 50 / 150);
  });
});

describe('TrackSummary', () => {
  const sighting = (over: Partial<Sighting>): Sighting => ({
    frame: 0,
    timeMs: 0,
    box: { x: 0, y: 0, width: 100, height: 100 },
    detectionScore: 0.9,
    landmarks: [],
    sharpness: 100,
    embedding: Float32Array.from([1, 0]),
    ...over,
  });

  it('identifies by the best sightings: small, blurred and turned faces get little say', () => {
    const summary = new TrackSummary();
    summary.add(sighting({ frame: 1, embedding: Float32Array.from([1, 0]) }));
    // Worse sightings pointing elsewhere: blurred, tiny, turned (landmarks all on one side).
    summary.add(sighting({ frame: 2, sharpness: 1, embedding: Float32Array.from([0, 1]) }));
    summary.add(sighting({ frame: 3, box: { x: 0, y: 0, width: 10, height: 10 }, embedding: Float32Array.from([0, 1]) }));
    summary.add(sighting({ frame: 4, landmarks: [[95, 50], [99, 40]], embedding: Float32Array.from([0, 1]) }));
    const embedding = summary.embedding()!;
    assert.ok(embedding[0]! > 0.95, `the good sighting dominates: ${Array.from(embedding).join(', ')}`);
    assert.equal(summary.best?.frame, 1);
    assert.equal(summary.sightings, 4);
  });

  it('keeps a bounded number of sightings', () => {
    const summary = new TrackSummary();
    for (let i = 0; i < 100; i++) summary.add(sighting({ frame: i, detectionScore: i / 100 }));
    assert.equal(summary.best?.frame, 99);
    assert.equal(summary.sightings, 100);
  });

  it('summarises emotion over time as mean scores and runs', () => {
    const summary = new TrackSummary();
    const happy = { angry: 0, disgust: 0, fear: 0, happy: 0.9, sad: 0, surprise: 0, neutral: 0.1 };
    const neutral = { angry: 0, disgust: 0, fear: 0, happy: 0.2, sad: 0, surprise: 0, neutral: 0.8 };
    summary.add(sighting({ timeMs: 0, emotion: happy }));
    summary.add(sighting({ timeMs: 100, emotion: happy }));
    summary.add(sighting({ timeMs: 200, emotion: neutral }));
    const emotion = summary.emotion()!;
    assert.equal(emotion.dominant, 'happy');
    assert.deepEqual(emotion.timeline, [
      { emotion: 'happy', fromMs: 0, toMs: 100 },
      { emotion: 'neutral', fromMs: 200, toMs: 200 },
    ]);
    assert.equal(new TrackSummary().emotion(), undefined);
  });

  it('frontality: 1 for centred landmarks, lower as they shift to one side', () => {
    const box = { x: 0, y: 0, width: 100, height: 100 };
    assert.equal(frontality(box, [[40, 40], [60, 40], [50, 60]]), 1);
    assert.ok(frontality(box, [[70, 40], [90, 40], [80, 60]]) < 0.5);
    assert.equal(frontality(box, []), 1);
  });
});
