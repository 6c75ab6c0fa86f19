import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { facedb, serveFacedb, type Run, type ServeProcess } from '../../test/cli-process.js';
import { CLI, lfwPhoto, tempDir } from '../../test/fixtures.js';
import { EXIT_OK, exitCodeFor } from '../errors/exit-codes.js';
import type { ClusterListing } from '../services/cluster-service.js';

/**
 * `facedb remove --face/--cluster` and `facedb client remove --face/--cluster`, end to end on real photos (fake
 * engine: the subject is the plumbing, the store's erasure bytes are tested in src/store/erasure.test.ts). One
 * gallery is made, copied, and one copy is erased locally, the other through a server: both must answer alike.
 */

const ADMIN = 'remove-faces-admin-key-0001';
const READ = 'remove-faces-read-key-00001';

interface Gallery {
  clusters: ClusterListing;
  people: Array<{ name: string; faceCount: number }>;
}

void describe('facedb remove and facedb client remove: faces, named or not, and clusters', () => {
  let server: ServeProcess;
  let localDb: string;
  let servedDb: string;
  const local = (args: string[]) => facedb(['--engine', 'fake', ...args, '--db', localDb]);
  const client = (args: string[], key = ADMIN) => facedb(['client', ...args, '--server', server.url, '--api-key', key]);
  const sides: Array<[string, (args: string[]) => Promise<Run>]> = [
    ['local', local],
    ['client', (args) => client(args)],
  ];

  async function gallery(run: (args: string[]) => Promise<Run>): Promise<Gallery> {
    const clusters = await run(['people', '--clusters', '--json']);
    assert.equal(clusters.code, EXIT_OK, clusters.stderr);
    const people = await run(['people', '--json']);
    assert.equal(people.code, EXIT_OK, people.stderr);
    const listed = JSON.parse(people.stdout) as { items: Array<{ name: string; faceCount: number }> };
    return { clusters: JSON.parse(clusters.stdout) as ClusterListing, people: listed.items.map(({ name, faceCount }) => ({ name, faceCount })) };
  }

  before(async () => {
    assert.ok(existsSync(CLI), `${CLI} is missing: build first (npm run build:test)`);
    const work = await tempDir('facedb-remove-faces-');
    // Her photo and its re-encoding make one cluster of two (nearly the same fake embedding), his photo another.
    const archive = join(work, 'archive');
    await mkdir(archive);
    await copyFile(lfwPhoto('Britney_Spears', 1), join(archive, 'a-her.jpg'));
    await writeFile(join(archive, 'b-her-again.jpg'), await sharp(lfwPhoto('Britney_Spears', 1)).jpeg({ quality: 85 }).toBuffer());
    await copyFile(lfwPhoto('Bill_Clinton', 1), join(archive, 'c-him.jpg'));
    localDb = join(work, 'local.sqlite');
    const unnamed = await local(['enroll', '--unlabelled', archive, '--workers', '1']);
    assert.equal(unnamed.code, EXIT_OK, unnamed.stderr);
    const named = await local(['enroll', '--person', 'Bono', lfwPhoto('Aaron_Eckhart', 1)]);
    assert.equal(named.code, EXIT_OK, named.stderr);
    servedDb = join(work, 'served.sqlite');
    await copyFile(localDb, servedDb);
    server = await serveFacedb(['--db', servedDb], { FACEDB_ENGINE: 'fake', FACEDB_API_KEYS: `admin:${ADMIN},read:${READ}`, FACEDB_WORKERS: '1' });
  });
  after(() => {
    server.child.removeAllListeners('close');
    if (server.child.exitCode === null) server.child.kill('SIGKILL');
  });

  void it('refuses unknown ids (exit 5), a missing or double target (exit 2) and a read key (forbidden), changing nothing', async () => {
    for (const [side, run] of sides) {
      const before = await gallery(run);
      assert.deepEqual(before.clusters.items.map((c) => c.size).sort(), [1, 2], side);
      for (const args of [
        ['remove', '--face', '999999'],
        ['remove', '--face', '0'],
        ['remove', '--face', '99999999999'],
        ['remove', '--cluster', '999999'],
        ['remove', '--cluster', '0'],
      ]) {
        const refused = await run(args);
        assert.equal(refused.code, exitCodeFor('not_found'), `${side} ${args.join(' ')}: ${refused.stderr}`);
        assert.match(refused.stderr, /error \[not_found\]: no (face #\d+|cluster with id \d+)/, side);
      }
      for (const args of [['remove'], ['remove', 'Bono', '--cluster', '1'], ['remove', '--face', '1', '--cluster', '1']]) {
        const refused = await run(args);
        assert.equal(refused.code, exitCodeFor('invalid_input'), `${side} ${args.join(' ')}: ${refused.stderr}`);
      }
      assert.notEqual((await run(['remove', '--face', 'x1'])).code, EXIT_OK, side);
      assert.deepEqual(await gallery(run), before, `${side}: nothing changed`);
    }
    const cluster = (await gallery(local)).clusters.items[0]!.id;
    for (const args of [['remove', '--cluster', String(cluster)], ['remove', '--face', '1']]) {
      assert.equal((await client(args, READ)).code, exitCodeFor('forbidden'), args.join(' '));
    }
    assert.deepEqual((await gallery((args) => client(args))).clusters.total, 2);
  });

  void it('erases an unnamed face (its emptied cluster goes too), a named face, then a whole cluster, alike here and on a server', async () => {
    const outputs: string[][] = [];
    for (const [side, run] of sides) {
      const start = await gallery(run);
      const single = start.clusters.items.find((c) => c.size === 1)!;
      const pair = start.clusters.items.find((c) => c.size === 2)!;
      const unnamedIds = start.clusters.items.flatMap((c) => c.samples.map((face) => face.id));
      const namedId = [1, 2, 3, 4].find((id) => !unnamedIds.includes(id))!;
      assert.deepEqual(start.people, [{ name: 'Bono', faceCount: 1 }], side);

      const face = await run(['remove', '--face', String(single.samples[0]!.id)]);
      assert.equal(face.code, EXIT_OK, `${side}: ${face.stderr}`);
      assert.equal(face.stdout, `removed unnamed face #${single.samples[0]!.id}\n`, side);
      let now = await gallery(run);
      assert.deepEqual(now.clusters.items.map((c) => c.id), [pair.id], `${side}: the emptied cluster went with its face`);
      assert.equal(now.clusters.unnamedFaces, 2, side);

      // A named face and an unknown one: the first is erased, the second reported, exit 5.
      const mixed = await run(['remove', '--face', String(namedId), '999999']);
      assert.equal(mixed.code, exitCodeFor('not_found'), `${side}: ${mixed.stderr}`);
      assert.equal(mixed.stdout, `removed face #${namedId}\n`, side);
      assert.match(mixed.stderr, /no face #999999/);
      now = await gallery(run);
      assert.deepEqual(now.people, [{ name: 'Bono', faceCount: 0 }], side);
      assert.equal(now.clusters.unnamedFaces, 2, `${side}: the unnamed faces stay`);
      const again = await run(['remove', '--face', String(namedId)]);
      assert.equal(again.code, exitCodeFor('not_found'), `${side}: erased is gone`);

      const whole = await run(['remove', '--cluster', String(pair.id), '--json']);
      assert.equal(whole.code, EXIT_OK, `${side}: ${whole.stderr}`);
      assert.deepEqual(JSON.parse(whole.stdout), { clusterId: pair.id, facesRemoved: 2 }, side);
      now = await gallery(run);
      assert.deepEqual([now.clusters.total, now.clusters.unnamedFaces], [0, 0], side);
      assert.equal((await run(['remove', '--cluster', String(pair.id)])).code, exitCodeFor('not_found'), side);
      assert.equal((await run(['remove', '--face', String(pair.samples[0]!.id)])).code, exitCodeFor('not_found'), side);
      outputs.push([face.stdout, mixed.stdout, whole.stdout]);
    }
    assert.deepEqual(outputs[1], outputs[0], 'the client prints what the local command prints');
  });
});
