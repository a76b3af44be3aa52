/**
 * The study browser's API: `GET /api/studies?<filter>` (the one study filter
 * of shared/src/query/study-filter.ts), `GET /api/studies/{uid}` with its
 * series, `GET /api/patients/{id}/studies` (a patient's timeline). Opening a
 * study is audited (once per principal, study and hour).
 */
import { annotationSeriesShownByDefaultSql } from '@medlake/shared/annotations/visibility-sql';
import { QueryError } from '@medlake/shared/query/errors';
import { parseStudyFilter } from '@medlake/shared/query/study-filter';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { studyFilterSql, studyListColumns } from '@medlake/shared/query/study-filter-sql';
import type { Queryable } from '../adapters/database';
import { databasePool, isoDateOf } from '../adapters/database';
import { auditStudyAccess } from '../dicomweb/study-access';
import { badRequest, notFound } from '../http/errors';
import type { HttpRequest, Route } from '../http/router';
import { route } from '../http/router';
import { json } from '../http/response';

export interface StudySummary {
  studyInstanceUID: string;
  patientId: string;
  patientSex: string | null;
  patientAge: string | null;
  /** ISO date (shifted, as stored). */
  studyDate: string | null;
  studyTime: string | null;
  accessionNumber: string | null;
  modalities: string[];
  description: string | null;
  bodyParts: string[];
  numSeries: number;
  numInstances: number;
  /** Whether the study has a (de-identified) report. */
  hasReport: boolean;
  /** Label codes the study carries (on itself, its series or instances), sorted. */
  labels: string[];
}

export interface SeriesSummary {
  seriesInstanceUID: string;
  modality: string | null;
  seriesNumber: number | null;
  description: string | null;
  bodyPart: string | null;
  numInstances: number;
}

interface StudyRow {
  study_uid: string;
  patient_id: string;
  patient_sex: string | null;
  patient_age: string | null;
  study_date: Date | null;
  study_time: string | null;
  accession_number: string | null;
  modalities: string[];
  description: string | null;
  body_parts: string[];
  num_series: number;
  num_instances: number;
  has_report: boolean;
  labels: string[] | null;
}

export function studySummary(row: StudyRow): StudySummary {
  return {
    studyInstanceUID: row.study_uid,
    patientId: row.patient_id,
    patientSex: row.patient_sex,
    patientAge: row.patient_age,
    studyDate: isoDateOf(row.study_date),
    studyTime: row.study_time,
    accessionNumber: row.accession_number,
    modalities: row.modalities,
    description: row.description,
    bodyParts: row.body_parts,
    numSeries: row.num_series,
    numInstances: row.num_instances,
    hasReport: row.has_report,
    labels: row.labels ?? [],
  };
}

function filterOf(params: URLSearchParams): StudyFilter {
  try {
    return parseStudyFilter(params);
  } catch (error) {
    if (error instanceof QueryError) throw badRequest(error.code, error.message, { parameter: error.parameter });
    throw error;
  }
}

export async function listStudies(filter: StudyFilter, db: Queryable = databasePool()): Promise<{ total: number; items: StudySummary[] }> {
  let sql;
  try {
    sql = studyFilterSql(filter);
  } catch (error) {
    if (error instanceof QueryError) throw badRequest(error.code, error.message, { parameter: error.parameter });
    throw error;
  }
  const [page, count] = await Promise.all([db.query<StudyRow>(sql.page.text, sql.page.values), db.query<{ total: number }>(sql.count.text, sql.count.values)]);
  return { total: count.rows[0]?.total ?? 0, items: page.rows.map(studySummary) };
}

async function getStudy(request: HttpRequest<unknown>, db: Queryable = databasePool()) {
  const uid = request.params.uid as string;
  const row = (await db.query<StudyRow>(`SELECT ${studyListColumns} FROM studies s JOIN patients p ON p.patient_id = s.patient_id WHERE s.study_uid = $1`, [uid])).rows[0];
  if (!row) throw notFound('not_found', 'No such study.');
  const series = await db.query<{ series_uid: string; modality: string | null; series_number: number | null; description: string | null; body_part: string | null; num_instances: number }>(
    // The series DICOMweb lists by default: not those holding only annotation versions their sets moved on from (counted by nobody either).
    `SELECT series_uid, modality, series_number, description, body_part, num_instances FROM series
     WHERE study_uid = $1 AND ${annotationSeriesShownByDefaultSql('series.series_uid')} ORDER BY series_number NULLS LAST, series_uid`,
    [uid],
  );
  await auditStudyAccess(request, 'open', [uid]);
  return json(200, {
    ...studySummary(row),
    series: series.rows.map((s): SeriesSummary => ({
      seriesInstanceUID: s.series_uid,
      modality: s.modality,
      seriesNumber: s.series_number,
      description: s.description,
      bodyPart: s.body_part,
      numInstances: s.num_instances,
    })),
  });
}

export const studyRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/studies',
    action: 'studies:read',
    handle: async (request) => json(200, await listStudies(filterOf(request.query))),
  }),
  route({ method: 'GET', path: '/api/studies/{uid}', action: 'studies:read', handle: (request) => getStudy(request) }),
  route({
    method: 'GET',
    path: '/api/patients/{id}/studies',
    action: 'studies:read',
    handle: async (request) => {
      const params = new URLSearchParams(request.query);
      if (params.has('patientId')) throw badRequest('invalid_parameter', 'The patient is given by the path; leave out patientId.');
      params.set('patientId', request.params.id as string);
      // A timeline reads oldest to newest unless asked otherwise.
      if (!params.has('order')) params.set('order', 'asc');
      const result = await listStudies(filterOf(params));
      if (result.total === 0 && !(await patientExists(request.params.id as string))) throw notFound('not_found', 'No such patient.');
      return json(200, result);
    },
  }),
];

async function patientExists(id: string, db: Queryable = databasePool()): Promise<boolean> {
  return ((await db.query('SELECT 1 FROM patients WHERE patient_id = $1', [id])).rowCount ?? 0) > 0;
}
