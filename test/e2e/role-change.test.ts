/**
 * An administrator's change of roles reaches an open browser session at
 * once, in Chromium: the page's next API call answers 401 `token_stale`, the
 * web app refreshes its session and retries without the user noticing, and
 * the navigation follows the new roles. A disabled user is signed out.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestStack, TestUser } from '../support/local-stack';
import { startTestStack } from '../support/local-stack';
import { ensureWebBuild, launchChromium, signInAs, snapshot } from './support/browser';

let stack: TestStack;
let browser: Browser;
let admin: TestUser;

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' });

describe('role changes in an open session, in Chromium', () => {
  beforeAll(async () => {
    await ensureWebBuild();
    stack = await startTestStack({ queueHandlers: { ingest: false, export: false, notify: false } });
    admin = await stack.createUser({ groups: ['admin'] });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('a demoted user keeps working with the new roles: the page refreshes its session by itself', { timeout: 90_000 }, async () => {
    const user = await stack.createUser({ groups: ['researcher', 'annotator'] });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    const answers: string[] = [];
    page.on('response', (response) => {
      if (new URL(response.url()).pathname.startsWith('/api/')) answers.push(`${response.status()} ${new URL(response.url()).pathname}`);
    });
    await signInAs(page, stack.url, user);
    await nav(page).getByRole('link', { name: 'Exports' }).waitFor();

    const changed = await stack.request(`/api/users/${user.username}/groups`, { method: 'PUT', token: admin.idToken, json: { groups: ['annotator'] } });
    expect(changed.status).toBe(200);
    answers.length = 0;
    await nav(page).getByRole('link', { name: 'Subscriptions' }).click();
    // The stale token was refused (the page's first call after the change), the session refreshed, the calls went on.
    await expect.poll(() => answers.includes('200 /api/subscriptions')).toBe(true);
    expect(answers[0]).toMatch(/^401 \/api\//);
    expect(answers).toContain('200 /api/session/refresh');
    expect(answers.filter((a) => a.startsWith('401 ')).length).toBe(1);
    await expect.poll(() => nav(page).getByRole('link', { name: 'Exports' }).count()).toBe(0);
    await expect(nav(page).getByRole('link', { name: 'Studies' }).count()).resolves.toBe(1);
    await snapshot(page, 'role-change-demoted');
    await page.context().close();
  });

  it('a disabled user is signed out by the next call', { timeout: 90_000 }, async () => {
    const user = await stack.createUser({ groups: ['annotator'] });
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signInAs(page, stack.url, user);
    expect((await stack.request(`/api/users/${user.username}/disable`, { token: admin.idToken, json: {} })).status).toBe(200);
    await nav(page).getByRole('link', { name: 'Subscriptions' }).click();
    await page.waitForURL(/\/sign-in/);
    await page.context().close();
  });
});
