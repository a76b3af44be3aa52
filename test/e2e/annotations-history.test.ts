/**
 * Annotation history in a real browser with the real OHIF viewer: two
 * versions of a measurement report saved the way OHIF saves them (the second
 * into the first's series, naming it as predecessor); the study page lists
 * both; the viewer loads the latest by default (one report, not two: what
 * OHIF itself fetched is checked); "View" on version 1 makes the viewer load
 * version 1 for this user, and "Show the latest" brings version 2 back.
 * Screenshots: test-results/e2e/annotations-*.png.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LakeImage } from '../fixtures/annotations/ohif-measurement-report';
import { ohifMeasurementReport, stowBody } from '../fixtures/annotations/ohif-measurement-report';
import { generateDicom, uploadAndIngest } from '../fixtures/dicomweb/lake';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { collectPageErrors, ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';
import { drawLength, viewerFrame as ohifFrame } from './support/ohif';
import { pixelStats } from './support/pixels';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

let stack: TestStack;
let browser: Browser;
let page: Page;
let pageErrors: string[];
let dir: string;
let annotator: TestUser;
let studyUid: string;
/** The report series both versions are in, and each version's SR. */
let reportSeries: string;
let versionSops: [string, string];

const value = (item: Json | undefined, tag: string): unknown => item?.[tag]?.Value?.[0];

async function stow(part10: Uint8Array): Promise<string> {
  const { body, contentType } = stowBody(part10);
  const res = await fetch(`${stack.url}/dicomweb/studies`, { method: 'POST', headers: { authorization: `Bearer ${annotator.idToken}`, 'content-type': contentType }, body });
  expect([200, 202]).toContain(res.status);
  const answer = (await res.json()) as Json;
  return String(value(answer['00081199']?.Value?.[0] as Json, '00081190')).split('/instances/')[1] as string;
}

/** The study page, reached as users reach it: from the study browser. */
async function openStudyPage(): Promise<void> {
  await page.goto(`${stack.url}/studies`);
  await page.locator(`tbody tr[data-study="${studyUid}"] a[href="/studies/${encodeURIComponent(studyUid)}"]`).first().click();
  await page.getByRole('heading', { name: 'Series' }).waitFor();
}

const viewerFrame = (): FrameLocator => ohifFrame(page);

/**
 * Opens what the viewer page shows and answers the measurement reports the
 * viewer itself fetched for the report series (its own /metadata request)
 * after checking that its study panel offers one report of the set.
 */
async function reportsTheViewerLoads(open: () => Promise<void>): Promise<string[]> {
  const metadata = page.waitForResponse((r) => r.url().includes(`/series/${reportSeries}/metadata`) && r.request().method() === 'GET', { timeout: 60_000 });
  await open();
  const body = (await (await metadata).json()) as Json[];
  const frame = viewerFrame();
  const element = frame.locator('.cornerstone-viewport-element').first();
  await element.waitFor({ state: 'visible', timeout: 60_000 });
  await expect.poll(async () => pixelStats(await element.screenshot()).stdDev, { timeout: 60_000 }).toBeGreaterThan(20);
  const reports = frame.locator('[data-cy^="study-browser-thumbnail"]', { hasText: 'Lesions' });
  await reports.first().waitFor({ timeout: 60_000 });
  // One report per set in the viewer's study panel: the other version is not offered.
  await expect(reports.count()).resolves.toBe(1);
  return body.map((instance) => String(value(instance, '00080018')));
}

