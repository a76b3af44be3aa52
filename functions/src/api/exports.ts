/**
 * Cohort exports over HTTP (docs/exports.md): request one with the study
 * browser's filter and/or a list of studies (202 at once, with an estimate),
 * watch it, cancel it, run a frozen one again, and get its download link.
 * Owners see their exports, admins everybody's. A user may have a limited
 * number of exports queued or running (429 beyond). Creating, cancelling,
 * re-running and every issued download link are audited.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { ExportOptions } from '@medlake/shared/export/export-options';
import { defaultExportOptions, exportCompressions, exportLayouts, exportPercent, isActiveExportState, visibleExportState } from '@medlake/shared/export/export-options';
import { exportEstimateSql } from '@medlake/shared/export/export-selection-sql';
import type { ExportEstimate, ExportView } from '@medlake/shared/export/export-view';
import { estimateZipBytes } from '@medlake/shared/export/zip-layout';
import { QueryError } from '@medlake/shared/query/errors';
import { SqlParameters } from '@medlake/shared/query/sql';
import type { StudyFilter } from '@medlake/shared/query/study-filter';
import { emptyStudyFilter, parseStudyFilter, studyFilterFromJson, studyFilterToJson, studyFilterToQueryString } from '@medlake/shared/query/study-filter';
import { bucketName, presigningS3Client, queueUrl, sqsClient } from '../adapters/aws-clients';
import { databasePool } from '../adapters/database';
import { audit } from '../auth/audit-trail';
import { exportFileName, presignDownload } from '../export/download-link';
import { sendExportMessage } from '../export/export-message';
import { downloadPath } from '../export/export-notice';
import type { ExportRecord, StoredSelection } from '../export/export-records';
import { ExportRecords } from '../export/export-records';
import { exportSettings } from '../export/export-settings';
import { HttpError, badRequest, conflict, notFound } from '../http/errors';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { json } from '../http/response';
import { isAdmin, ownedItemsPage, uidPattern, uuidPattern } from './listing';

const records = () => new ExportRecords(databasePool());

const optionsSchema = z.strictObject({
  reports: z.boolean().optional(),
  annotations: z.boolean().optional(),
  labels: z.boolean().optional(),
  layout: z.enum(exportLayouts).optional(),
  compression: z.enum(exportCompressions).optional(),
  maxSizeBytes: z.number().int().positive().nullable().optional(),
});

const createSchema = z.strictObject({
  name: z.string().trim().min(1).max(120).regex(/^[^\p{Cc}]*$/u, 'must not contain control characters').optional(),
  filter: z.union([z.string().max(4000), z.record(z.string(), z.unknown())]).optional(),
  studies: z.array(z.string().trim().max(64).regex(uidPattern, 'a Study Instance UID has digits and dots only')).optional(),
  options: optionsSchema.optional(),
});

const iso = (value: Date | null) => (value ? value.toISOString() : null);

export async function exportView(record: ExportRecord, options: { withStudies: boolean; now?: Date } = { withStudies: true }): Promise<ExportView> {
  const state = visibleExportState(record.state, record.expiresAt, options.now);
  const errors = record.frozenAt ? await records().itemErrors(record.exportId) : [];
  return {
    exportId: record.exportId,
    name: record.name,
    owner: record.ownerName ?? record.ownerSub,
    state,
    createdAt: record.createdAt.toISOString(),
    startedAt: iso(record.startedAt),
    finishedAt: iso(record.finishedAt),
    selection: {
      filter: record.selection.filter,
      filterQuery: record.selection.filterQuery,
      ...(options.withStudies ? { studies: record.selection.studies } : {}),
      studyCount: record.selection.studies.length,
    },
    options: record.options,
    estimate: record.estimate,
    progress: {
      percent: exportPercent(record.state, record.bytesDone, record.totalBytes, record.filesDone, record.totalFiles),
      files: record.state === 'done' ? (record.totalFiles ?? record.filesDone) : record.filesDone,
      totalFiles: record.totalFiles,
      bytes: record.state === 'done' ? (record.totalBytes ?? record.bytesDone) : record.bytesDone,
      totalBytes: record.totalBytes,
    },
    runs: record.runs,
    zip: record.state === 'done' && record.zipBytes !== null ? { bytes: record.zipBytes, files: record.zipFiles ?? 0 } : null,
    errors: errors.map((e) => ({ code: e.code, message: e.message, path: e.path, ...(e.studyUid ? { studyInstanceUID: e.studyUid } : {}), ...(e.sopUid ? { sopInstanceUID: e.sopUid } : {}) })),
    failure: record.failure,
    download: state === 'done' && record.expiresAt
      ? { href: downloadPath(record.exportId), fileName: exportFileName(record.exportId), sizeBytes: record.zipBytes ?? 0, expiresAt: record.expiresAt.toISOString() }
      : null,
    rerunOf: record.rerunOf,
  };
}

function queryError(error: unknown): never {
  if (error instanceof QueryError) throw badRequest(error.code, error.message, { parameter: error.parameter });
  throw error;
}

/** The filter of a request: the body's (JSON or query string) or the POST URL's query string; undefined when none is given. */
function requestFilter(request: HttpRequest<z.output<typeof createSchema>>): StudyFilter | undefined {
  const fromBody = request.body.filter;
  const urlHasFilter = [...request.query.keys()].length > 0;
  if (fromBody !== undefined && urlHasFilter) throw badRequest('ambiguous_filter', 'Give the filter either in the body or in the URL, not both.');
  try {
    if (typeof fromBody === 'string') return fromBody.trim() ? parseStudyFilter(new URLSearchParams(fromBody.trim().replace(/^\?/, ''))) : emptyStudyFilter();
    if (fromBody !== undefined) return studyFilterFromJson(fromBody);
    if (urlHasFilter) return parseStudyFilter(request.query);
    return undefined;
  } catch (error) {
    return queryError(error);
  }
}

