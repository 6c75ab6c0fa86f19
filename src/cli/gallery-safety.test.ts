import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { LFW_SUBSET, REPO_ROOT, tempDir } from '../../test/fixtures.js';
import { FAKE_MODEL } from '../../test/fake-engine.js';
import { EXIT_INCOMPLETE, exitCodeFor } from '../errors/exit-codes.js';
import { openSqliteStore } from '../store/sqlite/store.js';

/*
 * The CLI on galleries it must handle with care: names stored before the name rules (with control characters,
 * bidi overrides, newlines) are printed escaped, never raw; a gallery on a read-only file system is still
 * listed, and writing to it fails with storage_unavailable's own exit code. Runs the CLI from source.
 */

function facedb(args: string[], wrap?: (command: string[]) => string[]): { code: number | null; stdout: string; stderr: string } {
  const command = [process.execPath, '--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), ...args];
  const [file, ...rest] = wrap ? wrap(command) : command;
  const result = spawnSync(file!, rest, { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Raw terminal-affecting characters: controls other than newline, and format (zero-width, bidi) characters. */
const RAW_CONTROL = /(?![\n])[\p{Cc}\p{Cf}]/u;

/** True when this process may make a private mount namespace (root, unshare available). */
function canUnshare(): boolean {
  return spawnSync('unshare', ['-m', 'true']).status === 0;
}

void describe('CLI on delicate galleries', () => {
  let dir: string;
  let db: string;
  const hostile = ['Mallory\u001b[2J\u001b[31m', 'Eve\u202etxt.exe', 'Two\nLines', 'Zero\u200bWidth\u0000'];

  before(async () => {
    dir = await tempDir('facedb-cli-safety-');
    db = join(dir, 'gallery', 'gallery.sqlite');
    await mkdir(join(dir, 'gallery'));
    const store = await openSqliteStore(db);
    await store.ensureModel(FAKE_MODEL);
    const ada = await store.upsertPerson('Ada Lovelace');
    await store.addFaces(ada.id, [
      { sourcePath: null, contentHash: 'a'.repeat(64), box: { x: 0, y: 0, width: 10, height: 10 }, detectionScore: 0.9, embedding: new Float32Array(FAKE_MODEL.dimensions).fill(0.25), crop: null },
    ]);
    await store.close();
    // Names stored by an older facedb, before the name rules: written behind the store's back.
    const raw = new Database(db);
    for (const name of hostile) raw.prepare("INSERT INTO people (name, created_at) VALUES (?, '2024-01-01T00:00:00.000Z')").run(name);
    raw.close();
  });

  void it('prints stored names with control characters escaped, in text and in JSON', () => {
    const text = facedb(['--db', db, 'people']);
    assert.equal(text.code, 0, text.stderr);
    assert.doesNotMatch(text.stdout, RAW_CONTROL);
    assert.match(text.stdout, /Mallory\\u001B\[2J/);
    assert.match(text.stdout, /Eve\\u202Etxt\.exe/);
    assert.match(text.stdout, /Two\\u000ALines/);
    assert.equal(text.stdout.trim().split('\n').length, 1 + 1 + hostile.length + 1, 'one line per person, header and footer');

    const json = facedb(['--db', db, 'people', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.doesNotMatch(json.stdout, RAW_CONTROL);
    const page = JSON.parse(json.stdout) as { items: Array<{ name: string }> };
    // Escaped for the terminal, yet the same data for a JSON reader.
    assert.deepEqual(page.items.map((p) => p.name), ['Ada Lovelace', ...hostile]);
  });

  void it('escapes a stored name in what remove prints', () => {
    const removed = facedb(['--db', db, 'remove', 'Eve\u202etxt.exe']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.doesNotMatch(removed.stdout, RAW_CONTROL);
    assert.match(removed.stdout, /removed Eve\\u202Etxt\.exe/);
  });

  void it('refuses a --person name that breaks the name rules before reading any photo', () => {
    const refused = facedb(['--db', db, 'enroll', '--person', 'Bono\u200b', join(dir, 'no-such-photo.jpg')]);
    assert.equal(refused.code, exitCodeFor('invalid_input'), refused.stderr);
    assert.match(refused.stderr, /U\+200B/);
    assert.doesNotMatch(refused.stderr, RAW_CONTROL);
  });

  void it('lists a gallery on a read-only file system, and refuses to write to it with exit code 9', (t) => {
    if (!canUnshare()) {
      t.skip('needs a private mount namespace (root and unshare -m) to mount the gallery read-only');
      return;
    }
    const gallery = join(dir, 'gallery');
    const readOnly = join(dir, 'read-only');
    spawnSync('mkdir', ['-p', readOnly]);
    // A read-only bind mount of the gallery's folder, seen only by the command run inside the namespace.
    const insideReadOnlyMount = (command: string[]): string[] => [
      'unshare',
      '-m',
      'sh',
      '-c',
      'mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && shift 2 && exec "$@"',
      'sh',
      gallery,
      readOnly,
      ...command,
    ];
    const onReadOnly = join(readOnly, 'gallery.sqlite');
    const people = facedb(['--db', onReadOnly, 'people'], insideReadOnlyMount);
    assert.equal(people.code, 0, people.stderr);
    assert.match(people.stdout, /Ada Lovelace\s+1/);

    const remove = facedb(['--db', onReadOnly, 'remove', 'Ada Lovelace'], insideReadOnlyMount);
    assert.equal(remove.code, exitCodeFor('storage_unavailable'), remove.stderr);
    assert.equal(exitCodeFor('storage_unavailable'), 9);
    assert.match(remove.stderr, /error \[storage_unavailable\]: .*read-only/);
    // A command that reads a gallery refuses a missing one; one that adds to it cannot create it there.
    const missing = facedb(['--db', join(readOnly, 'new.sqlite'), 'people'], insideReadOnlyMount);
    assert.equal(missing.code, exitCodeFor('not_found'), missing.stderr);
    const photo = join(LFW_SUBSET, 'Bono', 'Bono_0001.jpg');
    const create = facedb(['--db', join(readOnly, 'new.sqlite'), '--engine', 'fake', 'enroll', '--person', 'Bono', photo], insideReadOnlyMount);
    assert.equal(create.code, 9, create.stderr);
    assert.match(create.stderr, /cannot create the gallery .*new\.sqlite: its folder cannot be written \(EROFS\)/);
    // Nothing changed: the person is still there, read from the writable side.
    assert.match(facedb(['--db', db, 'people']).stdout, /Ada Lovelace\s+1/);
  });

  void it('a person removed by another process while `facedb enroll` runs stays removed', async () => {
    const photos = readdirSync(LFW_SUBSET)
      .sort()
      .flatMap((person) => readdirSync(join(LFW_SUBSET, person)).sort().map((file) => join(LFW_SUBSET, person, file)))
      .slice(0, 40);
    const gallery = join(dir, 'shared.sqlite');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), '--db', gallery, '--workers', '1', 'enroll', '--person', 'Bono', ...photos],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let removed: number | undefined;
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    for await (const chunk of child.stdout) {
      stdout += String(chunk);
      // As soon as the run has enrolled a photo, another process (this one) erases Bono.
      if (removed === undefined && /^enrolled\s/m.test(stdout)) {
        const eraser = await openSqliteStore(gallery);
        try {
          const bono = await eraser.findPersonByName('Bono');
          assert.ok(bono);
          removed = await eraser.removePerson(bono.id);
        } finally {
          await eraser.close();
        }
      }
    }
    assert.equal(await exited, EXIT_INCOMPLETE, stdout); // one photo enrolled, the rest not: partly done
    assert.ok(removed !== undefined && removed >= 1);
    const notFound = stdout.split('\n').filter((line) => line.startsWith('person removed meanwhile')).length;
    assert.ok(notFound >= 1, `no photo came after the removal:\n${stdout}`);
    const after = await openSqliteStore(gallery);
    try {
      assert.equal((await after.listPeople({ limit: 10, offset: 0 })).total, 0, 'Bono was re-created');
      assert.equal(await after.countFaces(), 0);
    } finally {
      await after.close();
    }
  });
});
