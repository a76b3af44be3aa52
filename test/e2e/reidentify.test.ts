/**
 * Re-identification in Chromium: an administrator opens a study, asks for
 * its original identifiers with a reason (too short a reason keeps the
 * button disabled), sees the planted ones, and closing the dialog forgets
 * both the answer and the reason.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import type { BuiltStudy } from '../subscriptions-fixtures';
import { buildStudy, ingestStudies } from '../subscriptions-fixtures';
import { ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';

let stack: TestStack;
let browser: Browser;
let admin: TestUser;
let built: BuiltStudy;
let studyUid: string;

describe('re-identification, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack({ queueHandlers: { export: false, notify: false } });
    const uploader = await stack.createUser({ groups: ['uploader'] });
    admin = await stack.createUser({ groups: ['admin'] });
    built = buildStudy({ n: 43, modality: 'CT', bodyPart: 'CHEST', instances: 1 });
    studyUid = (await ingestStudies(stack, uploader, [built])).studyUids[0] as string;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('an administrator gives a reason, sees the original identifiers once, and closing forgets them', { timeout: 120_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signInAs(page, stack.url, admin);
    await page.goto(`${stack.url}/studies/${studyUid}`);
    await page.getByRole('button', { name: 'Re-identify' }).click();
    const dialog = page.getByRole('dialog', { name: 'Re-identify this study' });
    const reason = dialog.getByRole('textbox', { name: 'Reason' });
    const show = dialog.getByRole('button', { name: 'Show original identifiers' });
    await reason.fill('ticket');
    await expect(show.isDisabled()).resolves.toBe(true);
    await reason.fill('Incidental finding, recall requested (ticket RAD-4412).');
    await expect(show.isDisabled()).resolves.toBe(false);
    await show.click();
    await dialog.getByText(/^Original identifiers, disclosed at/).waitFor();
    await expect(dialog.getByText(built.original.patientId, { exact: true }).count()).resolves.toBeGreaterThan(0);
    await snapshot(page, 'reidentify-disclosed');
    await dialog.getByRole('button', { name: 'Close and forget' }).click();
    await dialog.waitFor({ state: 'hidden' });

    // Opened again: an empty reason, nothing disclosed.
    await page.getByRole('button', { name: 'Re-identify' }).click();
    await expect(dialog.getByRole('textbox', { name: 'Reason' }).inputValue()).resolves.toBe('');
    await expect(dialog.getByText(built.original.patientId, { exact: true }).count()).resolves.toBe(0);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.context().close();
  });
});
