import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { copyLfwPeople, lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { createFakeEngine, FAKE_MODEL } from '../engine/fake/engine.js';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import { scanLfwLayout } from '../image/scan.js';
import { formatReembedSummary } from '../cli/report.js';
import type { FaceService } from './face-service.js';

/** A model the fake engine can pretend to be, so moving between "two models" runs without real nets. */
const NEXT = { id: 'fake-next', version: '2' };

async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** An old gallery: a few people from files (copied, so the test can change them) plus one upload. */
async function oldGallery(): Promise<{ db: string; root: string; faces: number }> {
  const root = await copyLfwPeople((person) => /^(Bono|Brad_Pitt|Aaron_Eckhart|Bill_G)/.test(person));
  const db = join(await tempDir('facedb-reembed-'), 'old.sqlite');
  const service = await openFacedb({ db, engine: 'fake' });
  try {
    const summary = await service.enroll(await scanLfwLayout(root));
    const upload = await service.enrollImage('Ezra Miller', { bytes: new Uint8Array(await readFile(testImage('Ezra_miller.jpg'))) });
    assert.equal(upload.status, 'enrolled');
    return { db, root, faces: summary.counts.enrolled + 1 };
  } finally {
    await service.close();
  }
}

async function openNew(db: string): Promise<FaceService> {
  return openFacedb({ db, engine: await createFakeEngine({ model: NEXT }) });
}

/** person → sorted content hashes, from a gallery's store. */
async function contents(service: FaceService): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  for (const [hash, people] of await service.store.enrolledContent()) {
    for (const person of people) result.set(person, [...(result.get(person) ?? []), hash].sort());
  }
  return new Map([...result].sort(([a], [b]) => a.localeCompare(b)));
}