/** The canonical query string of a filter without its paging and sorting (an export takes every match). */
function selectionQuery(filter: StudyFilter): string {
  return studyFilterToQueryString({ ...filter, sort: 'studyDate', order: 'desc', limit: 50, offset: 0 });
}

async function estimateOf(selection: { filter: StudyFilter | null; studies: string[] }, options: ExportOptions): Promise<ExportEstimate> {
  const params = new SqlParameters();
  let sql: string;
  try {
    sql = exportEstimateSql(selection, options, params);
  } catch (error) {
    return queryError(error);
  }
  const row = (await databasePool().query<{ studies: number; instances: number; annotations: number; data_bytes: number; reports: number; report_bytes: number }>(sql, params.values)).rows[0];
  const studies = row?.studies ?? 0;
  const instances = row?.instances ?? 0;
  const annotations = options.annotations ? (row?.annotations ?? 0) : 0;
  const reports = row?.reports ?? 0;
  return {
    studies,
    instances,
    reports,
    annotations,
    bytes: estimateZipBytes({ layout: options.layout, instances, dataBytes: row?.data_bytes ?? 0, reports, reportBytes: row?.report_bytes ?? 0, annotations }),
  };
}

function tooLarge(bytes: number, limit: number, own: boolean): HttpError {
  return new HttpError(422, 'export_too_large', own
    ? `This export would be about ${bytes} bytes, more than its maxSizeBytes of ${limit}. Narrow the selection or raise the limit.`
    : `This export would be about ${bytes} bytes, more than the largest export this lake makes (${limit} bytes). Split it into smaller exports.`,
  { estimatedBytes: bytes, limit });
}

