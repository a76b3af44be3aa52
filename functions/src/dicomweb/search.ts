/**
 * QIDO-RS (PS3.18 §10.6): study, series and instance searches over the
 * index. Answers application/dicom+json, `[]` when nothing matches (what
 * OHIF and dicomweb-client parse without special cases), the total in
 * X-Total-Count, and a Warning header when the limit was capped.
 */
import type { QidoLevel, QidoQuery } from '@medlake/shared/query/qido';
import { parseQidoQuery } from '@medlake/shared/query/qido';
import type { QidoScope } from '@medlake/shared/query/qido-sql';
import { qidoSql } from '@medlake/shared/query/qido-sql';
import { QueryError } from '@medlake/shared/query/errors';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { HttpError, badRequest } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { dicomwebBaseUrl } from './base-url';
import type { DicomJson } from './dicom-json';
import { dicomDate, instanceDefaultTags, num, personName, pick, seriesDefaultTags, str, studyDefaultTags } from './dicom-json';
import { auditStudyAccess } from './study-access';

type Row = Record<string, unknown>;

export interface SearchResult {
  total: number;
  items: DicomJson[];
  query: QidoQuery;
  studyUids: string[];
}

/** Parses the request's query for `level` (QueryError → 400 with the reason). */
export function qidoQueryOf(request: HttpRequest<unknown>, level: QidoLevel): QidoQuery {
  try {
    return parseQidoQuery(level, request.query);
  } catch (error) {
    if (error instanceof QueryError) throw badRequest(error.code, error.message, { parameter: error.parameter });
    throw error;
  }
}

export async function search(level: QidoLevel, query: QidoQuery, scope: QidoScope, baseUrl: string, db: Queryable = databasePool(), viewerSub: string | null = null): Promise<SearchResult> {
  // Of each annotation set, only the version the caller looks at (the latest unless they picked one).
  const sql = qidoSql(query, scope, viewerSub);
  const [page, count] = await Promise.all([db.query<Row>(sql.page.text, sql.page.values), db.query<{ total: number }>(sql.count.text, sql.count.values)]);
  const items = page.rows.map((row) => responseOf(level, row, query, scope, baseUrl));
  return { total: count.rows[0]?.total ?? 0, items, query, studyUids: [...new Set(page.rows.map((r) => String(r.study_uid ?? scope.studyUid)))] };
}

export async function answerSearch(request: HttpRequest<unknown>, level: QidoLevel, scope: QidoScope): Promise<HttpResult> {
  const query = qidoQueryOf(request, level);
  if (scope.studyUid && !(await studyExists(scope.studyUid, scope.seriesUid))) {
    throw new HttpError(404, 'not_found', scope.seriesUid ? 'No such series in this study.' : 'No such study.');
  }
  const result = await search(level, query, scope, dicomwebBaseUrl(request), databasePool(), request.principal?.sub ?? null);
  // Searching inside a study is opening it; a study list is not.
  if (scope.studyUid) await auditStudyAccess(request, 'open', [scope.studyUid]);
  const headers: Record<string, string> = {
    'content-type': 'application/dicom+json',
    'cache-control': 'no-store',
    'x-total-count': String(result.total),
    'access-control-expose-headers': 'X-Total-Count, Warning',
  };
  if (query.limitClamped) headers.warning = `299 medlake: "The number of results exceeded the maximum supported by the server (${query.limit}). Additional results can be requested with offset."`;
  return { statusCode: 200, headers, body: JSON.stringify(result.items) };
}

async function studyExists(studyUid: string, seriesUid?: string, db: Queryable = databasePool()): Promise<boolean> {
  const found = seriesUid
    ? await db.query('SELECT 1 FROM series WHERE series_uid = $1 AND study_uid = $2', [seriesUid, studyUid])
    : await db.query('SELECT 1 FROM studies WHERE study_uid = $1', [studyUid]);
  return (found.rowCount ?? 0) > 0;
}

function wanted(level: QidoLevel, query: QidoQuery): string[] | 'all' {
  if (query.includeAll) return 'all';
  const defaults = level === 'study' ? studyDefaultTags : level === 'series' ? seriesDefaultTags : instanceDefaultTags;
  return [...new Set([...defaults, ...query.includeFields, ...query.matches.filter((m) => m.level === level).map((m) => m.tag)])];
}

/** Tags of a higher level asked for by includefield or matching (returned at the root, PS3.18 §6.7.1.2.2). */
function wantedAbove(level: QidoLevel, query: QidoQuery, defaults: string[]): string[] {
  return [...new Set([...defaults, ...query.includeFields, ...query.matches.filter((m) => m.level === level).map((m) => m.tag)])];
}

