import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { CLI, copyLfwPeople, lfwPhoto, tempDir, testImage, writeBadInputs, type BadInputs } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';
import { ENGINE_NAMES } from '../engine/registry.js';
import { EXIT_INCOMPLETE } from '../errors/exit-codes.js';

/** These tests run the built `facedb` binary (npm test builds first) as a user would. */

function galleryRows(db: string): Array<{ person: string; hash: string }> {
  const sqlite = new Database(db, { readonly: true });
  try {
    return sqlite
      .prepare(
        `SELECT p.name AS person, f.content_hash AS hash FROM faces f JOIN people p ON p.id = f.person_id
         ORDER BY p.name, f.content_hash`,
      )
      .all() as Array<{ person: string; hash: string }>;
  } finally {
    sqlite.close();
  }
}

async function fileHash(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

function countFaces(db: string): number {
  if (!existsSync(db)) return 0;
  try {
    const sqlite = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (sqlite.prepare('SELECT count(*) AS n FROM faces').get() as { n: number }).n;
    } finally {
      sqlite.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

/*
 * Most cases run with the deterministic fake engine (`--engine fake`): their subject is the CLI (outcomes, reports,
 * JSON, exit codes, resuming), not the model. Once a gallery is pinned to the fake, later commands open it with the
 * fake on their own. The last cases run the real face-api engine end to end.
 */
describe('facedb CLI', () => {
  let work: string;
  let gallery: string;
  let db: string;
  let bad: BadInputs;

  before(async () => {
    work = await tempDir('facedb-cli-');
    gallery = await copyLfwPeople((p) => /^(Bono|Brad_Pitt|Bri|Aaron_Eckhart)/.test(p), join(work, 'gallery'));
    db = join(work, 'cli.sqlite');
    bad = await writeBadInputs();
  });

  it('enrolls a folder, printing one outcome per file and a summary', async () => {
    const run = await facedb(['--engine', 'fake', 'enroll', gallery, '--db', db, '--workers', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /enrolled +Bono +.*Bono_0001\.jpg/);
    assert.match(run.stdout, /files in [\d.]+s \([\d.]+ files\/s\): \d+ enrolled/);
    assert.match(run.stderr, /files\/s/);
  });

  it('lists people with face counts', async () => {
    const run = await facedb(['people', '--db', db, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const page = JSON.parse(run.stdout) as { items: Array<{ name: string; faceCount: number }>; total: number };
    assert.equal(page.items.find((p) => p.name === 'Bono')?.faceCount, 3);
    assert.equal(page.items.find((p) => p.name === 'Brad Pitt')?.faceCount, 1);
    assert.match((await facedb(['people', '--db', db])).stdout, /Brad Pitt +1/);
  });

  it('identifies every face, as a report and as JSON lines, and annotates', async () => {
    const annotated = join(work, 'annotated.jpg');
    const report = await facedb(['identify', testImage('Bono_0002.jpg'), '--db', db, '--annotate', annotated]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /face 1: Bono/);
    assert.match(report.stdout, /emotion: \w+ [\d.]+%/);
    const meta = await sharp(annotated).metadata();
    assert.equal(meta.format, 'jpeg');

    const json = await facedb(['identify', testImage('Bono_0002.jpg'), testImage('group.jpg'), '--db', db, '--json']);
    assert.equal(json.code, 0, json.stderr);
    const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { faces: Array<{ match: { person: string } | null }> });
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.faces[0]?.match?.person, 'Bono');
    assert.ok((lines[1]?.faces.length ?? 0) >= 1);
    assert.ok(lines[1]?.faces.every((f) => f.match === null));
  });

  it('verifies, analyses and represents', async () => {
    const verify = await facedb(['verify', lfwPhoto('Bono', 1), lfwPhoto('Bono', 1), '--db', db]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /same person +\(distance [\d.]+ ≤ threshold/);
    const analyze = await facedb(['analyze', testImage('group.jpg'), '--db', db, '--json']);
    assert.equal(analyze.code, 0, analyze.stderr);
    assert.ok((JSON.parse(analyze.stdout) as { faces: unknown[] }).faces.length >= 1);
    const represent = await facedb(['represent', lfwPhoto('Bono', 1), testImage('Blank_image.jpg'), '--db', db]);
    assert.equal(represent.code, EXIT_INCOMPLETE, represent.stderr); // one photo without a face: partly done
    const rows = represent.stdout.trim().split('\n').map((l) => JSON.parse(l) as { model: { id: string }; faces: Array<{ embedding: number[] }> });
    assert.equal(rows.length, 2);
    assert.equal(rows[0]?.model.id, 'fake');
    assert.equal(rows[0]?.faces[0]?.embedding.length, 64);
    assert.equal(rows[1]?.faces.length, 0);
  });

  it('computes only the attributes asked for with --attributes, in reports and JSON', async () => {
    type Face = Record<string, unknown>;
    const identify = await facedb(['identify', testImage('Bono_0002.jpg'), '--db', db, '--attributes', 'none', '--json']);
    assert.equal(identify.code, 0, identify.stderr);
    const [named] = (JSON.parse(identify.stdout) as { faces: Face[] }).faces;
    assert.deepEqual(Object.keys(named ?? {}).sort(), ['box', 'candidates', 'detectionScore', 'match']);
    const report = await facedb(['identify', testImage('Bono_0002.jpg'), '--db', db, '--attributes', 'age']);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /face 1: Bono/);
    assert.match(report.stdout, /age ~\d+$/m);
    assert.doesNotMatch(report.stdout, /emotion:|male|female/);
    const analyze = await facedb(['analyze', testImage('group.jpg'), '--db', db, '--json', '--attributes', 'gender,emotion']);
    assert.equal(analyze.code, 0, analyze.stderr);
    const faces = (JSON.parse(analyze.stdout) as { faces: Face[] }).faces;
    assert.ok(faces.length >= 1 && faces.every((face) => 'emotion' in face && 'gender' in face && !('age' in face)), analyze.stdout);
    const verify = await facedb(['verify', lfwPhoto('Bono', 1), lfwPhoto('Bono', 1), '--db', db, '--json', '--attributes', 'none']);
    assert.equal(verify.code, 0, verify.stderr);
    assert.deepEqual((JSON.parse(verify.stdout) as { faces: Face[] }).faces.map((face) => Object.keys(face).sort()), [['box', 'detectionScore'], ['box', 'detectionScore']]);
    for (const [value, message] of [['mood', /unknown attribute "mood": give emotion, age, gender \(comma-separated\), or none/], ['none,age', /"none" cannot be combined/], [',', /no attribute given/]] as const) {
      const run = await facedb(['analyze', testImage('group.jpg'), '--db', db, '--attributes', value]);
      assert.equal(run.code, 2, `${value}: ${run.stderr}`);
      assert.match(run.stderr, message);
    }
  });

  it('uses distinct exit codes for bad input, no face, not found and another engine, and changes nothing', async () => {
    const before = galleryRows(db);
    const cases: Array<[string[], number, RegExp]> = [
      [['identify', bad.truncatedJpeg], 3, /invalid_image/],
      [['identify', bad.textNamedJpg], 3, /invalid_image/],
      [['identify', bad.empty], 3, /invalid_image/],
      [['identify', bad.bombPng], 3, /image_too_large/],
      [['identify', bad.missing], 5, /not_found/],
      [['identify', testImage('Blank_image.jpg')], 4, /no face found/],
      [['verify', lfwPhoto('Bono', 1), testImage('Blank_image.jpg')], 4, /no_face/],
      [['enroll', bad.emptyDir], 2, /invalid_input/],
      [['enroll', bad.missing], 5, /not_found/],
      [['remove', 'Nobody Atall'], 5, /not_found/],
      [['identify', '--top-k', 'many', testImage('Bono_0001.jpg')], 2, /--top-k must be a whole number/],
      [['--engine', 'faceapi', 'identify', testImage('Bono_0001.jpg')], 6, /model_mismatch.*fake@1.*facedb reembed --to <new db> --engine faceapi/],
      [['--engine', 'nonesuch', 'people'], 2, new RegExp(`unknown engine "nonesuch": choose one of ${ENGINE_NAMES.join(', ')}`)],
    ];
    for (const [args, code, message] of cases) {
      const run = await facedb([...args, '--db', db]);
      assert.equal(run.code, code, `${args.join(' ')}: ${run.stdout}${run.stderr}`);
      assert.match(run.stdout + run.stderr, message, args.join(' '));
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+\(.*:\d+:\d+\)/, 'no stack traces');
    }
    const enrollBad = await facedb(['enroll', '--person', 'Bad Input', bad.truncatedJpeg, bad.textNamedJpg, '--db', db]);
    assert.equal(enrollBad.code, 3, enrollBad.stderr); // no photo could be enrolled: the code of why
    assert.match(enrollBad.stdout, /unreadable/);
    assert.deepEqual(galleryRows(db), before);
  });

  it('reembeds the gallery into a new one, leaving the old file as it was; exit 10 while faces are left behind', async () => {
    const before = await fileHash(db);
    const moved = join(work, 'moved.sqlite');
    const run = await facedb(['reembed', '--db', db, '--to', moved, '--engine', 'fake', '--quiet']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /faces from fake@1 to fake@1 in [\d.]+s: \d+ moved\. .*moved\.sqlite is complete/);
    assert.deepEqual(galleryRows(moved), galleryRows(db));
    assert.equal(await fileHash(db), before);

    await rm(join(gallery, 'Brad_Pitt', 'Brad_Pitt_0001.jpg'));
    const partial = await facedb(['reembed', '--db', db, '--to', join(work, 'partial.sqlite'), '--json']);
    assert.equal(partial.code, EXIT_INCOMPLETE, partial.stderr);
    const summary = JSON.parse(partial.stdout) as { counts: Record<string, number>; outcomes: Array<{ faceId: number; person: string; status: string }> };
    assert.equal(summary.counts['missing_file'], 1);
    assert.deepEqual(summary.outcomes.filter((o) => o.status !== 'moved'), [
      { faceId: summary.outcomes.find((o) => o.person === 'Brad Pitt')!.faceId, person: 'Brad Pitt', source: join(gallery, 'Brad_Pitt', 'Brad_Pitt_0001.jpg'), status: 'missing_file', message: `${join(gallery, 'Brad_Pitt', 'Brad_Pitt_0001.jpg')}: no such file or directory` },
    ]);
    await copyFile(lfwPhoto('Brad_Pitt', 1), join(gallery, 'Brad_Pitt', 'Brad_Pitt_0001.jpg'));
    const resumed = await facedb(['reembed', '--db', db, '--to', join(work, 'partial.sqlite')]);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, /1 moved, \d+ already moved\. .* is complete/);
  });

  it('removes a person', async () => {
    const run = await facedb(['remove', 'Bono', '--db', db]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /removed Bono \(3 faces\)/);
    assert.ok(galleryRows(db).every((row) => row.person !== 'Bono'));
  });

  it('resumes after kill -9 with the same gallery as an uninterrupted run and no duplicates', async () => {
    // The whole subset, so the fake engine's fast enrollment is still running when it is killed.
    const everyone = await copyLfwPeople(() => true, join(work, 'everyone'));
    const enroll = (target: string): string[] => ['--engine', 'fake', 'enroll', everyone, '--db', target, '--workers', '2'];
    const cleanDb = join(work, 'clean.sqlite');
    assert.equal((await facedb(enroll(cleanDb))).code, 0);
    const cleanRows = galleryRows(cleanDb);

    const interruptedDb = join(work, 'interrupted.sqlite');
    const child = spawn(process.execPath, [CLI, ...enroll(interruptedDb)], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    // Kill once some photos are committed but well before the end.
    const deadline = Date.now() + 120_000;
    while (countFaces(interruptedDb) < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await exited;
    const committed = countFaces(interruptedDb);
    assert.ok(committed >= 8, 'the run was killed before committing anything');
    assert.ok(committed < cleanRows.length, 'the run finished before it was killed');

    const resumed = await facedb(enroll(interruptedDb));
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`${committed} already enrolled`));

    const resumedRows = galleryRows(interruptedDb);
    assert.deepEqual(resumedRows, cleanRows);
    assert.equal(new Set(resumedRows.map((r) => `${r.person}/${r.hash}`)).size, resumedRows.length);
    const sqlite = new Database(interruptedDb, { readonly: true });
    assert.equal(sqlite.pragma('integrity_check', { simple: true }), 'ok');
    sqlite.close();
  });
});

describe('facedb CLI with the real face-api engine', () => {
  it('enrolls with the default engine and identifies a photo it never saw, with emotion', async () => {
    const work = await tempDir('facedb-cli-real-');
    const gallery = await copyLfwPeople((p) => /^(Bono|Aaron_Eckhart|Brad_Pitt)$/.test(p), join(work, 'gallery'));
    const db = join(work, 'real.sqlite');
    const enroll = await facedb(['enroll', gallery, '--db', db, '--workers', '2']);
    assert.equal(enroll.code, 0, enroll.stderr);
    const annotated = join(work, 'annotated.jpg');
    const report = await facedb(['identify', testImage('aaron_eckhart.jpg'), '--db', db, '--annotate', annotated]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /face 1: Aaron Eckhart/);
    assert.match(report.stdout, /who: Aaron Eckhart {2}\(distance [\d.]+ ≤ threshold [\d.]+, [^,]*likely it is Aaron Eckhart\)/);
    assert.match(report.stdout, /emotion: \w+ [\d.]+%/);
    assert.equal((await sharp(annotated).metadata()).format, 'jpeg');
    const unknown = await facedb(['identify', testImage('Ezra_miller.jpg'), '--db', db]);
    assert.match(unknown.stdout, /who: unknown/);
    assert.doesNotMatch(unknown.stdout, /likely the same person|> 99 % likely/);
    for (const [, percent] of unknown.stdout.matchAll(/who: unknown .*?(\d+) % likely it is/g)) assert.ok(Number(percent) < 50, unknown.stdout);
  });
});
