import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { MAX_PERSON_NAME_LENGTH } from '../core/names.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { waitUntil } from '../../test/browser-wait.js';
import { openWebPage, type WebPage } from '../../test/web-page.js';

const API_KEY = 'web-cluster-test-admin-key-01';
const MODEL_TIMEOUT_MS = 180_000;

interface Thumbnail {
  naturalWidth: number;
  alt: string;
}

void describe('the Clusters view in headless Chromium against the real server', () => {
  let service: FaceService;
  let web: WebPage;
  let page: Page;
  let pageErrors: string[] = [];

  before(async () => {
    const dir = await tempDir('facedb-web-clusters-');
    service = await openFacedb({ db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${API_KEY}` });
    const config = service.config;
    web = await openWebPage(service, config, { apiKey: API_KEY, dir });
    ({ page, pageErrors } = web);
  });

  after(async () => {
    await web?.close();
    await service?.close();
  });

  const status = () => page.getByTestId('fdbc-status');
  const clusters = () => page.getByTestId('fdbc-cluster');

  void it('adds photos without names and shows their clusters with thumbnails', async () => {
    await status().getByText('No unnamed faces are waiting for a name.').waitFor();
    await page.getByLabel('Unlabelled pictures').setInputFiles([
      lfwPhoto('Britney_Spears', 1),
      lfwPhoto('Britney_Spears', 2),
      lfwPhoto('Britney_Spears', 3),
      lfwPhoto('Bill_Clinton', 1),
    ]);
    await page.getByRole('button', { name: 'Add photos' }).click();
    await status().getByText(/^Added 4 faces\. 2 clusters; 4 unnamed faces\.$/).waitFor({ timeout: MODEL_TIMEOUT_MS });
    // Largest first: her three photos, then his one.
    await clusters().first().getByText(/· 3 faces$/).waitFor();
    const thumbs = clusters().first().getByTestId('fdbc-thumb');
    await waitUntil(page, async () => (await thumbs.evaluateAll((imgs: Thumbnail[]) => imgs.filter((img) => img.naturalWidth > 0).length)) === 3, 'the three thumbnails to load');
    const alts = await thumbs.evaluateAll((imgs: Thumbnail[]) => imgs.map((img) => img.alt));
    assert.equal(alts.length, 3);
    assert.match(alts[0]!, /^Face 1 of cluster \d+$/);
  });

  void it('names a cluster, which then shows in the gallery', async () => {
    const first = clusters().first();
    const id = await first.getAttribute('data-cluster-id');
    // The server's own limit, read from its OpenAPI document.
    assert.equal(await first.getByLabel(`Who is in cluster ${id}`).getAttribute('maxlength'), String(MAX_PERSON_NAME_LENGTH));
    await first.getByLabel(`Who is in cluster ${id}`).fill('Britney Spears');
    await first.getByRole('button', { name: 'Name' }).click();
    await status().getByText(`Cluster ${id} is now Britney Spears (3 faces). 1 cluster; 1 unnamed face.`).waitFor();
    assert.equal(await clusters().count(), 1);
    await page.getByTestId('people-list').getByText('Britney Spears').waitFor();
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  void it('explains a refused name without losing the cluster', async () => {
    const first = clusters().first();
    const id = await first.getAttribute('data-cluster-id');
    // The browser would refuse an empty field; a name of spaces reaches the server.
    await first.getByLabel(`Who is in cluster ${id}`).fill('   ');
    await first.getByRole('button', { name: 'Name' }).click();
    await status().getByText(new RegExp(`^Could not name cluster ${id}: .+ \\(validation_failed\\)\\.$`)).waitFor();
    assert.equal(await clusters().count(), 1);
  });

  void it('removes a cluster only after confirmation', async () => {
    const first = clusters().first();
    const id = await first.getAttribute('data-cluster-id');
    page.once('dialog', (dialog) => void dialog.dismiss());
    await first.getByRole('button', { name: `Remove cluster ${id}` }).click();
    assert.equal(await clusters().count(), 1, 'dismissed: the cluster stays');
    assert.equal((await service.clusters.listClusters({ limit: 10, offset: 0 })).total, 1);
    await page.screenshot({ path: join(process.env.FACEDB_SCREENSHOTS ?? '/tmp', 'facedb-clusters-remove.png'), fullPage: true });
    page.once('dialog', (dialog) => void dialog.accept());
    await first.getByRole('button', { name: `Remove cluster ${id}` }).click();
    await status().getByText(`Removed cluster ${id} (1 face). No unnamed faces are waiting for a name.`).waitFor();
    assert.equal(await clusters().count(), 0);
    const stored = await service.clusters.listClusters({ limit: 10, offset: 0 });
    assert.deepEqual([stored.total, stored.unnamedFaces], [0, 0], 'erased in the gallery');
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });
});
