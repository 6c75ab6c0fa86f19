import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { facedb, serveFacedb, type Run, type ServeProcess } from '../../test/cli-process.js';
import { CLI, lfwPhoto, testImage, tempDir } from '../../test/fixtures.js';
import { EXIT_INCOMPLETE, exitCodeFor } from '../errors/exit-codes.js';
import type { ClusterListing } from '../services/cluster-service.js';

/**
 * `facedb client` for unnamed faces and clusters, end to end: the built CLI serves a gallery (`facedb serve`, fake
 * engine: the subject is the client, not the model) and the client enrolls, lists, clusters and names through it.
 * Where the same thing can be asked locally (`--db` on the server's own gallery file), both answers must be equal.
 */

const ADMIN = 'client-cluster-admin-key-01';
const READ = 'client-cluster-read-key-0001';
const SIZE_LIMIT = 2_000_000;

function serve(db: string): Promise<ServeProcess> {
  // A small request limit, so a photo too large to send is quick to make (the photos of the tests are far smaller).
  const env = { FACEDB_ENGINE: 'fake', FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}`, FACEDB_WORKERS: '1', FACEDB_BODY_LIMIT_BYTES: String(SIZE_LIMIT) };
  return serveFacedb(['--db', db], env);
}

/** The report without its timings, which differ from run to run. */
function untimed(text: string): string {
  return text.replace(/in [\d.]+s \([\d.-]+ files\/s\)/g, 'in Ts');
}

void describe('facedb client: unnamed faces, clusters and naming on a server', () => {
  let server: ServeProcess;
  let db: string;
  let localDb: string;
  let archive: string;
  let probe: string;
  const files: Record<'herA' | 'herB' | 'him' | 'blank' | 'notes', string> = { herA: '', herB: '', him: '', blank: '', notes: '' };
  const client = (command: string, args: string[], key = ADMIN) => facedb(['client', command, '--server', server.url, '--api-key', key, ...args]);
  const local = (command: string, args: string[], gallery = db) => facedb([command, ...args, '--db', gallery]);

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npm run build)`);
    const work = await tempDir('facedb-client-clusters-');
    // An archive without names, two levels deep. With the fake engine a photo and its re-encoding are one "person"
    // (nearly the same embedding, different bytes), any two other photos are not.
    archive = join(work, 'archive');
    await mkdir(join(archive, 'roll-1', 'day'), { recursive: true });
    files.herA = join(archive, 'roll-1', 'a-her.jpg');
    files.herB = join(archive, 'roll-1', 'day', 'b-her-again.jpg');
    files.him = join(archive, 'c-him.jpg');
    files.blank = join(archive, 'd-blank.jpg');
    files.notes = join(archive, 'e-notes.jpg');
    await copyFile(lfwPhoto('Britney_Spears', 1), files.herA);
    await writeFile(files.herB, await sharp(lfwPhoto('Britney_Spears', 1)).jpeg({ quality: 85 }).toBuffer());
    await copyFile(lfwPhoto('Bill_Clinton', 1), files.him);
    await copyFile(testImage('Blank_image.jpg'), files.blank);
    await writeFile(files.notes, 'this is a text file, not a photo\n');
    probe = join(work, 'probe.jpg');
    await writeFile(probe, await sharp(lfwPhoto('Britney_Spears', 1)).jpeg({ quality: 70 }).toBuffer());
    db = join(work, 'served.sqlite');
    localDb = join(work, 'local.sqlite');
    server = await serve(db);
  });
  after(() => {
    server.child.removeAllListeners('close');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('refuses a wrong key and a read key, with the exit codes of the other client commands, and adds nothing', async () => {
    const denied = exitCodeFor('unauthorized');
    const wrong = await client('enroll', ['--unlabelled', archive], 'not-a-valid-key-at-all');
    assert.equal(wrong.code, denied, wrong.stderr);
    assert.match(wrong.stderr, /error \[unauthorized\]/);
    assert.equal(wrong.stdout, '', 'the run stops at the first photo');
    assert.equal((await client('people', ['--clusters'], 'not-a-valid-key-at-all')).code, denied);
    assert.equal((await client('identify', [files.herA], 'not-a-valid-key-at-all')).code, denied, 'as the existing client commands');
    for (const [command, args] of [
      ['enroll', ['--unlabelled', archive]],
      ['cluster', []],
      ['name-cluster', ['1', 'Somebody']],
    ] as const) {
      const run = await client(command, [...args], READ);
      assert.equal(run.code, exitCodeFor('forbidden'), `${command}: ${run.stderr}`);
      assert.match(run.stderr, /error \[forbidden\]/);
    }
    const listing = await client('people', ['--clusters', '--json'], READ);
    assert.equal(listing.code, 0, listing.stderr);
    assert.deepEqual(JSON.parse(listing.stdout), { items: [], total: 0, unnamedFaces: 0, unclusteredFaces: 0 });
  });

  void it('enrolls an archive without names, one photo per request, with the outcomes of the local command', async () => {
    assert.equal((await client('enroll', ['--unlabelled', '--person', 'X', archive])).code, exitCodeFor('invalid_input'));
    assert.equal((await client('enroll', [archive])).code, exitCodeFor('invalid_input'), 'neither --person nor --unlabelled');
    // Three photos enrolled, two not (no face, not an image): partly done, here and there.
    const remote = await client('enroll', ['--unlabelled', archive]);
    assert.equal(remote.code, EXIT_INCOMPLETE, remote.stderr);
    const here = await facedb(['--engine', 'fake', 'enroll', '--unlabelled', archive, '--db', localDb, '--workers', '1']);
    assert.equal(here.code, EXIT_INCOMPLETE, here.stderr);
    // Per-photo lines: the same (the local command runs photos in parallel lanes, so their order may differ).
    const byPath = (a: string, b: string) => a.slice(18).localeCompare(b.slice(18));
    const outcomeLines = (run: Run) => run.stdout.split('\n').slice(0, 5).sort(byPath);
    assert.deepEqual(outcomeLines(remote), outcomeLines(here));
    assert.deepEqual(
      outcomeLines(remote),
      [
        `enrolled          ${files.herA} (1 face)`,
        `enrolled          ${files.herB} (1 face)`,
        `enrolled          ${files.him} (1 face)`,
        `no face           ${files.blank}`,
        `unreadable        ${files.notes}: not an image: the content is not JPEG, PNG, WebP, GIF, TIFF or AVIF`,
      ].sort(byPath),
    );
    const summary = (run: Run) => untimed(run.stdout.split('\n')[5] ?? '');
    assert.equal(summary(remote), '5/5 files in Ts: 3 enrolled, 1 no face, 1 unreadable; 3 faces added without a name');
    assert.equal(summary(remote), summary(here));
    // The server clustered after each photo (her second photo grew the cluster her first one made); the summary
    // counts each cluster once, as what it is at the end, so it reads as the local command's single run.
    assert.match(here.stdout, /^clustered 3 new faces at distance 0\.300: 2 new clusters, 0 grown, 0 merged into others; 2 clusters in all/m);
    assert.equal(untimed(remote.stdout.split('\n')[6] ?? ''), untimed(here.stdout.split('\n')[6] ?? ''));

    const again = await client('enroll', ['--unlabelled', '--json', archive]);
    assert.equal(again.code, EXIT_INCOMPLETE, again.stderr);
    const json = JSON.parse(again.stdout) as { total: number; counts: Record<string, number>; facesAdded: number; outcomes: Array<{ path: string }>; clustering: unknown };
    assert.deepEqual(json.counts, { enrolled: 0, already_enrolled: 3, no_face: 1, unreadable: 1, failed: 0 });
    assert.deepEqual([json.total, json.facesAdded, json.clustering], [5, 0, null]);
    assert.deepEqual(json.outcomes.map((o) => o.path).sort(), Object.values(files).sort());
    const missing = await client('enroll', ['--unlabelled', join(archive, 'nothing-here.jpg')]);
    assert.equal(missing.code, exitCodeFor('not_found'), missing.stderr);

    // A photo the server refuses whole (over its request limit) is unreadable, as a file over the limit is locally.
    const big = join(archive, '..', 'big.jpg');
    await writeFile(big, Buffer.alloc(SIZE_LIMIT + 100_000, 7));
    const refused = await client('enroll', ['--unlabelled', big]);
    assert.equal(refused.code, exitCodeFor('image_too_large'), refused.stderr);
    assert.match(refused.stdout, new RegExp(`^unreadable +${big}: [^/]*too large`, 'm'));
    const refusedHere = await facedb(['--engine', 'fake', 'enroll', '--unlabelled', big, '--db', localDb], { FACEDB_MAX_FILE_BYTES: String(SIZE_LIMIT) });
    assert.match(refusedHere.stdout, new RegExp(`^unreadable +${big}: `, 'm'));
    assert.equal(untimed(refused.stdout.split('\n')[1] ?? ''), untimed(refusedHere.stdout.split('\n')[1] ?? ''));

    // A --server that is not a URL or cannot be reached stops the run before any photo is reported.
    for (const [server, code] of [['not a url', 'invalid_input'], ['http://127.0.0.1:1', 'unreachable']] as const) {
      const run = await facedb(['client', 'enroll', '--unlabelled', '--server', server, '--api-key', ADMIN, archive]);
      assert.equal(run.code, exitCodeFor(code), run.stderr);
      assert.equal(run.stdout, '');
    }
  });

  void it('lists the clusters exactly as the local command lists the same gallery, as text and JSON', async () => {
    for (const args of [[], ['--samples', '1'], ['--limit', '1', '--offset', '1'], ['--samples', '0', '--limit', '1']]) {
      const remoteText = await client('people', ['--clusters', ...args], READ);
      const localText = await local('people', ['--clusters', ...args]);
      assert.equal(remoteText.code, 0, remoteText.stderr);
      assert.equal(remoteText.stdout, localText.stdout, args.join(' '));
      const remoteJson = await client('people', ['--clusters', '--json', ...args], READ);
      const localJson = await local('people', ['--clusters', '--json', ...args]);
      assert.equal(remoteJson.stdout, localJson.stdout, args.join(' '));
    }
    const listing = JSON.parse((await client('people', ['--clusters', '--json'], READ)).stdout) as ClusterListing;
    assert.deepEqual(listing.items.map((c) => [c.size, c.samples.length]), [[2, 2], [1, 1]]);
    assert.deepEqual([listing.total, listing.unnamedFaces, listing.unclusteredFaces], [2, 3, 0]);
    assert.equal(listing.items[0]!.samples[0]!.sourcePath, null, 'uploads have no file name');
    const page = JSON.parse((await client('people', ['--clusters', '--json', '--limit', '1', '--offset', '1'], READ)).stdout) as ClusterListing;
    assert.deepEqual(page.items.map((c) => c.size), [1], 'limit and offset reach the server');
    const text = await client('people', ['--clusters'], READ);
    assert.match(text.stdout, /^ +\d+ +2 {2}\d+: \(upload\), \d+: \(upload\)$/m);
    assert.match(text.stdout, /2 clusters; name one with: facedb name-cluster <id> "Name"\n3 unnamed faces\n$/);
    assert.equal((await client('people', ['--clusters', '--samples', '500'], READ)).code, exitCodeFor('validation_failed'));
  });

  void it('clusters on request, incrementally or from scratch', async () => {
    const incremental = await client('cluster', ['--json']);
    assert.equal(incremental.code, 0, incremental.stderr);
    const run = JSON.parse(incremental.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(run), ['threshold', 'full', 'facesClustered', 'clustersCreated', 'clustersGrown', 'clustersMerged', 'clusterIds', 'clusters', 'elapsedMs']);
    assert.deepEqual([run.full, run.facesClustered, run.clusters], [false, 0, 2]);
    const full = await client('cluster', ['--full']);
    assert.equal(full.code, 0, full.stderr);
    assert.equal(full.stdout, 're-clustered 3 unnamed faces at distance 0.300: 2 clusters kept their ids, 0 new clusters; 2 clusters in all (facedb people --clusters)\n');
  });

  void it('names a cluster into a person whom identify then finds; bad cluster ids and names are refused as locally', async () => {
    const listing = JSON.parse((await client('people', ['--clusters', '--json'], READ)).stdout) as ClusterListing;
    const hers = listing.items[0]!;
    assert.equal(hers.size, 2);
    const before = await client('identify', [probe], READ);
    assert.equal(before.code, 0, before.stderr);
    assert.doesNotMatch(before.stdout, /Britney/);

    for (const [id, name, code] of [
      ['999999', 'Nobody', 'not_found'],
      ['0', 'Nobody', 'not_found'],
      ['abc', 'Nobody', 'invalid_input'],
      [String(hers.id), ' ', 'invalid_input'],
    ] as const) {
      const remote = await client('name-cluster', [id, name]);
      assert.equal(remote.code, exitCodeFor(code), `${id} ${name}: ${remote.stderr}`);
      assert.equal((await local('name-cluster', [id, name])).code, remote.code, `${id} ${name}: locally`);
    }
    assert.match((await client('name-cluster', ['999999', 'Nobody'])).stderr, /error \[not_found\]: no cluster with id 999999/);

    const named = await client('name-cluster', [String(hers.id), 'Britney Spears']);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, new RegExp(`^cluster ${hers.id} → Britney Spears \\(person \\d+\\): 2 faces named, 2 faces in all\n$`));
    const people = await client('people', [], READ);
    assert.match(people.stdout, /Britney Spears +2/);
    assert.equal(people.stdout, (await local('people', [])).stdout);
    assert.equal((await client('people', ['--json'], READ)).stdout, (await local('people', ['--json'])).stdout);

    const identified = await client('identify', ['--json', probe], READ);
    assert.equal(identified.code, 0, identified.stderr);
    assert.equal((JSON.parse(identified.stdout) as { faces: Array<{ match: { person: string } | null }> }).faces[0]?.match?.person, 'Britney Spears');
    const left = JSON.parse((await client('people', ['--clusters', '--json'], READ)).stdout) as ClusterListing;
    assert.deepEqual([left.total, left.unnamedFaces], [1, 1]);

    // Naming another cluster after a person who exists: refused when it is far from them (to the fake engine every
    // other photo is), as locally; with --force it adds their faces; JSON as locally.
    const far = await client('name-cluster', [String(left.items[0]!.id), 'Britney Spears']);
    assert.equal(far.code, exitCodeFor('conflict'), far.stderr);
    assert.equal((await local('name-cluster', [String(left.items[0]!.id), 'Britney Spears'])).code, far.code);
    const more = await client('name-cluster', [String(left.items[0]!.id), 'Britney Spears', '--force', '--json']);
    assert.equal(more.code, 0, more.stderr);
    const result = JSON.parse(more.stdout) as { person: Record<string, unknown>; facesNamed: number; facesLeft: number };
    assert.deepEqual(Object.keys(result.person), ['id', 'name', 'faceCount', 'createdAt']);
    assert.deepEqual([result.person.name, result.person.faceCount, result.facesNamed, result.facesLeft], ['Britney Spears', 3, 1, 0]);
  });

  void it('shows a photo enrolled from the server\'s disk by its file name only', async () => {
    const folder = join(archive, '..', 'server-side', 'private');
    await mkdir(folder, { recursive: true });
    const photo = join(folder, 'bono.jpg');
    await copyFile(lfwPhoto('Bono', 1), photo);
    assert.equal((await local('enroll', ['--unlabelled', photo])).code, 0);
    const remote = JSON.parse((await client('people', ['--clusters', '--json'], READ)).stdout) as ClusterListing;
    const here = JSON.parse((await local('people', ['--clusters', '--json'])).stdout) as ClusterListing;
    assert.deepEqual(remote.items.map((c) => c.samples.map((f) => f.sourcePath)), [['bono.jpg']]);
    assert.deepEqual(here.items.map((c) => c.samples.map((f) => f.sourcePath)), [[photo]]);
    assert.deepEqual({ ...remote, items: [] }, { ...here, items: [] });
  });

  void it('stops at Ctrl-C after the photo in flight and still prints the summary', async () => {
    const many = join(archive, '..', 'many');
    await mkdir(many);
    for (let i = 0; i < 200; i++) await copyFile(testImage('Blank_image.jpg'), join(many, `blank-${String(i).padStart(3, '0')}.jpg`));
    const child = spawn(process.execPath, [CLI, 'client', 'enroll', '--unlabelled', '--server', server.url, '--api-key', ADMIN, many]);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      if (stdout === '') child.kill('SIGINT');
      stdout += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted: finishing the photo in flight/);
    const summary = /^(\d+)\/200 files in .*\(interrupted: (\d+) not processed\): (\d+) no face; 0 faces added without a name$/m.exec(stdout);
    assert.ok(summary, stdout);
    const [done, left, noFace] = summary.slice(1).map(Number) as [number, number, number];
    assert.ok(done >= 1 && done < 200, stdout);
    assert.deepEqual([done + left, noFace], [200, done]);
  });
});
