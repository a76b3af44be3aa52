/**
 * Writing the audit log from a route: the actor, source IP and correlation
 * id come from the request. Resources are named by pseudonymous ids only
 * (`study/2.25.…`, `user/<username>`, `export/<id>`), details never hold PHI.
 */
import type { AuditEntry } from '../adapters/audit-log';
import { auditLogFromEnv } from '../adapters/audit-log';
import type { HttpRequest } from '../http/router';

export async function audit(request: HttpRequest<unknown>, action: string, entry: Omit<AuditEntry, 'action' | 'sourceIp' | 'correlationId'> = {}): Promise<void> {
  const actor = request.principal;
  await auditLogFromEnv().record({
    actorSub: actor?.sub,
    actorName: actor ? (actor.email ?? actor.username) : undefined,
    ...entry,
    action,
    sourceIp: request.sourceIp,
    correlationId: request.correlationId,
  });
}
