import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * A real browser for the console's tests and benchmark: the system's Chromium (Debian's
 * `chromium` package; `.ci/run` installs it), driven by playwright-core, headless. Playwright's own
 * browser download is not used.
 */
export const chromiumPath = process.env.TIEBREAK_CHROMIUM ?? '/usr/bin/chromium';

/** How long the tests wait for what the console shows: generous, as a busy 2-core machine needs. */
export const uiTimeoutMs = 45_000;

/** Where the tests leave screenshots of each view (not in git). */
export const screenshotDir = join(import.meta.dirname, '..', 'console', 'screenshots');

export async function launchBrowser(): Promise<Browser> {
  // Chromium's sandbox refuses to start as root (CI runs as root).
  const asRoot = process.getuid?.() === 0;
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: asRoot ? ['--no-sandbox'] : [] });
}

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Errors the page logged or threw (a CSP refusal among them): a test expects none. */
  errors: string[];
}

/** A fresh context (its own sessionStorage) on the console, at the given window width. */
export async function openConsole(
  browser: Browser,
  baseUrl: string,
  options: { width?: number; height?: number } = {},
): Promise<ConsolePage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(uiTimeoutMs);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // The browser logs every refused request (a 422 the console shows in the API's words): not an error of the page's.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource: the server responded with a status of 4')) {
      errors.push(`console: ${message.text()}`);
    }
  });
  await page.goto(`${baseUrl}/console/`);
  return { context, page, errors };
}

/** Signs in with a key as a person does (the field labelled "API key"), and waits for the header. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** axe-core's WCAG 2 A/AA rules on the page as it is: the serious and critical violations, in words. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact ?? ''}): ${violation.help} — ${violation.nodes.map((node) => node.target.join(' ')).join('; ')}`,
    );
}
