/**
 * A researcher's export, in Chromium: filter the study browser, export what
 * it shows, follow the export until its zip is ready, and download it. The
 * zip is read back: the DICOM files of the study, the manifest and the
 * report are in it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { generateDicom, uploadAndIngest } from '../fixtures/dicomweb/lake';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';

let stack: TestStack;
let browser: Browser;
let page: Page;
let researcher: TestUser;
let workDir: string;

function zipEntries(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error ?? new Error('no zip'));
      const names: string[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        names.push(entry.fileName);
        zip.readEntry();
      });
      zip.on('end', () => resolve(names));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

describe('exports, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack();
    researcher = await stack.createUser({ groups: ['researcher'] });
    const uploader = await stack.createUser({ groups: ['uploader'] });
    workDir = mkdtempSync(join(tmpdir(), 'medlake-e2e-export-'));
    const files = generateDicom(join(workDir, 'dicom'), { patients: 2, seriesPerStudy: 1, slices: 2, matrix: 64, modality: 'mix', seed: 77 });
    await uploadAndIngest(stack, uploader.idToken, files.map((f) => f.path));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })).newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  it('a researcher exports the studies a filter selects and downloads the zip', { timeout: 120_000 }, async () => {
    await signInAs(page, stack.url, researcher);
    const nav = page.getByRole('navigation', { name: 'Main', exact: true });
    await expect.poll(() => nav.getByRole('link').allTextContents()).toEqual(['Studies', 'Exports', 'Subscriptions']);

    // Two studies in the lake; the modality filter keeps one of them.
    const rows = page.getByRole('table', { name: 'Studies' }).locator('tbody tr[data-study]');
    await expect.poll(() => rows.count()).toBe(2);
    const modality = ((await rows.first().locator('td').nth(5).textContent()) ?? '').trim();
    expect(['CT', 'MR']).toContain(modality);
    await page.getByRole('combobox', { name: 'Modality' }).click();
    await page.getByRole('option', { name: modality, exact: true }).click();
    await page.keyboard.press('Escape');
    await expect.poll(() => rows.count()).toBe(1);
    const studyUid = (await rows.first().getAttribute('data-study')) as string;

    await page.getByRole('button', { name: 'Export 1 study' }).click();
    await page.getByRole('textbox', { name: 'Name' }).fill('One-study cohort');
    await snapshot(page, 'export-01-dialog');
    await page.getByRole('button', { name: 'Start the export' }).click();
    await page.waitForURL(/\/exports$/);
    const row = page.getByRole('table', { name: 'Exports' }).getByRole('row', { name: /One-study cohort/ });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(new RegExp(`modality: ?${modality}|modality=${modality}`));
    await row.getByRole('link', { name: 'Download One-study cohort' }).waitFor({ timeout: 90_000 });
    await snapshot(page, 'export-02-ready');

    const download = page.waitForEvent('download');
    await row.getByRole('link', { name: 'Download One-study cohort' }).click();
    const file = join(workDir, 'export.zip');
    await (await download).saveAs(file);
    const names = await zipEntries(file);
    expect(names).toEqual(expect.arrayContaining(['README.txt', 'manifest.csv', 'manifest.json']));
    const dicom = names.filter((n) => n.endsWith('.dcm'));
    expect(dicom).toHaveLength(2);
    expect(dicom.every((n) => n.includes(`/${studyUid}/`))).toBe(true);
    expect(readFileSync(file).subarray(0, 2).toString('latin1')).toBe('PK');
  });
});
