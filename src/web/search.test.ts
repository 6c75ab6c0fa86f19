import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { fakeEngine } from '../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { loadConfig } from '../config/config.js';
import { openFacedb } from '../facedb.js';
import type { FaceService } from '../services/face-service.js';
import { waitUntil } from '../../test/browser-wait.js';
import { openWebPage, type WebPage } from '../../test/web-page.js';

/**
 * "Search by face" on the web page (issue 17): the faces of a photo, each beside its nearest stored faces (named and
 * unnamed) with person or cluster, source and distance. The fake engine stands in for the model: re-encodings of one
 * LFW photo are one face to it, different photos are strangers.
 */

const API_KEY = 'web-search-test-admin-key-0001';

type Crop = { naturalWidth: number; alt: string };

/** The same photo saved again at another JPEG quality: new bytes, the same face to the fake engine. */
async function variant(person: string, quality: number, name: string) {
  return { name, mimeType: 'image/jpeg', buffer: await sharp(lfwPhoto(person, 1)).jpeg({ quality }).toBuffer() };
}

void describe('search by face on the web page, in headless Chromium against the real server', () => {
  let service: FaceService;
  let web: WebPage;
  let page: Page;
  let shots: string;
  let pageErrors: string[] = [];

  before(async () => {
    const dir = await tempDir('facedb-web-search-');
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${API_KEY}` }, {});
    service = await openFacedb({ ...config, engine: await fakeEngine() });
    web = await openWebPage(service, config, { apiKey: API_KEY, dir });
    ({ page, pageErrors } = web);
    shots = web.shots;

    await page.getByLabel('Name', { exact: true }).fill('Britney Spears');
    await page.getByLabel('Photos').setInputFiles([await variant('Britney_Spears', 95, 'britney.jpg')]);
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByTestId('enroll-status').getByText('Britney Spears: 1 of 1').waitFor();
    await page.getByLabel('Unlabelled pictures').setInputFiles([await variant('Britney_Spears', 80, 'party.jpg'), await variant('Adam_Sandler', 85, 'beach.jpg')]);
    await page.getByRole('button', { name: 'Add photos' }).click();
    await page.getByTestId('fdbc-status').getByText(/^Added 2 faces\./).waitFor();
  });

  after(async () => {
    await web?.close();
    await service?.close();
  });

  const matches = () => page.getByTestId('search-match');
  const crops = () => page.getByTestId('search-match-crop');
  const owners = async () => (await page.locator('[data-testid=search-match] .search-owner').allTextContents());

  async function search(): Promise<void> {
    await page.getByLabel('Photo with the face').setInputFiles(await variant('Britney_Spears', 60, 'probe.jpg'));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByTestId('search-status').getByText('1 face in probe.jpg, nearest first.').waitFor();
    await waitUntil(page, async () => (await crops().evaluateAll((imgs: Crop[]) => imgs.every((img) => img.naturalWidth > 0))), 'the crops of the matches');
  }

  void it("lists a photo's face with the nearest stored faces, named and unnamed, as crops with person or cluster, source and distance", async () => {
    await search();
    const found = await owners();
    assert.equal(found.length, 3, 'every stored face, nearest first');
    // Her enrolled face and her unnamed one are the two nearest (in either order: re-encodings of one photo).
    assert.ok(found.slice(0, 2).includes('Britney Spears'), found.join(' | '));
    assert.ok(found.slice(0, 2).some((owner) => /^unnamed, cluster \d+$/.test(owner)), found.join(' | '));
    const first = (await matches().first().textContent()) ?? '';
    assert.match(first, /^(Britney Spears|unnamed, cluster \d+)from (upload .+|an upload|.+\.jpg)distance 0\.\d\d · face \d+$/);
    const distances = (await matches().allTextContents()).map((text) => Number(/distance (\d+\.\d+)/.exec(text)?.[1]));
    assert.deepEqual(distances, [...distances].sort((a, b) => a - b), 'nearest first');
    assert.ok(distances[2]! > distances[1]!, 'the stranger is farther');
    assert.match((await crops().first().getAttribute('alt')) ?? '', /^Match 1 for face 1: /);
    // The face of the photo it is about, cut out of the photo itself.
    assert.equal(await page.getByTestId('search-probe').count(), 1);
    await page.screenshot({ path: join(shots, 'curation-search.png'), fullPage: true });
  });

  void it('searches only the faces nobody named when asked', async () => {
    await page.getByLabel('Only faces nobody has named').check();
    await search();
    const found = await owners();
    assert.equal(found.length, 2);
    for (const owner of found) assert.match(owner, /^unnamed, /);
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  void it('says plainly when the photo cannot be searched', async () => {
    await page.getByLabel('Photo with the face').setInputFiles({ name: 'junk.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a photo') });
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const status = page.getByTestId('search-status');
    await status.getByText(/^Could not search with junk\.jpg: .+ \((invalid_image|unsupported_media_type|invalid_input)\)\.$/).waitFor();
    assert.match((await status.getAttribute('class')) ?? '', /status-error/);
    assert.equal(await matches().count(), 0, 'no stale results under the error');
  });
});
