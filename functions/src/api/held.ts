/**
 * The review of instances held for review (admin, `held:review`): list them
 * with their de-identified attributes, look at each image, release it into
 * the lake or discard it, with a reason that is kept and audited
 * (functions/src/ingest/held-review.ts does the work).
 */
import { z } from 'zod';
import { scrubFreeText } from '@medlake/shared/reports/scrub-free-text';
import { databasePool } from '../adapters/database';
import type { HeldDecision, HeldQuery } from '../ingest/held-review';
import { discardHeld, heldRenderTarget, heldStates, heldView, listHeld, releaseHeld } from '../ingest/held-review';
import { ingestContextFromEnv } from '../ingest/ingest-context';
import { binary, json } from '../http/response';
import { badRequest } from '../http/errors';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { parseAccept } from '../dicomweb/accept';
import { renderRequestOf, renderStoredFrame } from '../dicomweb/rendered';
import { auditStudyAccess } from '../dicomweb/study-access';
import { decodePageCursor, pageLimit, pageOf, uidPattern, uuidPattern } from './listing';


const decisionBody = z.strictObject({
  reason: z.string().trim().min(10, 'say why, in at least 10 characters (no patient names)').max(1000, 'at most 1000 characters'),
});

function sopOf(request: HttpRequest<unknown>): string {
  const sop = request.params.sop ?? '';
  if (!uidPattern.test(sop) || sop.length > 64) throw badRequest('invalid_uid', 'A SOP Instance UID has digits and dots only (at most 64 characters).');
  return sop;
}

function decisionOf(request: HttpRequest<{ reason: string }>, action: 'held.release' | 'held.discard'): HeldDecision {
  const principal = requirePrincipal(request);
  const actorName = principal.email ?? principal.username;
  return {
    decidedBy: actorName,
    // Stored, audited and shown to other administrators: scrubbed like other free text (the pattern rules: a held
    // image may belong to no indexed study whose identifiers could be used).
    reason: scrubFreeText(request.body.reason).text,
    audit: { actorSub: principal.sub, actorName, action, sourceIp: request.sourceIp, correlationId: request.correlationId },
  };
}

function queryOf(request: HttpRequest<unknown>): HeldQuery {
  const state = request.query.get('state') ?? 'waiting';
  if (!(heldStates as readonly string[]).includes(state)) throw badRequest('invalid_parameter', `state must be one of ${heldStates.join(', ')}.`);
  const upload = request.query.get('upload') ?? undefined;
  if (upload !== undefined && !uuidPattern.test(upload)) throw badRequest('invalid_parameter', 'upload must be the id of an upload.');
  const reason = request.query.get('reason')?.trim() || undefined;
  if (reason !== undefined && reason.length > 200) throw badRequest('invalid_parameter', 'reason is limited to 200 characters.');
  const cursor = request.query.get('before');
  const before = cursor ? decodePageCursor(cursor, uidPattern) : undefined;
  return {
    state: state as HeldQuery['state'],
    uploadId: upload?.toLowerCase(),
    reason,
    limit: pageLimit(request, { default: 25, max: 100 }),
    before: before && { createdAt: before.createdAt, sopUid: before.id },
  };
}

/** A browser's `<img>` accepts any image: then PNG, which keeps thin burned-in text legible; JPEG only when asked for. */
function previewAccept(accept: string | undefined): string | undefined {
  const first = parseAccept(accept).find((range) => ['image/png', 'image/jpeg', 'image/*', '*/*'].includes(range.type));
  return first && first.type.endsWith('*') ? 'image/png' : accept;
}

export const heldRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/held',
    action: 'held:review',
    async handle(request) {
      const query = queryOf(request);
      const found = await listHeld(databasePool(), { ...query, limit: query.limit + 1 });
      const page = pageOf(found.rows, query.limit, (row) => ({ createdAt: row.created_at, id: row.sop_uid }));
      return json(200, { total: found.total, reasons: found.reasons, ...page, items: page.items.map(heldView) }, { headers: { 'cache-control': 'no-store' } });
    },
  }),
  route({
    method: 'GET',
    path: '/api/held/{sop}/preview',
    action: 'held:review',
    async handle(request) {
      const target = await heldRenderTarget(databasePool(), sopOf(request));
      const wanted = renderRequestOf(previewAccept(request.header('accept')), request.query, false);
      const image = await renderStoredFrame(target, 1, wanted);
      // A look at pixel data of a (pseudonymous) study: audited like the viewer's reads.
      await auditStudyAccess(request, 'retrieve', [target.study_uid]);
      return binary(200, image, wanted.type, { headers: { 'cache-control': 'private, no-store' } });
    },
  }),
  route({
    method: 'POST',
    path: '/api/held/{sop}/release',
    action: 'held:review',
    body: decisionBody,
    async handle(request) {
      const sop = sopOf(request);
      const released = await releaseHeld(await ingestContextFromEnv(), sop, decisionOf(request, 'held.release'));
      request.logger.info('held instance reviewed', { decision: 'release', outcome: released.outcome });
      return json(200, { ...heldView(released.row), outcome: released.outcome, ...(released.version !== undefined ? { version: released.version } : {}) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/held/{sop}/discard',
    action: 'held:review',
    body: decisionBody,
    async handle(request) {
      const discarded = await discardHeld(databasePool(), sopOf(request), decisionOf(request, 'held.discard'));
      request.logger.info('held instance reviewed', { decision: 'discard', outcome: discarded.outcome });
      return json(200, { ...heldView(discarded.row), outcome: discarded.outcome });
    },
  }),
];
