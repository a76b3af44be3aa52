/**
 * The study filter as SQL over the index (studies `s`, patients `p`):
 * /api/studies pages with it, exports and subscriptions select with it.
 * Values are parameters only.
 */
import { labelMatchSql, labelsColumn, normalizeLabelCodes } from '../annotations/label-filter-sql';
import { hasReportColumn, hasReportSql, reportMatchSql } from '../reports/report-filter-sql';
import type { StudyFilter, StudySort } from './study-filter';
import type { SqlQuery } from './sql';
import { SqlParameters, likeLiteral } from './sql';

const sortColumns: Record<StudySort, string> = {
  studyDate: 's.study_date',
  patientId: 's.patient_id',
  modalities: "array_to_string(s.modalities, ',')",
  description: 'lower(s.description)',
  numInstances: 's.num_instances',
};

export const studyListColumns = `s.study_uid, s.patient_id, p.sex AS patient_sex, s.patient_age, s.study_date, s.study_time, s.accession_number,
  s.modalities, s.description, s.body_parts, s.num_series, s.num_instances, ${hasReportColumn('s')}, ${labelsColumn('s')}`;

/** The WHERE clause (with its parameters) selecting the filter's studies. */
export function studyFilterWhere(filter: StudyFilter, params: SqlParameters): string {
  const where: string[] = [];
  if (filter.patientId) where.push(`s.patient_id = ${params.add(filter.patientId)}`);
  if (filter.sex) where.push(`p.sex = ${params.add(filter.sex)}`);
  if (filter.ageMin !== undefined) where.push(`s.age_years >= ${params.add(filter.ageMin)}::float8`);
  // An age of 45 years and 11 months is 45: below ageMax + 1.
  if (filter.ageMax !== undefined) where.push(`s.age_years < ${params.add(filter.ageMax + 1)}::float8`);
  if (filter.dateFrom) where.push(`s.study_date >= ${params.add(filter.dateFrom)}::date`);
  if (filter.dateTo) where.push(`s.study_date <= ${params.add(filter.dateTo)}::date`);
  if (filter.modalities.length) where.push(`s.modalities && ${params.add(filter.modalities)}::text[]`);
  if (filter.bodyParts.length) where.push(`s.body_parts && ${params.add(filter.bodyParts)}::text[]`);
  if (filter.hasReport !== undefined) where.push(hasReportSql('s', filter.hasReport));
  // label: studies carrying every one of them, on the study or any of its series or instances.
  if (filter.labels.length) where.push(labelMatchSql('s', params.add(normalizeLabelCodes(filter.labels))));
  // q: every word in the study or a series description, or the report text matching q (typo-tolerant).
  const descriptionWords: string[] = [];
  for (const word of (filter.q ?? '').split(/\s+/).filter(Boolean)) {
    const pattern = params.add(`%${likeLiteral(word.toLowerCase())}%`);
    descriptionWords.push(`(lower(s.description) LIKE ${pattern} OR EXISTS (SELECT 1 FROM series sq WHERE sq.study_uid = s.study_uid AND lower(sq.description) LIKE ${pattern}))`);
  }
  if (descriptionWords.length) where.push(`((${descriptionWords.join(' AND ')}) OR ${reportMatchSql('s', filter.q ?? '', (value) => params.add(value))})`);
  return where.length ? `WHERE ${where.join('\n  AND ')}` : '';
}

export interface StudyFilterSql {
  page: SqlQuery;
  count: SqlQuery;
}

export function studyFilterSql(filter: StudyFilter): StudyFilterSql {
  const params = new SqlParameters();
  const where = studyFilterWhere(filter, params);
  const countValues = [...params.values];
  const direction = filter.order === 'asc' ? 'ASC' : 'DESC';
  const from = 'studies s JOIN patients p ON p.patient_id = s.patient_id';
  const limit = params.add(filter.limit);
  const offset = params.add(filter.offset);
  return {
    page: {
      text: `SELECT ${studyListColumns}\nFROM ${from}\n${where}\nORDER BY ${sortColumns[filter.sort]} ${direction} NULLS LAST, s.study_uid ${direction}\nLIMIT ${limit} OFFSET ${offset}`,
      values: params.values,
    },
    count: { text: `SELECT count(*)::int AS total FROM ${from} ${where}`, values: countValues },
  };
}
