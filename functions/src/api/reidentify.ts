/**
 * Re-identification, the honest-broker function: an administrator states why
 * and gets the original identifiers behind a pseudonymous study or patient
 * from the PHI vault. Every attempt is audited with the actor, the
 * pseudonymous resource, the reason and the outcome; the audit row is written
 * in the same transaction as the vault read, so an answer never leaves
 * without its row. Rate-limited per administrator, never cached.
 */
import { z } from 'zod';
import type pg from 'pg';
import { AuditLog } from '../adapters/audit-log';
import type { AuditEntry } from '../adapters/audit-log';
import { databasePool } from '../adapters/database';
import type { OriginalIdentifiers } from '../adapters/phi-vault';
import { phiVaultFromEnv } from '../adapters/phi-vault';
import { integerSetting } from '../adapters/settings';
import { HttpError, badRequest, notFound } from '../http/errors';
import { json } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import type { HttpResult } from '../http/types';

export const reidentifyEnv = { maxPerHour: 'REIDENTIFY_MAX_PER_HOUR' } as const;
export const reasonLength = { min: 10, max: 1000 } as const;
const defaultMaxPerHour = 20;
const auditAction = 'phi.reidentify';

/** Re-identifications one administrator may attempt per hour (REIDENTIFY_MAX_PER_HOUR). */
export function maxReidentificationsPerHour(env: NodeJS.ProcessEnv = process.env): number {
  return integerSetting(env, reidentifyEnv.maxPerHour, { default: defaultMaxPerHour, min: 1 });
}

/** The body is checked by the route itself, so that a refused attempt is audited like any other. */
const body = z.object({ reason: z.unknown().optional() });

const noStore = { 'cache-control': 'no-store, max-age=0', pragma: 'no-cache' };

type Subject = { kind: 'study'; studyUid: string } | { kind: 'patient'; patientId: string };

function resourceOf(subject: Subject): string {
  return subject.kind === 'study' ? `study/${subject.studyUid}` : `patient/${subject.patientId}`;
}

interface Disclosure {
  answer: Record<string, unknown>;
  found: Record<string, unknown>;
}

async function disclose(client: pg.PoolClient, subject: Subject): Promise<Disclosure | undefined> {
  const vault = await phiVaultFromEnv();
  if (subject.kind === 'study') {
    const study = (await client.query<{ patient_id: string }>('SELECT patient_id FROM studies WHERE study_uid = $1', [subject.studyUid])).rows[0];
    if (!study) return undefined;
    const series = await client.query<{ series_uid: string }>('SELECT series_uid FROM series WHERE study_uid = $1 ORDER BY series_number NULLS LAST, series_uid', [subject.studyUid]);
    // One after the other: they share the transaction's connection.
    const patientOriginal = await vault.revealIdentifiers(client, 'patient', study.patient_id);
    const studyOriginal = await vault.revealIdentifiers(client, 'study', subject.studyUid);
    const seriesOriginals: (OriginalIdentifiers | undefined)[] = [];
    for (const s of series.rows) seriesOriginals.push(await vault.revealIdentifiers(client, 'series', s.series_uid));
    return {
      answer: {
        study: { studyInstanceUID: subject.studyUid, original: studyOriginal ?? null },
        patient: { patientId: study.patient_id, original: patientOriginal ?? null },
        series: series.rows.map((s, i) => ({ seriesInstanceUID: s.series_uid, original: seriesOriginals[i] ?? null })),
      },
      found: { study: Boolean(studyOriginal), patient: Boolean(patientOriginal), series: seriesOriginals.filter(Boolean).length },
    };
  }
  const patient = (await client.query('SELECT 1 FROM patients WHERE patient_id = $1', [subject.patientId])).rows[0];
  if (!patient) return undefined;
  const studies = await client.query<{ study_uid: string }>('SELECT study_uid FROM studies WHERE patient_id = $1 ORDER BY study_date NULLS LAST, study_uid', [subject.patientId]);
  const original: OriginalIdentifiers | undefined = await vault.revealIdentifiers(client, 'patient', subject.patientId);
  return {
    answer: { patient: { patientId: subject.patientId, original: original ?? null }, studies: studies.rows.map((s) => ({ studyInstanceUID: s.study_uid })) },
    found: { patient: Boolean(original), studies: studies.rows.length },
  };
}