describe('reembed', () => {
  it('moves every face to a new gallery with the new model, names and uploads included, and never writes the old one', async () => {
    const { db, faces } = await oldGallery();
    const before = await fileHash(db);
    const old = await openFacedb({ db });
    const next = await openNew(join(await tempDir(), 'new.sqlite'));
    try {
      const seen: number[] = [];
      const summary = await old.reembed(next, { onOutcome: (_, done) => seen.push(done) });
      assert.equal(summary.total, faces);
      assert.equal(summary.counts.moved, faces, JSON.stringify(summary.outcomes.filter((o) => o.status !== 'moved')));
      assert.equal(seen.length, faces);
      assert.deepEqual(summary.from, { id: FAKE_MODEL.id, version: FAKE_MODEL.version });
      assert.deepEqual(summary.to, NEXT);
      assert.deepEqual(await next.store.getModel(), { ...FAKE_MODEL, ...NEXT });
      assert.deepEqual(await contents(next), await contents(old));
      // The moved upload kept its bytes, so it can be moved again.
      const ezra = await next.findPerson('Ezra Miller');
      const [face] = (await next.listFaces(ezra.id, { limit: 1, offset: 0 })).items;
      assert.ok(face && face.sourcePath === null);
      assert.ok(await next.store.getFacePhoto(face.id));
      // The new gallery answers with the new engine.
      assert.equal((await next.identify({ path: lfwPhoto('Bono', 2) })).faces[0]?.match?.person, 'Bono');
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
    assert.equal(await fileHash(db), before, 'the old gallery file changed');
  });

  it('resumes after an interruption: the second run moves only what is left, ending like an uninterrupted run', async () => {
    const { db, faces } = await oldGallery();
    const old = await openFacedb({ db });
    const target = join(await tempDir(), 'resumed.sqlite');
    try {
      const controller = new AbortController();
      let next = await openNew(target);
      const first = await old.reembed(next, { signal: controller.signal, onOutcome: (_, done) => done >= 5 && controller.abort() });
      await next.close();
      assert.ok(first.outcomes.length >= 5 && first.outcomes.length < faces, `${first.outcomes.length} of ${faces}`);
      const movedFirst = first.counts.moved;

      next = await openNew(target);
      try {
        const second = await old.reembed(next);
        assert.equal(second.counts.already_moved, movedFirst);
        assert.equal(second.counts.moved, faces - movedFirst);
        assert.deepEqual(await contents(next), await contents(old));
        assert.equal(await next.store.countFaces(), faces);
        const third = await old.reembed(next);
        assert.equal(third.counts.already_moved, faces);
      } finally {
        await next.close();
      }
    } finally {
      await old.close();
    }
  });

  it('reports every face it cannot move and why: changed photo, missing photo, upload without bytes', async () => {
    const { db, root, faces } = await oldGallery();
    // Bono's first photo now holds another photo; Brad Pitt's is gone; an upload enrolled before photos were kept.
    await copyFile(lfwPhoto('Aaron_Eckhart', 1), join(root, 'Bono', 'Bono_0001.jpg'));
    await rm(join(root, 'Brad_Pitt', 'Brad_Pitt_0001.jpg'));
    const old = await openFacedb({ db });
    const legacy = await old.store.upsertPerson('Legacy Upload');
    const embedding = new Float32Array(FAKE_MODEL.dimensions).fill(1 / Math.sqrt(FAKE_MODEL.dimensions));
    await old.store.addFaces(legacy.id, [{ sourcePath: null, contentHash: 'f'.repeat(64), box: { x: 0, y: 0, width: 9, height: 9 }, detectionScore: 1, embedding, crop: null }]);
    const next = await openNew(join(await tempDir(), 'partial.sqlite'));
    try {
      const summary = await old.reembed(next);
      const why = Object.fromEntries(summary.outcomes.filter((o) => o.status !== 'moved').map((o) => [o.person, o]));
      assert.equal(why['Bono']?.status, 'changed_content');
      assert.match(why['Bono']?.message ?? '', /Bono_0001\.jpg is no longer the photo that was enrolled/);
      assert.equal(why['Brad Pitt']?.status, 'missing_file');
      assert.equal(why['Legacy Upload']?.status, 'no_photo');
      assert.equal(summary.counts.moved, faces - 2);
      assert.equal(summary.total, faces + 1);
      assert.deepEqual((await next.findPerson('Bono')).faceCount, 2);
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
  });

  it('carries faces nobody has named, with their clusters, and counts them', async () => {
    const { db, faces } = await oldGallery();
    const old = await openFacedb({ db });
    // Photos enrolled without a name (and clustered), beside the named people.
    const unlabelled = [lfwPhoto('Bono', 1), lfwPhoto('Boris_Becker', 1), lfwPhoto('Boris_Yeltsin', 1)];
    const enrolled = await old.clusters.enroll(unlabelled);
    assert.equal(enrolled.counts.enrolled, unlabelled.length);
    const oldUnnamed = (await old.store.countUnnamedFaces()).total;
    const partition = async (service: FaceService): Promise<string[][]> => {
      const listing = await service.clusters.listClusters({ limit: 100, offset: 0 }, 100);
      return listing.items.map((cluster) => cluster.samples.map((face) => face.contentHash).sort()).sort();
    };
    const next = await openNew(join(await tempDir(), 'unnamed.sqlite'));
    try {
      const summary = await old.reembed(next);
      assert.equal(summary.total, faces + oldUnnamed, 'unnamed faces are counted');
      assert.equal(summary.unnamedFaces, oldUnnamed);
      assert.equal(summary.counts.moved, faces + oldUnnamed, JSON.stringify(summary.outcomes.filter((o) => o.status !== 'moved')));
      assert.equal(summary.outcomes.filter((o) => o.unnamed).length, oldUnnamed);
      assert.deepEqual(await next.store.countUnnamedFaces(), await old.store.countUnnamedFaces());
      assert.deepEqual(await partition(next), await partition(old));
      assert.equal(summary.clustersCarried, (await old.clusters.listClusters({ limit: 0, offset: 0 }, 0)).total);
      assert.deepEqual(await contents(next), await contents(old));
      // Resumable: nothing is moved twice.
      const again = await old.reembed(next);
      assert.equal(again.counts.already_moved, faces + oldUnnamed);
      assert.equal((await next.store.countUnnamedFaces()).total, oldUnnamed);
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
  });

  it("carries the corrections: upload names, faces taken from a person, a cluster's \"not this person\"", async () => {
    const { db } = await oldGallery();
    const old = await openFacedb({ db });
    const next = await openNew(join(await tempDir(), 'corrected.sqlite'));
    try {
      const upload = await old.enrollImage('Ezra Miller', { bytes: new Uint8Array(await readFile(testImage('Bono_0001.jpg'))), uploadName: 'concert.jpg' });
      assert.equal(upload.status, 'enrolled');
      // A wrong face taken from Ezra Miller (kept from going back to him), and a cluster rejected for Bono.
      const ezra = (await old.curation.listFaces({ person: 'Ezra Miller' }, { limit: 10 })).items.find((face) => face.uploadName === 'concert.jpg')!;
      await old.curation.unassignFaces([ezra.id]);
      await old.clusters.enroll([lfwPhoto('Boris_Becker', 1)]);
      const [cluster] = (await old.clusters.listClusters({ limit: 10, offset: 0 }, 1)).items;
      await old.curation.rejectCluster(cluster!.id, 'Bono');
      const before = await old.store.listConstraints();
      assert.ok(before.faceNotPerson.length === 1 && before.clusterNotPerson.length === 1, JSON.stringify(before));

      const summary = await old.reembed(next);
      assert.deepEqual([summary.constraintsCarried, summary.constraintsLeft], [before.facesApart.length + 2, 0]);
      const after = await next.store.listConstraints();
      const nameOf = async (service: FaceService, id: number) => (await service.store.getPerson(id))?.name;
      // The same corrections, in the new gallery's ids.
      const [[face, person]] = after.faceNotPerson as [[number, number]];
      const [moved] = await next.store.getStoredFaces([face]);
      assert.deepEqual([moved?.personId, moved?.uploadName, await nameOf(next, person)], [null, 'concert.jpg', 'Ezra Miller']);
      const [[newCluster, rejected]] = after.clusterNotPerson as [[number, number]];
      assert.equal(await nameOf(next, rejected), 'Bono');
      const clustered = (await next.clusters.listClusters({ limit: 10, offset: 0 }, 10)).items.find((c) => c.id === newCluster);
      assert.deepEqual(clustered?.samples.map((sample) => sample.contentHash), cluster!.samples.map((sample) => sample.contentHash));
      // Upload names travel with named faces too.
      const uploads = (await next.curation.listFaces({ person: 'Ezra Miller' }, { limit: 10 })).items.map((item) => item.uploadName);
      assert.deepEqual(uploads, (await old.curation.listFaces({ person: 'Ezra Miller' }, { limit: 10 })).items.map((item) => item.uploadName));
      assert.match(formatReembedSummary(summary, 'corrected.sqlite'), /Corrections kept: 2 constraints carried\./);
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
  });

  it('refuses to move a gallery onto itself or into a gallery of another model', async () => {
    const { db } = await oldGallery();
    const old = await openFacedb({ db });
    const same = await openNew(db);
    try {
      await assert.rejects(old.reembed(same), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_input');
    } finally {
      await same.close();
    }
    const elsewhere = join(await tempDir(), 'taken.sqlite');
    const taken = await openFacedb({ db: elsewhere, engine: 'fake' });
    await taken.enrollImage('Someone', { path: lfwPhoto('Bono', 3) });
    await taken.close();
    const mismatched = await openNew(elsewhere);
    try {
      await assert.rejects(old.reembed(mismatched), (error: unknown) => error instanceof FacedbError && error.code === 'model_mismatch');
    } finally {
      await Promise.all([old.close(), mismatched.close()]);
    }
  });

  it('moves a gallery to the real face-api engine, which then recognises a new photo', async () => {
    const root = await copyLfwPeople((person) => person === 'Bono' || person === 'Brad_Pitt');
    const db = join(await tempDir(), 'fake-gallery.sqlite');
    const old = await openFacedb({ db, engine: 'fake' });
    await old.enroll((await scanLfwLayout(root)).filter((item) => !item.path.endsWith('Bono_0003.jpg')));
    const next = await openFacedb({ db: join(await tempDir(), 'real.sqlite'), engine: 'faceapi', workers: 1 });
    try {
      const summary = await old.reembed(next);
      assert.equal(summary.counts.moved, summary.total, JSON.stringify(summary.outcomes));
      assert.equal(summary.to.id, 'faceapi-resnet128');
      // A photo the gallery never saw, at the model's 1:1 threshold (two enrolled photos of Bono only).
      const result = await next.identify({ path: lfwPhoto('Bono', 3) }, { threshold: (await next.engine()).model.defaultThreshold });
      assert.equal(result.faces[0]?.match?.person, 'Bono', JSON.stringify(result.faces[0]?.candidates));
    } finally {
      await Promise.all([old.close(), next.close()]);
    }
  });
});
