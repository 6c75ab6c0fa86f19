import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { lfwPhoto, tempDir, testImage } from '../../test/fixtures.js';
import { MAX_PERSON_NAME_LENGTH } from '../core/names.js';
import { openFacedb } from '../facedb.js';
import { buildServer } from '../server/app.js';
import type { FaceService } from '../services/face-service.js';
import { waitUntil } from '../../test/browser-wait.js';

/** Debian's Chromium (`apt-get install -y chromium`); Playwright's own browser downloads are never used. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const API_KEY = 'web-test-admin-key-0123456789';
// The first photo loads the models, which takes a while on a cold CI machine.
const MODEL_TIMEOUT_MS = 180_000;

type Rect = { x: number; y: number; width: number; height: number };

/** Area two rectangles share (touching edges share none). */
const sharedArea = (a: Rect, b: Rect): number =>
  Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x)) *
  Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));

/** The little of HTMLImageElement read in the page (the DOM's types are not part of this Node project). */
interface Thumbnail {
  naturalWidth: number;
  alt: string;
}

void describe('web page in headless Chromium against the real server', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let shots: string;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const dir = await tempDir('facedb-web-');
    shots = join(dir, 'screenshots');
    service = await openFacedb({ db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${API_KEY}` });
    app = await buildServer(service, service.config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await service?.close();
  });

  const errorBox = () => page.getByTestId('error');
  const boxes = () => page.getByTestId('face-box');
  // By class rather than test id, so the same check reads any version of the page.
  const labels = () => boxes().locator('.face-box-label');

  /**
   * Every face label must be readable where it is: on no other label and on no face (a box's inside, within its
   * border). Returns the labels' text as shown (innerText: what CSS hides is left out).
   */
  async function assertLabelsClear(): Promise<string[]> {
    const labelRects: Rect[] = [];
    for (const label of await labels().all()) {
      const rect = await label.boundingBox();
      assert.ok(rect, 'label is visible');
      labelRects.push(rect);
    }
    const boxRects: Rect[] = [];
    for (const box of await boxes().all()) {
      const rect = await box.boundingBox();
      assert.ok(rect);
      boxRects.push({ x: rect.x + 3, y: rect.y + 3, width: rect.width - 6, height: rect.height - 6 });
    }
    labelRects.forEach((a, i) => {
      labelRects.forEach((b, j) => {
        if (j > i) assert.ok(sharedArea(a, b) < 1, `label ${i + 1} overlaps label ${j + 1}: ${JSON.stringify([a, b])}`);
      });
      boxRects.forEach((face, j) => assert.ok(sharedArea(a, face) < 1, `label ${i + 1} covers face ${j + 1}`));
    });
    return labels().evaluateAll((elements: { innerText: string }[]) => elements.map((element) => element.innerText.replace(/\s+/g, ' ').trim()));
  }

  /** The dominant emotion each face card names ("Looks happy (99%) · …"). */
  async function cardEmotions(): Promise<string[]> {
    const texts = await page.getByTestId('face-item').allTextContents();
    return texts.map((text) => /Looks (\w+)/.exec(text)?.[1] ?? '(none)');
  }

  /** Picks a photo and waits for its result (the caption is written in the same step as the boxes) or an error. */
  async function identify(photo: string): Promise<void> {
    await page.getByLabel('Photo to search').setInputFiles(photo);
    const summary = page.getByTestId('identify-summary').filter({ hasText: basename(photo) });
    await summary.or(errorBox().filter({ hasText: /./ })).waitFor({ timeout: MODEL_TIMEOUT_MS });
    assert.equal(await errorBox().textContent(), '', `identifying ${basename(photo)}`);
  }

  void it('asks for an API key, then keeps it in the browser', async () => {
    await page.goto(baseUrl);
    await errorBox().getByText(/unauthorized/).waitFor();
    assert.equal(await page.getByTestId('key-form').isVisible(), true, 'a server with keys shows the key field');
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByLabel('API key').press('Enter');
    await page.getByText('No one is enrolled yet.').waitFor();
    assert.equal(await errorBox().textContent(), '');

    await page.reload();
    assert.equal(await page.getByLabel('API key').inputValue(), API_KEY);
    await page.getByText('No one is enrolled yet.').waitFor();
    // Headless Chromium has no camera, so the camera button must stay hidden.
    assert.equal(await page.getByTestId('camera-button').isHidden(), true);
  });

  void it('marks every face of a group photo as unknown, with emotions', async () => {
    await identify(testImage('group.jpg'));
    const count = await boxes().count();
    assert.ok(count >= 6, `only ${count} faces boxed`);
    assert.match((await page.getByTestId('identify-status').textContent()) ?? '', /0 known, \d+ unknown\. Took \d+ ms/);

    const items = page.getByTestId('face-item');
    assert.equal(await items.count(), count);
    assert.equal(await items.first().locator('.emotion').count(), 7);

    // Boxes are placed in percent of the photo: every one must sit inside the image as drawn.
    const image = await page.getByTestId('result-image').boundingBox();
    assert.ok(image && image.width > 300, 'the photo is drawn at a usable size');
    for (const box of await boxes().all()) {
      const b = await box.boundingBox();
      assert.ok(b, 'box is visible');
      const slack = 4; // the border is drawn around the box's outer edge
      assert.ok(b.x >= image.x - slack && b.y >= image.y - slack, 'box starts inside the photo');
      assert.ok(b.x + b.width <= image.x + image.width + slack, 'box ends inside the photo (x)');
      assert.ok(b.y + b.height <= image.y + image.height + slack, 'box ends inside the photo (y)');
    }

    // Labels: each beside its face, none hidden under another, each naming the face's number, name and emotion.
    const shown = await assertLabelsClear();
    const emotions = await cardEmotions();
    assert.deepEqual(shown, emotions.map((emotion, i) => `${i + 1} unknown ${emotion}`));

    // The photo fills its column and the cards stay compact: the result is not a photo beside a long list.
    const result = await page.getByTestId('result').boundingBox();
    const list = await page.getByTestId('face-list').boundingBox();
    assert.ok(result && list);
    assert.ok(image.width >= 0.9 * result.width, `the photo is drawn ${image.width}px wide in a ${result.width}px result`);
    assert.ok(list.height <= image.height, `the ${count} face cards run ${list.height}px beside a ${image.height}px photo`);
    await page.screenshot({ path: join(shots, 'group.png'), fullPage: true });
  });

  void it('never hides a face under its box: the inside of every box shows the photo', async () => {
    // The photo as drawn with one box at a time, then with none; inside that box (within its border) the two must
    // match. One box at a time: in a crowded photo a neighbour's label may overlap a box, which is not this defect.
    const image = await page.getByTestId('result-image').boundingBox();
    assert.ok(image);
    const clip = { x: Math.floor(image.x), y: Math.floor(image.y), width: Math.floor(image.width), height: Math.floor(image.height) };
    type Styled = { style: { visibility: string } };
    const showOnly = (index: number) =>
      boxes().evaluateAll((elements: Styled[], shown: number) => {
        elements.forEach((element, i) => (element.style.visibility = i === shown ? '' : 'hidden'));
      }, index);
    const count = await boxes().count();
    assert.ok(count >= 6);
    await showOnly(-1);
    const photoOnly = await page.screenshot({ clip });
    const differences: string[] = [];
    for (let i = 0; i < count; i++) {
      const b = await boxes().nth(i).boundingBox();
      assert.ok(b);
      const inset = 6; // the 3px border, its 1px outlines and a pixel of anti-aliasing
      const region = {
        left: Math.round(b.x + inset - clip.x),
        top: Math.round(b.y + inset - clip.y),
        width: Math.round(b.width - 2 * inset),
        height: Math.round(b.height - 2 * inset),
      };
      assert.ok(region.width > 10 && region.height > 10, `box ${i + 1} is big enough to compare`);
      await showOnly(i);
      const withBox = await page.screenshot({ clip });
      const [a, p] = await Promise.all([withBox, photoOnly].map((png) => sharp(png).extract(region).removeAlpha().raw().toBuffer()));
      assert.ok(a && p);
      let sum = 0;
      for (let k = 0; k < a.length; k++) sum += Math.abs((a[k] ?? 0) - (p[k] ?? 0));
      differences.push((sum / a.length).toFixed(1));
    }
    await boxes().evaluateAll((elements: Styled[]) => elements.forEach((element) => (element.style.visibility = '')));
    // Rendering the same pixels twice gives exactly the same screenshot: any difference is something drawn over the face.
    assert.ok(differences.every((difference) => Number(difference) < 0.5), `mean difference inside each box, per channel: ${differences.join(', ')}`);
  });

  void it('labels every face by number, name and emotion on a 390px-wide phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      // The labels are placed again once the photo is drawn at its new size.
      await waitUntil(page, async () => ((await page.locator('#photo-frame').boundingBox())?.width ?? Infinity) < 390, 'the photo to fit the phone screen');
      await page.waitForTimeout(100);
      const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
      const shown = await assertLabelsClear();
      const emotions = await cardEmotions();
      assert.deepEqual(shown, emotions.map((emotion, i) => `${i + 1} unknown ${emotion}`));
      // Readable text, not a strip: at least the 12px-ish type of the desktop page.
      const fontSizes = await page.evaluate<number[]>(
        '[...document.querySelectorAll("[data-testid=face-label]")].map((label) => parseFloat(getComputedStyle(label).fontSize))',
      );
      assert.ok(fontSizes.every((size) => size >= 11), `label font sizes ${fontSizes.join(', ')}`);
      await page.screenshot({ path: join(shots, 'group-390.png'), fullPage: true });
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  void it('fits a 360px-wide phone screen without sideways scrolling', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    // An expression string, since the DOM's types are not part of this Node project.
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    await page.screenshot({ path: join(shots, 'group-360.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  });

  void it("limits a person's name to the server's own limit", async () => {
    assert.equal(await page.getByLabel('Name', { exact: true }).getAttribute('maxlength'), String(MAX_PERSON_NAME_LENGTH));
  });

  void it('enrolls a person with two photos and shows their thumbnails', async () => {
    await page.getByLabel('Name', { exact: true }).fill('Adam Sandler');
    await page.getByLabel('Photos').setInputFiles([lfwPhoto('Adam_Sandler', 1), lfwPhoto('Adam_Sandler', 2)]);
    await page.getByRole('button', { name: 'Add person' }).click();

    const outcomes = page.getByTestId('enroll-outcome');
    await outcomes.nth(1).waitFor({ timeout: MODEL_TIMEOUT_MS });
    for (const outcome of await outcomes.all()) {
      assert.match((await outcome.getAttribute('data-status')) ?? '', /^enrolled/, (await outcome.textContent()) ?? '');
    }
    assert.match((await page.getByTestId('enroll-status').textContent()) ?? '', /Adam Sandler: 2 of 2 photos added/);

    const person = page.getByTestId('person').filter({ hasText: 'Adam Sandler' });
    await person.getByText('2 photos').waitFor();
    // Thumbnails are fetched with the API key; a decoded image proves the key went along.
    const thumbs = person.getByTestId('person-thumb');
    await thumbs.nth(1).waitFor();
    const decoded = await thumbs.evaluateAll((imgs: Thumbnail[]) => imgs.map((img) => img.naturalWidth > 0 && img.alt));
    assert.deepEqual(decoded, [
      'Adam Sandler, enrolled face 1',
      'Adam Sandler, enrolled face 2',
    ]);
  });

  void it('recognises the enrolled person in a photo not enrolled', async () => {
    await identify(lfwPhoto('Adam_Sandler', 3));
    await boxes().filter({ hasText: 'Adam Sandler' }).first().waitFor();
    const item = page.getByTestId('face-item').filter({ hasText: 'Adam Sandler' }).first();
    // The calibrated confidence, worded as the CLI words it, beside the distance.
    assert.match((await item.textContent()) ?? '', /(> 99|\d{1,2}) % likely it is Adam Sandler · distance 0\.\d\d/);
    await page.screenshot({ path: join(shots, 'bono.png'), fullPage: true });
  });

  void it("shows a person's faces as crops and removes one of them after confirmation", async () => {
    await page.getByRole('button', { name: 'Faces of Adam Sandler' }).click();
    const view = page.getByTestId('person-view');
    await view.getByText('2 faces of Adam Sandler.').waitFor();
    const crops = view.getByTestId('person-face-crop');
    await waitUntil(page, async () => (await crops.evaluateAll((imgs: Thumbnail[]) => imgs.filter((img) => img.naturalWidth > 0).length)) === 2, 'both crops to load');
    assert.deepEqual(await crops.evaluateAll((imgs: Thumbnail[]) => imgs.map((img) => img.alt)), ['Adam Sandler, face 1', 'Adam Sandler, face 2']);
    await page.screenshot({ path: join(shots, 'person.png'), fullPage: true });

    const second = view.getByTestId('person-face').nth(1);
    const faceId = Number(await second.getAttribute('data-face-id'));
    page.once('dialog', (dialog) => void dialog.dismiss());
    await view.getByRole('button', { name: 'Remove face 2 of Adam Sandler' }).click();
    assert.equal(await view.getByTestId('person-face').count(), 2, 'cancelling keeps the face');

    page.once('dialog', (dialog) => void dialog.accept());
    await view.getByRole('button', { name: 'Remove face 2 of Adam Sandler' }).click();
    await view.getByText('Removed face 2. 1 face of Adam Sandler.').waitFor();
    assert.equal(await view.getByTestId('person-face').count(), 1);
    // Gone from the gallery itself, not only from the page; the gallery list recounts.
    const owner = await service.findPerson('Adam Sandler');
    const stored = (await service.listFaces(owner.id, { limit: 100, offset: 0 })).items.map((face) => face.id);
    assert.ok(!stored.includes(faceId), `face ${faceId} is still stored`);
    await page.getByTestId('person').filter({ hasText: 'Adam Sandler' }).getByText('1 photo').waitFor();
  });

  void it('removes a person only after confirmation', async () => {
    const person = page.getByTestId('person').filter({ hasText: 'Adam Sandler' });
    page.once('dialog', (dialog) => void dialog.dismiss());
    await person.getByRole('button', { name: 'Remove Adam Sandler' }).click();
    assert.equal(await person.count(), 1, 'cancelling keeps the person');

    let question = '';
    page.once('dialog', (dialog) => {
      question = dialog.message();
      void dialog.accept();
    });
    await person.getByRole('button', { name: 'Remove Adam Sandler' }).click();
    await page.getByText('Removed Adam Sandler (1 face).').waitFor();
    assert.match(question, /Remove Adam Sandler and their 1 photo\b/);
    assert.equal(await page.getByTestId('person-view').isHidden(), true, 'the removed person\'s view closes');
    assert.equal(await person.count(), 0);
    await page.getByText('No one is enrolled yet.').waitFor();
    await page.screenshot({ path: join(shots, 'removed.png'), fullPage: true });
  });

  void it('says so when a photo has no face', async () => {
    await identify(testImage('Blank_image.jpg'));
    assert.match((await page.getByTestId('identify-status').textContent()) ?? '', /^No faces found in Blank_image\.jpg/);
    assert.equal(await boxes().count(), 0);
  });

  void it('takes a photo with the camera when there is one', async () => {
    // Chromium's built-in test camera (a moving pattern, no face), allowed without a prompt.
    const withCamera = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
    });
    try {
      const camPage = await withCamera.newPage();
      await camPage.goto(baseUrl);
      await camPage.getByLabel('API key').fill(API_KEY);
      await camPage.getByLabel('API key').press('Enter');
      await camPage.getByRole('button', { name: 'Use the camera' }).click();
      await camPage.getByRole('dialog', { name: 'Take a photo' }).waitFor();
      await camPage.getByRole('button', { name: 'Take photo' }).click();
      await camPage
        .getByTestId('identify-summary')
        .filter({ hasText: /^camera photo · \d+×\d+ jpeg/ })
        .waitFor({ timeout: MODEL_TIMEOUT_MS });
      assert.equal(await camPage.getByRole('dialog').count(), 0, 'the dialog closed');
    } finally {
      await withCamera.close();
    }
  });

  void it('shows API errors plainly in the alert region', async () => {
    const junk = { name: 'junk.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('not a photo') };
    await page.getByLabel('Photo to search').setInputFiles(junk);
    await errorBox().getByText(/^Could not identify junk\.jpg: .+ \((invalid_image|unsupported_media_type)\)\.$/).waitFor();
    assert.equal(await errorBox().getAttribute('role'), 'alert');
    await page.screenshot({ path: join(shots, 'error.png') });
    assert.deepEqual(pageErrors, [], 'no script errors on the page');
    console.log(`screenshots in ${shots}`);
  });

  void it('works without keys from its own origin, under its content security policy', async () => {
    // Open mode refuses other hosts and other sites; the page's own requests (Origin = this server) must pass.
    const open = await buildServer(service, { ...service.config, apiKeys: [] });
    try {
      await open.listen({ port: 0, host: '127.0.0.1' });
      const openPage = await browser.newPage();
      const problems: string[] = [];
      openPage.on('pageerror', (error) => problems.push(error.message));
      openPage.on('console', (message) => {
        if (message.type() === 'error') problems.push(message.text());
      });
      await openPage.goto(`http://127.0.0.1:${(open.server.address() as AddressInfo).port}`);
      await openPage.getByText('No one is enrolled yet.').waitFor();
      // Nothing checks a key here, so the page asks for none.
      await openPage.getByTestId('key-form').waitFor({ state: 'hidden' });
      await openPage.getByLabel('Photo to search').setInputFiles(testImage('Blank_image.jpg'));
      await openPage.getByTestId('identify-status').filter({ hasText: /^No faces found in Blank_image\.jpg/ }).waitFor({ timeout: MODEL_TIMEOUT_MS });
      assert.equal(await openPage.getByTestId('error').textContent(), '');
      // The API docs (Swagger UI) render under the same policy.
      await openPage.goto(`http://127.0.0.1:${(open.server.address() as AddressInfo).port}/docs/`);
      await openPage.getByText('/v1/identify').first().waitFor();
      assert.deepEqual(problems, [], 'no script errors or CSP violations');
      await openPage.close();
    } finally {
      await open.close();
    }
  });
});
