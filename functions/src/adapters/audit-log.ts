/**
 * The audit log: who did what to which resource, when, from where, with what
 * outcome. Details must never hold PHI (no names, patient IDs, original UIDs).
 */
import type { Queryable } from './database';
import { databasePool } from './database';

export interface AuditEntry {
  actorSub?: string | undefined;
  actorName?: string | undefined;
  /** e.g. `session.sign-in`, `users.approve`, `users.groups`. */
  action: string;
  resource?: string | undefined;
  outcome?: 'ok' | 'denied' | 'failed';
  details?: Record<string, unknown>;
  sourceIp?: string | undefined;
  correlationId?: string | undefined;
}

export interface AuditRecord extends Omit<AuditEntry, 'details' | 'outcome'> {
  outcome: 'ok' | 'denied' | 'failed';
  id: number;
  at: Date;
  details: Record<string, unknown>;
}

export interface AuditQuery {
  actorSub?: string | undefined;
  action?: string | undefined;
  resource?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  limit?: number | undefined;
  /** Entries older than this id (paging backwards in time). */
  beforeId?: number | undefined;
}

export class AuditLog {
  constructor(private readonly db: Queryable) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.query(
      `INSERT INTO audit_log (actor_sub, actor_name, action, resource, outcome, details, source_ip, correlation_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [entry.actorSub ?? null, entry.actorName ?? null, entry.action, entry.resource ?? null, entry.outcome ?? 'ok', JSON.stringify(entry.details ?? {}), entry.sourceIp ?? null, entry.correlationId ?? null],
    );
  }

  /** Newest first. */
  async find(query: AuditQuery = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (query.actorSub) add('actor_sub = ?', query.actorSub);
    if (query.action) add('action = ?', query.action);
    if (query.resource) add('resource = ?', query.resource);
    if (query.since) add('at >= ?', query.since);
    if (query.until) add('at < ?', query.until);
    if (query.beforeId) add('id < ?', query.beforeId);
    values.push(Math.min(Math.max(query.limit ?? 100, 1), 1000));
    const result = await this.db.query<{
      id: string; at: Date; actor_sub: string | null; actor_name: string | null; action: string; resource: string | null;
      outcome: AuditRecord['outcome']; details: Record<string, unknown>; source_ip: string | null; correlation_id: string | null;
    }>(`SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT $${values.length}`, values);
    return result.rows.map((r) => ({
      id: Number(r.id), at: r.at, actorSub: r.actor_sub ?? undefined, actorName: r.actor_name ?? undefined, action: r.action, resource: r.resource ?? undefined,
      outcome: r.outcome, details: r.details, sourceIp: r.source_ip ?? undefined, correlationId: r.correlation_id ?? undefined,
    }));
  }
}

/** The audit log in the database named by DATABASE_URL. */
export function auditLogFromEnv(): AuditLog {
  return new AuditLog(databasePool());
}