async function reidentify(request: HttpRequest<z.infer<typeof body>>, subject: Subject): Promise<HttpResult> {
  const actor = requirePrincipal(request);
  const resource = resourceOf(subject);
  const entry = (outcome: AuditEntry['outcome'], details: Record<string, unknown>): AuditEntry => ({
    actorSub: actor.sub,
    actorName: actor.email ?? actor.username,
    action: auditAction,
    resource,
    outcome,
    details,
    sourceIp: request.sourceIp,
    correlationId: request.correlationId,
  });
  const db = databasePool();
  const reason = typeof request.body.reason === 'string' ? request.body.reason.replace(/\s+/g, ' ').trim() : '';
  if (reason.length < reasonLength.min || reason.length > reasonLength.max) {
    await new AuditLog(db).record(entry('denied', { code: 'reason_required', reasonLength: reason.length }));
    throw badRequest('reason_required', `Say why you need the original identifiers (${reasonLength.min} to ${reasonLength.max} characters), e.g. the study protocol or the clinical request.`);
  }
  const limit = maxReidentificationsPerHour();
  const client = await db.connect();
  let committed = false;
  try {
    await client.query('BEGIN');
    // One administrator's calls queue here, so the count below cannot be raced past.
    await client.query("SELECT pg_advisory_xact_lock(hashtextextended('medlake:reidentify:' || $1, 0))", [actor.sub]);
    const recent = await client.query<{ n: number; oldest: Date | null }>(
      `SELECT count(*)::int AS n, min(at) AS oldest FROM audit_log
       WHERE actor_sub = $1 AND action = $2 AND outcome <> 'denied' AND at > now() - interval '1 hour'`,
      [actor.sub, auditAction],
    );
    const used = recent.rows[0]?.n ?? 0;
    const audit = new AuditLog(client);
    if (used >= limit) {
      await audit.record(entry('denied', { reason, code: 'rate_limited', limitPerHour: limit }));
      await client.query('COMMIT');
      committed = true;
      const oldest = recent.rows[0]?.oldest;
      const retryAfter = oldest ? Math.max(1, Math.ceil((oldest.getTime() + 3_600_000 - Date.now()) / 1000)) : 3600;
      throw new HttpError(429, 'rate_limited', `You have re-identified ${limit} times in the last hour, the most allowed. Try again later or ask another administrator.`, { retryAfterSeconds: retryAfter }, { 'retry-after': String(retryAfter) });
    }
    const disclosed = await disclose(client, subject);
    if (!disclosed) {
      await audit.record(entry('failed', { reason, code: 'not_found' }));
      await client.query('COMMIT');
      committed = true;
      throw notFound('not_found', subject.kind === 'study' ? 'No such study.' : 'No such patient.');
    }
    // The row commits before the identifiers leave: no answer without its audit entry.
    await audit.record(entry('ok', { reason, found: disclosed.found }));
    await client.query('COMMIT');
    committed = true;
    return json(200, { ...disclosed.answer, reason, disclosedAt: new Date().toISOString() }, { headers: noStore });
  } catch (error) {
    if (!committed) {
      await client.query('ROLLBACK').catch(() => undefined);
      // The vault (KMS) or the database failed: the attempt is still on record.
      await new AuditLog(db).record(entry('failed', { reason, code: 'internal_error' })).catch(() => undefined);
    }
    throw error;
  } finally {
    client.release();
  }
}

export const reidentifyRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/studies/{uid}/reidentify',
    action: 'phi:reidentify',
    body,
    handle: (request) => reidentify(request, { kind: 'study', studyUid: request.params.uid ?? '' }),
  }),
  route({
    method: 'POST',
    path: '/api/patients/{id}/reidentify',
    action: 'phi:reidentify',
    body,
    handle: (request) => reidentify(request, { kind: 'patient', patientId: request.params.id ?? '' }),
  }),
];