export function studyJson(row: Row, baseUrl: string, tags: readonly string[] | 'all'): DicomJson {
  const uid = String(row.study_uid);
  const computed: DicomJson = {
    '00080056': str('CS', 'ONLINE'),
    '00080061': { vr: 'CS', Value: (row.modalities as string[] | null) ?? [] },
    '00081190': str('UR', `${baseUrl}/studies/${uid}`),
    '0020000D': str('UI', uid),
    '00201206': num('IS', row.num_series as number),
    '00201208': num('IS', row.num_instances as number),
  };
  const stored = (row.study_attributes as DicomJson | null) ?? {};
  // The index columns stand in for attributes the stored study header lacks.
  const fallback: DicomJson = {
    '00080020': dicomDate(row.study_date as Date | null),
    '00080030': str('TM', row.study_time as string | null),
    '00080050': str('SH', row.accession_number as string | null),
    '00080090': personName(row.referring_physician as string | null),
    '00081030': str('LO', row.study_description as string | null),
    '00100010': personName(row.patient_name as string | null),
    '00100020': str('LO', row.patient_id as string | null),
    '00100030': dicomDate(row.patient_birth_date as Date | null),
    '00100040': str('CS', row.patient_sex as string | null),
    '00200010': str('SH', row.study_id as string | null),
  };
  return pick({ ...fallback, ...stored }, computed, tags);
}

export function seriesJson(row: Row, baseUrl: string, tags: readonly string[] | 'all'): DicomJson {
  const computed: DicomJson = {
    '00081190': str('UR', `${baseUrl}/studies/${String(row.study_uid)}/series/${String(row.series_uid)}`),
    '0020000E': str('UI', String(row.series_uid)),
    '00201209': num('IS', row.series_num_instances as number),
  };
  const fallback: DicomJson = {
    '00080060': str('CS', row.modality as string | null),
    '0008103E': str('LO', row.series_description as string | null),
    '00180015': str('CS', row.body_part as string | null),
    '00200011': num('IS', row.series_number as number | null),
  };
  return pick({ ...fallback, ...((row.series_attributes as DicomJson | null) ?? {}) }, computed, tags);
}

export function instanceJson(row: Row, baseUrl: string, tags: readonly string[] | 'all'): DicomJson {
  const computed: DicomJson = {
    '00080016': str('UI', String(row.sop_class_uid)),
    '00080018': str('UI', String(row.sop_uid)),
    '00080056': str('CS', 'ONLINE'),
    '00081190': str('UR', `${baseUrl}/studies/${String(row.study_uid)}/series/${String(row.series_uid)}/instances/${String(row.sop_uid)}`),
  };
  const fallback: DicomJson = {
    '00020010': str('UI', row.transfer_syntax_uid as string),
    '00200013': num('IS', row.instance_number as number | null),
    '00280010': num('US', row.rows as number | null),
    '00280011': num('US', row.columns as number | null),
  };
  const stored = { ...fallback, ...((row.instance_attributes as DicomJson | null) ?? {}) };
  const out = pick(stored, computed, tags);
  // NumberOfFrames is returned for multi-frame instances only, as it is stored.
  if (tags !== 'all' && !stored['00280008'] && (row.number_of_frames as number) > 1) out['00280008'] = num('IS', row.number_of_frames as number);
  // Bulk data has no place in search answers (the stored header holds only placeholders for it).
  for (const [tag, element] of Object.entries(out)) if (element.BulkDataURI !== undefined) delete out[tag];
  return out;
}

function responseOf(level: QidoLevel, row: Row, query: QidoQuery, scope: QidoScope, baseUrl: string): DicomJson {
  const own = wanted(level, query);
  if (level === 'study') return studyJson(row, baseUrl, own);
  const parts: DicomJson[] = [];
  if (!scope.studyUid) parts.push(studyJson(row, baseUrl, wantedAbove('study', query, studyDefaultTags.filter((t) => t !== '00081190'))));
  if (level === 'series') {
    parts.push(seriesJson(row, baseUrl, own));
  } else {
    if (!scope.seriesUid) parts.push(seriesJson(row, baseUrl, wantedAbove('series', query, seriesDefaultTags.filter((t) => t !== '00081190'))));
    parts.push(instanceJson(row, baseUrl, own));
  }
  // The level's own values (RetrieveURL above all) win over the parents'.
  return Object.fromEntries(Object.entries(Object.assign({}, ...parts) as DicomJson).sort(([a], [b]) => (a < b ? -1 : 1)));
}
