/**
 * Report text as part of the one study filter: SQL fragments the study
 * filter (shared/src/query/study-filter-sql.ts) adds for `q` and
 * `hasReport`. `q` is parsed into its affirmed, negated (`no:`) and `any:`
 * parts (report-query.ts), each matched against its own tsvector (migration
 * 0054); `medlake_report_query` (migration 0030) widens their words to similar
 * known lexemes, so typos still match.
 */
import type { ReportQuery } from './report-query';
import { parseReportQuery } from './report-query';

/** The tsvector column of `reports` each part of a query is matched against. */
const columns: Record<keyof ReportQuery, string> = { affirmed: 'affirmed_tsv', negated: 'negated_tsv', any: 'search_tsv' };

export interface ReportQueryMatch {
  /** Conditions on the report alias, joined with AND. */
  where: string;
  /** A rank expression (higher is better) for ordering hits. */
  rank: string;
}

/**
 * The conditions of a parsed query over the report alias; `add` turns a
 * value into a placeholder. The widened queries are uncorrelated scalar
 * subqueries: computed once, so the GIN indexes answer.
 */
export function reportQueryMatch(reportAlias: string, query: ReportQuery, add: (value: string) => string): ReportQueryMatch {
  const parts = (Object.keys(columns) as (keyof ReportQuery)[]).filter((part) => query[part] !== '');
  // A query of nothing usable still goes through PostgreSQL (and finds nothing), as before.
  if (parts.length === 0) parts.push('affirmed');
  const where: string[] = [];
  const rank: string[] = [];
  for (const part of parts) {
    const placeholder = add(query[part]);
    const column = `${reportAlias}.${columns[part]}`;
    where.push(`${column} @@ (SELECT medlake_report_query(${placeholder}))`);
    // Exact words rank double.
    rank.push(`ts_rank_cd(${column}, (SELECT medlake_report_query(${placeholder}))) + 2 * ts_rank_cd(${column}, websearch_to_tsquery('medlake_report', ${placeholder}))`);
  }
  return { where: where.join(' AND '), rank: rank.join(' + ') };
}

/** True when the study's current report matches the query `q` (raw, as the user wrote it). */
export function reportMatchSql(studyAlias: string, q: string, add: (value: string) => string): string {
  return `${studyAlias}.study_uid IN (SELECT rq.study_uid FROM reports rq WHERE ${reportQueryMatch('rq', parseReportQuery(q), add).where})`;
}

export function hasReportSql(studyAlias: string, hasReport: boolean): string {
  return `${hasReport ? '' : 'NOT '}EXISTS (SELECT 1 FROM reports rh WHERE rh.study_uid = ${studyAlias}.study_uid)`;
}

/** A select-list column telling whether the study has a report. */
export function hasReportColumn(studyAlias: string): string {
  return `EXISTS (SELECT 1 FROM reports rc WHERE rc.study_uid = ${studyAlias}.study_uid) AS has_report`;
}
