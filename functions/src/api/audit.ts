/**
 * GET /api/audit (admin): the audit log, newest first, filtered by actor,
 * action, resource and time, paged with `before` (the last id seen).
 */
import { z } from 'zod';
import { auditLogFromEnv } from '../adapters/audit-log';
import { badRequest } from '../http/errors';
import { json } from '../http/response';
import type { Route } from '../http/router';
import { route } from '../http/router';

const filters = z.object({
  actor: z.string().max(200).optional(),
  action: z.string().max(100).optional(),
  resource: z.string().max(500).optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
});

export const auditRoutes: Route[] = [
  route({
    method: 'GET',
    path: '/api/audit',
    action: 'audit:read',
    async handle(request) {
      const parsed = filters.safeParse(Object.fromEntries(request.query));
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw badRequest('invalid_request', `Invalid filter ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'not understood'}.`);
      }
      const f = parsed.data;
      const entries = await auditLogFromEnv().find({
        actorSub: f.actor, action: f.action, resource: f.resource, limit: f.limit, beforeId: f.before,
        since: f.since ? new Date(f.since) : undefined, until: f.until ? new Date(f.until) : undefined,
      });
      const last = entries.at(-1);
      return json(200, { entries, next: entries.length === f.limit && last ? `/api/audit?${new URLSearchParams({ ...Object.fromEntries(request.query), before: String(last.id) })}` : null });
    },
  }),
];
