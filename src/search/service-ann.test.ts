import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copyLfwPeople, lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { openFacedb } from '../facedb.js';
import { scanLfwLayout } from '../image/scan.js';
import type { FaceService } from '../services/face-service.js';
import { indexFiles } from './index-file.js';
import { indexPath } from './open-index.js';

/*
 * The service with FACEDB_INDEX=ann on a gallery of real LFW faces: it must answer as the exact index does, forget
 * removed people, save the index beside the SQLite file, load it at the next start instead of rebuilding it, and
 * rebuild it when the file was tampered with.
 */
describe('FaceService with the HNSW index (FACEDB_INDEX=ann), real faces, real SQLite file', () => {
  let service: FaceService;
  let galleryRoot: string;
  let db: string;
  let files: ReturnType<typeof indexFiles>;
  const open = (): Promise<FaceService> => openFacedb({ db, workers: 1, index: 'ann' });
  const stampedAt = async (): Promise<string> => (JSON.parse(await readFile(files.stamp, 'utf8')) as { savedAt: string }).savedAt;
  const topPerson = async (photo: string): Promise<string | undefined> =>
    (await service.identify({ path: photo })).faces[0]?.candidates[0]?.person;

  before(async () => {
    galleryRoot = await copyLfwPeople((person) => /^Bo[nr]/.test(person)); // 18 photos of 9 people
    db = join(await tempDir(), 'gallery.sqlite');
    service = await openFacedb({ db, workers: 1, index: 'exact' });
  });
  after(async () => {
    await service.close();
  });

  it('builds the HNSW index over an enrolled gallery, saves it, and identifies as before', async () => {
    const summary = await service.enroll(await scanLfwLayout(galleryRoot));
    assert.ok(summary.counts.enrolled + summary.counts.enrolled_one_of_several >= 16);
    const model = (await service.store.getModel())!;
    files = indexFiles(indexPath({ db }, model)!);
    await assert.rejects(stat(files.stamp), 'nothing saved while the index is exact');
    await service.close();
    service = await open();
    const result = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.equal(result.faces[0]?.match?.person, 'Bono');
    assert.equal(result.faces[0]?.match?.distance, 0);
    assert.equal(await topPerson(lfwPhoto('Boris_Becker', 2)), 'Boris Becker');
    const stamp = JSON.parse(await readFile(files.stamp, 'utf8')) as { faces: number; model: { id: string } };
    assert.equal(stamp.faces, await service.store.countFaces());
    assert.equal(stamp.model.id, model.id);
  });

  it('never returns a removed person', async () => {
    await service.removePerson('Bono');
    const result = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.ok(result.faces[0]?.candidates.every((c) => c.person !== 'Bono'));
    assert.notEqual(result.faces[0]?.match?.person, 'Bono');
  });

  it('loads the saved index at the next start, catching up with changes made meanwhile', async () => {
    await service.close();
    // Another process enrolls while no server runs: the change log brings the saved index up to date.
    const other = await openFacedb({ db, index: 'exact' });
    const added = await other.enrollImage('Bono Again', { path: testImage('Bono_0001.jpg') });
    assert.equal(added.status, 'enrolled');
    await other.close();
    const savedAt = await stampedAt();
    service = await open();
    assert.equal(await topPerson(lfwPhoto('Boris_Becker', 3)), 'Boris Becker');
    const again = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.equal(again.faces[0]?.match?.person, 'Bono Again');
    assert.ok(again.faces[0]?.candidates.every((c) => c.person !== 'Bono'));
    await service.close();
    // Not rebuilt: a rebuild saves a new stamp. Closing re-saves only because the catch-up moved the change number.
    const restamped = JSON.parse(await readFile(files.stamp, 'utf8')) as { savedAt: string; faces: number };
    assert.notEqual(restamped.savedAt, savedAt);
    const unchanged = await stampedAt();
    service = await open();
    assert.equal(await topPerson(lfwPhoto('Boris_Becker', 1)), 'Boris Becker');
    await service.close();
    assert.equal(await stampedAt(), unchanged, 'an index loaded and unchanged is not written again');
    service = await open();
  });

  it('deletes the saved index when a process that has not loaded it removes a person, and rebuilds it without them', async () => {
    await service.close();
    // The saved graph would still hold the removed faces' embeddings (usearch only marks a removed node): it goes.
    const other = await openFacedb({ db, index: 'exact' });
    await other.removePerson('Boris Yeltsin');
    await other.close();
    await assert.rejects(stat(files.stamp));
    await assert.rejects(stat(files.graph));
    service = await open();
    assert.equal(await topPerson(lfwPhoto('Boris_Becker', 3)), 'Boris Becker');
    const yeltsin = await service.identify({ path: lfwPhoto('Boris_Yeltsin', 1) });
    assert.ok(yeltsin.faces[0]?.candidates.every((c) => c.person !== 'Boris Yeltsin' && c.person !== 'Bono'));
    await service.close();
    const stamp = JSON.parse(await readFile(files.stamp, 'utf8')) as { faces: number };
    service = await open();
    assert.equal(stamp.faces, await service.store.countFaces());
  });

  it('rebuilds a tampered index and still answers correctly', async () => {
    await service.close();
    const graph = await readFile(files.graph);
    graph[graph.length >> 1]! ^= 0x5a;
    await writeFile(files.graph, graph);
    const tampered = await stampedAt();
    service = await open();
    assert.equal(await topPerson(lfwPhoto('Boris_Becker', 4)), 'Boris Becker');
    assert.notEqual(await stampedAt(), tampered, 'rebuilt and saved again');
    const yeltsin = await service.identify({ path: lfwPhoto('Boris_Yeltsin', 2) });
    assert.ok(yeltsin.faces[0]?.candidates.every((c) => c.person !== 'Boris Yeltsin'));
  });
});

