/**
 * "Held for review" in Chromium: an administrator finds the page in the
 * navigation (others do not), sees each held image rendered with its
 * attributes, releases one with a reason (it then opens in the study page)
 * and discards another; the page passes axe (WCAG 2.1 AA).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phiPart10, secondaryCapture } from '../fixtures/dicom/phi-instance';
import { ingestFiles } from '../ingest-support';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let stack: TestStack;
let browser: Browser;
let admin: TestUser;
let uploader: TestUser;

const capture = (n: number) => phiPart10(secondaryCapture(n, { rows: 48, columns: 64 }));

describe('held for review, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack();
    [admin, uploader] = await Promise.all([stack.createUser({ groups: ['admin'] }), stack.createUser({ groups: ['uploader'] })]);
    await ingestFiles(stack, uploader, [{ name: 'a.dcm', bytes: capture(1) }, { name: 'b.dcm', bytes: capture(2) }]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('an uploader is not offered the page', { timeout: 60_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signInAs(page, stack.url, uploader);
    // The menu is there (its Upload link shows), without the page.
    const nav = page.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('link', { name: 'Upload' }).waitFor();
    await expect(nav.getByRole('link', { name: 'Held for review' }).count()).resolves.toBe(0);
    await page.context().close();
  });

  it('an administrator looks at the held images, releases one and discards the other', { timeout: 120_000 }, async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signInAs(page, stack.url, admin);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Held for review' }).click();
    await page.getByRole('heading', { name: 'Held for review (2)' }).waitFor();
    const cards = page.getByRole('article');
    await expect(cards.count()).resolves.toBe(2);
    // The previews are real images the browser decoded, at the instance's size.
    const image = cards.first().getByRole('img', { name: /^Held image: Secondary Capture Image, CT, 64 × 48/ });
    await image.waitFor();
    // (The test's TypeScript has no DOM types: the element is typed by hand.)
    await expect.poll(() => image.evaluate((img) => { const element = img as unknown as { complete: boolean; naturalWidth: number }; return element.complete ? element.naturalWidth : 0; })).toBe(64);
    await page.evaluate(axeSource);
    const violations = (await page.evaluate(`axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } }).then((r) => r.violations.map((v) => v.id + ': ' + v.help))`)) as string[];
    expect(violations).toEqual([]);
    await snapshot(page, 'held-review-waiting');

    await cards.first().getByRole('button', { name: /^Release / }).click();
    const dialog = page.getByRole('dialog', { name: 'Release into the lake' });
    // Too short a reason: the button stays disabled.
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('ok');
    await expect(dialog.getByRole('button', { name: 'Release' }).isDisabled()).resolves.toBe(true);
    await dialog.getByRole('textbox', { name: 'Reason' }).fill('Looked at it: no text in the image.');
    await dialog.getByRole('button', { name: 'Release' }).click();
    await page.getByText('Released into the lake.').waitFor();
    await page.getByRole('heading', { name: 'Held for review (1)' }).waitFor();

    await cards.first().getByRole('button', { name: /^Discard / }).click();
    const discard = page.getByRole('dialog', { name: 'Discard this image' });
    await discard.getByRole('textbox', { name: 'Reason' }).fill('Name visible in the top corner.');
    await discard.getByRole('button', { name: 'Discard' }).click();
    await page.getByText('Nothing is waiting for review.').waitFor();

    await page.locator('label').filter({ hasText: /^All$/ }).click();
    await page.getByRole('heading', { name: 'Held for review (2)' }).waitFor();
    await expect(page.getByRole('article').count()).resolves.toBe(2);
    await page.getByText(/^Released by .*: Looked at it: no text in the image\.$/).waitFor();
    await page.getByText(/^Discarded by .*: Name visible in the top corner\.$/).waitFor();
    await snapshot(page, 'held-review-decided');

    const { rows } = await stack.db.query<{ study_uid: string; decision: string }>('SELECT study_uid, decision FROM held_instances ORDER BY decision');
    expect(rows.map((r) => r.decision)).toEqual(['discarded', 'released']);
    const released = rows.find((r) => r.decision === 'released')!;
    expect((await stack.request(`/api/studies/${released.study_uid}`, { token: admin.idToken })).status).toBe(200);
    await page.context().close();
  });
});
