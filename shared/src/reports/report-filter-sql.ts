/**
 * Report text as part of the one study filter: SQL fragments the study
 * filter (shared/src/query/study-filter-sql.ts) adds for `q` and
 * `hasReport`. The query value passed as parameter must be
 * `normalizeReportQuery(q)`; `medlake_report_query` (migration 0030) widens
 * its words to similar known lexemes, so typos still match.
 */
import { normalizeReportQuery } from './search-text';

export { normalizeReportQuery };

/** True when the study's current report matches the (normalized) query in `placeholder`. */
export function reportMatchSql(studyAlias: string, placeholder: string): string {
  // The widened query is computed once (an uncorrelated scalar subquery), so the GIN index answers.
  return `${studyAlias}.study_uid IN (SELECT rq.study_uid FROM reports rq WHERE rq.search_tsv @@ (SELECT medlake_report_query(${placeholder})))`;
}

export function hasReportSql(studyAlias: string, hasReport: boolean): string {
  return `${hasReport ? '' : 'NOT '}EXISTS (SELECT 1 FROM reports rh WHERE rh.study_uid = ${studyAlias}.study_uid)`;
}

/** A select-list column telling whether the study has a report. */
export function hasReportColumn(studyAlias: string): string {
  return `EXISTS (SELECT 1 FROM reports rc WHERE rc.study_uid = ${studyAlias}.study_uid) AS has_report`;
}
