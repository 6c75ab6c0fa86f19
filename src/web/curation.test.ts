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
 * Correcting the gallery from the web page (issue 17): cluster suggestions accepted and rejected, a far name
 * refused until the user insists, a face taken out of a cluster, two clusters merged, a person's faces with their
 * source, rename, move, and search by face. The fake engine stands in for the model (what is tested is the page and
 * the routes): re-encodings of one LFW photo are one "person" to it, different photos are strangers.
 */

const API_KEY = 'web-curation-test-admin-key-01';

/** The same photo saved again at another JPEG quality: new bytes, the same face to the fake engine. */
async function variant(person: string, quality: number, name: string) {
  return { name, mimeType: 'image/jpeg', buffer: await sharp(lfwPhoto(person, 1)).jpeg({ quality }).toBuffer() };
}

void describe('correcting the gallery from the web page, in headless Chromium against the real server', () => {
  let service: FaceService;
  let web: WebPage;
  let page: Page;
  let shots: string;
  let pageErrors: string[] = [];

  before(async () => {
    const dir = await tempDir('facedb-web-curation-');
    const config = loadConfig({ db: join(dir, 'gallery.sqlite'), workers: 1, apiKeys: `admin:${API_KEY}` }, {});
    service = await openFacedb({ ...config, engine: await fakeEngine() });
    web = await openWebPage(service, config, { apiKey: API_KEY, dir });
    ({ page, pageErrors } = web);
    shots = web.shots;
  });

  after(async () => {
    await web?.close();
    await service?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(shots, `curation-${name}.png`), fullPage: true });
  const clusterStatus = () => page.getByTestId('fdbc-status');
  const clusters = () => page.getByTestId('fdbc-cluster');
  const clusterWith = (text: string | RegExp) => clusters().filter({ hasText: text });
  /** The id of the one cluster whose title ("Cluster 5 · 2 faces") matches. */
  const idOf = async (title: RegExp) =>
    Number(await clusters().filter({ has: page.locator('.fdbc-item-title', { hasText: title }) }).getAttribute('data-cluster-id'));
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

  void it('accepts a right suggestion with one click', async () => {
    const hers = clusterWith('Looks like Britney Spears');
    const id = Number(await hers.getAttribute('data-cluster-id'));
    await hers.getByRole('button', { name: `Cluster ${id} is Britney Spears` }).click();
    await clusterStatus().getByText(`Cluster ${id} is now Britney Spears (3 faces).`).waitFor();
    assert.equal(await clusters().count(), 3);
    await page.getByTestId('person').filter({ hasText: 'Britney Spears' }).getByText('3 photos').waitFor();
  });

  void it('records "not this person", then names the cluster that way only when the user insists', async () => {
    const his = clusterWith('Looks like Bill Clinton');
    const id = Number(await his.getAttribute('data-cluster-id'));
    await his.getByRole('button', { name: `Cluster ${id} is not Bill Clinton` }).click();
    await clusterStatus().getByText(`Cluster ${id} is not Bill Clinton: it will not be suggested or added to them again.`).waitFor();
    const cluster = page.locator(`[data-cluster-id="${id}"]`);
    assert.equal(await cluster.getByTestId('fdbc-suggestion').count(), 0, 'the rejected suggestion is gone');

    // Named that way anyway: the server refuses (409) and says why; the page asks before forcing it.
    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.dismiss();
    });
    await cluster.getByLabel(`Who is in cluster ${id}`).fill('Bill Clinton');
    await cluster.getByRole('button', { name: 'Name', exact: true }).click();
    await clusterStatus().getByText(new RegExp(`^Cluster ${id} was not named Bill Clinton: .+ \\(conflict\\)\\.$`)).waitFor();
    assert.match(question, /Add cluster \d+ to Bill Clinton anyway\?$/);
    assert.match(question, /reject|not/i, `the server's reason: ${question}`);
    assert.equal(await cluster.count(), 1, 'nothing changed');

    page.once('dialog', (dialog) => void dialog.accept());
    await cluster.getByRole('button', { name: 'Name', exact: true }).click();
    await clusterStatus().getByText(`Cluster ${id} is now Bill Clinton (2 faces).`).waitFor();
  });

  void it('refuses to add a cluster to a person it is far from, saying why', async () => {
    const id = await idOf(/· 2 faces$/);
    const cluster = page.locator(`[data-cluster-id="${id}"]`);
    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.dismiss();
    });
    await cluster.getByLabel(`Who is in cluster ${id}`).fill('Britney Spears');
    await cluster.getByRole('button', { name: 'Name', exact: true }).click();
    await clusterStatus().getByText(new RegExp(`^Cluster ${id} was not named Britney Spears: .*far.* \\(conflict\\)\\.$`)).waitFor();
    assert.match(question, /far/i, `the server's reason: ${question}`);
    await shot('refused');
  });

  void it('merges two clusters, takes a face back out, and re-clustering leaves it out', async () => {
    const pair = await idOf(/· 2 faces$/);
    const single = await idOf(/· 1 face$/);
    const [street] = (await service.faces({ cluster: single }, { limit: 10 })).items;
    assert.ok(street);
    const lone = page.locator(`[data-cluster-id="${single}"]`);
    await lone.getByLabel(`Merge cluster ${single} into`).selectOption(String(pair));
    await lone.getByRole('button', { name: `Merge cluster ${single}` }).click();
    await clusterStatus().getByText(`Merged cluster ${single} into cluster ${pair}.`).waitFor();
    const merged = page.locator(`[data-cluster-id="${pair}"]`);
    await merged.getByText('· 3 faces').waitFor();
    await shot('merged');

    // The face that came from the other cluster goes back out.
    assert.ok((await service.faces({ cluster: pair }, { limit: 10 })).items.some((face) => face.id === street.id), 'merged in the gallery');
    const thumb = merged.locator(`li[data-face-id="${street.id}"]`);
    await thumb.getByRole('button', { name: /^Take face \d out of cluster/ }).click();
    await clusterStatus().getByText(new RegExp(`^Took face \\d out of cluster ${pair}; it will not be grouped back into it\\.`)).waitFor();
    await merged.getByText('· 2 faces').waitFor();
    await page.getByRole('button', { name: 'Re-cluster all' }).click();
    await clusterStatus().getByText(/^Re-clustered 3 faces\./).waitFor();
    const after = await service.faces({ cluster: pair }, { limit: 10 }).catch(() => ({ items: [] }));
    assert.ok(!after.items.some((face) => face.id === street.id), 'the face taken out stays out after a full re-clustering');
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  void it("shows a person's faces with their source; renames the person and moves a face to another", async () => {
    await page.getByRole('button', { name: 'Faces of Britney Spears' }).click();
    const view = personView();
    await view.getByText('3 faces of Britney Spears.').waitFor();
    // Each face says where it came from, as the server lists it.
    const stored = (await service.faces({ person: 'Britney Spears' })).items;
    const expected = stored.map((face) => `From ${face.sourcePath ?? (face.uploadName ? `upload ${face.uploadName}` : 'an upload')}`);
    assert.deepEqual(await view.getByTestId('person-face-source').allTextContents(), expected);
    const crops = view.getByTestId('person-face-crop');
    await waitUntil(page, async () => (await crops.evaluateAll((imgs: Array<{ naturalWidth: number }>) => imgs.filter((img) => img.naturalWidth > 0).length)) === 3, 'the crops');
    await shot('person');

    // A look-alike or taken name is refused, plainly.
    await view.getByLabel('Rename to').fill('Bill Clinton');
    await view.getByRole('button', { name: 'Rename' }).click();
    await view.getByTestId('person-status').getByText(/^Could not rename Britney Spears to Bill Clinton: .+ \(conflict\)\.$/).waitFor();
    assert.match((await view.getByTestId('person-status').getAttribute('class')) ?? '', /status-error/);
    await shot('rename-refused');
    await view.getByLabel('Rename to').fill('Britney Jean Spears');
    await view.getByRole('button', { name: 'Rename' }).click();
    await view.getByText('Renamed Britney Spears to Britney Jean Spears. 3 faces of Britney Jean Spears.').waitFor();
    await page.getByTestId('people-list').getByText('Britney Jean Spears').waitFor();

    // A face moved to a new name makes that person.
    const party = view.getByTestId('person-face').last();
    const faceId = Number(await party.getAttribute('data-face-id'));
    const label = (await party.getByTestId('person-face-move-to').getAttribute('aria-label')) ?? '';
    await party.getByLabel(label).fill('Britney Lookalike');
    await party.getByRole('button', { name: label.replace(/ to$/, ''), exact: true }).click();
    await view.getByText(/^Moved face \d to Britney Lookalike \(a new person\)\. 2 faces of Britney Jean Spears\.$/).waitFor();
    assert.equal((await service.faces({ person: 'Britney Lookalike' })).items[0]?.id, faceId, 'the face is theirs in the gallery');
    await page.getByTestId('person').filter({ hasText: 'Britney Lookalike' }).getByText('1 photo').waitFor();
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });

  void it('shows every face of a cluster larger than its samples, each with where it came from', async () => {
    const files = await Promise.all([95, 90, 85, 80, 75, 70, 65].map((quality) => variant('AJ_Cook', quality, `aj-${quality}.jpg`)));
    await page.getByLabel('Unlabelled pictures').setInputFiles(files);
    await page.getByRole('button', { name: 'Add photos' }).click();
    const id = await idOf(/· 7 faces$/);
    const cluster = page.locator(`[data-cluster-id="${id}"]`);
    assert.equal(await cluster.getByTestId('fdbc-thumb').count(), 6, 'six samples at first');
    await cluster.getByRole('button', { name: 'Show all 7 faces' }).click();
    await waitUntil(page, async () => (await cluster.getByTestId('fdbc-thumb').count()) === 7, 'all seven faces');
    const listed = (await service.faces({ cluster: id })).items;
    const alts = await cluster.getByTestId('fdbc-thumb').evaluateAll((imgs: Array<{ alt: string }>) => imgs.map((img) => img.alt));
    assert.deepEqual(alts, listed.map((face, i) => `Face ${i + 1} of cluster ${id}, from ${face.sourcePath ?? (face.uploadName ? `upload ${face.uploadName}` : 'an upload')}`));
    assert.equal(await cluster.getByRole('button', { name: /^Take face \d out of cluster/ }).count(), 7);
  });

  void it('fits a 360px-wide phone screen with the person view and the clusters open', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    try {
      await page.getByRole('button', { name: 'Faces of Britney Jean Spears' }).click();
      await personView().getByText('2 faces of Britney Jean Spears.').waitFor();
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      await shot('360');
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  void it('merges one person into another after confirmation, and refuses a merge into themselves', async () => {
    await page.getByRole('button', { name: 'Faces of Britney Lookalike' }).click();
    const view = personView();
    await view.getByText('1 face of Britney Lookalike.').waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await view.getByLabel('Same person as').fill('Britney Lookalike');
    await view.getByRole('button', { name: 'Merge' }).click();
    await view.getByTestId('person-status').getByText(/^Could not merge Britney Lookalike into Britney Lookalike: .+ \(conflict\)\.$/).waitFor();

    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await view.getByLabel('Same person as').fill('Britney Jean Spears');
    await view.getByRole('button', { name: 'Merge' }).click();
    await view.getByText('Merged Britney Lookalike into Britney Jean Spears (1 face moved). 3 faces of Britney Jean Spears.').waitFor();
    assert.match(question, /^Merge Britney Lookalike into Britney Jean Spears\?/);
    await page.getByTestId('person').filter({ hasText: 'Britney Jean Spears' }).getByText('3 photos').waitFor();
    assert.equal(await page.getByTestId('person').filter({ hasText: 'Britney Lookalike' }).count(), 0);
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
  });
});
