/**
 * The label vocabulary and the versioned label sets of studies, series and
 * instances in PostgreSQL (migration 0021). A change to an object's labels
 * inserts a version and moves the set's pointer, under a row lock on the set
 * (or an advisory lock for its first version), so If-Match is checked
 * against what is really latest. Vocabulary terms are retired, never deleted.
 */
import type pg from 'pg';
import type { Author } from '@medlake/shared/annotations/annotation-views';
import type { LabelAssignment, LabelLevel, LabelTerm } from '@medlake/shared/annotations/label-vocabulary';
import { LabelError, checkAssignments, sameAssignments } from '@medlake/shared/annotations/label-vocabulary';
import type { Queryable } from '../adapters/database';
import { inTransaction } from '../adapters/database';
import { HttpError, badRequest, notFound } from '../http/errors';

export interface LabelTarget {
  level: LabelLevel;
  studyUid: string;
  seriesUid: string | null;
  sopUid: string | null;
}

export function targetKey(target: LabelTarget): string {
  return target.level === 'study' ? `study/${target.studyUid}` : target.level === 'series' ? `series/${target.seriesUid}` : `instance/${target.sopUid}`;
}

export interface LabelView extends LabelAssignment {
  display: string;
}

export interface LabelSetView {
  level: LabelLevel;
  studyInstanceUID: string;
  seriesInstanceUID: string | null;
  sopInstanceUID: string | null;
  version: number;
  labels: LabelView[];
  author: Author;
  message: string | null;
  updatedAt: string;
}

export interface LabelVersionView {
  version: number;
  labels: LabelView[];
  author: Author;
  message: string | null;
  createdAt: string;
}

interface TermRow {
  code: string;
  display: string;
  description: string | null;
  levels: LabelLevel[];
  allowed_values: string[];
  active: boolean;
}

const termOf = (row: TermRow): LabelTerm => ({ code: row.code, display: row.display, description: row.description, levels: row.levels, values: row.allowed_values, active: row.active });

interface SetRow {
  target: string;
  level: LabelLevel;
  study_uid: string;
  series_uid: string | null;
  sop_uid: string | null;
  version: number;
  labels: LabelAssignment[];
  author_sub: string;
  author_name: string | null;
  message: string | null;
  created_at: Date;
}

const currentSetColumns = `ls.target, ls.level, ls.study_uid, ls.series_uid, ls.sop_uid, lv.version, lv.labels, lv.author_sub, lv.author_name, lv.message, lv.created_at
  FROM label_sets ls JOIN label_versions lv ON lv.target = ls.target AND lv.version = ls.current_version`;

export class LabelStore {
  constructor(private readonly db: pg.Pool) {}

  async vocabulary(includeRetired = false, db: Queryable = this.db): Promise<LabelTerm[]> {
    const rows = await db.query<TermRow>(`SELECT code, display, description, levels, allowed_values, active FROM label_terms ${includeRetired ? '' : 'WHERE active'} ORDER BY code`);
    return rows.rows.map(termOf);
  }

  private async terms(db: Queryable): Promise<Map<string, LabelTerm>> {
    return new Map((await this.vocabulary(true, db)).map((t) => [t.code, t]));
  }

  private display(assignments: readonly LabelAssignment[], terms: ReadonlyMap<string, LabelTerm>): LabelView[] {
    return assignments.map((a) => ({ code: a.code, value: a.value, display: terms.get(a.code)?.display ?? a.code }));
  }

  async addTerm(term: LabelTerm, by: string): Promise<LabelTerm> {
    const inserted = await this.db.query(
      `INSERT INTO label_terms (code, display, description, levels, allowed_values, active, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (code) DO NOTHING`,
      [term.code, term.display, term.description, term.levels, term.values, term.active, by],
    );
    if (!inserted.rowCount) throw new HttpError(409, 'label_exists', `The vocabulary already has a label ${term.code}: edit it with PUT.`);
    return term;
  }

