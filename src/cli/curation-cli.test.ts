import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { facedb, serveFacedb, type ServeProcess } from '../../test/cli-process.js';
import { CLI, lfwPhoto, tempDir } from '../../test/fixtures.js';
import { startPostgres, type TestPostgres } from '../../test/postgres-server.js';
import { exitCodeFor } from '../errors/exit-codes.js';
import type { StoredFace } from '../store/curation.js';

/**
 * The built CLI's curation commands and their `facedb client` twins, end to end with the fake engine (a lossless
 * copy of a photo is the same face to it): exit codes, and every process following a change at once — a CLI
 * writing into the SQLite file a running server reads, and two servers on one PostgreSQL database.
 */
const ADMIN = 'curation-cli-admin-key-0001';
const env = { FACEDB_ENGINE: 'fake', FACEDB_API_KEYS: `admin:${ADMIN}`, FACEDB_WORKERS: '1' };
const ada = lfwPhoto('Britney_Spears', 1);
const stranger = lfwPhoto('Andre_Agassi', 2);

const client = (server: ServeProcess, command: string, args: string[]) => facedb(['client', command, '--server', server.url, '--api-key', ADMIN, ...args], env);
const identified = async (server: ServeProcess): Promise<string | undefined> => {
  const run = await client(server, 'identify', ['--json', ada]);
  return (JSON.parse(run.stdout) as { faces: Array<{ match: { person: string } | null }> }).faces[0]?.match?.person;
};

void describe('curation commands, a CLI beside a running server on one SQLite file', () => {
  let dir: string;
  let db: string;
  let server: ServeProcess;
  const local = (args: string[]) => facedb([...args, '--db', db], env);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first`);
    dir = await tempDir('facedb-curation-cli-');
    db = join(dir, 'gallery.sqlite');
    const copy = join(dir, 'ada-copy.png');
    await sharp(await readFile(ada)).png().toFile(copy);
    assert.equal((await local(['enroll', '--person', 'Ada', ada])).code, 0);
    assert.equal((await local(['enroll', '--unlabelled', copy, stranger])).code, 0);
    server = await serveFacedb(['--db', db], env);
  });
  after(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('lists faces locally and through the client alike', async () => {
    const here = await local(['faces', '--json']);
    assert.equal(here.code, 0, here.stderr);
    const there = await client(server, 'faces', ['--json']);
    assert.equal(there.code, 0, there.stderr);
    const ids = (run: { stdout: string }) => (JSON.parse(run.stdout) as { items: StoredFace[] }).items.map((f) => [f.id, f.personName, f.clusterId]);
    assert.deepEqual(ids(there), ids(here));
    const text = await local(['faces', '--person', 'Ada']);
    assert.match(text.stdout, /#\d+\s+Ada \(person \d+\)\s+\S*Britney_Spears_0001\.jpg/);
    const clusters = await local(['people', '--clusters']);
    assert.match(clusters.stdout, /looks like Ada \(person \d+, distance 0/);
    assert.match(clusters.stdout, /or facedb reject <id> <person> for a wrong suggestion/, 'a suggestion comes with the way out of a wrong one');
  });

  void it("the server follows the CLI's move and rename at once", async () => {
    assert.equal(await identified(server), 'Ada');
    const [face] = (JSON.parse((await local(['faces', '--person', 'Ada', '--json'])).stdout) as { items: StoredFace[] }).items;
    const moved = await local(['move', String(face!.id), '--to', 'Zoe']);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, /moved 1 face to Zoe \(person \d+, new\)/);
    assert.equal(await identified(server), 'Zoe');
    assert.equal((await local(['rename', 'Zoe', 'Zed'])).code, 0);
    assert.equal(await identified(server), 'Zed');
    const back = await client(server, 'move', [String(face!.id), '--to', 'Ada']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(await identified(server), 'Ada');
  });

  void it('refuses bad corrections with distinct exit codes, locally and through the client', async () => {
    const [face] = (JSON.parse((await local(['faces', '--person', 'Ada', '--json'])).stdout) as { items: StoredFace[] }).items;
    const conflict = exitCodeFor('conflict');
    const notFound = exitCodeFor('not_found');
    for (const [args, code] of [
      [['move', String(face!.id), '--to', 'Ada'], conflict],
      [['move', '999999', '--to', 'Ada'], notFound],
      [['merge', 'Ada', '--into', 'Ada'], conflict],
      [['rename', 'Zed', 'ADA'], conflict],
      [['rename', 'Nobody', 'Someone'], notFound],
      [['unassign', '999999'], notFound],
      [['merge-cluster', '999998', '--into', '999999'], notFound],
    ] as const) {
      const here = await local([...args]);
      assert.equal(here.code, code, `${args.join(' ')}: ${here.stderr}`);
      // The client's twins share the local commands' definitions: two of them stand for the rest.
      if (args[0] !== 'move') continue;
      const there = await client(server, args[0], args.slice(1));
      assert.equal(there.code, code, `client ${args.join(' ')}: ${there.stderr}`);
      assert.match(there.stderr, /\[(conflict|not_found)\]/);
    }
  });

  void it('name-cluster refuses a far cluster for an existing person unless --force', async () => {
    const unnamed = (JSON.parse((await local(['faces', '--unnamed', '--json'])).stdout) as { items: StoredFace[] }).items;
    const far = unnamed.find((f) => f.sourcePath === stranger)!.clusterId!;
    const refused = await local(['name-cluster', String(far), 'Ada']);
    assert.equal(refused.code, exitCodeFor('conflict'));
    assert.match(refused.stderr, /far from "Ada".*--force/);
    const rejected = await client(server, 'reject', [String(far), 'Zed']);
    assert.equal(rejected.code, 0, rejected.stderr);
    const forced = await client(server, 'name-cluster', [String(far), 'Ada', '--force']);
    assert.equal(forced.code, 0, forced.stderr);
  });
});

void describe('curation on two servers sharing one PostgreSQL database', () => {
  let postgres: TestPostgres;
  let one: ServeProcess;
  let two: ServeProcess;

  before(async () => {
    postgres = await startPostgres();
    [one, two] = await Promise.all([serveFacedb(['--db', postgres.url], env), serveFacedb(['--db', postgres.url], env)]);
  });
  after(async () => {
    for (const server of [one, two]) if (server.child.exitCode === null) server.child.kill('SIGKILL');
    await postgres.stop();
  });

  void it("each server answers with the other's corrections at once", async () => {
    const enrolled = await client(one, 'enroll', ['--person', 'Ada', ada]);
    assert.equal(enrolled.code, 0, enrolled.stderr);
    assert.equal(await identified(two), 'Ada');
    const [face] = (JSON.parse((await client(two, 'faces', ['--json'])).stdout) as { items: StoredFace[] }).items;
    assert.equal((await client(one, 'move', [String(face!.id), '--to', 'Bea'])).code, 0);
    assert.equal(await identified(two), 'Bea');
    assert.equal((await client(two, 'rename', ['Bea', 'Beatrice'])).code, 0);
    assert.equal(await identified(one), 'Beatrice');
    assert.equal((await client(one, 'unassign', [String(face!.id)])).code, 0);
    assert.equal(await identified(two), undefined);
  });
});
