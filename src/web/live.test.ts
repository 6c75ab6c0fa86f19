import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { waitUntil } from '../../test/browser-wait.js';
import { tempDir } from '../../test/fixtures.js';
import { ENROLLED, makeVideo, SCENARIO } from '../../test/video-fixtures.js';
import { EMOTIONS } from '../core/types.js';
import { openFacedb } from '../facedb.js';
import { buildServer } from '../server/app.js';
import type { FaceService } from '../services/face-service.js';

/**
 * The Live view in headless Chromium against the real server and the default engine: Chromium's fake camera plays a
 * short video made with ffmpeg from LFW photos, of a person enrolled with other photos of theirs and of a stranger;
 * the page must box both faces, name the person and not the stranger. A second Chromium without a camera must say so.
 */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync', '--use-fake-ui-for-media-stream'];
const READ_KEY = 'web-live-test-read-key-0001';
const MODEL_TIMEOUT_MS = 180_000;
const PERSON = 'Arnold Schwarzenegger';

/** The little of the page's document the test touches (the DOM's types are not part of this Node project). */
interface PageDocument {
  dispatchEvent(event: unknown): boolean;
  defaultView: { Event: new (type: string) => unknown };
}

/** The little of a drawn box the test reads. */
interface BoxElement {
  innerText: string;
  classList: { contains(name: string): boolean };
  style: { left: string; top: string; width: string; height: string };
}

