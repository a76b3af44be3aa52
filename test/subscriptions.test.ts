/**
 * Subscriptions on the real local stack: a researcher saves a search and
 * subscribes; real DICOM goes through the upload API and the ingest worker;
 * the ingest hook requests a digest run on the notify queue (delayed until the
 * burst has settled), the notify worker sends ONE email per burst into the
 * mail outbox; the unsubscribe link works without signing in, and only for
 * its own subscription.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forgetDigestSchedule, requestSubscriptionDigest } from '@medlake/functions/notify/digest-requests';
import { NotifyQueueMailer, sendNotifyMessage } from '@medlake/functions/notify/messages';
import { digestSettings } from '@medlake/functions/notify/notify-settings';
import { runSubscriptionDigests } from '@medlake/functions/notify/subscription-digest';
import { unsubscribeKeyFromEnv } from '@medlake/functions/notify/unsubscribe-key';
import { OutboxMailer } from '@medlake/functions/adapters/mailer';
import { signUnsubscribeToken } from '@medlake/shared/subscriptions/unsubscribe-token';
import type { OutboxMail, TestStack, TestUser, Tokens } from './support/local-stack';
import { startTestStack, testAdmin } from './support/local-stack';
import type { BuiltStudy } from './subscriptions-fixtures';
import { buildStudy, ingestStudies } from './subscriptions-fixtures';

const quietSeconds = 4;
const savedEnv = { ...process.env };
let stack: TestStack;
let uploader: TestUser;
let researcher: TestUser;
let annotator: TestUser;
let admin: Tokens;
const planted = new Set<string>();

interface SubscriptionView {
  id: string;
  name: string;
  filter: Record<string, unknown>;
  query: string;
  browserPath: string;
  active: boolean;
  inactiveReason: string | null;
  studiesSent: number;
  lastDigestAt: string | null;
}

function study(n: number, modality: 'CT' | 'MR', bodyPart: string): BuiltStudy {
  const built = buildStudy({ n, modality, bodyPart });
  for (const value of built.planted) planted.add(value);
  return built;
}

async function mailsTo(user: TestUser): Promise<OutboxMail[]> {
  return (await stack.outbox()).filter((m) => m.to.includes(user.email));
}

/** After ingest is idle (the delayed digest message included), and once more past the quiet period: no late email. */
async function settle(): Promise<void> {
  await stack.waitForIngestIdle({ timeoutMs: 120_000 });
  await new Promise((resolve) => setTimeout(resolve, (quietSeconds + 1) * 1000));
  await stack.waitForIngestIdle({ timeoutMs: 120_000 });
}

function unsubscribeLink(mail: OutboxMail): string {
  const link = /(http\S+\/api\/subscriptions\/unsubscribe\?token=\S+)/.exec(mail.text)?.[1];
  if (!link) throw new Error('no unsubscribe link in the email');
  return link;
}

beforeAll(async () => {
  process.env.SUBSCRIPTION_DIGEST_QUIET_SECONDS = String(quietSeconds);
  process.env.SUBSCRIPTION_DIGEST_MIN_INTERVAL_SECONDS = '0';
  process.env.SUBSCRIPTION_DIGEST_MAX_WAIT_SECONDS = '600';
  stack = await startTestStack();
  [uploader, researcher, annotator] = await Promise.all([
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['annotator'] }),
  ]);
  admin = await stack.signIn(testAdmin.email, testAdmin.password);
});

afterAll(async () => {
  await stack?.stop();
  process.env = savedEnv;
});

let brainMr: SubscriptionView;
let annotatorSubscription: SubscriptionView;

