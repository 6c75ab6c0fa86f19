import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isFacedbError } from '../errors/errors.js';
import { euclideanDistance, squaredEuclidean } from './distance.js';
import { FlatIndex, type PersonMatch } from './flat-index.js';
import { seededRandom as prng } from '../../test/fixtures.js';

interface Entry {
  faceId: number;
  personId: number;
  vector: Float32Array;
}

function randomVector(random: () => number, dims: number): Float32Array {
  return Float32Array.from({ length: dims }, () => random() * 2 - 1);
}

function randomGallery(seed: number, dims: number, faces: number, people: number): Entry[] {
  const random = prng(seed);
  return Array.from({ length: faces }, (_, i) => ({
    faceId: i + 1,
    personId: 1000 + Math.floor(random() * people),
    vector: randomVector(random, dims),
  }));
}

/** The obvious implementation the index must agree with: every face, in float64, then sort. */
function naiveSearch(entries: Iterable<Entry>, query: Float32Array, k: number): PersonMatch[] {
  const best = new Map<number, PersonMatch>();
  for (const { faceId, personId, vector } of entries) {
    let sum = 0;
    for (let j = 0; j < query.length; j++) sum += (query[j]! - vector[j]!) ** 2;
    const distance = Math.sqrt(sum);
    const current = best.get(personId);
    if (current === undefined || distance < current.distance) best.set(personId, { personId, faceId, distance });
  }
  return [...best.values()].sort((a, b) => a.distance - b.distance).slice(0, k);
}

function assertSameMatches(actual: PersonMatch[], expected: PersonMatch[]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((match, i) => {
    const want = expected[i]!;
    assert.ok(Math.abs(match.distance - want.distance) <= 1e-6 * Math.max(1, want.distance), `rank ${i}: ${match.distance} vs ${want.distance}`);
    // Equal distances may come in either order; random data makes exact ties rare.
    if (Math.abs(match.distance - want.distance) > 1e-9) return;
    assert.equal(match.personId, want.personId, `rank ${i} person`);
    assert.equal(match.faceId, want.faceId, `rank ${i} face`);
  });
  for (let i = 1; i < actual.length; i++) assert.ok(actual[i - 1]!.distance <= actual[i]!.distance, 'sorted by distance');
}

function buildIndex(dims: number, entries: Entry[]): FlatIndex {
  const index = new FlatIndex(dims);
  for (const { faceId, personId, vector } of entries) index.add(faceId, personId, vector);
  return index;
}

