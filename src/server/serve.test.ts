import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { facedb, serveFacedb } from '../../test/cli-process.js';
import { CLI, lfwPhoto, tempDir, testImage, writeBadInputs, type BadInputs } from '../../test/fixtures.js';
import { EXIT_INCOMPLETE, exitCodeFor } from '../errors/exit-codes.js';
import * as wire from './wire.js';

/** The built CLI end to end: `facedb serve` in a child process, driven by `facedb client`. */

const ADMIN = 'serve-test-admin-key-0001';
const READ = 'serve-test-read-key-00001';

void describe('facedb serve + facedb client, end to end', () => {
  let dir: string;
  let server: Awaited<ReturnType<typeof serveFacedb>>;
  let bad: BadInputs;
  const env = (): NodeJS.ProcessEnv => ({ FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}`, FACEDB_WORKERS: '1' });
  const client = (command: string, args: string[], key = READ) =>
    facedb(['client', command, '--server', server.url, '--api-key', key, ...args]);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npx tsc -p tsconfig.json)`);
    dir = await tempDir('facedb-serve-');
    bad = await writeBadInputs();
    server = await serveFacedb(['--db', join(dir, 'gallery.sqlite')], env());
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('enrolls a person from LFW photos through the client', async () => {
    const run = await client('enroll', ['--person', 'Bono', lfwPhoto('Bono', 1), lfwPhoto('Bono', 3), bad.textNamedJpg], ADMIN);
    assert.equal(run.code, EXIT_INCOMPLETE, run.stderr); // two photos enrolled, one not: partly done
    assert.match(run.stdout, /^enrolled\s+Bono\s+.*Bono_0001\.jpg$/m);
    assert.match(run.stdout, /^unreadable\s+Bono\s+.*notes\.jpg: not an image/m);
    assert.match(run.stdout, /^3\/3 files in .*: 2 enrolled, 1 unreadable$/m);
    const denied = await client('enroll', ['--person', 'Bono', lfwPhoto('Bono', 2)]);
    assert.equal(denied.code, exitCodeFor('forbidden'));
    assert.match(denied.stderr, /\[forbidden\]/);
  });

  void it('identifies them with the same report as the local command', async () => {
    const run = await client('identify', [lfwPhoto('Bono', 3)]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /face 1: Bono\n/);
    assert.match(run.stdout, /who: Bono {2}\(distance \d\.\d{3} ≤ threshold/);
    const json = await client('identify', ['--json', lfwPhoto('Bono', 3)]);
    const line = JSON.parse(json.stdout) as { file: string; faces: Array<{ match: { person: string } | null; detectionScore: number }> };
    assert.equal(line.file, lfwPhoto('Bono', 3));
    assert.equal(line.faces[0]?.match?.person, 'Bono');
    assert.equal(typeof line.faces[0]?.detectionScore, 'number', 'camelCase, like the local --json');
    const named = await client('identify', ['--json', '--attributes', 'none', lfwPhoto('Bono', 3)]);
    assert.equal(named.code, 0, named.stderr);
    assert.deepEqual(Object.keys((JSON.parse(named.stdout) as { faces: object[] }).faces[0] ?? {}).sort(), ['box', 'candidates', 'detectionScore', 'match']);
  });

  void it('maps error envelopes to the local exit codes', async () => {
    const blank = await client('identify', [testImage('Blank_image.jpg')]);
    assert.equal(blank.code, exitCodeFor('no_face'));
    assert.match(blank.stdout, /no face found/);
    const text = await client('identify', [bad.textNamedJpg]);
    assert.equal(text.code, exitCodeFor('invalid_image'));
    assert.match(text.stdout, /error \[invalid_image\]/);
    const wrongKey = await client('identify', [testImage('Bono_0002.jpg')], 'not-a-valid-key-at-all');
    assert.equal(wrongKey.code, exitCodeFor('unauthorized'));
    const missing = await client('identify', [bad.missing]);
    assert.equal(missing.code, exitCodeFor('not_found'));
  });

  void it('verifies', async () => {
    const same = await client('verify', [lfwPhoto('Bono', 1), testImage('Bono_0002.jpg')]);
    assert.equal(same.code, 0, same.stderr);
    assert.match(same.stdout, /: same person {2}\(distance \d\.\d{3} ≤ threshold/);
    const different = await client('verify', [lfwPhoto('Bono', 1), testImage('Brad_Pitt_0001.jpg')]);
    assert.match(different.stdout, /: different people/);
    const noFace = await client('verify', [lfwPhoto('Bono', 1), testImage('Blank_image.jpg')]);
    assert.equal(noFace.code, exitCodeFor('no_face'));
    const emotionOnly = await client('verify', ['--json', '--attributes', 'emotion', lfwPhoto('Bono', 1), testImage('Bono_0002.jpg')]);
    assert.equal(emotionOnly.code, 0, emotionOnly.stderr);
    const faces = (JSON.parse(emotionOnly.stdout) as { faces: object[] }).faces;
    assert.deepEqual(faces.map((face) => Object.keys(face).sort()), [0, 1].map(() => ['box', 'detectionScore', 'emotion']));
  });

  void it('analyzes group.jpg', async () => {
    const run = await client('analyze', [testImage('group.jpg')]);
    assert.equal(run.code, 0, run.stderr);
    const faces = Number(/(\d+) faces\)/.exec(run.stdout)?.[1]);
    assert.ok(faces >= 5, run.stdout);
    assert.equal(run.stdout.match(/emotion: /g)?.length, faces);
    const ages = await client('analyze', ['--attributes', 'age', testImage('group.jpg')]);
    assert.equal(ages.code, 0, ages.stderr);
    assert.equal(ages.stdout.match(/^.*age ~\d+$/gm)?.length, faces, ages.stdout);
    assert.doesNotMatch(ages.stdout, /emotion: |male/);
    const bad = await client('analyze', ['--attributes', 'happiness', testImage('group.jpg')]);
    assert.equal(bad.code, exitCodeFor('invalid_input'));
    assert.match(bad.stderr, /unknown attribute "happiness"/);
  });

  void it('finishes an in-flight identify on SIGTERM, then exits 0', async () => {
    const body = new FormData();
    body.append('image', new Blob([await readFile(testImage('group.jpg'))]), 'group.jpg');
    const inFlight = fetch(`${server.url}/v1/identify`, { method: 'POST', body, headers: { 'x-api-key': READ } });
    // Give the upload time to arrive; group.jpg then keeps the single worker busy well past the signal.
    await new Promise((resolve) => setTimeout(resolve, 150));
    server.child.kill('SIGTERM');
    const response = await inFlight;
    assert.equal(response.status, 200, await response.clone().text());
    assert.ok(wire.identifyResponse.parse(await response.json()).faces.length >= 5);
    assert.equal(await server.exited, 0);
  });

  void it('refuses to start on a non-loopback host without keys', async () => {
    const run = await facedb(['serve', '--host', '0.0.0.0', '--port', '0', '--db', join(dir, 'open.sqlite')], { FACEDB_API_KEYS: '' });
    assert.equal(run.code, exitCodeFor('invalid_input'));
    assert.match(run.stderr, /refusing to serve on 0\.0\.0\.0 without API keys/);
    assert.equal(run.stdout, '');
  });
});
