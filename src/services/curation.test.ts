import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { fakeEngine } from '../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { galleryDigest } from '../../test/gallery-digest.js';
import { isFacedbError, type ErrorCode } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from './face-service.js';

/**
 * Curation through the services, with the fake engine (which recognises the very same picture only: a lossless
 * copy of a photo is "the same face", any other photo someone else) on a real SQLite file. A second FaceService on
 * the same file stands for another process.
 */
async function refused(service: FaceService, work: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  const before = await galleryDigest(service.store);
  await assert.rejects(work(), (error: unknown) => isFacedbError(error) && error.code === code);
  assert.equal(await galleryDigest(service.store), before, `a refused change (${code}) changed nothing`);
}

void describe('CurationService', () => {
  let faces: FaceService;
  let other: FaceService;
  let dir: string;
  const ada = lfwPhoto('Britney_Spears', 1);
  const bob = lfwPhoto('Bill_Clinton', 1);
  let adaCopy: string;
  let stranger: string;

  before(async () => {
    dir = await tempDir('facedb-curation-');
    const engine = await fakeEngine();
    const db = join(dir, 'gallery.sqlite');
    faces = await openFacedb({ db, engine, workers: 1 });
    other = await openFacedb({ db, engine, workers: 1 });
    // The same pixels under other bytes: another photo to the gallery, the same face to the engine.
    adaCopy = join(dir, 'ada-copy.png');
    await sharp(await readFile(ada)).png().toFile(adaCopy);
    stranger = lfwPhoto('Andre_Agassi', 2);
    await faces.enroll([{ path: ada, person: 'Ada' }, { path: bob, person: 'Bob' }]);
    await faces.clusters.enroll([adaCopy, stranger]);
  });
  after(async () => {
    await other.close();
    await faces.close();
  });

  const clusterOf = async (path: string): Promise<number> => {
    const unnamed = await faces.faces({ unnamed: true }, { limit: 100 });
    const face = unnamed.items.find((f) => f.sourcePath === path);
    assert.ok(face?.clusterId, `a cluster for ${path}`);
    return face.clusterId;
  };

  void it('lists faces as objects, by person, cluster or unnamed, in pages', async () => {
    const all = await faces.faces({}, { limit: 3 });
    assert.equal(all.items.length, 3);
    assert.ok(all.nextCursor);
    const rest = await faces.faces({}, { limit: 3, cursor: all.nextCursor });
    assert.deepEqual([rest.items.length, rest.nextCursor], [1, null]);
    const ofAda = await faces.faces({ person: 'Ada' }, { limit: 10 });
    assert.deepEqual(ofAda.items.map((f) => [f.personName, f.sourcePath]), [['Ada', ada]]);
    const cluster = await clusterOf(stranger);
    assert.deepEqual((await faces.faces({ cluster }, { limit: 10 })).items.map((f) => f.sourcePath), [stranger]);
    await refused(faces, () => faces.faces({ person: 'Nobody' }, { limit: 10 }), 'not_found');
    await refused(faces, () => faces.faces({}, { limit: 10, cursor: 'x' }), 'invalid_input');
  });

  void it("suggests the person a cluster is near, with identify's threshold, and names it only where it fits", async () => {
    const listing = await faces.clusters.listClusters({ limit: 10, offset: 0 });
    const near = listing.items.find((c) => c.samples.some((s) => s.sourcePath === adaCopy));
    const far = listing.items.find((c) => c.samples.some((s) => s.sourcePath === stranger));
    assert.equal(near?.suggestion?.person.name, 'Ada');
    assert.ok(near.suggestion.distance < 0.05, String(near.suggestion.distance));
    assert.equal(far?.suggestion, null);
    // Into Ada, far from her: refused, saying why; --force overrides.
    await refused(faces, () => faces.clusters.nameCluster(far.id, 'Ada'), 'conflict');
    await assert.rejects(faces.clusters.nameCluster(far.id, 'Ada'), /far from "Ada"/);
    // Rejected: no more suggestion, and naming it so needs force.
    await faces.rejectCluster(near.id, 'Ada');
    const after = await faces.clusters.listClusters({ limit: 10, offset: 0 });
    assert.equal(after.items.find((c) => c.id === near.id)?.suggestion, null);
    await assert.rejects(faces.clusters.nameCluster(near.id, 'Ada'), /marked as not "Ada"/);
    const named = await faces.clusters.nameCluster(far.id, 'Andre', {});
    assert.equal(named.facesNamed, 1);
  });

  void it("moves a face to another person: this process's and another's identify follow at once", async () => {
    assert.equal((await other.identify({ path: ada })).faces[0]?.match?.person, 'Ada');
    const [face] = (await faces.faces({ person: 'Ada' }, { limit: 1 })).items;
    const moved = await faces.moveFaces([face!.id], 'Zoe');
    assert.deepEqual([moved.created, moved.moved], [true, 1]);
    assert.equal((await faces.identify({ path: ada })).faces[0]?.match?.person, 'Zoe');
    assert.equal((await other.identify({ path: ada })).faces[0]?.match?.person, 'Zoe');
    // A rename in one process reaches the names the other answers with.
    await faces.renamePerson('Zoe', 'Zoë Lovelace');
    assert.equal((await other.identify({ path: ada })).faces[0]?.match?.person, 'Zoë Lovelace');
    await faces.moveFaces([face!.id], 'Ada');
  });

  void it('unassigns a face for good: out of identify, never named back into the person by itself', async () => {
    const [face] = (await faces.faces({ person: 'Bob' }, { limit: 1 })).items;
    assert.deepEqual(await faces.unassignFaces([face!.id]), { unassigned: 1 });
    assert.equal((await other.identify({ path: bob })).faces[0]?.match, null);
    await faces.clusters.cluster({ full: true });
    const cluster = (await faces.store.getStoredFaces([face!.id]))[0]!.clusterId;
    assert.ok(cluster !== null, 'an unnamed face in a cluster of its own');
    const named = await faces.clusters.nameCluster(cluster, 'Bob', { force: true });
    assert.equal(named.facesNamed, 0, 'the face taken from Bob stays out of him');
  });

  void it('refuses bad corrections with a clear error, changing nothing', async () => {
    const [adaFace] = (await faces.faces({ person: 'Ada' }, { limit: 1 })).items;
    await refused(faces, () => faces.moveFaces([999_999], 'Ada'), 'not_found');
    await refused(faces, () => faces.moveFaces([adaFace!.id], 'Ada'), 'conflict');
    await refused(faces, () => faces.unassignFaces([999_999]), 'not_found');
    await refused(faces, () => faces.mergePeople('Ada', 'Ada'), 'conflict');
    await refused(faces, () => faces.mergePeople('Ada', 'Nobody'), 'not_found');
    await refused(faces, () => faces.renamePerson('Ada', 'Andre'), 'conflict');
    await refused(faces, () => faces.renamePerson('Ada', 'ANDRE'), 'conflict');
    await refused(faces, () => faces.renamePerson(999_999, 'Someone'), 'not_found');
    await refused(faces, () => faces.mergeClusters(999_998, 999_999), 'not_found');
    await refused(faces, () => faces.rejectCluster(999_999, 'Ada'), 'not_found');
    const merged = await faces.mergePeople('Andre', 'Ada');
    assert.deepEqual([merged.mergedFaces, merged.into.name, merged.into.faceCount], [1, 'Ada', 2]);
  });
});
