import assert from 'node:assert/strict';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { facedb } from '../../test/cli-process.js';
import type { ClusterListing } from '../services/cluster-service.js';

/** These tests run the built `facedb` binary (npm test builds first) as a user would. */

void describe('facedb CLI: unlabelled enrollment, clusters and naming', () => {
  let photos: string;
  let db: string;

  before(async () => {
    const work = await tempDir('facedb-cli-clusters-');
    // A photo archive with no names in it, nested two levels deep.
    photos = join(work, 'archive');
    for (const [i, [person, index]] of ([['Britney_Spears', 1], ['Britney_Spears', 2], ['Britney_Spears', 3], ['Bill_Clinton', 1]] as const).entries()) {
      const folder = join(photos, `roll-${i % 2}`, 'day');
      await mkdir(folder, { recursive: true });
      await copyFile(lfwPhoto(person, index), join(folder, `img-${i}-${person}.jpg`));
    }
    db = join(work, 'clusters.sqlite');
  });

  void it('enrolls every face of an archive without names and clusters them', async () => {
    assert.equal((await facedb(['enroll', '--unlabelled', '--person', 'X', photos, '--db', db])).code, 2);
    const run = await facedb(['enroll', '--unlabelled', photos, '--db', db, '--workers', '2']);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^enrolled +.*img-0-Britney_Spears\.jpg \(1 face\)$/m);
    assert.match(run.stdout, /^4\/4 files in [\d.]+s .*: 4 enrolled; 4 faces added without a name$/m);
    assert.match(run.stdout, /^clustered 4 new faces at distance \d+\.\d+: 2 new clusters, 0 grown, 0 merged into others; 2 clusters in all/m);
    const again = await facedb(['enroll', '--unlabelled', photos, '--db', db, '--json']);
    assert.equal(again.code, 0, again.stderr);
    const summary = JSON.parse(again.stdout) as { counts: { already_enrolled: number }; facesAdded: number; clustering: unknown };
    assert.deepEqual([summary.counts.already_enrolled, summary.facesAdded, summary.clustering], [4, 0, null]);
  });

  void it('lists clusters with sample photos, as text and JSON', async () => {
    const text = await facedb(['people', '--clusters', '--db', db]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^ +\d+ +3 {2}\d+: .*Britney_Spears\.jpg, \d+: .*Britney_Spears\.jpg, \d+: .*Britney_Spears\.jpg$/m);
    assert.match(text.stdout, /2 clusters; name one with: facedb name-cluster <id> "Name"/);
    assert.match(text.stdout, /4 unnamed faces$/m);
    assert.match((await facedb(['people', '--clusters', '--samples', '1', '--db', db])).stdout, /^ +\d+ +3 {2}\d+: [^,]*Britney_Spears\.jpg$/m);
    const listing = JSON.parse((await facedb(['people', '--clusters', '--json', '--samples', '1', '--db', db])).stdout) as ClusterListing;
    assert.deepEqual(listing.items.map((c) => [c.size, c.samples.length]), [[3, 1], [1, 1]]);
    assert.equal(listing.unclusteredFaces, 0);
    // The gallery of people is still empty.
    assert.match((await facedb(['people', '--db', db])).stdout, /the gallery is empty/);
  });

  void it('names a cluster into a person; unknown clusters and bad ids are refused', async () => {
    const listing = JSON.parse((await facedb(['people', '--clusters', '--json', '--db', db])).stdout) as ClusterListing;
    const hers = listing.items[0]!;
    assert.equal((await facedb(['name-cluster', '999999', 'Nobody', '--db', db])).code, 5);
    assert.equal((await facedb(['name-cluster', 'abc', 'Nobody', '--db', db])).code, 2);
    assert.equal((await facedb(['name-cluster', String(hers.id), ' ', '--db', db])).code, 2);
    const named = await facedb(['name-cluster', String(hers.id), 'Britney Spears', '--db', db]);
    assert.equal(named.code, 0, named.stderr);
    assert.match(named.stdout, new RegExp(`^cluster ${hers.id} → Britney Spears \\(person \\d+\\): 3 faces named, 3 faces in all$`, 'm'));
    assert.match((await facedb(['people', '--db', db])).stdout, /Britney Spears +3/);
    const full = await facedb(['cluster', '--full', '--json', '--db', db]);
    assert.equal(full.code, 0, full.stderr);
    assert.deepEqual((JSON.parse(full.stdout) as { full: boolean; clusters: number }).clusters, 1);
    assert.match((await facedb(['cluster', '--db', db])).stdout, /^clustered 0 new faces at distance .*1 cluster in all/m);
  });
});
