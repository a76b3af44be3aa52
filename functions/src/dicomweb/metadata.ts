/**
 * WADO-RS metadata (PS3.18 §10.4.1.1.2): every instance's complete stored
 * attributes as DICOM JSON, bulk data by URI (PixelData → the frames URL,
 * anything else → …/bulk/{tag}). A series' document is built once from the
 * index and kept gzip-compressed in `series_metadata` until an instance of
 * the series changes (a trigger drops it), so a 300-slice series is one
 * small row read.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { hiddenAnnotationVersions, withoutHiddenInstances } from '../annotations/visibility';
import { notFound } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { binary } from '../http/response';
import { notAcceptable, parseAccept, typeMatches } from './accept';
import { dicomwebBaseUrl } from './base-url';
import type { DicomElement, DicomJson } from './dicom-json';
import { auditStudyAccess } from './study-access';

const pixelDataTags = new Set(['7FE00010', '7FE00008', '7FE00009']);

interface InstanceRow {
  sop_uid: string;
  series_uid: string;
  study_uid: string;
  transfer_syntax_uid: string;
  number_of_frames: number;
  attributes: DicomJson;
}

/**
 * One instance's metadata: stored attributes with bulk data URIs filled in,
 * AvailableTransferSyntaxUID added. Bulk data nested in sequences is left
 * out (only top-level bulk data can be fetched by tag).
 */
export function instanceMetadata(row: InstanceRow, baseUrl: string): DicomJson {
  const instanceUrl = `${baseUrl}/studies/${row.study_uid}/series/${row.series_uid}/instances/${row.sop_uid}`;
  const out: DicomJson = {};
  for (const [tag, element] of Object.entries(row.attributes)) {
    if (element.BulkDataURI !== undefined || element.InlineBinary !== undefined) {
      if (pixelDataTags.has(tag)) {
        const frames = Array.from({ length: Math.max(1, row.number_of_frames) }, (_, i) => i + 1).join(',');
        out[tag] = { vr: element.vr, BulkDataURI: `${instanceUrl}/frames/${frames}` };
      } else if (element.InlineBinary !== undefined) {
        out[tag] = element;
      } else {
        out[tag] = { vr: element.vr, BulkDataURI: `${instanceUrl}/bulk/${tag}` };
      }
      continue;
    }
    out[tag] = element.vr === 'SQ' && element.Value ? { vr: 'SQ', Value: element.Value.map(withoutNestedBulk) } : element;
  }
  out['00083002'] = { vr: 'UI', Value: [row.transfer_syntax_uid] };
  return out;
}

function withoutNestedBulk(item: unknown): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const out: Record<string, DicomElement> = {};
  for (const [tag, element] of Object.entries(item as Record<string, DicomElement>)) {
    if (element.BulkDataURI !== undefined) continue;
    out[tag] = element.vr === 'SQ' && element.Value ? { vr: 'SQ', Value: element.Value.map(withoutNestedBulk) } : element;
  }
  return out;
}

const instanceColumns = 'sop_uid, series_uid, study_uid, transfer_syntax_uid, number_of_frames, attributes';
const instanceOrder = 'instance_number NULLS LAST, sop_uid';

/** The series document (gzip), from the cache or built now. */
export async function seriesMetadataGzip(studyUid: string, seriesUid: string, baseUrl: string, db: Queryable = databasePool()): Promise<Buffer> {
  // The count check catches a document built while instances were still arriving.
  const cached = await db.query<{ document_gzip: Buffer }>(
    `SELECT m.document_gzip FROM series_metadata m JOIN series se ON se.series_uid = m.series_uid
     WHERE m.series_uid = $1 AND m.base_url = $2 AND se.study_uid = $3
       AND m.num_instances = (SELECT count(*) FROM instances i WHERE i.series_uid = $1)`,
    [seriesUid, baseUrl, studyUid],
  );
  if (cached.rows[0]) return cached.rows[0].document_gzip;
  const rows = await db.query<InstanceRow>(`SELECT ${instanceColumns} FROM instances WHERE series_uid = $1 AND study_uid = $2 ORDER BY ${instanceOrder}`, [seriesUid, studyUid]);
  if (rows.rows.length === 0) throw notFound('not_found', 'No such series in this study.');
  const json = JSON.stringify(rows.rows.map((row) => instanceMetadata(row, baseUrl)));
  const gzip = gzipSync(json, { level: 6 });
  await db.query(
    `INSERT INTO series_metadata (series_uid, base_url, num_instances, document_gzip, document_bytes) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (series_uid, base_url) DO UPDATE SET num_instances = EXCLUDED.num_instances, document_gzip = EXCLUDED.document_gzip,
       document_bytes = EXCLUDED.document_bytes, built_at = now()`,
    [seriesUid, baseUrl, rows.rows.length, gzip, Buffer.byteLength(json)],
  );
  return gzip;
}

