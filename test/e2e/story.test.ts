/**
 * The whole story in a real browser, through the local front door: a
 * physician signs up and confirms the emailed code, an administrator
 * approves them, they upload a CT series from a folder, find it in the study
 * browser, open it in the viewer (an image is really drawn), measure a
 * length, save it as DICOM SR and find it again after a reload.
 * Screenshots of every step: test-results/e2e/.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Browser, BrowserContext, FrameLocator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDicom } from '../fixtures/dicomweb/lake';
import type { GeneratedInstance } from '../fixtures/dicomweb/lake';
import type { OutboxMail, TestStack } from '../support/local-stack';
import { startTestStack, testAdmin } from '../support/local-stack';
import { collectPageErrors, ensureWebBuild, launchChromium, snapshot } from './support/browser';
import { drawLength, viewerFrame as ohifFrame } from './support/ohif';
import { pixelStats } from './support/pixels';

const viewport = { width: 1280, height: 800 };
const physician = { email: `physician-${process.pid}@hospital.test`, password: 'Reading-room-7!' };

let stack: TestStack;
let browser: Browser;
let userContext: BrowserContext;
let page: Page;
let pageErrors: string[];
let dicomDir: string;
let series: GeneratedInstance[];
/** The study as the lake knows it (de-identified UID), once it is found in the browser. */
let studyUid: string;
/** The length the viewer showed for the measurement drawn (e.g. "108 mm"). */
let measured: string;

async function signIn(target: Page, email: string, password: string): Promise<void> {
  await target.goto(`${stack.url}/sign-in?email=${encodeURIComponent(email)}`);
  await target.getByRole('heading', { name: 'Sign in' }).waitFor();
  await target.getByRole('textbox', { name: 'Password' }).fill(password);
  await target.getByRole('button', { name: 'Sign in' }).click();
}

const viewerFrame = (): FrameLocator => ohifFrame(page);

/** The first viewport's pixels, once they are an image (not a blank or single-colour canvas). */
async function waitForRenderedImage(timeoutMs: number) {
  const element = viewerFrame().locator('.cornerstone-viewport-element').first();
  await element.waitFor({ state: 'visible', timeout: timeoutMs });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = pixelStats(await element.screenshot());
    if (stats.stdDev > 20 && stats.distinctLevels > 32 && stats.litFraction > 0.05) return stats;
    if (Date.now() > deadline) throw new Error(`the viewport shows no image: ${JSON.stringify(stats)}`);
    await page.waitForTimeout(500);
  }
}

