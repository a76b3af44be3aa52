/**
 * Reports over HTTP: the current de-identified report of a study, its
 * versions, corrections (a new version with author, time and reason; nothing
 * is overwritten), the search over report text, and the reports still
 * waiting for their study (for uploaders). Every read of report text is
 * audited. Texts sent with PUT are scrubbed like uploaded ones; the original
 * goes to the PHI vault only.
 */
import { z } from 'zod';
import { audit } from '../auth/audit-trail';
import { databasePool } from '../adapters/database';
import { badRequest, notFound } from '../http/errors';
import { json } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { reportContextFromEnv } from '../reports/report-context';
import { submitReport } from '../reports/report-intake';
import { ReportStore } from '../reports/report-store';
import { isAdmin } from './listing';

const store = () => new ReportStore(databasePool());

const maxReportCharacters = 200_000;

async function requireStudy(request: HttpRequest<unknown>): Promise<string> {
  const uid = request.params.uid ?? '';
  if (!/^[0-9.]{1,64}$/.test(uid)) throw badRequest('invalid_uid', 'A study instance UID has digits and dots only (64 at most).');
  if (!(await store().studyExists(uid))) throw notFound('study_not_found', 'There is no study with this UID.');
  return uid;
}

const page = z.object({
  q: z.string().trim().min(1, 'give a search text').max(500),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).max(100_000).default(0),
});

export const reportRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/studies/{uid}/report',
    action: 'reports:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const report = await store().version(uid);
      if (!report) throw notFound('report_not_found', 'This study has no report yet.');
      await audit(request, 'reports.read', { resource: `study/${uid}`, details: { version: report.version } });
      return json(200, report);
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/report/versions',
    action: 'reports:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const versions = await store().versions(uid);
      if (versions.length === 0) throw notFound('report_not_found', 'This study has no report yet.');
      await audit(request, 'reports.versions', { resource: `study/${uid}` });
      return json(200, { studyInstanceUID: uid, versions });
    },
  }),
  route({
    method: 'GET',
    path: '/api/studies/{uid}/report/versions/{n}',
    action: 'reports:read',
    async handle(request) {
      const uid = await requireStudy(request);
      const n = Number(request.params.n);
      if (!Number.isInteger(n) || n < 1) throw badRequest('invalid_version', 'A version is a whole number from 1.');
      const report = await store().version(uid, n);
      if (!report) throw notFound('version_not_found', `This study's report has no version ${n}.`);
      await audit(request, 'reports.read', { resource: `study/${uid}`, details: { version: n } });
      return json(200, report);
    },
  }),
  route({
    method: 'PUT',
    path: '/api/studies/{uid}/report',
    action: 'reports:write',
    body: z.object({ text: z.string().trim().min(1, 'the report text is empty').max(maxReportCharacters), reason: z.string().trim().max(500).optional() }),
    async handle(request) {
      const principal = requirePrincipal(request);
      const uid = await requireStudy(request);
      const outcome = await submitReport(await reportContextFromEnv(), {
        source: 'api',
        text: request.body.text,
        link: { studyUid: uid },
        author: { sub: principal.sub, name: principal.email ?? principal.username },
        reason: request.body.reason,
      });
      await audit(request, 'reports.write', { resource: `study/${uid}`, details: { version: outcome.version, unchanged: outcome.state === 'duplicate' } });
      const report = await store().version(uid);
      return json(outcome.state === 'duplicate' ? 200 : 201, { ...report, unchanged: outcome.state === 'duplicate' });
    },
  }),
  route({
    method: 'GET',
    path: '/api/reports/search',
    action: 'reports:read',
    async handle(request) {
      const parsed = page.safeParse(Object.fromEntries(request.query));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw badRequest('invalid_request', `Invalid ${issue?.path.join('.') ?? 'parameter'}: ${issue?.message ?? 'not understood'}.`);
      }
      const result = await store().search(parsed.data.q, parsed.data);
      // The query itself may name anything a user typed: only its size is audited.
      await audit(request, 'reports.search', { details: { queryLength: parsed.data.q.length, total: result.total, returned: result.items.length } });
      return json(200, result);
    },
  }),
  route({
    method: 'GET',
    path: '/api/reports/unmatched',
    action: 'uploads:read',
    async handle(request) {
      const principal = requirePrincipal(request);
      return json(200, { items: await store().waiting(isAdmin(principal) ? undefined : principal.sub) });
    },
  }),
];
