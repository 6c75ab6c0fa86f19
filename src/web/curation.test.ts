import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { fakeEngine } from '../../test/fake-engine.js';
import { lfwPhoto, tempDir } from '../../test/fixtures.js';
import { loadConfig } from '../config/config.js';
import { openFacedb } from '../facedb.js';
import { buildServer } from '../server/app.js';
import type { FaceService } from '../services/face-service.js';
import { waitUntil } from '../../test/browser-wait.js';

/**
 * Correcting the gallery from the web page (issue 17): cluster suggestions accepted and rejected, a far name
 * refused until the user insists, a face taken out of a cluster, two clusters merged, a person's faces with their
 * source, rename, move, and search by face. The fake engine stands in for the model (what is tested is the page and
 * the routes): re-encodings of one LFW photo are one "person" to it, different photos are strangers.
 */

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];
const API_KEY = 'web-curation-test-admin-key-01';

/** The same photo saved again at another JPEG quality: new bytes, the same face to the fake engine. */
async function variant(person: string, quality: number, name: string) {
  return { name, mimeType: 'image/jpeg', buffer: await sharp(lfwPhoto(person, 1)).jpeg({ quality }).toBuffer() };
}

void describe('correcting the gallery from the web page, in headless Chromium against the real server', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let shots: string;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const dir = await tempDir('facedb-web-curation-');
    shots = process.env.FACEDB_SCREENSHOTS ?? join(dir, 'screenshots');
    await mkdir(shots, { recursive: true });
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${API_KEY}` }, {});
    service = await openFacedb({ ...config, engine: await fakeEngine() });
    app = await buildServer(service, config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByLabel('API key').press('Enter');
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await service?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(shots, `curation-${name}.png`), fullPage: true });
  const clusterStatus = () => page.getByTestId('fdbc-status');
  const clusters = () => page.getByTestId('fdbc-cluster');
  const clusterWith = (text: string | RegExp) => clusters().filter({ hasText: text });
  const idOf = async (text: string | RegExp) => Number(await clusterWith(text).getAttribute('data-cluster-id'));
  const personView = () => page.getByTestId('person-view');

  async function enroll(name: string, files: Awaited<ReturnType<typeof variant>>[]) {
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByLabel('Photos').setInputFiles(files);
    await page.getByRole('button', { name: 'Add person' }).click();
    await page.getByTestId('enroll-status').getByText(`${name}: ${files.length} of ${files.length}`).waitFor();
  }

  void it('suggests the enrolled person a cluster looks like, with distance and confidence', async () => {
    await enroll('Britney Spears', [await variant('Britney_Spears', 95, 'britney.jpg')]);
    await enroll('Bill Clinton', [await variant('Bill_Clinton', 95, 'bill.jpg')]);
    await page.getByLabel('Unlabelled pictures').setInputFiles([
      await variant('Britney_Spears', 85, 'party-1.jpg'),
      await variant('Britney_Spears', 75, 'party-2.jpg'),
      await variant('Adam_Sandler', 85, 'beach-1.jpg'),
      await variant('Adam_Sandler', 75, 'beach-2.jpg'),
      await variant('Bill_Clinton', 85, 'office.jpg'),
      await variant('Aaron_Eckhart', 85, 'street.jpg'),
    ]);
    await page.getByRole('button', { name: 'Add photos' }).click();
    await clusterStatus().getByText(/^Added 6 faces\. 4 clusters; 6 unnamed faces\.$/).waitFor();
    const hers = clusterWith('Looks like Britney Spears');
    await hers.getByText(/· 2 faces$/).waitFor();
    assert.match((await hers.getByTestId('fdbc-suggestion').textContent()) ?? '', /^Looks like Britney Spears( · (> 99|< 1|\d{1,2}) % likely)? · distance 0\.\d\d/);
    assert.equal(await clusterWith('Looks like Bill Clinton').count(), 1);
    assert.equal(await page.getByTestId('fdbc-suggestion').count(), 2, 'strangers get no suggestion');
    await shot('clusters');
  });
});