describe('saving a search', () => {
  it('subscribes with the study browser query string, stored as the canonical filter without paging', async () => {
    const res = await stack.request('/api/subscriptions', { token: researcher.idToken, json: { name: '  Brain MR ', query: '?modality=mr&bodyPart=HEAD&limit=10' } });
    expect(res.status).toBe(201);
    brainMr = res.body as SubscriptionView;
    expect(brainMr).toMatchObject({ name: 'Brain MR', query: 'modality=MR&bodyPart=HEAD', browserPath: '/studies?modality=MR&bodyPart=HEAD', active: true, inactiveReason: null, studiesSent: 0 });
    expect(brainMr.filter).toMatchObject({ modalities: ['MR'], bodyParts: ['HEAD'], limit: 50, offset: 0 });
    expect(res.headers.get('location')).toBe(`/api/subscriptions/${brainMr.id}`);
    const { rows } = await stack.db.query('SELECT filter FROM subscriptions WHERE subscription_id = $1', [brainMr.id]);
    expect(rows[0].filter).toEqual(brainMr.filter);
  });

  it('the JSON filter form works too; the list shows only the caller\'s own subscriptions', async () => {
    const res = await stack.request('/api/subscriptions', { token: annotator.idToken, json: { name: 'Any MR', filter: { modalities: ['MR'] } } });
    expect(res.status).toBe(201);
    annotatorSubscription = res.body as SubscriptionView;
    const mine = (await stack.request('/api/subscriptions', { token: researcher.idToken })).body as { items: SubscriptionView[] };
    expect(mine.items.map((s) => s.id)).toEqual([brainMr.id]);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: researcher.idToken })).status).toBe(404);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: researcher.idToken, method: 'DELETE' })).status).toBe(404);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: researcher.idToken, method: 'PATCH', json: { active: false, name: 'taken over' } })).status).toBe(404);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken })).body).toMatchObject({ name: 'Any MR', active: true });
  });

  it('refuses searches that cannot run, nameless subscriptions, and uploaders', async () => {
    const refused = async (json: unknown, token = researcher.idToken) => stack.request('/api/subscriptions', { token, json });
    expect((await refused({ name: 'x', query: 'colour=red' })).body).toMatchObject({ error: { code: 'unknown_parameter', parameter: 'colour' } });
    expect((await refused({ name: 'x', filter: { dateFrom: '2021-02-30' } })).body).toMatchObject({ error: { code: 'invalid_parameter', parameter: 'dateFrom' } });
    expect((await refused({ name: 'x', query: 'modality=CT', filter: {} })).body).toMatchObject({ error: { code: 'invalid_parameter', parameter: 'filter' } });
    expect((await refused({ name: '  ', query: 'modality=CT' })).body).toMatchObject({ error: { code: 'invalid_request', parameter: 'name' } });
    expect((await refused({ name: 'x', query: 'modality=CT' }, uploader.idToken)).status).toBe(403);
    // A machine token says no email address: digests would have nowhere to go.
    expect((await refused({ name: 'x', query: 'modality=CT' }, researcher.accessToken)).body).toMatchObject({ error: { code: 'email_unknown' } });
  });

  it('creating a subscription is audited', async () => {
    const { rows } = await stack.db.query("SELECT actor_sub, resource FROM audit_log WHERE action = 'subscriptions.create' ORDER BY id");
    expect(rows).toEqual([
      { actor_sub: researcher.username, resource: `subscription/${brainMr.id}` },
      { actor_sub: annotator.username, resource: `subscription/${annotatorSubscription.id}` },
    ]);
  });
});

