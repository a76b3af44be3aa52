/**
 * Accessibility of the web app in Chromium: every page checked by axe-core
 * against WCAG 2.1 A and AA (labels, names, contrast, landmarks, ARIA), in
 * the dark reading-room theme and the light one, at 1280×800; and the main
 * paths done with the keyboard alone.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDicom, uploadAndIngest } from '../fixtures/dicomweb/lake';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack, testAdmin } from '../support/local-stack';
import { ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

let stack: TestStack;
let browser: Browser;
let reader: TestUser;
let studyUid: string;
let patientId: string;
let dicomDir: string;

/** axe-core's WCAG 2.1 A/AA violations on the page as it is now, described for a failure message. */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  // Evaluated as text in the page (the test's own TypeScript has no DOM types).
  const found = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((result) => result.violations)`)) as AxeViolation[];
  return found.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

describe('accessibility', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack();
    browser = await launchChromium();
    reader = await stack.createUser({ groups: ['annotator', 'uploader'] });
    dicomDir = mkdtempSync(join(tmpdir(), 'medlake-a11y-dicom-'));
    const files = generateDicom(dicomDir, { patients: 1, seriesPerStudy: 2, slices: 1, matrix: 64, modality: 'MR', seed: 5 });
    await uploadAndIngest(stack, reader.idToken, files.map((f) => f.path));
    const listed = await stack.request('/api/studies', { token: reader.idToken });
    const study = (listed.body as { items: { studyInstanceUID: string; patientId: string }[] }).items[0];
    if (!study) throw new Error('the study was not ingested');
    studyUid = study.studyInstanceUID;
    patientId = study.patientId;
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dicomDir) rmSync(dicomDir, { recursive: true, force: true });
  });

  for (const scheme of ['dark', 'light'] as const) {
    it(`every page passes axe (WCAG 2.1 AA) in the ${scheme} theme`, { timeout: 120_000 }, async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addInitScript({ content: `window.localStorage.setItem('mantine-color-scheme-value', ${JSON.stringify(scheme)});` });
      const page = await context.newPage();
      const problems: string[] = [];
      const check = async (name: string, ready: () => Promise<unknown>) => {
        await ready();
        await page.waitForTimeout(300); // transitions settle before colours are measured
        problems.push(...(await violations(page)).map((v) => `${name}: ${v}`));
        await snapshot(page, `a11y-${scheme}-${name}`);
      };
      try {
        for (const [path, heading] of [['/sign-in', 'Sign in'], ['/sign-up', 'Create an account'], ['/verify?email=a%40b.test', 'Confirm your email'], ['/forgot-password', 'Forgot your password?']] as const) {
          await page.goto(`${stack.url}${path}`);
          await check(path.split('?')[0]?.slice(1) ?? path, () => page.getByRole('heading', { name: heading }).waitFor());
        }
        await signInAs(page, stack.url, testAdmin);
        await check('studies', () => page.getByRole('table', { name: 'Studies' }).locator('tbody tr[data-study]').first().waitFor());
        await page.getByRole('button', { name: /^Show series of the study/ }).first().click();
        await page.getByRole('button', { name: 'More filters' }).click();
        await check('studies-expanded', () => page.getByRole('img', { name: /^Series / }).first().waitFor());
        // In-app navigation to the study and patient pages (the local front door answers 404 to a
        // direct load of a path whose last segment looks like a file extension, as UIDs do).
        await page.getByRole('table', { name: 'Studies' }).getByRole('link', { name: /MR|Untitled study/ }).first().click();
        await check('study', () => page.getByRole('heading', { name: 'Series' }).waitFor());
        expect(new URL(page.url()).pathname).toBe(`/studies/${studyUid}`);
        await page.getByRole('link', { name: /^Patient / }).first().click();
        await check('patient', () => page.getByLabel('Studies over time').waitFor());
        expect(decodeURIComponent(new URL(page.url()).pathname)).toBe(`/patients/${patientId}`);
        await page.goto(`${stack.url}/upload`);
        await check('upload', () => page.getByRole('heading', { name: 'Earlier uploads' }).waitFor());
        await page.goto(`${stack.url}/exports`);
        await check('exports', () => page.getByRole('heading', { name: 'Exports' }).waitFor());
        await page.goto(`${stack.url}/admin/users?tab=all`);
        await check('users', () => page.getByRole('table', { name: 'All users' }).getByRole('row').nth(1).waitFor());
        await page.goto(`${stack.url}/admin/audit`);
        await check('audit', () => page.getByRole('table', { name: 'Audit log entries' }).getByRole('row').nth(1).waitFor());
      } finally {
        await context.close();
      }
      expect(problems).toEqual([]);
    });
  }

  it('signing in and reaching a study works with the keyboard alone', { timeout: 60_000 }, async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    try {
      await page.goto(`${stack.url}/sign-in`);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor();
      // The email field has the focus on arrival.
      await page.keyboard.type(reader.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(reader.password);
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/studies$/);
      await page.getByRole('table', { name: 'Studies' }).locator('tbody tr[data-study]').first().waitFor();

      // First Tab: the skip link; following it puts the focus in the page, past the navigation.
      await page.keyboard.press('Tab');
      await expect(page.evaluate('document.activeElement && document.activeElement.textContent')).resolves.toBe('Skip to content');
      await page.keyboard.press('Enter');
      await expect(page.evaluate('location.hash')).resolves.toBe('#main');

      // Tab to the study's link and open it.
      const link = page.getByRole('table', { name: 'Studies' }).getByRole('link', { name: /MR|Untitled study/ }).first();
      // The page's globals, typed by hand: the test's TypeScript has no DOM types.
      const focused = () => link.evaluate((el) => el === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
      for (let i = 0; i < 40 && !(await focused()); i++) await page.keyboard.press('Tab');
      await expect(focused()).resolves.toBe(true);
      const outline = await link.evaluate((el) => (globalThis as unknown as { getComputedStyle(element: unknown): { outlineStyle: string } }).getComputedStyle(el).outlineStyle);
      expect(outline).not.toBe('none');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Series' }).waitFor();
      await snapshot(page, 'a11y-keyboard-study');
    } finally {
      await context.close();
    }
  });
});
