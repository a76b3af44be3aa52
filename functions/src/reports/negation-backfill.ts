/**
 * Reports stored before negation-aware search (migration 0054) have no
 * affirmed and negated search texts: until they do, their whole text counts
 * as affirmed. This fills them in, a batch at a time, after the migrations
 * run (local stack start, the deploy's migration Lambda). It stops after a
 * time budget and the next run goes on where it stopped; reports published
 * meanwhile already carry their texts and are left alone.
 */
import type pg from 'pg';
import { reportSearchTexts } from '@medlake/shared/reports/search-text';

export interface BackfillOptions {
  batchSize?: number;
  /** Stop starting new batches after this long (a Lambda has 15 minutes in all). */
  budgetMs?: number;
}

export interface BackfillResult {
  updated: number;
  /** Reports still without negation-aware search texts (0 when done). */
  remaining: number;
}

export async function backfillReportNegation(db: pg.ClientBase | pg.Pool, options: BackfillOptions = {}): Promise<BackfillResult> {
  const batchSize = options.batchSize ?? 500;
  const deadline = Date.now() + (options.budgetMs ?? 5 * 60_000);
  // Databases migrated with other migration sets (tests) may have no reports table at all.
  const ready = await db.query(`SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'reports' AND column_name = 'affirmed_search_text'`);
  if (ready.rows.length === 0) return { updated: 0, remaining: 0 };
  let updated = 0;
  let after = '';
  while (Date.now() < deadline) {
    const batch = await db.query<{ study_uid: string; text: string }>(
      'SELECT study_uid, text FROM reports WHERE affirmed_search_text IS NULL AND study_uid > $1 ORDER BY study_uid LIMIT $2',
      [after, batchSize],
    );
    if (batch.rows.length === 0) break;
    const texts = batch.rows.map((row) => reportSearchTexts(row.text));
    // Only rows still pending: a version published since the SELECT has its own, newer texts.
    const result = await db.query(
      `UPDATE reports r SET affirmed_search_text = x.affirmed, negated_search_text = x.negated
       FROM unnest($1::text[], $2::text[], $3::text[]) AS x(study_uid, affirmed, negated)
       WHERE r.study_uid = x.study_uid AND r.affirmed_search_text IS NULL`,
      [batch.rows.map((row) => row.study_uid), texts.map((t) => t.affirmed), texts.map((t) => t.negated)],
    );
    updated += result.rowCount ?? 0;
    after = (batch.rows.at(-1) as { study_uid: string }).study_uid;
  }
  const remaining = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM reports WHERE affirmed_search_text IS NULL');
  return { updated, remaining: remaining.rows[0]?.n ?? 0 };
}