void describe('FlatIndex', () => {
  for (const dims of [128, 512, 1024, 7]) {
    void it(`finds the same people as a naive search at ${dims}-D`, () => {
      const entries = randomGallery(dims, dims, 2500, 300);
      const index = buildIndex(dims, entries);
      assert.equal(index.size, entries.length);
      const random = prng(dims + 1);
      for (let q = 0; q < 10; q++) {
        const query = randomVector(random, dims);
        for (const k of [1, 5, 50]) assertSameMatches(index.searchPeople(query, k), naiveSearch(entries, query, k));
      }
    });
  }

  void it('returns every person, sorted, when k exceeds the number of people', () => {
    const entries = randomGallery(3, 16, 40, 4);
    const index = buildIndex(16, entries);
    const query = randomVector(prng(4), 16);
    const matches = index.searchPeople(query, 100);
    assert.equal(matches.length, new Set(entries.map((e) => e.personId)).size);
    assertSameMatches(matches, naiveSearch(entries, query, 100));
  });

  void it('stays exact through removals and re-additions', () => {
    const dims = 128;
    const live = new Map(randomGallery(5, dims, 3000, 200).map((e) => [e.faceId, e]));
    const index = buildIndex(dims, [...live.values()]);
    const random = prng(6);
    const check = (): void => {
      assert.equal(index.size, live.size);
      const query = randomVector(random, dims);
      for (const k of [1, 10, 500]) assertSameMatches(index.searchPeople(query, k), naiveSearch(live.values(), query, k));
    };

    for (let i = 0; i < 800; i++) {
      const faceId = 1 + Math.floor(random() * 3000);
      assert.equal(index.remove(faceId), live.delete(faceId));
    }
    check();

    for (const personId of [1000, 1001, 1050, 1199]) {
      const theirs = [...live.values()].filter((e) => e.personId === personId);
      assert.equal(index.removePerson(personId), theirs.length);
      for (const e of theirs) live.delete(e.faceId);
    }
    assert.equal(index.removePerson(1000), 0);
    check();

    // New faces, for new and existing people, reuse the freed rows and person slots.
    for (let i = 0; i < 500; i++) {
      const entry = { faceId: 10_000 + i, personId: 1000 + Math.floor(random() * 260), vector: randomVector(random, dims) };
      index.add(entry.faceId, entry.personId, entry.vector);
      live.set(entry.faceId, entry);
    }
    check();

    for (const faceId of [...live.keys()]) index.remove(faceId);
    assert.equal(index.size, 0);
    assert.deepEqual(index.searchPeople(randomVector(random, dims), 5), []);
  });

  void it('builds from a store snapshot, then grows past it', () => {
    const dims = 64;
    const entries = randomGallery(8, dims, 1500, 100);
    const vectors = new Float32Array(entries.length * dims);
    entries.forEach((e, i) => vectors.set(e.vector, i * dims));
    const index = FlatIndex.fromSnapshot({
      dimensions: dims,
      faceIds: Int32Array.from(entries, (e) => e.faceId),
      personIds: Int32Array.from(entries, (e) => e.personId),
      vectors,
    });
    assert.equal(index.size, entries.length);
    const query = randomVector(prng(9), dims);
    assertSameMatches(index.searchPeople(query, 20), naiveSearch(entries, query, 20));
    // The snapshot's arrays are taken over at their exact size, so this add must grow them.
    const extra = { faceId: 99_999, personId: 1, vector: randomVector(prng(10), dims) };
    index.add(extra.faceId, extra.personId, extra.vector);
    index.remove(entries[0]!.faceId);
    const live = [...entries.slice(1), extra];
    assert.equal(index.size, live.length);
    assertSameMatches(index.searchPeople(query, 20), naiveSearch(live, query, 20));
    assertSameMatches(index.searchPeople(extra.vector, 3), naiveSearch(live, extra.vector, 3));
  });

  void it('finds an enrolled vector at distance ~0 and reports the matching face', () => {
    const entries = randomGallery(11, 128, 500, 50);
    const index = buildIndex(128, entries);
    const target = entries[123]!;
    const [top] = index.searchPeople(target.vector, 1);
    assert.ok(top);
    assert.equal(top.faceId, target.faceId);
    assert.equal(top.personId, target.personId);
    assert.ok(top.distance < 1e-6, `distance ${top.distance}`);
  });

  void it('refuses wrong dimensions, duplicate faces and bad arguments', () => {
    const index = new FlatIndex(4);
    index.add(1, 1, Float32Array.of(1, 2, 3, 4));
    const refuses = (action: () => unknown): void => {
      assert.throws(action, (error: unknown) => isFacedbError(error) && error.code === 'invalid_input');
    };
    refuses(() => index.add(2, 1, new Float32Array(5)));
    refuses(() => index.add(1, 2, new Float32Array(4)));
    refuses(() => index.add(2 ** 31, 2, new Float32Array(4)));
    refuses(() => index.searchPeople(new Float32Array(3), 1));
    refuses(() => index.searchPeople(Float32Array.of(0, Number.NaN, 0, 0), 1));
    refuses(() => index.add(3, 1, Float32Array.of(0, 0, Number.POSITIVE_INFINITY, 0)));
    refuses(() => index.searchPeople(new Float32Array(4), -1));
    refuses(() => new FlatIndex(0));
    refuses(() =>
      FlatIndex.fromSnapshot({ dimensions: 4, faceIds: Int32Array.of(1, 1), personIds: Int32Array.of(1, 1), vectors: new Float32Array(8) }),
    );
    refuses(() =>
      FlatIndex.fromSnapshot({ dimensions: 4, faceIds: Int32Array.of(1), personIds: Int32Array.of(1), vectors: new Float32Array(3) }),
    );
    assert.equal(index.remove(42), false);
    assert.deepEqual(index.searchPeople(new Float32Array(4), 0), []);
    assert.equal(index.size, 1);
  });
});

void describe('distance kernels', () => {
  void it('agree with the textbook formulas for every remainder of the unrolled loop', () => {
    const random = prng(12);
    for (const dims of [1, 2, 3, 4, 5, 127, 128, 129]) {
      const a = randomVector(random, dims);
      const b = randomVector(random, dims);
      let sum = 0;
      for (let j = 0; j < dims; j++) sum += (a[j]! - b[j]!) ** 2;
      assert.ok(Math.abs(squaredEuclidean(a, b) - sum) < 1e-9);
      assert.ok(Math.abs(euclideanDistance(a, b) - Math.sqrt(sum)) < 1e-9);
    }
  });
});