void describe('the Live view in headless Chromium with a fake camera', () => {
  let service: FaceService;
  let app: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let shots: string;
  const pageErrors: string[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
    const dir = await tempDir('facedb-web-live-');
    shots = join(dir, 'screenshots');
    // 4 s of 640×480 at 10 fps, which Chromium plays in a loop: the person's last photo in the subset (never one of
    // the enrolled ones) on the left all the time, a stranger on the right from 1 s to 2.5 s.
    const camera = await makeVideo(join(dir, 'camera.y4m'), {
      seconds: 4,
      fps: 10,
      actors: [
        { photo: SCENARIO.first.photo, from: 0, to: 4, x: '60', y: '110', size: '250' },
        { photo: SCENARIO.stranger.photo, from: 1, to: 2.5, x: '370', y: '115', size: '240' },
      ],
    });
    service = await openFacedb({ db: join(dir, 'gallery.sqlite'), workers: 2, apiKeys: `admin:${READ_KEY}-admin,read:${READ_KEY}` });
    for (const photo of ENROLLED[PERSON]!) await service.enrollImage(PERSON, { path: photo });
    app = await buildServer(service, service.config);
    await app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_ARGS, '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${camera}`],
    });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 1000 } })).newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // A Content-Security-Policy refusal (of the ws: connection, say) shows as a console error.
    page.on('console', (message) => {
      if (message.type() === 'error' && !/401|Unauthorized/.test(message.text())) pageErrors.push(message.text());
    });
  });

  after(async () => {
    console.log(`# screenshots in ${shots}`);
    await browser?.close();
    await app?.close();
    await service?.close();
  });

  const liveBoxes = () => page.getByTestId('live-box');
  const status = () => page.getByTestId('live-status');

  void it('says why when the server refuses the key, before any picture is analysed', async () => {
    await page.goto(baseUrl);
    await page.getByLabel('API key').fill('not-the-right-key-000000');
    await page.getByLabel('API key').press('Enter');
    await page.getByTestId('live-start').click();
    await status().getByText(/refused the live view: the API key is not valid \(unauthorized\)\. Check the API key/).waitFor();
    assert.equal(await page.getByTestId('live-stage').isHidden(), true, 'the camera picture is gone');
    assert.equal(await page.getByTestId('live-start').isVisible(), true);
  });

  /** What the page draws for one answer, read in one go (boxes in percent of the picture). */
  const drawn = () =>
    liveBoxes().evaluateAll((elements: BoxElement[]) =>
      elements.map((element) => ({
        text: element.innerText.replace(/\s+/g, ' ').trim(),
        known: element.classList.contains('live-known'),
        centreX: Number.parseFloat(element.style.left) + Number.parseFloat(element.style.width) / 2,
        centreY: Number.parseFloat(element.style.top) + Number.parseFloat(element.style.height) / 2,
        width: Number.parseFloat(element.style.width),
      })),
    );

  void it('boxes the faces on the camera picture: the enrolled person named, the stranger unknown', async () => {
    pageErrors.length = 0; // the refusal above is logged by the browser
    await page.getByLabel('API key').fill(READ_KEY);
    await page.getByLabel('API key').press('Enter');
    await page.getByTestId('live-start').click();
    await liveBoxes().filter({ hasText: PERSON }).first().waitFor({ timeout: MODEL_TIMEOUT_MS });
    // One answer with both faces (the stranger is in the picture for 1.5 s of every 4).
    let faces: Awaited<ReturnType<typeof drawn>> = [];
    await waitUntil(page, async () => (faces = await drawn()).length === 2, 'both faces boxed at once', 60_000);
    await page.getByTestId('live-section').scrollIntoViewIfNeeded();
    await page.getByTestId('live-section').screenshot({ path: join(shots, 'live-named.png') });

    const [named, stranger] = [faces.find((face) => face.text.includes(PERSON)), faces.find((face) => !face.text.includes(PERSON))];
    assert.ok(named && stranger, JSON.stringify(faces));
    assert.match(named.text, new RegExp(`^#\\d+ ${PERSON} \\d+% (${EMOTIONS.join('|')})$`), named.text);
    assert.equal(named.known, true);
    assert.match(stranger.text, new RegExp(`^#\\d+ (Unknown|…) (${EMOTIONS.join('|')})$`), stranger.text);
    assert.equal(stranger.known, false);
    // Each box sits on its photo in the picture (percent of 640×480), not anywhere.
    assert.ok(named.centreX > (60 / 640) * 100 && named.centreX < (310 / 640) * 100, `named box centre at ${named.centreX}% across`);
    assert.ok(stranger.centreX > (380 / 640) * 100 && stranger.centreX < (610 / 640) * 100, `stranger's box centre at ${stranger.centreX}% across`);
    for (const face of faces) {
      assert.ok(face.centreY > (110 / 480) * 100 && face.centreY < (360 / 480) * 100, `box centre at ${face.centreY}% down`);
      assert.ok(face.width > 10 && face.width < 40, `box ${face.width}% of the picture wide`);
    }
    assert.match((await page.getByTestId('live-stats').textContent()) ?? '', /\d faces? · [\d.]+ pictures\/s · \d+ ms each/);
    assert.deepEqual(pageErrors, []);
  });

  void it('lists a track that ended with its final identity', async () => {
    // The stranger leaves the picture for 2.5 s of every 4: their track ends, unknown.
    const ended = page.getByTestId('live-track').filter({ hasText: 'Unknown' });
    await ended.first().waitFor({ timeout: 60_000 });
    assert.match((await ended.first().textContent()) ?? '', new RegExp(`^#\\d+ Unknown · \\d+\\.\\d s( · mostly (${EMOTIONS.join('|')}))?$`));
    assert.equal(await page.getByTestId('live-track').filter({ hasText: PERSON }).count(), 0, 'the person who stays is still on their track');
    await page.getByTestId('live-section').screenshot({ path: join(shots, 'live-tracks.png') });
  });

  void it('turns the camera off when the page is hidden, and when asked', async () => {
    // Headless Chromium never hides a page (neither another tab in front nor a minimised window does): the page is
    // told it was hidden the way a browser tells it, then shown again.
    const setHidden = (hidden: boolean) =>
      page.locator('body').evaluate((body: { ownerDocument: PageDocument }, value: boolean) => {
        const document = body.ownerDocument;
        if (value) Object.defineProperty(document, 'hidden', { value: true, configurable: true });
        else delete (document as { hidden?: boolean }).hidden;
        document.dispatchEvent(new document.defaultView.Event('visibilitychange'));
      }, hidden);
    // The person stayed in the picture, so their track was open: stopping lists its summary (the server's answer
    // to the page's end message).
    const personTracks = page.getByTestId('live-track').filter({ hasText: PERSON });
    await setHidden(true);
    await status().getByText(/turned off when the page was hidden/).waitFor();
    assert.equal(await liveBoxes().count(), 0);
    assert.equal(await page.getByTestId('live-stage').isHidden(), true);
    await personTracks.first().waitFor({ timeout: 10_000 });
    assert.match((await personTracks.first().textContent()) ?? '', new RegExp(`^#\\d+ ${PERSON}, \\d+% · \\d+\\.\\d s`));
    await setHidden(false);

    await page.getByTestId('live-start').click();
    await liveBoxes().filter({ hasText: PERSON }).first().waitFor({ timeout: MODEL_TIMEOUT_MS });
    // Entries listed so far are marked, so the summary looked for is one the stop adds (the list keeps only a few).
    await page.getByTestId('live-track').evaluateAll((items: Array<{ setAttribute(name: string, value: string): void }>) => {
      for (const item of items) item.setAttribute('data-listed-before', '');
    });
    await page.getByTestId('live-stop').click();
    await status().getByText('The camera is off.').waitFor();
    await page.locator('[data-testid="live-track"]:not([data-listed-before])').filter({ hasText: PERSON }).first().waitFor({ timeout: 10_000 });
    assert.equal(await page.getByTestId('live-stage').isHidden(), true);
    assert.equal(await liveBoxes().count(), 0);
    await page.getByTestId('live-section').screenshot({ path: join(shots, 'live-stopped.png') });
    assert.deepEqual(pageErrors, []);
  });

  void it('says so when the browser has no camera', async () => {
    const noCamera = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    try {
      const bare = await noCamera.newPage({ viewport: { width: 1280, height: 900 } });
      await bare.goto(baseUrl);
      await bare.getByTestId('live-start').click();
      await bare.getByTestId('live-status').getByText('No camera was found. Connect one and start again.').waitFor();
      assert.equal(await bare.getByTestId('live-stage').isHidden(), true);
      await bare.getByTestId('live-section').screenshot({ path: join(shots, 'live-no-camera.png') });
    } finally {
      await noCamera.close();
    }
  });
});