/** Stores the export (within the owner's limit of active exports), queues its first run, audits. */
async function startExport(request: HttpRequest<unknown>, entry: { name: string | null; selection: StoredSelection; options: ExportOptions; estimate: ExportEstimate; rerunOf: string | null }, action: string): Promise<ExportRecord> {
  const principal = requirePrincipal(request);
  const settings = exportSettings();
  const exportId = randomUUID();
  const store = records();
  const created = await store.createWithinLimit({
    exportId, ownerSub: principal.sub, ownerName: principal.email ?? principal.username, ownerEmail: principal.email ?? null, ...entry,
  }, settings.maxActivePerUser);
  if (!created.created) {
    await audit(request, action, { outcome: 'denied', details: { reason: 'too_many_exports', active: created.active } });
    throw new HttpError(429, 'too_many_exports',
      `You already have ${created.active} export${created.active === 1 ? '' : 's'} queued or running (at most ${settings.maxActivePerUser} at a time). Wait for one to finish, or cancel one, then ask again.`,
      { active: created.active, limit: settings.maxActivePerUser }, { 'retry-after': '60' });
  }
  try {
    await sendExportMessage(sqsClient(), queueUrl('export'), { exportId, run: 0 });
  } catch (error) {
    await store.remove(exportId);
    throw error;
  }
  await audit(request, action, {
    resource: `export/${exportId}`,
    details: { ...(entry.rerunOf ? { rerunOf: entry.rerunOf } : {}), studies: entry.estimate.studies, instances: entry.estimate.instances, estimatedBytes: entry.estimate.bytes, listedStudies: entry.selection.studies.length, filter: entry.selection.filter !== null, options: entry.options },
  });
  return (await store.get(exportId)) as ExportRecord;
}

/** The export if the caller may see it: its owner, or an admin; 404 for anybody else. */
async function visibleExport(request: HttpRequest<unknown>): Promise<ExportRecord> {
  const principal = requirePrincipal(request);
  const id = request.params.id ?? '';
  const record = uuidPattern.test(id) ? await records().get(id) : undefined;
  if (!record || (record.ownerSub !== principal.sub && !isAdmin(principal))) throw notFound('export_not_found', 'There is no export with this id.');
  return record;
}