describe('end to end, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack();
    browser = await launchChromium();
    userContext = await browser.newContext({ viewport });
    page = await userContext.newPage();
    pageErrors = collectPageErrors(page);
    dicomDir = mkdtempSync(join(tmpdir(), 'medlake-e2e-dicom-'));
    series = generateDicom(dicomDir, { patients: 1, studiesPerPatient: 1, seriesPerStudy: 1, slices: 4, modality: 'CT', seed: 20261125 });
  });

  afterAll(async () => {
    if (pageErrors?.length) console.error(`browser errors during the story:\n${pageErrors.slice(0, 20).join('\n')}`);
    await browser?.close();
    await stack?.stop();
    if (dicomDir) rmSync(dicomDir, { recursive: true, force: true });
  });

  it('a physician signs up and confirms the code from the email', async () => {
    await page.goto(`${stack.url}/`);
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
    await page.getByRole('textbox', { name: 'Email' }).fill(physician.email);
    await page.getByRole('textbox', { name: /^Password/ }).fill(physician.password);
    await page.getByRole('textbox', { name: 'Repeat the password' }).fill(physician.password);
    await snapshot(page, '01-sign-up');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL(/\/verify\?/);

    const mail = await stack.waitForMail((m) => m.to.some((to) => to.includes(physician.email)));
    const code = /\b(\d{6})\b/.exec(mail.text)?.[1];
    expect(code, `a 6-digit code in: ${mail.text}`).toBeDefined();
    await page.getByRole('textbox', { name: 'Code' }).fill(code as string);
    await snapshot(page, '02-verify');
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(/\/sign-in\?notice=confirmed/);
    await expect(page.getByRole('status').first().textContent()).resolves.toMatch(/email is confirmed/);

    await signIn(page, physician.email, physician.password);
    await page.waitForURL(/\/pending$/);
    await page.getByText('Waiting for approval').first().waitFor();
    await snapshot(page, '03-pending');
  });

  it('an administrator approves them as annotator and uploader', async () => {
    const adminContext = await browser.newContext({ viewport });
    const admin = await adminContext.newPage();
    try {
      await signIn(admin, testAdmin.email, testAdmin.password);
      await admin.waitForURL(/\/studies$/);
      await admin.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Users' }).click();
      const row = admin.getByRole('row', { name: new RegExp(physician.email.replace(/[.]/g, '\\.')) });
      await row.waitFor();
      await row.getByRole('checkbox', { name: 'Uploader' }).check();
      await expect(row.getByRole('checkbox', { name: 'Annotator' }).isChecked()).resolves.toBe(true);
      await snapshot(admin, '04-admin-approves');
      await row.getByRole('button', { name: `Approve ${physician.email}` }).click();
      await admin.getByText(`${physician.email} is approved.`).waitFor();
      await admin.getByRole('tab', { name: 'All users' }).click();
      const approved = admin.getByRole('row', { name: new RegExp(physician.email.replace(/[.]/g, '\\.')) });
      await expect(approved.textContent()).resolves.toMatch(/active.*annotator.*uploader|active.*uploader.*annotator/);
      await snapshot(admin, '05-admin-users');

      // The approval is in the audit log, with the roles given.
      await admin.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Audit log' }).click();
      const entry = admin.getByRole('table', { name: 'Audit log entries' }).getByRole('row', { name: /users\.approve/ });
      await entry.waitFor();
      await expect(entry.textContent()).resolves.toMatch(/admin@medlake\.test.*users\.approve.*ok.*"after":\["annotator","uploader"\]/);
      await snapshot(admin, '05b-audit-log');
    } finally {
      await adminContext.close();
    }
  });

  it('the waiting page notices the approval and lets them in', async () => {
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.waitForURL(/\/studies$/, { timeout: 20_000 });
    const nav = page.getByRole('navigation', { name: 'Main', exact: true });
    await expect.poll(() => nav.getByRole('link').allTextContents()).toEqual(['Studies', 'Upload', 'Subscriptions']);
    await snapshot(page, '06-signed-in');
  });

  it('they upload a CT series folder and watch every file accepted', { timeout: 120_000 }, async () => {
    await page.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Upload' }).click();
    const chooser = page.waitForEvent('filechooser');
    await page.getByRole('button', { name: 'Choose a folder' }).click();
    await (await chooser).setFiles(dirname(series[0]?.path as string));
    const results = page.getByLabel('Ingest results');
    await results.getByText(`${series.length} accepted`).waitFor({ timeout: 90_000 });
    await expect(results.getByText('0 rejected').isVisible()).resolves.toBe(true);
    await expect(page.getByText(`${series.length} of ${series.length} files sent`).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('table', { name: 'Files' }).getByText('accepted').count()).resolves.toBe(series.length);
    await snapshot(page, '07-uploaded');
  });

  it('a file dropped again onto the page is reported as already in the lake, and a non-DICOM file as rejected', { timeout: 90_000 }, async () => {
    // A real drop event carrying files, as the browser sends it when files are dragged from the desktop.
    const again = readFileSync(series[0]?.path as string).toString('base64');
    await page.evaluate(`(() => {
      const bytes = Uint8Array.from(atob(${JSON.stringify(again)}), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'again.dcm', { type: 'application/dicom' }));
      transfer.items.add(new File(['just some notes'], 'notes.txt', { type: 'text/plain' }));
      const zone = document.querySelector('[aria-label="Drop DICOM files, folders or zips here"]');
      for (const type of ['dragenter', 'dragover', 'drop']) zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
    })()`);
    const results = page.getByLabel('Ingest results');
    await results.getByText('1 already in the lake').waitFor({ timeout: 60_000 });
    await results.getByText('1 rejected').waitFor({ timeout: 60_000 });
    const rejected = page.getByRole('table', { name: 'Files' }).getByRole('row', { name: /notes\.txt/ });
    await expect(rejected.textContent()).resolves.toMatch(/rejected/);
    await snapshot(page, '07b-dropped-again');
  });

  it('the study appears in the browser, with its series thumbnail', async () => {
    await page.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Studies' }).click();
    const rows = page.getByRole('table', { name: 'Studies' }).locator('tbody tr[data-study]');
    await rows.first().waitFor();
    await expect(rows.count()).resolves.toBe(1);
    studyUid = (await rows.first().getAttribute('data-study')) as string;
    expect(studyUid).toMatch(/^2\.25\.\d+$/);
    expect(studyUid).not.toBe(series[0]?.studyUid);
    await expect(page.getByText('1 study').isVisible()).resolves.toBe(true);

    // A filter that excludes the study, then one that keeps it: the URL carries them.
    await page.getByRole('combobox', { name: 'Modality' }).click();
    await page.getByRole('option', { name: 'MR', exact: true }).click();
    await page.keyboard.press('Escape');
    await page.getByText('No studies match these filters.').waitFor();
    expect(new URL(page.url()).searchParams.getAll('modality')).toEqual(['MR']);
    await page.getByRole('button', { name: /^Clear 1 filter/ }).click();
    await rows.first().waitFor();

    await page.getByRole('button', { name: /^Show series of the study/ }).click();
    const thumbnail = page.getByRole('table', { name: 'Studies' }).getByRole('img', { name: /Series 1 CT/ });
    await thumbnail.waitFor();
    await expect.poll(() => thumbnail.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth), { timeout: 20_000 }).toBeGreaterThan(0);
    await snapshot(page, '08-study-browser');
  });

  it('on the study page they add a report, which the lake scrubs, and find the patient timeline', async () => {
    await page.getByRole('table', { name: 'Studies' }).getByRole('link', { name: /CT|Untitled study/ }).last().click();
    await page.waitForURL(new RegExp(`/studies/${studyUid.replace(/\./g, '\\.')}$`));
    await page.getByRole('heading', { name: 'Series' }).waitFor();
    await snapshot(page, '09-study');

    // No report yet; the physician adds one, and the lake scrubs it before storing.
    const report = page.getByRole('region', { name: 'Report' });
    await report.getByText('No report.').waitFor();
    await report.getByRole('button', { name: 'Add a report…' }).click();
    await page.getByRole('textbox', { name: 'Report text' }).fill('Dr. Gregory House, call 555-123-4567. Hypodense lesion in the right liver lobe, 12 mm.');
    await page.getByRole('button', { name: 'Save new version' }).click();
    await report.getByText(/Hypodense lesion in the right liver lobe, 12 mm\./).waitFor();
    const stored = (await report.textContent()) as string;
    expect(stored).not.toMatch(/555-123-4567|Gregory|House/);
    expect(stored).toMatch(/version 1/);

    // The patient's timeline lists the study.
    await page.getByRole('link', { name: /^Patient / }).first().click();
    await page.getByLabel('Studies over time').waitFor();
    await expect(page.getByLabel('Studies over time').getByRole('link').count()).resolves.toBe(1);
    await snapshot(page, '09b-patient-timeline');
    await page.getByLabel('Studies over time').getByRole('link').first().click();
    await page.getByRole('heading', { name: 'Series' }).waitFor();
  });

  it('the viewer opens the study and really draws the image', { timeout: 90_000 }, async () => {
    await page.getByRole('link', { name: 'Open viewer' }).click();
    const stats = await waitForRenderedImage(60_000);
    expect(stats.distinctLevels).toBeGreaterThan(32);
    await snapshot(page, '10-viewer');
  });

  it('a length measurement is saved to the lake as DICOM SR (STOW-RS with the CSRF header)', { timeout: 90_000 }, async () => {
    const frame = viewerFrame();
    measured = await drawLength(page);
    await snapshot(page, '11-measured');

    await frame.getByRole('button', { name: 'Create SR' }).click();
    await frame.getByPlaceholder('Report name').fill('Lesion length');
    const stow = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/dicomweb/studies'));
    await frame.getByRole('button', { name: 'Save', exact: true }).click();
    const stored = await stow;
    expect(stored.request().headers()['x-csrf-token']).toBeTruthy();
    expect([200, 202]).toContain(stored.status());
    await snapshot(page, '12-saved');
  });

  it('the saved measurement is filed under the same study and is there again after a reload', { timeout: 120_000 }, async () => {
    // The lake filed the SR under the same study.
    await expect
      .poll(async () => {
        const answer = await page.evaluate(async (uid) => (await fetch(`/api/studies/${encodeURIComponent(uid)}`)).json(), studyUid);
        return (answer as { series: { modality: string }[] }).series.map((s) => s.modality).sort();
      }, { timeout: 20_000 })
      .toEqual(['CT', 'SR']);

    await page.reload();
    await waitForRenderedImage(60_000);
    const frame = viewerFrame();
    const srItem = frame.locator('[data-cy^="study-browser-thumbnail"]', { hasText: 'Lesion length' });
    await srItem.waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    // Opening the SR asks to take its measurements up again; once taken up they are listed and drawn.
    const takeUp = frame.getByRole('button', { name: 'Yes', exact: true });
    for (let attempt = 1; !(await takeUp.isVisible()); attempt++) {
      await srItem.dblclick();
      try {
        await takeUp.waitFor({ timeout: 10_000 });
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
    await takeUp.click();
    await frame.locator('[data-cy="trackedMeasurements-btn"]').click();
    await frame.getByText('Measurements (1)').waitFor({ timeout: 15_000 });
    const lengthOf = (text: string) => Math.round(Number.parseFloat(text.replace(/[^\d.]/g, '')));
    const listed = frame.getByText(/^\d+(\.\d+)? mm$/).first();
    await listed.waitFor();
    expect(lengthOf((await listed.textContent()) as string)).toBe(lengthOf(measured));
    const drawn = frame.locator('svg text', { hasText: /mm$/ }).first();
    await drawn.waitFor({ timeout: 15_000 });
    expect(lengthOf((await drawn.textContent()) as string)).toBe(lengthOf(measured));
    await snapshot(page, '13-measurement-back');
  });
  it('they sign out, and reset a forgotten password with the emailed code', async () => {
    await page.getByRole('button', { name: `${physician.email}, account menu` }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(/\/sign-in/);
    await page.goto(`${stack.url}/studies`);
    await page.waitForURL(/\/sign-in\?next=%2Fstudies/);

    const mailsBefore = (await stack.outbox()).filter((m) => m.to.includes(physician.email)).length;
    await page.getByRole('link', { name: 'Forgot password?' }).click();
    await page.getByRole('textbox', { name: 'Email' }).fill(physician.email);
    await page.getByRole('button', { name: 'Email me a code' }).click();
    await page.waitForURL(/\/reset-password\?/);
    // The newest email to them is the reset code.
    let mail: OutboxMail | undefined;
    await expect
      .poll(async () => {
        const mine = (await stack.outbox()).filter((m) => m.to.includes(physician.email));
        mail = mine.length > mailsBefore ? mine.at(-1) : undefined;
        return Boolean(mail);
      }, { timeout: 10_000 })
      .toBe(true);
    const code = /\b(\d{6})\b/.exec(mail?.text ?? '')?.[1] as string;
    expect(code).toBeDefined();
    const newPassword = 'New-reading-room-8!';
    await page.getByRole('textbox', { name: 'Code' }).fill(code);
    await page.getByRole('textbox', { name: /^New password/ }).fill(newPassword);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.waitForURL(/\/sign-in\?notice=reset/);
    // The page may render once more as it settles (its email comes from the address): type until the form takes it.
    const typePassword = (password: string) =>
      expect.poll(async () => {
        await page.getByRole('textbox', { name: 'Password' }).fill(password);
        return page.getByRole('button', { name: 'Sign in' }).isEnabled();
      }, { timeout: 10_000 }).toBe(true);
    await typePassword(physician.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The email or password is wrong.').waitFor();
    await typePassword(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/studies$/);
    await snapshot(page, '14-signed-in-again');
  });
});
