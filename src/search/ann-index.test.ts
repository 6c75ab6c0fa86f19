import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusteredGallery, shapeForDimensions } from '../../test/clustered-embeddings.js';
import { tempDir } from '../../test/fixtures.js';
import { FlatIndex } from '../core/flat-index.js';
import type { ModelInfo } from '../core/types.js';
import { isFacedbError } from '../errors/errors.js';
import { AnnIndex, annOptionsFor, DEFAULT_ANN_OPTIONS } from './ann-index.js';
import { indexFiles, loadIndex, saveIndex } from './index-file.js';

const FACES = 3000;
const PROBES = 100;
const K = 10;

function recallAt(
  exact: FlatIndex,
  ann: AnnIndex,
  gallery: ClusteredGallery,
  built: { vectors: Float32Array; people: number },
): { recall: number; worstGap: number } {
  const dims = gallery.shape.dimensions;
  let found = 0;
  let wanted = 0;
  let worstGap = 0;
  for (let p = 0; p < PROBES; p++) {
    const query = gallery.probe(1 + ((p * 7919) % built.people), p);
    const truth = exact.searchPeople(query, K);
    const approx = ann.searchPeople(query, K);
    const approxPeople = new Set(approx.map((m) => m.personId));
    wanted += truth.length;
    found += truth.filter((m) => approxPeople.has(m.personId)).length;
    for (const match of approx) {
      // Face ids are rows + 1 in ClusteredGallery.build.
      const row = built.vectors.subarray((match.faceId - 1) * dims, match.faceId * dims);
      let sum = 0;
      for (let d = 0; d < dims; d++) sum += (query[d]! - row[d]!) ** 2;
      worstGap = Math.max(worstGap, Math.abs(Math.sqrt(sum) - match.distance));
    }
  }
  return { recall: found / wanted, worstGap };
}

for (const dimensions of [128, 512]) {
  void describe(`AnnIndex, ${dimensions}-D clustered faces`, () => {
    const gallery = new ClusteredGallery(shapeForDimensions(dimensions), dimensions);
    const built = gallery.build(FACES);

    void it('finds the same top-10 people as exact search (recall ≥ 0.98) at distances within 0.005', () => {
      const exact = FlatIndex.fromSnapshot({ dimensions, ...built, faceIds: built.faceIds.slice() });
      const ann = AnnIndex.build(dimensions, built, annOptionsFor(dimensions));
      assert.equal(ann.size, FACES);
      assert.equal(ann.people, built.people);
      const { recall, worstGap } = recallAt(exact, ann, gallery, built);
      assert.ok(recall >= 0.98, `recall@10 ${recall}`);
      assert.ok(worstGap < 0.005, `distance off by ${worstGap}`);
    });

    void it('adds, removes faces and people; removed faces are never returned', () => {
      const ann = AnnIndex.build(dimensions, built);
      const query = gallery.probe(5);
      const [first] = ann.searchPeople(query, 1);
      assert.equal(first?.personId, 5);
      const faces = built.personIds.filter((p) => p === 5).length;
      assert.equal(ann.removePerson(5), faces);
      assert.equal(ann.size, FACES - faces);
      assert.equal(ann.removePerson(5), 0);
      for (const match of ann.searchPeople(query, 50)) assert.notEqual(match.personId, 5);

      // One face of person 6 removed: their other faces may still answer, that one never.
      const sixes = [...built.faceIds].filter((_, row) => built.personIds[row] === 6);
      const query6 = gallery.photo(6, 0);
      assert.equal(ann.searchPeople(query6, 1)[0]?.faceId, sixes[0]);
      assert.equal(ann.remove(sixes[0]!), true);
      assert.equal(ann.has(sixes[0]!), false);
      assert.equal(ann.remove(sixes[0]!), false);
      for (const match of ann.searchPeople(query6, 50)) assert.notEqual(match.faceId, sixes[0]);

      // Added back under a new id and another person: found at once.
      ann.add(FACES + 10, 99_999, query6);
      assert.deepEqual(ann.searchPeople(query6, 1)[0], { personId: 99_999, faceId: FACES + 10, distance: 0 });
      assert.equal(ann.has(FACES + 10), true);
    });

    void it('refuses duplicate faces, bad ids and bad vectors, changing nothing', () => {
      const ann = new AnnIndex(dimensions);
      const vector = gallery.photo(1, 0);
      ann.add(1, 1, vector);
      const refused = (work: () => void): void => assert.throws(work, (error) => isFacedbError(error) && error.code === 'invalid_input');
      refused(() => ann.add(1, 2, vector));
      refused(() => ann.add(-1, 2, vector));
      refused(() => ann.add(2.5, 2, vector));
      refused(() => ann.add(2, 2, vector.subarray(1)));
      const nan = vector.slice();
      nan[3] = Number.NaN;
      refused(() => ann.add(2, 2, nan));
      refused(() => ann.searchPeople(nan, 1));
      refused(() => ann.searchPeople(vector, -1));
      assert.equal(ann.size, 1);
      assert.deepEqual(ann.searchPeople(vector, 0), []);
      assert.equal(ann.searchPeople(vector, 5).length, 1);
    });
  });
}

