/**
 * Subscription digest benchmark (not a test): how long a digest run takes for
 * many subscriptions over a large index, when a burst has arrived and when
 * nothing has. The index rows are written straight into PostgreSQL (the
 * digest reads only studies, patients and its own tables; ingest is measured
 * in ingest.bench.ts); emails go to a local outbox.
 *
 *   npx tsx bench/subscriptions.bench.ts
 *   BENCH_STUDIES=100000 BENCH_SUBSCRIPTIONS=1000 BENCH_BURST=1000 npx tsx bench/subscriptions.bench.ts
 *
 * Measured (2-core machine shared with other work, 2026-11): 100,000 studies, 1,000 subscriptions:
 * a run with nothing new 3.4-6.8 s (3.4-6.8 ms per subscription; the higher figure while the last
 * 15 minutes of changes are re-read), after a burst of 1,000 studies 19.2 s (929 emails, 61,416
 * study notices); 20,000 studies and 200 subscriptions: 1.1-2.7 s. A run that nears the notify
 * Lambda's 30 s deadline hands the rest to a continuation message.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OutboxMailer } from '@medlake/functions/adapters/mailer';
import { SubscriptionStore } from '@medlake/functions/adapters/subscription-store';
import { runSubscriptionDigests } from '@medlake/functions/notify/subscription-digest';
import { savedSearchFilter } from '@medlake/shared/subscriptions/saved-search';
import { unsubscribeKey } from '@medlake/shared/subscriptions/unsubscribe-token';
import { startTestStack } from '../test/support/local-stack';

const studies = Number(process.env.BENCH_STUDIES ?? 20_000);
const subscriptionCount = Number(process.env.BENCH_SUBSCRIPTIONS ?? 200);
const burst = Number(process.env.BENCH_BURST ?? 500);

const modalities = ['CT', 'MR', 'US', 'CR', 'PT', 'MG'];
const bodyParts = ['HEAD', 'CHEST', 'ABDOMEN', 'KNEE', 'LSPINE', 'PELVIS'];

/** Deterministic searches like users save: a modality, often a body part, sometimes an age range or a sex. */
function search(i: number): string {
  const parts = [`modality=${modalities[i % modalities.length]}`];
  if (i % 3 !== 0) parts.push(`bodyPart=${bodyParts[(i * 7) % bodyParts.length]}`);
  if (i % 5 === 0) parts.push(`ageMin=${40 + (i % 20)}`);
  if (i % 7 === 0) parts.push('sex=F');
  return parts.join('&');
}

async function main(): Promise<void> {
  const stack = await startTestStack({ queueHandlers: { ingest: false, export: false, notify: false } });
  const outbox = mkdtempSync(join(tmpdir(), 'medlake-bench-outbox-'));
  try {
    const db = stack.db;
    const insertStudies = async (from: number, count: number, createdAt: string) => {
      await db.query(
        `INSERT INTO patients (patient_id, patient_name, sex)
         SELECT 'PSEUDO-' || g, 'ANON^' || g, (ARRAY['F','M'])[1 + g % 2] FROM generate_series($1::int, $2::int) g`,
        [from, from + count - 1],
      );
      await db.query(
        `INSERT INTO studies (study_uid, patient_id, study_date, modalities, body_parts, patient_age, num_series, num_instances, created_at, updated_at)
         SELECT '2.25.' || g, 'PSEUDO-' || g, date '2015-01-01' + (g % 3000),
                ARRAY[(ARRAY['CT','MR','US','CR','PT','MG'])[1 + g % 6]], ARRAY[(ARRAY['HEAD','CHEST','ABDOMEN','KNEE','LSPINE','PELVIS'])[1 + (g / 6) % 6]],
                lpad(((g * 13) % 90)::text, 3, '0') || 'Y', 1 + g % 4, 1 + g % 300, ${createdAt}, ${createdAt}
         FROM generate_series($1::int, $2::int) g`,
        [from, from + count - 1],
      );
    };
    const started = performance.now();
    await insertStudies(1, studies, "now() - interval '2 days'");
    await db.query('ANALYZE');
    console.log(`index: ${studies.toLocaleString()} studies in ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const store = new SubscriptionStore(db);
    for (let i = 0; i < subscriptionCount; i++) {
      await store.create({ ownerSub: `user-${i % 50}`, ownerEmail: `user-${i % 50}@medlake.test`, name: `Search ${i}`, filter: savedSearchFilter({ query: search(i) }) });
    }
    await db.query("UPDATE subscriptions SET watch_from = now() - interval '1 day'");

    const context = {
      db,
      mailer: new OutboxMailer(outbox),
      settings: { quietSeconds: 0, maxWaitSeconds: 0, minIntervalSeconds: 0 },
      baseUrl: 'https://medlake.example.org',
      tokenKey: unsubscribeKey(new Uint8Array(32).fill(1)),
      logger: new Logger({ serviceName: 'bench', logLevel: 'ERROR' }),
    };
    const run = async (label: string) => {
      const t0 = performance.now();
      const result = await runSubscriptionDigests(context);
      const ms = performance.now() - t0;
      console.log(`${label}: ${ms.toFixed(0)} ms for ${result.subscriptions} subscriptions (${(ms / Math.max(1, result.subscriptions)).toFixed(2)} ms each), ${result.digestsSent} emails, ${result.studiesSent} studies sent, ${result.failed} failed`);
      return result;
    };

    // Every subscription's first pass over the day before: nothing is news (created before watching).
    await run('first pass, nothing new');
    await insertStudies(studies + 1, burst, 'now()');
    await run(`burst of ${burst} new studies`);
    await run('next pass, nothing new');
    await insertStudies(studies + burst + 1, 20, 'now()');
    await run('20 more studies');
    // A study changed (a series added) but already sent: touched, not news.
    await db.query(`UPDATE studies SET updated_at = now() WHERE study_uid IN (SELECT '2.25.' || g FROM generate_series(${studies + 1}, ${studies + 100}) g)`);
    await run('100 sent studies changed again');
    console.log(`emails in the outbox: ${readdirSync(outbox).filter((n) => n.endsWith('.eml')).length}`);
  } finally {
    rmSync(outbox, { recursive: true, force: true });
    await stack.stop();
  }
}

await main();