describe('annotation history with the viewer, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack();
    annotator = await stack.createUser({ groups: ['annotator'] });
    const uploader = await stack.createUser({ groups: ['uploader'] });
    dir = mkdtempSync(join(tmpdir(), 'medlake-e2e-annotations-'));
    const source = generateDicom(dir, { patients: 1, seriesPerStudy: 1, slices: 2, matrix: 64, modality: 'CT', seed: 4242 });
    await uploadAndIngest(stack, uploader.idToken, source.map((s) => s.path));

    const study = ((await stack.request('/dicomweb/studies', { token: annotator.idToken })).body as Json[])[0];
    studyUid = String(value(study, '0020000D'));
    const instance = ((await stack.request(`/dicomweb/studies/${studyUid}/instances`, { token: annotator.idToken })).body as Json[])[0];
    const image: LakeImage = { studyUid, seriesUid: String(value(instance, '0020000E')), sopUid: String(value(instance, '00080018')), sopClassUid: String(value(instance, '00080016')) };
    const patient = { patientId: String(value(study, '00100020')), patientName: String((value(study, '00100010') as { Alphabetic?: string })?.Alphabetic ?? ''), studyDate: String(value(study, '00080020')) };
    const v1 = await stow(ohifMeasurementReport([{ tool: 'Length', image, from: [20, 32], to: [30, 32], lengthMm: 10, label: 'first reading' }], { reportName: 'Lesions', ...patient }).part10);
    const versions = (await stack.request(`/api/studies/${studyUid}/annotations`, { token: annotator.idToken })).body as { items: { latest: { seriesInstanceUID: string; sopClassUID: string } }[] };
    const first = versions.items[0]?.latest as { seriesInstanceUID: string; sopClassUID: string };
    const v2 = await stow(ohifMeasurementReport([{ tool: 'Length', image, from: [20, 32], to: [44, 32], lengthMm: 24, label: 'second reading' }], {
      reportName: 'Lesions',
      ...patient,
      predecessor: { seriesUid: first.seriesInstanceUID, sopUid: v1, sopClassUid: first.sopClassUID, instanceNumber: 1 },
    }).part10);
    reportSeries = first.seriesInstanceUID;
    versionSops = [v1, v2];

    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    pageErrors = collectPageErrors(page);
    await signInAs(page, stack.url, annotator);
  });

  afterAll(async () => {
    if (pageErrors?.length) console.error(`browser errors:\n${pageErrors.slice(0, 20).join('\n')}`);
    await browser?.close();
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the study page lists the set with both versions', async () => {
    await openStudyPage();
    const section = page.getByRole('region', { name: 'Annotations and labels' });
    await section.getByText('Lesions').waitFor();
    await section.getByText('2 versions').waitFor();
    const rows = section.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await expect(rows.first().getByText('latest').isVisible()).resolves.toBe(true);
    await snapshot(page, 'annotations-1-history');
  });

  it('the viewer loads the latest version by default', async () => {
    const loaded = await reportsTheViewerLoads(() => page.getByRole('link', { name: 'Open viewer' }).click());
    expect(loaded).toEqual([versionSops[1]]);
    await snapshot(page, 'annotations-2-viewer-latest');
  });

  it('"View" on version 1 makes the viewer load version 1, and "Show the latest" brings version 2 back', async () => {
    await openStudyPage();
    const section = page.getByRole('region', { name: 'Annotations and labels' });
    const rows = section.locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const older = await reportsTheViewerLoads(async () => {
      await rows.nth(1).getByRole('button', { name: 'View' }).click();
      await page.waitForURL(/\/viewer$/);
    });
    expect(older).toEqual([versionSops[0]]);
    await page.getByText(/Showing annotations "Lesions" version 1 of 2/).waitFor();
    await snapshot(page, 'annotations-3-viewer-version-1');

    const latest = await reportsTheViewerLoads(() => page.getByRole('button', { name: 'Show the latest' }).click());
    expect(latest).toEqual([versionSops[1]]);
    await page.getByText(/Showing annotations/).waitFor({ state: 'detached' });
    await snapshot(page, 'annotations-4-viewer-latest-again');
  });

  it('a measurement saved from OHIF under the same report name becomes version 3 of the set', async () => {
    const frame = viewerFrame();
    await drawLength(page);
    await frame.getByRole('button', { name: 'Create SR' }).click();
    await frame.getByPlaceholder('Report name').fill('Lesions');
    const stored = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/dicomweb/studies'));
    await frame.getByRole('button', { name: 'Save', exact: true }).click();
    expect([200, 202]).toContain((await stored).status());
    await snapshot(page, 'annotations-5-saved-from-ohif');

    const versions = (await stack.request(`/api/studies/${studyUid}/annotations`, { token: annotator.idToken })).body as { items: { name: string; currentVersion: number; latest: { source: string; rule: string; parentVersion: number; measurementCount: number } }[] };
    expect(versions.items).toHaveLength(1);
    expect(versions.items[0]).toMatchObject({ name: 'Lesions', currentVersion: 3, latest: { source: 'viewer', parentVersion: 2 } });
    expect(['name', 'series', 'predecessor']).toContain(versions.items[0]?.latest.rule);
    expect(versions.items[0]?.latest.measurementCount).toBeGreaterThanOrEqual(1);
  });
});
