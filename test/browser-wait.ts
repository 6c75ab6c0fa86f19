/** Waiting for a condition in a page under test. */
import type { Page } from 'playwright-core';

/**
 * Polls `check` (which reads the page through locators or functions, never a string of code: the page's
 * Content-Security-Policy refuses string evaluation) until it holds, or fails naming `what` after `timeoutMs`.
 */
export async function waitUntil(page: Page, check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await page.waitForTimeout(50);
  }
}