function checkAccept(request: HttpRequest<unknown>): void {
  const ok = parseAccept(request.header('accept')).some((r) => typeMatches(r.type, 'application/dicom+json') || r.type === 'application/json');
  if (!ok) throw notAcceptable('Metadata is answered as application/dicom+json (XML metadata is not supported).');
}

function acceptsGzip(request: HttpRequest<unknown>): boolean {
  return /\bgzip\b/i.test(request.header('accept-encoding') ?? '');
}

function answerJson(request: HttpRequest<unknown>, gzip: Buffer | undefined, text: string | undefined): HttpResult {
  const headers = { 'cache-control': 'private, no-cache', vary: 'Accept-Encoding' };
  if (acceptsGzip(request)) {
    return binary(200, gzip ?? gzipSync(text ?? '[]', { level: 1 }), 'application/dicom+json', { headers: { ...headers, 'content-encoding': 'gzip' } });
  }
  return { statusCode: 200, headers: { 'content-type': 'application/dicom+json', ...headers }, body: text ?? gunzipSync(gzip ?? Buffer.alloc(0)).toString('utf8') };
}

export async function answerSeriesMetadata(request: HttpRequest<unknown>): Promise<HttpResult> {
  checkAccept(request);
  const { study, series } = request.params as { study: string; series: string };
  // Of each annotation set, only the version the caller looks at (functions/src/annotations/visibility.ts).
  const hidden = await hiddenAnnotationVersions(study, request.principal?.sub ?? null);
  if (hidden.emptySeries.has(series)) {
    await auditStudyAccess(request, 'open', [study]);
    return answerJson(request, undefined, '[]');
  }
  const gzip = await seriesMetadataGzip(study, series, dicomwebBaseUrl(request));
  await auditStudyAccess(request, 'open', [study]);
  if (hidden.series.has(series)) return answerJson(request, undefined, withoutHiddenInstances(gzip, hidden.sops));
  return answerJson(request, gzip, undefined);
}

export async function answerStudyMetadata(request: HttpRequest<unknown>, db: Queryable = databasePool()): Promise<HttpResult> {
  checkAccept(request);
  const { study } = request.params as { study: string };
  const series = await db.query<{ series_uid: string }>('SELECT series_uid FROM series WHERE study_uid = $1 ORDER BY series_number NULLS LAST, series_uid', [study]);
  if (series.rows.length === 0) throw notFound('not_found', 'No such study.');
  const baseUrl = dicomwebBaseUrl(request);
  const hidden = await hiddenAnnotationVersions(study, request.principal?.sub ?? null, db);
  const documents: string[] = [];
  for (const row of series.rows) {
    if (hidden.emptySeries.has(row.series_uid)) continue;
    const gzip = await seriesMetadataGzip(study, row.series_uid, baseUrl, db);
    const text = hidden.series.has(row.series_uid) ? withoutHiddenInstances(gzip, hidden.sops) : gunzipSync(gzip).toString('utf8');
    if (text.length > 2) documents.push(text.slice(1, -1));
  }
  await auditStudyAccess(request, 'open', [study]);
  return answerJson(request, undefined, `[${documents.join(',')}]`);
}

export async function answerInstanceMetadata(request: HttpRequest<unknown>, db: Queryable = databasePool()): Promise<HttpResult> {
  checkAccept(request);
  const { study, series, instance } = request.params as { study: string; series: string; instance: string };
  const rows = await db.query<InstanceRow>(`SELECT ${instanceColumns} FROM instances WHERE sop_uid = $1 AND series_uid = $2 AND study_uid = $3`, [instance, series, study]);
  const row = rows.rows[0];
  if (!row) throw notFound('not_found', 'No such instance in this series and study.');
  await auditStudyAccess(request, 'open', [study]);
  return answerJson(request, undefined, JSON.stringify([instanceMetadata(row, dicomwebBaseUrl(request))]));
}
