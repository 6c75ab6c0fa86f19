import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_MODEL, fakeEngine, type FakeEngine } from '../../test/fake-engine.js';
import { LFW_SUBSET, tempDir } from '../../test/fixtures.js';
import { FacedbError } from '../errors/errors.js';
import { openFacedb } from '../facedb.js';
import { personNameFromFolder } from '../image/scan.js';
import { loadConfig } from '../config/config.js';
import { openSqliteStore, type SqliteGalleryStore } from '../store/sqlite/store.js';
import { FaceService, type EnrollItem } from './face-service.js';
import type { EnrollOutcome } from './results.js';

/*
 * Gallery bookkeeping around enrollment, on real photos and real SQLite files, with a fake engine (the model
 * is not what is tested): erasure is final, storage faults stop enrollment with storage_unavailable, names
 * from folders follow the name rules, duplicates and contradictory options cost no inference.
 */

/** `count` real, distinct photos from the shared LFW subset. */
function photos(count: number): string[] {
  const found: string[] = [];
  for (const person of readdirSync(LFW_SUBSET).sort()) {
    for (const file of readdirSync(join(LFW_SUBSET, person)).sort()) {
      found.push(join(LFW_SUBSET, person, file));
      if (found.length === count) return found;
    }
  }
  throw new Error(`the LFW subset has fewer than ${count} photos`);
}

