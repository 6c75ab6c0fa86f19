import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FacedbConfig } from '../src/config/config.js';
import { buildServer } from '../src/server/app.js';
import type { FaceService } from '../src/services/face-service.js';

/** Debian's Chromium, headless, as every browser test drives it. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'];

/** The page of a real server on an ephemeral loopback port, in headless Chromium, with the API key entered. */
export interface WebPage {
  app: FastifyInstance;
  browser: Browser;
  page: Page;
  /** Where screenshots go: FACEDB_SCREENSHOTS, else a folder of the test's own. */
  shots: string;
  /** Script errors the page threw; a test ends by asserting there were none. */
  pageErrors: string[];
  close(): Promise<void>;
}

/**
 * Serves `service` with `config`, opens its page at 1280×900 and enters `apiKey`. `close` stops the browser and the
 * server; the service is the caller's to close.
 */
export async function openWebPage(service: FaceService, config: FacedbConfig, options: { apiKey: string; dir: string }): Promise<WebPage> {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`);
  const shots = process.env.FACEDB_SCREENSHOTS ?? join(options.dir, 'screenshots');
  await mkdir(shots, { recursive: true });
  const app = await buildServer(service, config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.goto(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  await page.getByLabel('API key').fill(options.apiKey);
  await page.getByLabel('API key').press('Enter');
  return {
    app,
    browser,
    page,
    shots,
    pageErrors,
    close: async () => {
      await browser.close();
      await app.close();
    },
  };
}