describe('digests after ingest', () => {
  let firstBurst: string[];

  it('a burst of three matching studies is ONE email listing all three, with links and no PHI', async () => {
    const burst = [study(1, 'MR', 'HEAD'), study(2, 'MR', 'HEAD'), study(3, 'MR', 'HEAD'), study(4, 'CT', 'HEAD'), study(5, 'MR', 'KNEE')];
    const { studyUids } = await ingestStudies(stack, uploader, burst);
    firstBurst = studyUids.slice(0, 3);
    await settle();
    const mails = await mailsTo(researcher);
    expect(mails).toHaveLength(1);
    const mail = mails[0] as OutboxMail;
    expect(mail.subject).toBe('medlake: 3 new studies for "Brain MR"');
    for (const uid of firstBurst) expect(mail.text).toContain(`${stack.url}/studies/${uid}`);
    // The CT study and the knee MR do not match "Brain MR".
    for (const uid of studyUids.slice(3)) expect(mail.text).not.toContain(uid);
    expect(mail.text).toContain(`${stack.url}/studies?modality=MR&bodyPart=HEAD`);
    expect(mail.html).toContain(`href="${stack.url}/studies/${firstBurst[0]}"`);
    for (const value of planted) {
      expect(mail.text, value).not.toContain(value);
      expect(mail.html ?? '', value).not.toContain(value);
    }
    // The annotator's "Any MR" got its own single digest: the four MR studies.
    const annotatorMails = await mailsTo(annotator);
    expect(annotatorMails).toHaveLength(1);
    expect(annotatorMails[0]?.subject).toBe('medlake: 4 new studies for "Any MR"');
    const view = (await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken })).body as SubscriptionView;
    expect(view.studiesSent).toBe(3);
    expect(view.lastDigestAt).not.toBeNull();
  });

  it('each digest is audited for its recipient; nothing went to the dead-letter queue', async () => {
    const { rows } = await stack.db.query("SELECT actor_sub, resource, details FROM audit_log WHERE action = 'subscriptions.digest' ORDER BY id");
    expect(rows.map((r) => [r.actor_sub, r.resource, r.details.studies]).sort()).toEqual(
      [[researcher.username, `subscription/${brainMr.id}`, 3], [annotator.username, `subscription/${annotatorSubscription.id}`, 4]].sort(),
    );
    expect((await stack.queueDepth('notify', { deadLetter: true })).visible).toBe(0);
  });

  it('a study that matches nothing sends nothing', async () => {
    const before = (await stack.outbox()).length;
    await ingestStudies(stack, uploader, [study(6, 'CT', 'CHEST')]);
    await settle();
    expect((await stack.outbox()).length).toBe(before);
  });

  it('a later matching study is a new digest with only that study; re-uploads of sent studies send nothing', async () => {
    const again = study(1, 'MR', 'HEAD');
    const fresh = study(7, 'MR', 'HEAD');
    const { studyUids } = await ingestStudies(stack, uploader, [again, fresh]);
    expect(studyUids[0]).toBe(firstBurst[0]);
    await settle();
    const mails = await mailsTo(researcher);
    expect(mails).toHaveLength(2);
    const second = mails[1] as OutboxMail;
    expect(second.subject).toBe('medlake: 1 new study for "Brain MR"');
    expect(second.text).toContain(`/studies/${studyUids[1]}`);
    expect(second.text).not.toContain(firstBurst[0]);
  });
});

