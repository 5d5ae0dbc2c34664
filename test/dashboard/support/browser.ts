import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it), or CHROMIUM_PATH. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Where the browser specs leave their screenshots (git ignores it). */
export const SCREENSHOTS = resolve(import.meta.dirname, '../../../test-output/dashboard');

/** A real headless Chromium: no browser download, the one the system has. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: the dashboard's browser specs need one. Install Debian's ` +
        '(apt-get install chromium) or set CHROMIUM_PATH.',
    );
  }
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
}

/** A page that records what a person would not want to see: console errors, page errors, dialogs. */
export interface WatchedPage {
  page: Page;
  /** Console errors and warnings, uncaught exceptions, failed requests, alert() calls. */
  problems: string[];
}

export async function openPage(
  browser: Browser,
  headers: Record<string, string> = {},
): Promise<WatchedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  if (Object.keys(headers).length > 0) await page.setExtraHTTPHeaders(headers);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warn') {
      problems.push(`console.${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${(err as Error).message}`));
  page.on('requestfailed', (request) =>
    problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`),
  );
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  return { page, problems };
}

/** Saves a screenshot of the whole page as test-output/dashboard/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = resolve(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: path as `${string}.png`, fullPage: true });
  return path;
}

/** Clicks the element `selector` once it exists (views render after their data arrives). */
export async function clickOn(page: Page, selector: string): Promise<void> {
  const element = await page.waitForSelector(selector);
  await element!.click();
}

/** The text of the element `selector` once it exists. */
export async function textOf(page: Page, selector: string): Promise<string> {
  const element = await page.waitForSelector(selector);
  return (await element!.evaluate((node) => node.textContent ?? '')).trim();
}