  /**
   * The vocabulary becomes `terms`: listed terms are added or updated, terms
   * not listed are retired (objects keep them; nobody can put them on new ones).
   */
  async replaceVocabulary(terms: readonly LabelTerm[], by: string): Promise<{ terms: LabelTerm[]; retired: string[] }> {
    const retired = await inTransaction(this.db, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('medlake:label-vocabulary', 0))`);
      for (const term of terms) {
        await client.query(
          `INSERT INTO label_terms (code, display, description, levels, allowed_values, active, updated_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (code) DO UPDATE SET display = EXCLUDED.display, description = EXCLUDED.description, levels = EXCLUDED.levels,
             allowed_values = EXCLUDED.allowed_values, active = EXCLUDED.active, updated_by = EXCLUDED.updated_by, updated_at = now()`,
          [term.code, term.display, term.description, term.levels, term.values, term.active, by],
        );
      }
      return client.query<{ code: string }>(
        `UPDATE label_terms SET active = false, updated_by = $2, updated_at = now() WHERE active AND NOT (code = ANY($1::text[])) RETURNING code`,
        [terms.map((t) => t.code), by],
      );
    });
    return { terms: await this.vocabulary(true), retired: retired.rows.map((r) => r.code).sort() };
  }

  /** 404 unless the series (and instance) belong to the study. */
  async checkTarget(target: LabelTarget): Promise<void> {
    if (target.level === 'series') {
      const found = await this.db.query('SELECT 1 FROM series WHERE series_uid = $1 AND study_uid = $2', [target.seriesUid, target.studyUid]);
      if (!found.rowCount) throw notFound('series_not_found', 'The study has no such series.');
    } else if (target.level === 'instance') {
      const found = await this.db.query('SELECT 1 FROM instances WHERE sop_uid = $1 AND series_uid = $2 AND study_uid = $3', [target.sopUid, target.seriesUid, target.studyUid]);
      if (!found.rowCount) throw notFound('instance_not_found', 'The series has no such instance.');
    }
  }

  private view(row: SetRow, terms: ReadonlyMap<string, LabelTerm>): LabelSetView {
    return {
      level: row.level,
      studyInstanceUID: row.study_uid,
      seriesInstanceUID: row.series_uid,
      sopInstanceUID: row.sop_uid,
      version: row.version,
      labels: this.display(row.labels, terms),
      author: { sub: row.author_sub, name: row.author_name },
      message: row.message,
      updatedAt: row.created_at.toISOString(),
    };
  }

  async labelSet(target: LabelTarget, db: Queryable = this.db): Promise<LabelSetView | undefined> {
    const row = (await db.query<SetRow>(`SELECT ${currentSetColumns} WHERE ls.target = $1`, [targetKey(target)])).rows[0];
    return row ? this.view(row, await this.terms(db)) : undefined;
  }

  /** Every labelled object of a study, study first, then series and instances. */
  async studyLabels(studyUid: string): Promise<LabelSetView[]> {
    const rows = await this.db.query<SetRow>(
      `SELECT ${currentSetColumns} WHERE ls.study_uid = $1
       ORDER BY CASE ls.level WHEN 'study' THEN 0 WHEN 'series' THEN 1 ELSE 2 END, ls.series_uid NULLS FIRST, ls.sop_uid NULLS FIRST`,
      [studyUid],
    );
    const terms = await this.terms(this.db);
    return rows.rows.map((r) => this.view(r, terms));
  }

  async versions(target: LabelTarget): Promise<LabelVersionView[]> {
    const rows = await this.db.query<{ version: number; labels: LabelAssignment[]; author_sub: string; author_name: string | null; message: string | null; created_at: Date }>(
      'SELECT version, labels, author_sub, author_name, message, created_at FROM label_versions WHERE target = $1 ORDER BY version',
      [targetKey(target)],
    );
    const terms = await this.terms(this.db);
    return rows.rows.map((r) => ({ version: r.version, labels: this.display(r.labels, terms), author: { sub: r.author_sub, name: r.author_name }, message: r.message, createdAt: r.created_at.toISOString() }));
  }

  /**
   * A new version of the object's labels. `expected` (If-Match) is the
   * version the writer started from (0: no labels yet); a mismatch answers
   * 409 with the latest. The same labels again make no new version.
   */
  async write(
    target: LabelTarget,
    input: readonly { code: string; value?: string | null | undefined }[],
    expected: number | undefined,
    author: Author,
    message: string | null,
  ): Promise<{ set: LabelSetView; changed: boolean }> {
    const key = targetKey(target);
    return inTransaction(this.db, async (client) => {
      await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('medlake:labels:' || $1, 0))`, [key]);
      const terms = await this.terms(client);
      let assignments: LabelAssignment[];
      try {
        assignments = checkAssignments(input, target.level, terms);
      } catch (error) {
        if (error instanceof LabelError) throw badRequest(error.code, error.message);
        throw error;
      }
      const current = (await client.query<SetRow>(`SELECT ${currentSetColumns} WHERE ls.target = $1`, [key])).rows[0];
      const currentVersion = current?.version ?? 0;
      if (expected !== undefined && expected !== currentVersion) {
        throw new HttpError(409, 'version_conflict', `Version ${expected} is not the latest any more: version ${currentVersion} was saved since. Start from it and save again.`, {
          expectedVersion: expected,
          current: current ? this.view(current, terms) : null,
        });
      }
      if (current && sameAssignments(current.labels, assignments)) return { set: this.view(current, terms), changed: false };
      const version = currentVersion + 1;
      if (!current) {
        await client.query(
          `INSERT INTO label_sets (target, level, study_uid, series_uid, sop_uid, current_version) VALUES ($1, $2, $3, $4, $5, 1)`,
          [key, target.level, target.studyUid, target.seriesUid, target.sopUid],
        );
      }
      await client.query(
        'INSERT INTO label_versions (target, version, labels, author_sub, author_name, message) VALUES ($1, $2, $3, $4, $5, $6)',
        [key, version, JSON.stringify(assignments), author.sub, author.name, message],
      );
      await client.query('UPDATE label_sets SET current_version = $2, updated_at = now() WHERE target = $1', [key, version]);
      const written = (await client.query<SetRow>(`SELECT ${currentSetColumns} WHERE ls.target = $1`, [key])).rows[0] as SetRow;
      return { set: this.view(written, terms), changed: true };
    });
  }
}
