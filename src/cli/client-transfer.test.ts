import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { facedb, serveFacedb, type ServeProcess } from '../../test/cli-process.js';
import { CLI, copyLfwPeople, lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { exitCodeFor } from '../errors/exit-codes.js';
import { searchResponse } from '../server/search-wire.js';

/**
 * Search by face, export and import end to end through the built CLI: locally (`--db`), over HTTP and through
 * `facedb client`, which must answer as the local commands do. Fake engine: the subject is the plumbing, not the model.
 */
const ADMIN = 'client-transfer-admin-key-01';
const READ = 'client-transfer-read-key-0001';
const ENV = { FACEDB_ENGINE: 'fake', FACEDB_WORKERS: '1' };

/** An export's lines without the header's time (two exports of one gallery differ only there). */
function timeless(text: string): string[] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .map(({ exported_at: _time, sha256: _digest, ...rest }) => JSON.stringify(rest));
}

void describe('facedb search / export / import: local, HTTP and client', () => {
  let work: string;
  let db: string;
  let server: ServeProcess;
  const local = (args: string[]) => facedb(args, ENV);
  const client = (command: string, args: string[], key = ADMIN) => facedb(['client', command, '--server', server.url, '--api-key', key, ...args]);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npm run build)`);
    work = await tempDir('facedb-client-transfer-');
    db = join(work, 'gallery.sqlite');
    const gallery = await copyLfwPeople((person) => /^Bo[nr]/.test(person));
    assert.equal((await local(['enroll', gallery, '--db', db])).code, 0);
    assert.equal((await local(['enroll', '--unlabelled', testImage('group.jpg'), lfwPhoto('Bono', 1), '--db', db])).code, 0);
    server = await serveFacedb(['--db', db], { ...ENV, FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}` });
  });
  after(() => {
    server.child.removeAllListeners('close');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('search: the client answers as the local command, and POST /v1/search keeps its contract', async () => {
    const probe = lfwPhoto('Bono', 1);
    const mine = await local(['search', probe, '--json', '--top', '4', '--db', db]);
    assert.equal(mine.code, 0, mine.stderr);
    const theirs = await client('search', [probe, '--json', '--top', '4'], READ);
    assert.equal(theirs.code, 0, theirs.stderr);
    assert.deepEqual(JSON.parse(theirs.stdout), JSON.parse(mine.stdout));
    const result = JSON.parse(mine.stdout) as { faces: Array<{ matches: Array<{ person: { name: string } | null; distance: number }> }> };
    const exact = result.faces[0]!.matches.filter((m) => m.distance === 0);
    assert.deepEqual(exact.map((m) => m.person?.name ?? null).sort(), ['Bono', null], 'the photo as Bono’s face and as an unnamed face');

    const unnamedOnly = await local(['search', probe, '--unnamed', '--db', db]);
    assert.match(unnamedOnly.stdout, /unnamed/);
    assert.doesNotMatch(unnamedOnly.stdout, /Bono \(#/);

    const form = new FormData();
    form.append('image', new Blob([await readFile(probe)]), 'probe.jpg');
    form.append('top', '2');
    const response = await fetch(new URL('/v1/search', server.url), { method: 'POST', body: form, headers: { authorization: `Bearer ${READ}` } });
    assert.equal(response.status, 200);
    const body = searchResponse.parse(await response.json());
    assert.equal(body.faces[0]!.matches.length, 2);
    assert.equal(body.faces[0]!.matches[0]!.image_url, `/v1/faces/${body.faces[0]!.matches[0]!.face_id}/image`);
    const tooMany = await client('search', [probe, '--top', '101'], READ);
    assert.equal(tooMany.code, exitCodeFor('invalid_input'));
  });

  void it('export: the client writes what the local command writes; a read key may not export', async () => {
    const mine = join(work, 'local.jsonl');
    const theirs = join(work, 'client.jsonl');
    const wrote = await local(['export', mine, '--db', db]);
    assert.equal(wrote.code, 0, wrote.stderr);
    assert.match(wrote.stdout, /exported \d+ people, \d+ faces/);
    const fetched = await client('export', [theirs]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.deepEqual(timeless(await readFile(theirs, 'utf8')), timeless(await readFile(mine, 'utf8')));
    const denied = await client('export', [join(work, 'denied.jsonl')], READ);
    assert.equal(denied.code, exitCodeFor('forbidden'), denied.stderr);
    assert.equal(existsSync(join(work, 'denied.jsonl')), false);
  });

  void it('import: into a new gallery the same answers; through the client twice adds nothing; a cut file is refused', async () => {
    const file = join(work, 'local.jsonl');
    const copy = join(work, 'copy.sqlite');
    const loaded = await local(['import', file, '--db', copy, '--json']);
    assert.equal(loaded.code, 0, loaded.stderr);
    const probe = lfwPhoto('Boris_Becker', 2);
    const answers = async (gallery: string) => (await local(['identify', probe, '--json', '--db', gallery])).stdout;
    assert.equal(await answers(copy), await answers(db));

    const again = await client('import', [file, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout) as { people: { added: number }; faces: { added: number }; unnamedFaces: { added: number } };
    assert.deepEqual([summary.people.added, summary.faces.added, summary.unnamedFaces.added], [0, 0, 0]);

    const cut = join(work, 'cut.jsonl');
    const text = await readFile(file, 'utf8');
    await writeFile(cut, text.slice(0, Math.floor(text.length / 2)));
    const refused = await client('import', [cut]);
    assert.equal(refused.code, exitCodeFor('invalid_input'), refused.stderr);
    assert.match(refused.stderr, /nothing was imported/);
  });
});