async function expectCode(promise: Promise<unknown>, code: FacedbError['code']): Promise<FacedbError> {
  let caught: FacedbError | undefined;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof FacedbError, `expected a FacedbError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    caught = error;
    return true;
  });
  return caught!;
}

function statuses(outcomes: readonly EnrollOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) counts[outcome.status] = (counts[outcome.status] ?? 0) + 1;
  return counts;
}

void describe('enrollment and erasure, two services on one SQLite file', () => {
  let dir: string;
  let file: string;
  let engine: FakeEngine;
  let enroller: FaceService;
  let eraser: FaceService;
  let galleries = 0;

  /** A fresh gallery file shared by two services, as a CLI and a server (or two CLIs) would share it. */
  async function openPair(): Promise<void> {
    file = join(dir, `gallery-${++galleries}.sqlite`);
    engine = await fakeEngine();
    enroller = await openFacedb({ db: file, workers: 1, engine });
    eraser = await openFacedb({ db: file, workers: 1, engine: await fakeEngine() });
  }
  async function closePair(): Promise<void> {
    await Promise.all([enroller.close(), eraser.close()]);
  }

  before(async () => {
    dir = await tempDir('facedb-erasure-');
  });
  after(async () => {
    await closePair();
  });

  void it('a person erased while a 12-photo folder run enrolls them stays erased: the rest are not_found', async () => {
    await openPair();
    const items: EnrollItem[] = photos(12).map((path) => ({ person: 'Bono', path }));
    let enrolledSoFar = 0;
    let fiveIn!: () => void;
    const fiveEnrolled = new Promise<void>((resolve) => (fiveIn = resolve));
    let gate: ReturnType<FakeEngine['hold']> | undefined;
    const run = enroller.enroll(items, {
      onOutcome: (outcome) => {
        if (outcome.status !== 'enrolled') return;
        enrolledSoFar++;
        // Hold the engine before the next photos are analysed, with the run still in flight.
        if (enrolledSoFar === 5) {
          gate = engine.hold();
          fiveIn();
        }
      },
    });
    await fiveEnrolled;
    const removed = await eraser.removePerson('Bono');
    gate!.release();
    const summary = await run;

    assert.ok(removed.facesRemoved >= 5, `removed ${removed.facesRemoved}`);
    const counts = statuses(summary.outcomes);
    assert.equal(counts.enrolled, removed.facesRemoved);
    assert.equal(counts.not_found, 12 - removed.facesRemoved);
    assert.equal(summary.counts.not_found, 12 - removed.facesRemoved);
    for (const view of [enroller, eraser]) {
      assert.deepEqual((await view.listPeople({ limit: 10, offset: 0 })).total, 0, 'nobody was re-created');
      assert.equal((await view.counts()).faces, 0);
    }
    await expectCode(eraser.findPerson('Bono'), 'not_found');
    await closePair();
  });

  void it('photos enrolled by id to a person erased meanwhile (the HTTP path) are not_found, never a new person', async () => {
    await openPair();
    const bono = (await enroller.createPerson('Bono')).person;
    const outcomes: EnrollOutcome[] = [];
    for (const [i, path] of photos(12).entries()) {
      if (i === 5) assert.equal((await eraser.removePerson(bono.id)).facesRemoved, 5);
      outcomes.push(await enroller.enrollImage(bono.id, { bytes: await readFile(path) }));
    }
    assert.deepEqual(statuses(outcomes), { enrolled: 5, not_found: 7 });
    assert.equal((await eraser.listPeople({ limit: 10, offset: 0 })).total, 0);
    assert.equal((await eraser.counts()).faces, 0);
    await closePair();
  });

  void it('a folder run binds names to people at its start: a person erased before their photos come up is not re-created', async () => {
    await openPair();
    const [first, ...rest] = photos(4);
    await enroller.enroll([{ person: 'Ada', path: first! }]);
    const items = rest.map((path) => ({ person: 'Ada', path }));
    const gate = engine.hold();
    const run = enroller.enroll(items);
    await gate.held;
    await eraser.removePerson('Ada');
    gate.release();
    const summary = await run;
    assert.deepEqual(statuses(summary.outcomes), { not_found: 3 });
    assert.equal((await eraser.listPeople({ limit: 10, offset: 0 })).total, 0);
    await closePair();
  });

  void it('names from folders follow the name rules: a bad one is that photo’s outcome, the others go on', async () => {
    await openPair();
    const [a, b, c, d, e] = photos(5);
    await enroller.enroll([{ person: personNameFromFolder('Bono'), path: a! }]);
    const callsBefore = engine.calls;
    const summary = await enroller.enroll([
      { person: personNameFromFolder('Bad\u0007Name'), path: b! },
      { person: personNameFromFolder('Bono\u200b'), path: c! },
      { person: personNameFromFolder('B\u043eno'), path: d! }, // Cyrillic о: a look-alike of Bono
      { person: personNameFromFolder('Brad_Pitt'), path: e! },
    ]);
    const byPath = new Map(summary.outcomes.map((o) => [o.path, o]));
    assert.equal(byPath.get(b!)?.status, 'invalid_name');
    assert.match(byPath.get(b!)?.message ?? '', /U\+0007/);
    assert.equal(byPath.get(c!)?.status, 'invalid_name');
    assert.match(byPath.get(c!)?.message ?? '', /U\+200B/);
    assert.equal(byPath.get(d!)?.status, 'invalid_name');
    assert.match(byPath.get(d!)?.message ?? '', /looks like the existing person "Bono"/);
    assert.equal(byPath.get(e!)?.status, 'enrolled');
    assert.equal(byPath.get(e!)?.person, 'Brad Pitt');
    // The two names refused by the rules were never analysed.
    assert.equal(engine.calls - callsBefore, 2);
    const names = (await eraser.listPeople({ limit: 10, offset: 0 })).items.map((p) => p.name);
    assert.deepEqual(names, ['Bono', 'Brad Pitt']);
    await closePair();
  });

  void it('a duplicate upload for the same person costs no inference', async () => {
    await openPair();
    const bytes = await readFile(photos(1)[0]!);
    const bono = (await enroller.createPerson('Bono')).person;
    assert.equal((await enroller.enrollImage(bono.id, { bytes })).status, 'enrolled');
    const calls = engine.calls;
    const again = await enroller.enrollImage(bono.id, { bytes });
    assert.equal(again.status, 'already_enrolled');
    assert.equal(engine.calls, calls, 'the duplicate was not analysed');
    // By name too.
    assert.equal((await enroller.enrollImage('Bono', { bytes })).status, 'already_enrolled');
    assert.equal(engine.calls, calls);
    await closePair();
  });

  void it('identify refuses a threshold with a target FAR before reading the photo or running the engine', async () => {
    await openPair();
    const error = await expectCode(
      enroller.identify({ path: join(dir, 'no-such-photo.jpg') }, { threshold: 0.5, far: 0.001 }),
      'invalid_input',
    );
    assert.match(error.message, /not both/);
    assert.equal(engine.calls, 0);
    // A per-call value still wins over a configured pair (as the CLI passes its flags both ways).
    const configured = new FaceService(loadConfig({ db: file, threshold: 0.5, targetFar: 0.001 }, {}), enroller.store, () => Promise.resolve(engine));
    assert.equal(configured.threshold({ model: FAKE_MODEL, calibration: undefined }, { threshold: 0.4 }), 0.4);
    await expectCode(configured.identify({ path: join(dir, 'no-such-photo.jpg') }), 'invalid_input');
    await closePair();
  });

  void it('a full disk stops a folder run with storage_unavailable, keeping what was committed', async () => {
    await openPair();
    const [first, ...rest] = photos(6);
    await enroller.enroll([{ person: 'Ada', path: first! }]);
    const db = (enroller.store as SqliteGalleryStore).database;
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const error = await expectCode(enroller.enroll(rest.map((path) => ({ person: 'Grace', path }))), 'storage_unavailable');
    assert.match(error.message, /full/);
    const health = await enroller.health();
    assert.equal(health.db, false);
    assert.equal(health.storage, 'full');
    // Ada's committed face is kept; the run stopped at the first photo that needed room.
    assert.equal((await eraser.counts()).faces, 1);
    assert.equal((await eraser.findPerson('Ada')).faceCount, 1);
    assert.ok(engine.calls <= 1 + 2, `the run went on analysing after the fault (${engine.calls} analyses)`);
    db.pragma('max_page_count = 1073741823');
    await closePair();
  });

  void it('identifies from a gallery it can only read, and refuses to enroll into it before analysing', async () => {
    await openPair();
    const [first, second] = photos(2);
    await enroller.enroll([{ person: 'Ada', path: first! }]);
    await closePair();
    const readOnlyEngine = await fakeEngine();
    const readOnly = new FaceService(loadConfig({ db: file }, {}), await openSqliteStore(file, { readOnly: true }), () =>
      Promise.resolve(readOnlyEngine),
    );
    try {
      const result = await readOnly.identify({ path: first! });
      assert.equal(result.faces[0]?.match?.person, 'Ada');
      assert.equal((await readOnly.health()).db, true, 'a gallery opened read-only is ready: it serves reads');
      const calls = readOnlyEngine.calls;
      const error = await expectCode(readOnly.enroll([{ person: 'Ada', path: second! }]), 'storage_unavailable');
      assert.match(error.message, /read-only/);
      assert.equal(readOnlyEngine.calls, calls, 'nothing was analysed for a gallery that cannot take it');
    } finally {
      await readOnly.close();
    }
  });

  void it('a gallery file deleted or replaced under a running service: not ready, and writes fail instead of being lost', async () => {
    await openPair();
    const [first, second] = photos(2);
    await enroller.enroll([{ person: 'Ada', path: first! }]);
    assert.equal((await enroller.health()).db, true);
    await unlink(file);
    const gone = await enroller.health();
    assert.equal(gone.db, false);
    assert.equal(gone.storage, 'gone');
    await expectCode(enroller.createPerson('Grace'), 'storage_unavailable');
    await expectCode(enroller.enroll([{ person: 'Ada', path: second! }]), 'storage_unavailable');
    await expectCode(enroller.removePerson('Ada'), 'storage_unavailable');
    await closePair();

    // Replaced: another gallery renamed over the path.
    await openPair();
    await enroller.enroll([{ person: 'Ada', path: first! }]);
    const other = await openFacedb({ db: join(dir, 'other.sqlite'), engine: await fakeEngine() });
    await other.close();
    await rename(join(dir, 'other.sqlite'), file);
    const replaced = await enroller.health();
    assert.equal(replaced.storage, 'gone');
    const error = await expectCode(enroller.createPerson('Grace'), 'storage_unavailable');
    assert.match(error.message, /replaced/);
  });
});
