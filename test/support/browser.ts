/**
 * A headless Chromium for page-level tests, driven by playwright-core (which ships no browser of its own): the
 * Debian `chromium` package at `/usr/bin/chromium`, or the executable `QUEUEKIT_CHROMIUM` names.
 *
 * There is no silent skip: without a browser {@link launchBrowser} throws, naming the fix.
 *
 * @example
 * const browser = await launchBrowser();
 * const page = await browser.newPage();
 * await page.goto(dashboard.url);
 * const published = await readNumber(page, '[data-testid="published"]');
 * await screenshotIfAsked(page, 'docs/live-page.png');
 * await browser.close();
 *
 * @module
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Debian's `chromium` package puts the browser. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, offline, container-friendly headless Chromium. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** The Chromium executable to use: `QUEUEKIT_CHROMIUM`, else {@link DEFAULT_CHROMIUM}. Throws when it is missing. */
export function chromiumPath(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const path = env.QUEUEKIT_CHROMIUM || DEFAULT_CHROMIUM;
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `No Chromium executable at ${path}${env.QUEUEKIT_CHROMIUM ? ' (from QUEUEKIT_CHROMIUM)' : ''}. ` +
        'The page tests need one: install it with `apt-get install chromium`, ' +
        'or set QUEUEKIT_CHROMIUM to the path of a Chromium or Chrome executable.',
    );
  }
  return path;
}

/** Launches headless Chromium (see {@link chromiumPath}); close it in `afterAll`. */
export function launchBrowser(options: { headless?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: options.headless ?? true,
    args: [...CHROMIUM_ARGS],
  });
}

/** The number an element shows (`1,234`, `12.5`); NaN when it shows none. */
export async function readNumber(page: Page, selector: string): Promise<number> {
  const text = await page.locator(selector).first().textContent();
  return Number((text ?? '').replace(/[^\d.-]/g, '') || Number.NaN);
}

/** Saves a full-page screenshot to `path` only when `QUEUEKIT_SCREENSHOT` is set; returns whether it did. */
export async function screenshotIfAsked(page: Page, path: string): Promise<boolean> {
  if (!process.env.QUEUEKIT_SCREENSHOT) return false;
  mkdirSync(dirname(path), { recursive: true });
  await page.screenshot({ path, fullPage: true });
  return true;
}
