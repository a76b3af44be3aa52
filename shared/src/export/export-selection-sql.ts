/**
 * Which studies an export takes, as SQL over the index: the study filter's
 * WHERE clause (the one of /api/studies, shared/src/query/study-filter-sql.ts)
 * united with an explicit list of Study Instance UIDs. Paging and sorting of
 * the filter do not apply: an export takes every matching study.
 */
import type { SqlParameters } from '../query/sql';
import type { StudyFilter } from '../query/study-filter';
import { studyFilterWhere } from '../query/study-filter-sql';
import type { ExportOptions } from './export-options';
import { annotationSopClassSql } from './export-options';

export interface ExportSelection {
  /** The study browser's filter; null when the export names its studies only. */
  filter: StudyFilter | null;
  /** Explicit Study Instance UIDs. */
  studies: string[];
}

/** A query answering one column, `study_uid`, of every selected study (values added to `params`). */
export function selectedStudiesSql(selection: ExportSelection, params: SqlParameters): string {
  const parts: string[] = [];
  if (selection.filter) {
    parts.push(`SELECT s.study_uid FROM studies s JOIN patients p ON p.patient_id = s.patient_id\n${studyFilterWhere(selection.filter, params)}`);
  }
  if (selection.studies.length > 0) {
    parts.push(`SELECT s.study_uid FROM studies s WHERE s.study_uid = ANY(${params.add(selection.studies)}::text[])`);
  }
  if (parts.length === 0) throw new Error('an export selection needs a filter or a study list');
  return parts.join('\nUNION\n');
}

/** The condition on instances `i` that the options leave in the zip. */
export function exportedInstancesSql(options: Pick<ExportOptions, 'annotations'>, alias = 'i'): string {
  return options.annotations ? 'TRUE' : `NOT (${annotationSopClassSql(`${alias}.sop_class_uid`)})`;
}

/**
 * One row: `studies`, `instances`, `annotations`, `data_bytes`, `reports`,
 * `report_bytes` of what the export would hold now (the estimate of POST).
 */
export function exportEstimateSql(selection: ExportSelection, options: Pick<ExportOptions, 'annotations' | 'reports'>, params: SqlParameters): string {
  const selected = selectedStudiesSql(selection, params);
  return `WITH selected AS (${selected}),
  inst AS (
    SELECT i.study_uid, i.size_bytes, ${annotationSopClassSql('i.sop_class_uid')} AS annotation
    FROM instances i JOIN selected ON selected.study_uid = i.study_uid
    WHERE ${exportedInstancesSql(options)}
  ),
  rep AS (
    SELECT r.study_uid, octet_length(r.text) AS bytes FROM reports r
    WHERE ${options.reports ? 'TRUE' : 'FALSE'} AND r.study_uid IN (SELECT DISTINCT study_uid FROM inst)
  )
SELECT (SELECT count(DISTINCT study_uid) FROM inst)::int AS studies,
  (SELECT count(*) FROM inst)::int AS instances,
  (SELECT count(*) FROM inst WHERE annotation)::int AS annotations,
  (SELECT coalesce(sum(size_bytes), 0) FROM inst)::float8 AS data_bytes,
  (SELECT count(*) FROM rep)::int AS reports,
  (SELECT coalesce(sum(bytes), 0) FROM rep)::float8 AS report_bytes`;
}
