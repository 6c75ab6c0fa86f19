import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from './face-service.js';
import type { FaceSearchResult } from './results.js';

/*
 * Search by face over a real SQLite file with the fake engine (the same photo always gives the same embedding):
 * named and unnamed faces are found from one index owner, another process's unnamed faces arrive through the change
 * log, erased faces are never returned, and the exact and ANN indexes answer alike.
 */
const NAMED = [lfwPhoto('Bono', 1), lfwPhoto('Bono', 2), lfwPhoto('Bill_Clinton', 1)];
const UNNAMED = [lfwPhoto('Bono', 1), lfwPhoto('Britney_Spears', 1), testImage('group.jpg')];

const firstMatches = (result: FaceSearchResult) => result.faces[0]?.matches ?? [];

void describe('search by face (fake engine, real SQLite file)', () => {
  let db: string;
  let service: FaceService;
  let unnamedIds: number[];
  /** The unnamed face of Bono's first photo (outcomes come in completion order). */
  let bonoUnnamed: number;

  before(async () => {
    db = join(await tempDir(), 'gallery.sqlite');
    service = await openFacedb({ db, engine: 'fake' });
    await service.enroll(NAMED.map((path) => ({ person: path.includes('Bono') ? 'Bono' : 'Bill Clinton', path })));
    const summary = await service.clusters.enroll(UNNAMED);
    unnamedIds = summary.outcomes.flatMap((o) => o.faceIds);
    bonoUnnamed = summary.outcomes.find((o) => o.path === lfwPhoto('Bono', 1))!.faceIds[0]!;
  });
  after(async () => {
    await service.close();
  });

  void it('finds the same photo among named and unnamed faces, nearest first, with person or cluster and source', async () => {
    const result = await service.searchByFace({ path: lfwPhoto('Bono', 1) }, { top: 5 });
    assert.equal(result.faces.length, 1);
    const matches = firstMatches(result);
    assert.equal(matches.length, 5);
    assert.deepEqual(matches.map((m) => m.distance), [...matches.map((m) => m.distance)].sort((a, b) => a - b));
    // The photo is stored twice: as Bono's face and as an unnamed face; both at distance 0.
    const exact = matches.filter((m) => m.distance === 0);
    assert.equal(exact.length, 2);
    const named = exact.find((m) => m.person !== null);
    const unnamed = exact.find((m) => m.person === null);
    assert.equal(named?.person?.name, 'Bono');
    assert.equal(named?.source.path, lfwPhoto('Bono', 1));
    assert.equal(unnamed?.faceId, bonoUnnamed);
    assert.equal(unnamed?.cluster, (await service.clusters.listClusters({ limit: 100, offset: 0 }, 100)).items.find((c) => c.samples.some((s) => s.id === bonoUnnamed))?.id ?? null);
  });

  void it('with unnamed only, lists faces nobody named', async () => {
    const matches = firstMatches(await service.searchByFace({ path: lfwPhoto('Bono', 1) }, { unnamed: true, top: 100 }));
    assert.equal(matches.length, unnamedIds.length, 'every unnamed face, and nothing else');
    assert.ok(matches.every((m) => m.person === null));
    assert.equal(matches[0]?.faceId, bonoUnnamed);
  });

  void it("follows another process's unnamed faces and erasures through the change log", async () => {
    await service.searchByFace({ path: lfwPhoto('Bono', 2) }, { unnamed: true }); // indexes loaded
    const other = await openFacedb({ db, engine: 'fake' });
    let added: number | undefined;
    try {
      const summary = await other.clusters.enroll([lfwPhoto('Bono', 2)]);
      added = summary.outcomes[0]?.faceIds[0];
      assert.ok(added !== undefined);
    } finally {
      await other.close();
    }
    const found = firstMatches(await service.searchByFace({ path: lfwPhoto('Bono', 2) }, { unnamed: true }));
    assert.equal(found[0]?.faceId, added);
    assert.equal(found[0]?.distance, 0);

    const eraser = await openFacedb({ db, engine: 'fake' });
    try {
      await eraser.removeFace(added);
    } finally {
      await eraser.close();
    }
    const after = firstMatches(await service.searchByFace({ path: lfwPhoto('Bono', 2) }, { unnamed: true }));
    assert.ok(after.every((m) => m.faceId !== added), 'an erased face is never returned');
  });

  void it('answers alike from the ANN index', async () => {
    const ann = await openFacedb({ db, engine: 'fake', index: 'ann' });
    try {
      for (const unnamed of [false, true]) {
        const exact = firstMatches(await service.searchByFace({ path: lfwPhoto('Bono', 1) }, { unnamed, top: 3 }));
        const approximate = firstMatches(await ann.searchByFace({ path: lfwPhoto('Bono', 1) }, { unnamed, top: 3 }));
        assert.deepEqual(approximate.map((m) => m.faceId), exact.map((m) => m.faceId));
      }
    } finally {
      await ann.close();
    }
  });

  void it('refuses a top outside 1..100', async () => {
    for (const top of [0, 101, 2.5]) {
      await assert.rejects(service.searchByFace({ path: lfwPhoto('Bono', 1) }, { top }), (error: unknown) => error instanceof FacedbError && error.code === 'invalid_input');
    }
  });
});
