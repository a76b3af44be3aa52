/**
 * Real Chromium for the end-to-end tests (Debian's /usr/bin/chromium driven
 * by playwright-core; no downloaded browsers), the web build they need, and
 * screenshots of each step under test-results/e2e/.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { buildWeb, webBuildState } from '@medlake/local/web-build';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const screenshotDir = join(repoRoot, 'test-results', 'e2e');

export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: chromiumArgs });
}

/** Builds web/dist (and the viewer copy) when a source changed since the last build. */
export async function ensureWebBuild(): Promise<void> {
  const webDir = join(repoRoot, 'web');
  const state = webBuildState(webDir);
  if (state.state === 'needs-build') await buildWeb(webDir);
}

/** Signs in through the sign-in page and waits for the page the user's roles open first. */
export async function signInAs(page: Page, baseUrl: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(`${baseUrl}/sign-in?email=${encodeURIComponent(user.email)}`);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await page.getByRole('textbox', { name: 'Password' }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/(studies|upload)$/);
}

/** Saves a full-page screenshot named after the story step (`01-sign-up.png`, …). */
export async function snapshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const path = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Console errors and page crashes, to show when a step fails. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text().slice(0, 300)}`);
  });
  return errors;
}