export const exportRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/exports',
    action: 'exports:create',
    body: createSchema,
    async handle(request) {
      const settings = exportSettings();
      const filter = requestFilter(request);
      const studies = [...new Set(request.body.studies ?? [])];
      if (!filter && studies.length === 0) throw badRequest('selection_required', 'Say what to export: a filter (as in the study browser), a list of studies, or both.');
      if (studies.length > settings.maxStudies) throw badRequest('too_many_studies', `At most ${settings.maxStudies} studies can be listed in one export; use a filter for larger cohorts.`);
      if (studies.length > 0) {
        const known = new Set((await databasePool().query<{ study_uid: string }>('SELECT study_uid FROM studies WHERE study_uid = ANY($1::text[])', [studies])).rows.map((r) => r.study_uid));
        const unknown = studies.filter((uid) => !known.has(uid));
        if (unknown.length > 0) throw badRequest('unknown_studies', `${unknown.length} of the listed studies ${unknown.length === 1 ? 'is' : 'are'} not in the lake.`, { unknown: unknown.slice(0, 20) });
      }
      const options: ExportOptions = { ...defaultExportOptions, ...Object.fromEntries(Object.entries(request.body.options ?? {}).filter(([, v]) => v !== undefined)) };
      const selection = { filter: filter ?? null, studies };
      const estimate = await estimateOf(selection, options);
      if (estimate.studies === 0) throw new HttpError(422, 'empty_selection', 'No study with images matches this selection: there is nothing to export.');
      if (options.maxSizeBytes !== null && estimate.bytes > options.maxSizeBytes) throw tooLarge(estimate.bytes, options.maxSizeBytes, true);
      if (estimate.bytes > settings.maxBytes) throw tooLarge(estimate.bytes, settings.maxBytes, false);
      const stored: StoredSelection = { filter: filter ? studyFilterToJson(filter) : null, filterQuery: filter ? selectionQuery(filter) : null, studies };
      const record = await startExport(request, { name: request.body.name ?? null, selection: stored, options, estimate, rerunOf: null }, 'exports.create');
      return json(202, await exportView(record), { headers: { location: `/api/exports/${record.exportId}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/exports',
    action: 'exports:read',
    async handle(request) {
      const page = await ownedItemsPage(
        request,
        ({ ownerSub, limit, before }) => records().list({ ownerSub, limit, before: before && { createdAt: before.createdAt, exportId: before.id } }),
        (item) => ({ createdAt: item.createdAt, id: item.exportId }),
      );
      const views = [];
      for (const item of page.items) views.push(await exportView(item, { withStudies: false }));
      return json(200, { ...page, items: views });
    },
  }),
  route({
    method: 'GET',
    path: '/api/exports/{id}',
    action: 'exports:read',
    handle: async (request) => json(200, await exportView(await visibleExport(request))),
  }),
  route({
    method: 'DELETE',
    path: '/api/exports/{id}',
    action: 'exports:create',
    async handle(request) {
      const record = await visibleExport(request);
      if (!isActiveExportState(record.state)) {
        throw conflict('export_finished', `This export is ${visibleExportState(record.state, record.expiresAt)} already; only a queued or running export can be cancelled.`);
      }
      const cancelled = await records().cancel(record.exportId);
      if (!cancelled) throw conflict('export_finished', 'This export finished while it was being cancelled.');
      await audit(request, 'exports.cancel', { resource: `export/${record.exportId}`, details: { was: record.state, filesDone: record.filesDone } });
      return json(202, await exportView(cancelled));
    },
  }),
  route({
    method: 'POST',
    path: '/api/exports/{id}/rerun',
    action: 'exports:create',
    async handle(request) {
      const source = await visibleExport(request);
      if (!source.frozenAt) throw conflict('export_not_frozen', 'This export has not started yet, so it has no file list to run again; wait until it runs.');
      const frozen = await records().frozenEstimate(source.exportId);
      const estimate: ExportEstimate = {
        studies: frozen.studies, instances: frozen.instances, reports: frozen.reports, annotations: frozen.annotations,
        bytes: estimateZipBytes({ layout: source.options.layout, instances: frozen.instances, dataBytes: frozen.dataBytes, reports: frozen.reports, reportBytes: 0, annotations: frozen.annotations }),
      };
      const record = await startExport(request, { name: source.name, selection: source.selection, options: source.options, estimate, rerunOf: source.exportId }, 'exports.rerun');
      return json(202, await exportView(record), { headers: { location: `/api/exports/${record.exportId}` } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/exports/{id}/download',
    action: 'exports:read',
    async handle(request) {
      const record = await visibleExport(request);
      const state = visibleExportState(record.state, record.expiresAt);
      if (state === 'expired') {
        throw new HttpError(410, 'export_expired', `This export expired on ${record.expiresAt?.toISOString()} and its zip was deleted. Run it again with POST /api/exports/${record.exportId}/rerun.`, { expiresAt: record.expiresAt?.toISOString() });
      }
      if (state !== 'done' || !record.expiresAt || !record.objectKey) {
        throw conflict('export_not_ready', `This export is ${state}: its zip can be downloaded once it is done.`);
      }
      const link = await presignDownload(presigningS3Client(), bucketName('exports'), record.exportId, record.objectKey, record.expiresAt);
      if (!link) throw new HttpError(410, 'export_expired', `This export expired on ${record.expiresAt.toISOString()} and its zip was deleted. Run it again with POST /api/exports/${record.exportId}/rerun.`);
      await audit(request, 'exports.download-link', { resource: `export/${record.exportId}`, details: { urlExpiresAt: link.urlExpiresAt.toISOString() } });
      const answer = { url: link.url, urlExpiresAt: link.urlExpiresAt.toISOString(), expiresAt: record.expiresAt.toISOString(), fileName: exportFileName(record.exportId), sizeBytes: record.zipBytes ?? 0 };
      if (request.query.get('redirect') === 'false') return json(200, answer);
      return { statusCode: 302, headers: { location: link.url, 'cache-control': 'no-store' }, body: '' };
    },
  }),
];