describe('unsubscribing from the email, without signing in', () => {
  let link: string;

  it('a HEAD request (link checkers) changes nothing', async () => {
    link = unsubscribeLink((await mailsTo(researcher))[0] as OutboxMail);
    const head = await fetch(link, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(((await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken })).body as SubscriptionView).active).toBe(true);
  });

  it('a tampered token is refused and unsubscribes nobody', async () => {
    const url = new URL(link);
    const token = url.searchParams.get('token') as string;
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const flipped = `${token.slice(0, token.lastIndexOf('.') + 1)}${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    // Aimed at the annotator's subscription with the researcher's signature.
    const moved = token.replace(brainMr.id, annotatorSubscription.id);
    for (const bad of [flipped, moved, 'garbage', '']) {
      const res = await fetch(`${url.origin}${url.pathname}?token=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/text\/html/);
      expect(await res.text()).toContain('This link does not work');
      const posted = await fetch(`${url.origin}${url.pathname}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: bad }).toString() });
      expect(posted.status, bad).toBe(400);
    }
    const asJson = await fetch(`${url.origin}${url.pathname}?token=${encodeURIComponent(moved)}`, { headers: { accept: 'application/json' } });
    expect(asJson.status).toBe(400);
    expect(((await asJson.json()) as { error: { code: string } }).error.code).toBe('invalid_token');
    for (const [user, id] of [[researcher, brainMr.id], [annotator, annotatorSubscription.id]] as const) {
      expect(((await stack.request(`/api/subscriptions/${id}`, { token: user.idToken })).body as SubscriptionView).active).toBe(true);
    }
  });

  it('the email carries the link as List-Unsubscribe, with one-click unsubscribe (RFC 8058)', async () => {
    const mail = (await mailsTo(researcher))[0] as OutboxMail;
    expect(mail.headers['list-unsubscribe']).toBe(`<${link}>`);
    expect(mail.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
  });

  it('opening the link only asks (mail scanners fetch links): a page with a button, nothing changed', async () => {
    for (const method of ['GET', 'GET', 'HEAD']) expect((await fetch(link, { method })).status).toBe(200);
    const res = await fetch(link);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("form-action 'self'");
    const page = await res.text();
    expect(page).toContain('Unsubscribe?');
    expect(page).toContain('Brain MR');
    expect(page).toMatch(/<form method="post" action="\/api\/subscriptions\/unsubscribe"><input type="hidden" name="token" value="[^"]+"><button type="submit">Unsubscribe<\/button><\/form>/);
    expect(await (await fetch(link, { headers: { accept: 'application/json' } })).json()).toMatchObject({ subscriptionId: brainMr.id, name: 'Brain MR', active: true });
    expect(((await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken })).body as SubscriptionView).active).toBe(true);
    const { rows } = await stack.db.query("SELECT 1 FROM audit_log WHERE action = 'subscriptions.unsubscribe'");
    expect(rows).toEqual([]);
  });

  it('the page\'s button unsubscribes: a form POST of the token, no cookies needed', async () => {
    const page = await (await fetch(link)).text();
    const token = /name="token" value="([^"]+)"/.exec(page)?.[1] as string;
    const res = await fetch(`${new URL(link).origin}/api/subscriptions/unsubscribe`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }).toString() });
    expect(res.status).toBe(200);
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    const answer = await res.text();
    expect(answer).toContain('Unsubscribed');
    expect(answer).toContain('Brain MR');
    expect(answer).not.toContain('<form');
    const view = (await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken })).body as SubscriptionView;
    expect(view).toMatchObject({ active: false, inactiveReason: 'unsubscribed' });
    expect(((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken })).body as SubscriptionView).active).toBe(true);
  });

  it('using it again says so, and is audited once', async () => {
    const res = await fetch(link, { method: 'POST', headers: { accept: 'application/json' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ subscriptionId: brainMr.id, outcome: 'already', active: false });
    expect(await (await fetch(link)).text()).toContain('Already unsubscribed');
    const { rows } = await stack.db.query("SELECT actor_sub, resource, details FROM audit_log WHERE action = 'subscriptions.unsubscribe'");
    expect(rows).toEqual([{ actor_sub: researcher.username, resource: `subscription/${brainMr.id}`, details: { via: 'unsubscribe page' } }]);
  });

  it('a mail client\'s one-click POST to the link unsubscribes (RFC 8058); a tampered token posted unsubscribes nobody', async () => {
    const created = await stack.request('/api/subscriptions', { token: annotator.idToken, json: { name: 'One click', query: 'modality=CT' } });
    const oneClick = created.body as SubscriptionView;
    const url = `${new URL(link).origin}/api/subscriptions/unsubscribe?token=${encodeURIComponent(signUnsubscribeToken(await unsubscribeKeyFromEnv(), oneClick.id))}`;
    const tampered = url.replace(oneClick.id, annotatorSubscription.id);
    const refused = await fetch(tampered, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(refused.status).toBe(400);
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(res.status).toBe(200);
    expect(((await stack.request(`/api/subscriptions/${oneClick.id}`, { token: annotator.idToken })).body as SubscriptionView).inactiveReason).toBe('unsubscribed');
    expect(((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken })).body as SubscriptionView).active).toBe(true);
    const { rows } = await stack.db.query("SELECT details FROM audit_log WHERE action = 'subscriptions.unsubscribe' AND resource = $1", [`subscription/${oneClick.id}`]);
    expect(rows).toEqual([{ details: { via: 'email link' } }]);
    expect((await stack.request(`/api/subscriptions/${oneClick.id}`, { token: annotator.idToken, method: 'DELETE' })).status).toBe(204);
  });

  it('an unsubscribed search sends nothing more; resubscribing watches from then on', async () => {
    const before = (await mailsTo(researcher)).length;
    await ingestStudies(stack, uploader, [study(8, 'MR', 'HEAD')]);
    await settle();
    expect((await mailsTo(researcher)).length).toBe(before);
    const resumed = await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken, method: 'PATCH', json: { active: true } });
    expect(resumed.body).toMatchObject({ active: true, inactiveReason: null });
    // Study 8 arrived while unsubscribed: not news after resubscribing. Study 9 is.
    const { studyUids } = await ingestStudies(stack, uploader, [study(9, 'MR', 'HEAD')]);
    await settle();
    const mails = await mailsTo(researcher);
    expect(mails).toHaveLength(before + 1);
    expect(mails.at(-1)?.subject).toBe('medlake: 1 new study for "Brain MR"');
    expect(mails.at(-1)?.text).toContain(`/studies/${studyUids[0]}`);
  });
});

describe('managing subscriptions', () => {
  it('renames, pauses and changes the search (watching anew); deletes', async () => {
    const patch = (json: unknown) => stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken, method: 'PATCH', json });
    expect((await patch({ name: 'MR, any part' })).body).toMatchObject({ name: 'MR, any part', active: true });
    expect((await patch({ active: false })).body).toMatchObject({ active: false, inactiveReason: 'paused' });
    expect((await patch({ query: 'modality=CT' })).body).toMatchObject({ query: 'modality=CT', active: false });
    expect((await patch({ query: 'modality=CT', filter: {} })).status).toBe(400);
    expect((await patch({ unknown: 1 })).status).toBe(400);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken, method: 'DELETE' })).status).toBe(204);
    expect((await stack.request(`/api/subscriptions/${annotatorSubscription.id}`, { token: annotator.idToken })).status).toBe(404);
    const { rows } = await stack.db.query('SELECT count(*)::int AS n FROM subscription_studies WHERE subscription_id = $1', [annotatorSubscription.id]);
    expect(rows[0].n).toBe(0);
  });

  it('disabling an account suspends its subscriptions; enabling resumes them; losing the role suspends them too', async () => {
    const state = async () => (await stack.request(`/api/subscriptions/${brainMr.id}`, { token: researcher.idToken })).body as SubscriptionView;
    const asAdmin = (path: string, json?: unknown) => stack.request(path, { token: admin.idToken, method: json === undefined ? 'POST' : 'PUT', ...(json !== undefined ? { json } : {}) });
    expect((await asAdmin(`/api/users/${researcher.username}/disable`)).status).toBe(200);
    expect((await stack.db.query('SELECT active, inactive_reason FROM subscriptions WHERE subscription_id = $1', [brainMr.id])).rows[0]).toEqual({ active: false, inactive_reason: 'account_disabled' });
    expect((await asAdmin(`/api/users/${researcher.username}/enable`)).status).toBe(200);
    expect(await state()).toMatchObject({ active: true, inactiveReason: null });
    expect((await asAdmin(`/api/users/${researcher.username}/groups`, { groups: ['uploader'] })).status).toBe(200);
    expect((await stack.db.query('SELECT active, inactive_reason FROM subscriptions WHERE subscription_id = $1', [brainMr.id])).rows[0]).toEqual({ active: false, inactive_reason: 'access_removed' });
    expect((await asAdmin(`/api/users/${researcher.username}/groups`, { groups: ['researcher'] })).status).toBe(200);
    expect((await stack.db.query('SELECT active FROM subscriptions WHERE subscription_id = $1', [brainMr.id])).rows[0]).toEqual({ active: true });
  });
});

describe('long digest runs', () => {
  it('a run near its deadline stops after a subscription and a continuation covers the rest', async () => {
    for (const name of ['Extra one', 'Extra two']) {
      expect((await stack.request('/api/subscriptions', { token: annotator.idToken, json: { name, query: 'modality=US' } })).status).toBe(201);
    }
    const { rows } = await stack.db.query<{ subscription_id: string }>('SELECT subscription_id FROM subscriptions WHERE active ORDER BY subscription_id');
    expect(rows.length).toBe(3);
    const context = {
      db: stack.db, mailer: new OutboxMailer(stack.outboxDir), settings: digestSettings(), baseUrl: stack.url,
      tokenKey: await unsubscribeKeyFromEnv(), logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    };
    // Already past the margin: the run still does one subscription (progress), then stops.
    const first = await runSubscriptionDigests(context, { remainingMs: () => 1_000 });
    expect(first).toMatchObject({ subscriptions: 1, resumeAfter: rows[0]?.subscription_id, failed: 0 });
    const rest = await runSubscriptionDigests(context, { afterId: first.resumeAfter as string, remainingMs: () => 60_000 });
    expect(rest.subscriptions).toBe(rows.length - 1);
    expect(rest.resumeAfter).toBeUndefined();
  });
});

describe('requesting digest runs', () => {
  it('many requests at once (every ingest batch of a burst asks) put ONE delayed message on the notify queue', async () => {
    await stack.waitForIngestIdle({ timeoutMs: 60_000 });
    const sent = await Promise.all(Array.from({ length: 20 }, () => requestSubscriptionDigest(stack.db, { afterSeconds: 30, onlyIfSubscriptions: true })));
    expect(sent.filter(Boolean)).toHaveLength(1);
    expect(await stack.queueDepth('notify')).toMatchObject({ delayed: 1, visible: 0 });
    // Asking for an earlier run than the one scheduled sends one more; a later one does not (the database says so, not this process's memory).
    forgetDigestSchedule();
    expect(await requestSubscriptionDigest(stack.db, { afterSeconds: 60 })).toBe(false);
    expect(await requestSubscriptionDigest(stack.db, { afterSeconds: 2 })).toBe(true);
    expect((await stack.queueDepth('notify')).delayed).toBe(2);
  });

  it('without any active subscription, ingest asks for nothing', async () => {
    await stack.db.query("UPDATE subscriptions SET active = false, inactive_reason = 'paused'");
    await stack.db.query('UPDATE notify_schedule SET due_at = NULL');
    forgetDigestSchedule();
    expect(await requestSubscriptionDigest(stack.db, { afterSeconds: 1, onlyIfSubscriptions: true })).toBe(false);
  });
});

describe('ready-made emails through the notify queue (functions without mail rights, e.g. the export worker)', () => {
  it('are sent once, even when the message is delivered twice, and their audit entry is written', async () => {
    const to = 'export.owner@medlake.test';
    const sent = await new NotifyQueueMailer().send({ to, subject: 'medlake: "Cohort A" is ready', text: 'Download it here.' }, { action: 'exports.link-emailed', resource: 'export/demo', actorName: to });
    const message = { kind: 'email' as const, id: sent.messageId, to, subject: 'medlake: "Cohort A" is ready', text: 'Download it here.' };
    // The same message again, as SQS may deliver it twice.
    await sendNotifyMessage(message);
    await stack.waitForMail((m) => m.to.includes(to));
    await stack.waitForIngestIdle({ timeoutMs: 60_000 });
    const mails = (await stack.outbox()).filter((m) => m.to.includes(to));
    expect(mails.map((m) => [m.subject, m.text.trim()])).toEqual([['medlake: "Cohort A" is ready', 'Download it here.']]);
    const { rows } = await stack.db.query("SELECT actor_name, resource FROM audit_log WHERE action = 'exports.link-emailed'");
    expect(rows).toEqual([{ actor_name: to, resource: 'export/demo' }]);
  });
});
