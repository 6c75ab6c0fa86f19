import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { facedb as runFacedb, serveFacedb, type Run, type ServeProcess } from '../../test/cli-process.js';
import { CLI, copyLfwPeople, lfwPhoto, REPO_ROOT, tempDir, testImage, writeBadInputs, type BadInputs } from '../../test/fixtures.js';
import { freePort } from '../../test/redis-server.js';
import { batchExitCode, EXIT_INCOMPLETE, EXIT_INTERRUPTED, EXIT_OK, exitCodeFor } from '../errors/exit-codes.js';
import { ERROR_CODES } from '../errors/errors.js';

/**
 * Every command against the README's table of exit codes (its *Exit codes* section): one row per case, run as a user
 * runs the built `facedb`. The fake engine stands in for the models (the subject is the CLI); the client cases talk to
 * a real `facedb serve` on loopback. Exit 9 (storage faults) is run in gallery-safety.test.ts and 130 (Ctrl-C) in
 * client-cluster.test.ts and cli.test.ts, where the set-up they need lives.
 */

const ADMIN = 'exit-codes-admin-key-000001';
const READ = 'exit-codes-read-key-0000001';

interface Options {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** The one CLI runner (test/cli-process.ts), with one inference worker. */
function facedb(args: string[], { env = {}, cwd }: Options = {}): Promise<Run> {
  return runFacedb(args, { FACEDB_WORKERS: '1', ...env }, cwd);
}

/** The README's table: code → meaning. */
async function readmeExitCodes(): Promise<Map<number, string>> {
  const readme = await readFile(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^### Exit codes$/m)[1]?.split(/^#/m)[0] ?? '';
  const rows = [...section.matchAll(/^\| (\d+) \| (.+) \|$/gm)].map((m) => [Number(m[1]), m[2] ?? ''] as const);
  return new Map(rows);
}

const count = (text: string, part: string): number => text.split(part).length - 1;

void describe('exit codes: every command against the README table', () => {
  let work: string;
  let db: string;
  let missingDb: string;
  let photos: string;
  let mixed: string;
  let empty: string;
  let bad: BadInputs;
  let server: ServeProcess;
  const blank = testImage('Blank_image.jpg');
  const bono = lfwPhoto('Bono', 1);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npm run build)`);
    work = await tempDir('facedb-exit-codes-');
    db = join(work, 'gallery.sqlite');
    missingDb = join(work, 'typo', 'galery.sqlite');
    bad = await writeBadInputs();
    const gallery = await copyLfwPeople((p) => p === 'Bono' || p === 'Brad_Pitt', join(work, 'gallery'));
    // Four photos and a note: the note is not a photo, so the folder identifies cleanly.
    photos = join(work, 'photos');
    await mkdir(photos);
    for (const file of [lfwPhoto('Bono', 2), lfwPhoto('Brad_Pitt', 1), lfwPhoto('Britney_Spears', 1), lfwPhoto('Bill_Clinton', 1)]) {
      await copyFile(file, join(photos, file.split('/').pop()!));
    }
    await writeFile(join(photos, 'readme.txt'), 'photos of the concert\n');
    mixed = join(work, 'mixed');
    await mkdir(mixed);
    await copyFile(bono, join(mixed, 'a-bono.jpg'));
    await copyFile(blank, join(mixed, 'b-blank.jpg'));
    empty = join(work, 'empty-cwd');
    await mkdir(empty);
    const enrolled = await facedb(['--engine', 'fake', 'enroll', gallery, '--db', db]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    server = await serveFacedb(['--db', join(work, 'served.sqlite')], {
      FACEDB_ENGINE: 'fake',
      FACEDB_WORKERS: '1',
      FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}`,
    });
  });
  after(() => {
    server.child.removeAllListeners('close');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('the README has one row per exit code, and nothing else', async () => {
    const table = await readmeExitCodes();
    const codes = new Set([EXIT_OK, EXIT_INCOMPLETE, EXIT_INTERRUPTED, ...ERROR_CODES.map(exitCodeFor)]);
    assert.deepEqual([...table.keys()].sort((a, b) => a - b), [...codes].sort((a, b) => a - b));
  });

  void it('commands over many photos: all done 0, some 10, none the code of the first failure', () => {
    assert.equal(batchExitCode([]), 0);
    assert.equal(batchExitCode([null, null]), 0);
    assert.equal(batchExitCode([null, 'no_face']), EXIT_INCOMPLETE);
    assert.equal(batchExitCode(['invalid_image', null]), EXIT_INCOMPLETE);
    assert.equal(batchExitCode(['no_face', 'invalid_image']), exitCodeFor('no_face'));
    assert.equal(batchExitCode(['invalid_input']), exitCodeFor('invalid_input'));
  });

  type Case = [name: string, args: string[] | (() => string[]), code: number, check?: (run: Run) => void, options?: () => Options];
  const cases: Case[] = [
    // ---- gallery commands
    ['people', () => ['people', '--db', db], 0, (run) => assert.match(run.stdout, /Bono +3/)],
    ['people, mistyped --db: refused, nothing created', () => ['people', '--db', missingDb], 5, (run) => {
      assert.match(run.stderr, /error \[not_found\]: no gallery at .*galery\.sqlite/);
      assert.ok(!existsSync(dirname(missingDb)), 'the folder of a mistyped --db was created');
    }],
    ['identify, a folder of photos and a note', () => ['identify', photos, '--db', db], 0, (run) => {
      assert.match(run.stderr, /^skipped 1 file that is not an image: .*readme\.txt$/m);
      assert.doesNotMatch(run.stdout, /readme/);
      assert.match(run.stdout, /^4\/4 files in [\d.]+s \([\d.]+ files\/s\): 4 with faces \(4 faces: 2 known, 2 unknown\)$/m);
      assert.match(run.stderr, /\] 4\/4 files /, 'the progress line');
    }],
    ['identify, a blank photo', () => ['identify', blank, '--db', db], 4, (run) => assert.match(run.stdout, /no face found/)],
    ['identify, one photo with a face and one without', () => ['identify', mixed, '--db', db], EXIT_INCOMPLETE, (run) => {
      assert.match(run.stdout, /^2\/2 files in .*: 1 with faces \(1 face: 1 known, 0 unknown\), 1 no face$/m);
    }],
    ['identify, an unreadable photo: its path once', () => ['identify', bad.truncatedJpeg, '--db', db], 3, (run) => {
      assert.match(run.stdout, /error \[invalid_image\]/);
      assert.equal(count(run.stdout, bad.truncatedJpeg), 1, run.stdout);
    }],
    ['identify, a missing photo', () => ['identify', bad.missing, '--db', db], 5],
    ['identify, mistyped --db', () => ['identify', bono, '--db', missingDb], 5, () => assert.ok(!existsSync(dirname(missingDb)))],
    ['identify, another engine: refused once, before any photo', () => ['--engine', 'faceapi', 'identify', photos, '--db', db], 6, (run) => {
      assert.equal(count(run.stdout + run.stderr, 'model_mismatch'), 1, run.stdout + run.stderr);
      assert.doesNotMatch(run.stdout, /Bono_0002/);
    }],
    ['identify, bad option value', () => ['identify', '--top-k', 'many', bono, '--db', db], 2],
    ['identify, unknown option', () => ['identify', '--no-such-option', bono, '--db', db], 2],
    ['remove, nobody of that name', () => ['remove', 'Nobody Atall', '--db', db], 5],
    ['remove, no such face', () => ['remove', '--face', '999999', '--db', db], 5],
    ['remove, no such cluster', () => ['remove', '--cluster', '999999', '--db', db], 5],
    ['remove, a person and a cluster at once', () => ['remove', 'Bono', '--cluster', '1', '--db', db], 2],
    ['cluster, mistyped --db', () => ['cluster', '--db', missingDb], 5],
    ['name-cluster, no such cluster', () => ['name-cluster', '999999', 'Nobody', '--db', db], 5],
    ['move, no such face', () => ['move', '999999', '--to', 'Bono', '--db', db], 5],
    ['merge, a person into themselves: conflict', () => ['merge', 'Bono', '--into', 'Bono', '--db', db], 13, (run) => assert.match(run.stderr, /\[conflict\].*into themselves/)],
    ['reembed, mistyped --db', () => ['reembed', '--db', missingDb, '--to', join(work, 'new.sqlite')], 5, () => {
      assert.ok(!existsSync(join(work, 'new.sqlite')));
    }],
    // ---- enroll
    ['enroll --person, a look-alike of an enrolled name: every photo invalid name', () => ['enroll', '--person', 'bono', lfwPhoto('Bono', 2), '--db', db], 2, (run) => {
      assert.match(run.stdout, /^invalid name +bono .*Bono/m);
    }],
    ['enroll --person, only a blank photo', () => ['enroll', '--person', 'Blank Person', blank, '--db', db], 4],
    ['enroll --person, a photo with a face and one without', () => ['enroll', '--person', 'Mixed Person', mixed, '--db', db], EXIT_INCOMPLETE],
    ['enroll --person, only an unreadable photo', () => ['enroll', '--person', 'Bad Input', bad.truncatedJpeg, '--db', db], 3],
    ['enroll, an empty folder', () => ['enroll', bad.emptyDir, '--db', db], 2],
    ['enroll, a missing folder', () => ['enroll', bad.missing, '--db', db], 5],
    ['enroll, all already enrolled', () => ['enroll', '--person', 'Bono', bono, '--db', db], 0, (run) => assert.match(run.stdout, /1 already enrolled/)],
    // ---- commands that need no gallery: run where there is none, and leave none behind
    ['analyze, a photo, no gallery', () => ['analyze', bono], 0, () => undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['analyze, a blank photo', () => ['analyze', blank], 4, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['analyze, a photo with a face and one without', () => ['analyze', mixed], EXIT_INCOMPLETE, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['represent, a photo', () => ['represent', bono], 0, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['represent, a blank photo', () => ['represent', blank], 4, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['verify, the same photo twice', () => ['verify', bono, bono], 0, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['verify, a photo without a face', () => ['verify', bono, blank], 4, undefined, () => ({ cwd: empty, env: { FACEDB_ENGINE: 'fake' } })],
    ['verify, mistyped --db: no gallery needed, none created', () => ['verify', bono, bono, '--db', missingDb], 0, () => {
      assert.ok(!existsSync(dirname(missingDb)));
    }, () => ({ env: { FACEDB_ENGINE: 'fake' } })],
    ['--version', ['--version'], 0, (run) => assert.match(run.stdout, /^\d+\.\d+\.\d+\n$/)],
    // ---- facedb client
    ['client people, server and key from FACEDB_SERVER and FACEDB_API_KEY', ['client', 'people'], 0, (run) => {
      assert.match(run.stdout, /the gallery is empty|person/);
    }, () => ({ env: { FACEDB_SERVER: server.url, FACEDB_API_KEY: READ } })],
    ['client people, no server given', ['client', 'people'], 2, (run) => assert.match(run.stderr, /--server/), () => ({ env: { FACEDB_SERVER: '' } })],
    ['client people, a wrong key', () => ['client', 'people', '--server', server.url, '--api-key', 'not-a-valid-key-at-all'], 7],
    ['client enroll --person', () => ['client', 'enroll', '--server', server.url, '--api-key', ADMIN, '--person', 'Bono', bono, lfwPhoto('Bono', 2)], 0],
    ['client enroll --person, a look-alike name', () => ['client', 'enroll', '--server', server.url, '--api-key', ADMIN, '--person', 'BONO', lfwPhoto('Bono', 3)], 2],
    ['client enroll --person, a face and a blank', () => ['client', 'enroll', '--server', server.url, '--api-key', ADMIN, '--person', 'Someone', mixed], EXIT_INCOMPLETE, (run) => {
      assert.match(run.stdout, /1 enrolled, 1 no face/);
    }],
    ['client identify, a face and a blank', () => ['client', 'identify', '--server', server.url, '--api-key', READ, mixed], EXIT_INCOMPLETE, (run) => {
      assert.match(run.stdout, /^2\/2 files in .*: 1 with faces \(1 face: 1 known, 0 unknown\), 1 no face$/m);
    }],
    ['client analyze, a blank photo', () => ['client', 'analyze', '--server', server.url, '--api-key', READ, blank], 4],
    ['client represent', () => ['client', 'represent', '--server', server.url, '--api-key', READ, bono], 0, (run) => {
      const line = JSON.parse(run.stdout) as { file: string; model: { id: string }; faces: Array<{ embedding: number[]; detectionScore: number }> };
      assert.equal(line.file, bono);
      assert.equal(line.model.id, 'fake');
      assert.equal(line.faces[0]?.embedding.length, 64);
      assert.equal(typeof line.faces[0]?.detectionScore, 'number');
    }],
    ['client represent, a blank photo', () => ['client', 'represent', '--server', server.url, '--api-key', READ, blank], 4],
    ['client remove, nobody of that name', () => ['client', 'remove', '--server', server.url, '--api-key', ADMIN, 'Nobody'], 5],
    ['client remove, no such face', () => ['client', 'remove', '--server', server.url, '--api-key', ADMIN, '--face', '999999'], 5],
    ['client remove, no such cluster', () => ['client', 'remove', '--server', server.url, '--api-key', ADMIN, '--cluster', '999999'], 5],
    ['client remove, with a read key', () => ['client', 'remove', '--server', server.url, '--api-key', READ, 'Bono'], 7],
    ['client remove', () => ['client', 'remove', '--server', server.url, '--api-key', ADMIN, 'Bono'], 0, (run) => {
      assert.equal(run.stdout, 'removed Bono (2 faces)\n');
    }],
    ['client remove, by id, gone', () => ['client', 'remove', '--server', server.url, '--api-key', ADMIN, '#1'], 5],
    ['client, a server that is not there', () => [], 12, (run) => {
      assert.match(run.stderr, /^facedb: error \[unreachable\]: cannot reach the server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)$/m);
      assert.equal(run.stdout, '');
    }],
  ];

  for (const [name, args, code, check, options] of cases) {
    void it(`${name}: exit ${code}`, async () => {
      let argv = typeof args === 'function' ? args() : args;
      if (argv.length === 0) argv = ['client', 'identify', '--server', `http://127.0.0.1:${await freePort()}`, '--api-key', READ, photos];
      const run = await facedb(argv, options?.());
      const output = `${argv.join(' ')}\n${run.stdout}${run.stderr}`;
      assert.equal(run.code, code, output);
      assert.ok((await readmeExitCodes()).has(code), `exit ${code} is not in the README's table`);
      assert.doesNotMatch(run.stdout + run.stderr, /\n\s+at .+\(.*:\d+:\d+\)/, 'no stack traces');
      check?.(run);
      assert.deepEqual(await readdir(empty), [], 'a command that needs no gallery left a file behind');
    });
  }
});
