/**
 * Reading reports: the current version, the version list, one version, the
 * submissions still waiting for their study, and the search: full text whose
 * words are widened to similar known lexemes by trigrams (typos, spelling
 * variants, compounds: medlake_report_query), plain words against what
 * reports affirm and `no:` terms against what they negate (report-query.ts),
 * ranked (exact words count double), with highlight segments.
 */
import type { Segment } from '@medlake/shared/reports/highlight';
import { headlineSegments, headlineStart, headlineStop } from '@medlake/shared/reports/highlight';
import { reportQueryMatch } from '@medlake/shared/reports/report-filter-sql';
import { parseReportQuery, reportQueryWords } from '@medlake/shared/reports/report-query';
import { highlightQueryText } from '@medlake/shared/reports/search-text';
import type { Queryable } from '../adapters/database';

export interface ReportVersionSummary {
  version: number;
  createdAt: string;
  source: string;
  author: string | null;
  reason: string | null;
  /** How many values of each kind the scrubber replaced. */
  replaced: Record<string, number>;
}

export interface ReportVersion extends ReportVersionSummary {
  studyInstanceUID: string;
  text: string;
  latest: boolean;
}

export interface WaitingReport {
  submissionId: string;
  source: string;
  uploadId: string | null;
  fileIndex: number | null;
  fileName: string | null;
  rowNumber: number | null;
  /** Which keys it will be linked by (never their values). */
  linkBy: ('accession' | 'patient-and-date')[];
  reason: string | null;
  receivedAt: string;
}

export interface ReportHit {
  studyInstanceUID: string;
  version: number;
  score: number;
  /** The report around the matches; `match` segments are the matched words (typo-widened). */
  highlights: Segment[];
  patientId: string;
  studyDate: string | null;
  modalities: string[];
  description: string | null;
}

export interface ReportSearchResult {
  query: string;
  total: number;
  items: ReportHit[];
}

interface VersionRow { study_uid: string; version: number; text: string; created_at: Date; source: string; author_name: string | null; author_sub: string | null; reason: string | null; scrub_counts: Record<string, number>; current_version: number }

const headlineOptions = `StartSel=${headlineStart}, StopSel=${headlineStop}, MaxFragments=3, MaxWords=20, MinWords=6, FragmentDelimiter=" … "`;

function summary(row: VersionRow): ReportVersionSummary {
  return { version: row.version, createdAt: row.created_at.toISOString(), source: row.source, author: row.author_name ?? row.author_sub, reason: row.reason, replaced: row.scrub_counts };
}

export class ReportStore {
  constructor(private readonly db: Queryable) {}

  async studyExists(studyUid: string): Promise<boolean> {
    return (await this.db.query('SELECT 1 FROM studies WHERE study_uid = $1', [studyUid])).rows.length > 0;
  }

  /** The latest version, or a given one; undefined when the study has no report (or no such version). */
  async version(studyUid: string, version?: number): Promise<ReportVersion | undefined> {
    const result = await this.db.query<VersionRow>(
      `SELECT v.*, r.current_version FROM report_versions v JOIN reports r ON r.study_uid = v.study_uid
       WHERE v.study_uid = $1 AND v.version = COALESCE($2::int, r.current_version)`,
      [studyUid, version ?? null],
    );
    const row = result.rows[0];
    if (!row) return undefined;
    return { studyInstanceUID: row.study_uid, text: row.text, latest: row.version === row.current_version, ...summary(row) };
  }

  async versions(studyUid: string): Promise<ReportVersionSummary[]> {
    const result = await this.db.query<VersionRow>('SELECT v.*, 0 AS current_version FROM report_versions v WHERE v.study_uid = $1 ORDER BY v.version', [studyUid]);
    return result.rows.map(summary);
  }

  /** Submissions waiting for their study, newest first; of one uploader's uploads unless `ownerSub` is undefined (admins). */
  async waiting(ownerSub: string | undefined, limit = 200): Promise<WaitingReport[]> {
    const result = await this.db.query<{ submission_id: string; source: string; upload_id: string | null; file_index: number | null; name: string | null; row_number: number | null; link_accession: string | null; link_patient_id: string | null; link_study_date: string | null; reason: string | null; created_at: Date }>(
      `SELECT r.submission_id, r.source, r.upload_id, r.file_index, f.name, r.row_number, r.link_accession, r.link_patient_id, r.link_study_date, r.reason, r.created_at
       FROM report_submissions r
       LEFT JOIN upload_files f ON f.upload_id = r.upload_id AND f.file_index = r.file_index
       LEFT JOIN uploads u ON u.upload_id = r.upload_id
       WHERE r.state = 'waiting' AND ($1::text IS NULL OR u.owner_sub = $1 OR r.submitted_by = $1)
       ORDER BY r.created_at DESC, r.submission_id LIMIT $2`,
      [ownerSub ?? null, limit],
    );
    return result.rows.map((r) => ({
      submissionId: r.submission_id, source: r.source, uploadId: r.upload_id, fileIndex: r.file_index, fileName: r.name, rowNumber: r.row_number,
      linkBy: [...(r.link_accession ? ['accession' as const] : []), ...(r.link_patient_id && r.link_study_date ? ['patient-and-date' as const] : [])],
      reason: r.reason, receivedAt: r.created_at.toISOString(),
    }));
  }

  async search(query: string, page: { limit: number; offset: number }): Promise<ReportSearchResult> {
    const values: unknown[] = [page.limit, page.offset, headlineOptions, highlightQueryText(reportQueryWords(query))];
    const match = reportQueryMatch('r', parseReportQuery(query), (value) => `$${values.push(value)}`);
    const result = await this.db.query<{ study_uid: string; current_version: number; score: number; headline: string; patient_id: string; study_date: string | null; modalities: string[]; description: string | null; total: string }>(
      `WITH hits AS (
         SELECT r.study_uid, r.current_version, r.text, ${match.rank} AS score, count(*) OVER () AS total
         FROM reports r
         WHERE ${match.where}
       ),
       page AS (
         SELECT h.*, s.patient_id, to_char(s.study_date, 'YYYY-MM-DD') AS study_date, s.modalities, s.description
         FROM hits h JOIN studies s ON s.study_uid = h.study_uid
         ORDER BY h.score DESC, s.study_date DESC NULLS LAST, h.study_uid
         LIMIT $1 OFFSET $2
       )
       SELECT p.study_uid, p.current_version, p.score::float8 AS score, p.patient_id, p.study_date, p.modalities, p.description, p.total,
         ts_headline('medlake_report', p.text, (SELECT medlake_report_query($4)), $3) AS headline
       FROM page p
       ORDER BY p.score DESC, p.study_date DESC NULLS LAST, p.study_uid`,
      values,
    );
    return {
      query,
      total: Number(result.rows[0]?.total ?? 0),
      items: result.rows.map((r) => ({
        studyInstanceUID: r.study_uid,
        version: r.current_version,
        score: Math.round(r.score * 1e4) / 1e4,
        highlights: headlineSegments(r.headline),
        patientId: r.patient_id,
        studyDate: r.study_date,
        modalities: r.modalities,
        description: r.description,
      })),
    };
  }
}