/*
 * FACEDB_INDEX=auto (the default) with the threshold set so low that a handful of real LFW faces pass it: the
 * service moves from exact search to the sketch search, answers as before, forgets removed people and saves nothing.
 * (src/search/sketch-decision.test.ts checks the sketch search's answers on galleries larger than its candidates.)
 */
describe('FaceService moving to the sketch search (auto, threshold 5 faces), real faces, real SQLite file', () => {
  let service: FaceService;
  let db: string;
  const savedFiles = async (): Promise<string[]> => (await readdir(dirname(db))).filter((file) => file.includes('.ann-'));

  before(async () => {
    const galleryRoot = await copyLfwPeople((person) => /^Bo[nr]/.test(person));
    db = join(await tempDir(), 'gallery.sqlite');
    service = await openFacedb({ db, workers: 1, index: 'auto', annThreshold: 5 });
    await service.enroll(await scanLfwLayout(galleryRoot));
  });
  after(async () => {
    await service.close();
  });

  it('identifies as exact search does once the gallery passes the threshold, and saves nothing', async () => {
    const result = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.equal(result.faces[0]?.match?.person, 'Bono');
    assert.equal(result.faces[0]?.match?.distance, 0);
    const becker = await service.identify({ path: lfwPhoto('Boris_Becker', 2) });
    assert.equal(becker.faces[0]?.candidates[0]?.person, 'Boris Becker');
    const exact = await openFacedb({ db, index: 'exact' });
    try {
      const truth = await exact.identify({ path: lfwPhoto('Boris_Becker', 2) });
      assert.deepEqual(becker.faces[0]?.candidates, truth.faces[0]?.candidates);
    } finally {
      await exact.close();
    }
    assert.deepEqual(await savedFiles(), []);
  });

  it('never returns a removed person, nor one another process removed', async () => {
    await service.removePerson('Bono');
    const other = await openFacedb({ db, index: 'exact' });
    await other.removePerson('Boris Yeltsin');
    await other.close();
    const bono = await service.identify({ path: testImage('Bono_0001.jpg') });
    assert.ok(bono.faces[0]?.candidates.every((c) => c.person !== 'Bono'));
    const yeltsin = await service.identify({ path: lfwPhoto('Boris_Yeltsin', 1) });
    assert.ok(yeltsin.faces[0]?.candidates.every((c) => c.person !== 'Boris Yeltsin'));
    assert.deepEqual(await savedFiles(), []);
  });
});