void describe('saved ANN index files', () => {
  const dimensions = 128;
  const model: ModelInfo = { id: 'ann-test', version: '1', dimensions, metric: 'euclidean', defaultThreshold: 0.4 };
  const gallery = new ClusteredGallery(shapeForDimensions(dimensions), 3);
  const built = gallery.build(2000);
  const expected = { model, options: DEFAULT_ANN_OPTIONS, gallery: 'gallery-a' };

  async function saved(): Promise<{ base: string; ann: AnnIndex }> {
    const base = join(await tempDir(), 'gallery.sqlite.ann-test@1');
    const ann = AnnIndex.build(dimensions, built);
    ann.removePerson(2);
    await saveIndex(base, ann, { model, gallery: 'gallery-a', changeSeq: 41 });
    return { base, ann };
  }

  void it('reload gives the same answers, the same faces and the stamped change number', async () => {
    const { base, ann } = await saved();
    const loaded = await loadIndex(base, expected);
    assert.ok(!('rejected' in loaded), JSON.stringify(loaded));
    assert.equal(loaded.changeSeq, 41);
    assert.equal(loaded.index.size, ann.size);
    assert.deepEqual(loaded.index.faces(), ann.faces());
    for (let person = 1; person <= 20; person++) {
      const query = gallery.probe(person);
      assert.deepEqual(loaded.index.searchPeople(query, 10), ann.searchPeople(query, 10));
    }
    assert.equal(loaded.index.has(built.faceIds[built.personIds.indexOf(2)]!), false);
  });

  void it('moves a graph file its build wrote into place instead of writing it again, and removes it when the save fails', async () => {
    const dir = await tempDir();
    const base = join(dir, 'gallery.sqlite.ann-test@1');
    const ann = AnnIndex.build(dimensions, built);
    const builtGraph = `${base}.graph.build-test`;
    ann.saveGraph(builtGraph);
    const builtInode = (await stat(builtGraph)).ino;
    await saveIndex(base, ann, { model, gallery: 'gallery-a', changeSeq: 7 }, builtGraph);
    assert.equal((await stat(indexFiles(base).graph)).ino, builtInode, 'the saved graph is the built file, moved, not written again');
    assert.equal(await stat(builtGraph).catch(() => null), null);
    const loaded = await loadIndex(base, expected);
    assert.ok(!('rejected' in loaded), JSON.stringify(loaded));
    for (let person = 1; person <= 10; person++) assert.deepEqual(loaded.index.searchPeople(gallery.probe(person), 10), ann.searchPeople(gallery.probe(person), 10));

    const orphan = join(dir, 'orphan.graph.build-test');
    ann.saveGraph(orphan);
    await assert.rejects(saveIndex(join(dir, 'no-such-folder', 'g.ann'), ann, { model, gallery: 'gallery-a', changeSeq: 8 }, orphan));
    assert.equal(await stat(orphan).catch(() => null), null, 'a failed save leaves no built graph behind');
  });

  void it('rejects a stamp for another gallery, model or settings, and changed or missing files', async () => {
    const { base } = await saved();
    const files = indexFiles(base);
    assert.deepEqual(await loadIndex(base, { ...expected, gallery: 'gallery-b' }), { rejected: 'another gallery' });
    assert.deepEqual(await loadIndex(base, { ...expected, model: { ...model, version: '2' } }), { rejected: 'another model' });
    assert.deepEqual(await loadIndex(base, { ...expected, options: { ...DEFAULT_ANN_OPTIONS, precision: 'f32' } }), {
      rejected: 'other index settings',
    });
    const widerSearch = await loadIndex(base, { ...expected, options: { ...DEFAULT_ANN_OPTIONS, expansionSearch: 512 } });
    assert.ok(!('rejected' in widerSearch) && widerSearch.index.options.expansionSearch === 512, 'ef_search is chosen at load');

    const graph = await readFile(files.graph);
    const changed = Buffer.from(graph);
    changed[changed.length >> 1]! ^= 0xff; // same size, one byte changed
    await writeFile(files.graph, changed);
    assert.deepEqual(await loadIndex(base, expected), { rejected: 'graph file changed since it was saved' });
    await writeFile(files.graph, graph);
    assert.ok(!('rejected' in (await loadIndex(base, expected))));

    await writeFile(files.faces, (await readFile(files.faces)).subarray(8));
    assert.deepEqual(await loadIndex(base, expected), { rejected: 'faces file missing or of the wrong size' });

    await writeFile(files.stamp, '{ not json');
    assert.deepEqual(await loadIndex(base, expected), { rejected: 'unreadable stamp' });
    assert.deepEqual(await loadIndex(join(await tempDir(), 'none'), expected), { rejected: 'no saved index' });
  });
});
