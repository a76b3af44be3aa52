/**
 * Reports into the lake. Every arrival is a submission: its original text
 * (with the keys the uploader gave) is sealed in the PHI vault, then it is
 * linked to its study (directly for DICOM SR/PDF and the API, through the
 * keyed pseudonyms otherwise) or waits for the study to arrive. Linking
 * scrubs the original with the study's known identifiers (from the vault) and
 * the patient's date shift, and adds a version to the study's report. Waiting
 * submissions are linked by `linkWaitingReports` when the index writer has
 * indexed a new study.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ReportLinkInput, ReportLinkKeys } from '@medlake/shared/reports/report-link';
import { reportLinkKeys } from '@medlake/shared/reports/report-link';
import type { PhiKind } from '@medlake/shared/reports/scrub-report';
import { scrubReport } from '@medlake/shared/reports/scrub-report';
import { reportSearchTexts, stripControlCharacters } from '@medlake/shared/reports/search-text';
import { AuditLog } from '../adapters/audit-log';
import { inTransaction } from '../adapters/database';
import type { ReportContext } from './report-context';
import { studyScrubbing } from './study-scrubbing';

export type ReportSource = 'text' | 'csv' | 'dicom-sr' | 'dicom-pdf' | 'api';

export interface ReportAuthor {
  sub?: string | undefined;
  name?: string | undefined;
}

export interface ReportSubmission {
  source: ReportSource;
  /** The original text, personal data included: sealed in the vault, never stored in clear. */
  text: string;
  /** A de-identified study UID (SR, PDF, API), or the hospital's keys. */
  link: { studyUid: string } | ReportLinkInput;
  uploadId?: string | undefined;
  fileIndex?: number | undefined;
  rowNumber?: number | undefined;
  author?: ReportAuthor | undefined;
  /** Why a new version (corrections through the API). */
  reason?: string | undefined;
  /** Further names to remove (the person names of a DICOM SR). */
  extraNames?: readonly string[] | undefined;
}

export type SubmissionState = 'linked' | 'waiting' | 'duplicate';

export interface SubmissionOutcome {
  submissionId: string;
  state: SubmissionState;
  studyUid?: string;
  version?: number;
  /** Why it waits: a sentence without personal data. */
  reason?: string;
}

interface VaultedReport {
  text: string;
  personNames?: string[];
  accession?: string;
  patientId?: string;
  issuer?: string;
  studyDate?: string;
}

const reportLock = (client: pg.PoolClient, studyUid: string) => client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`report:${studyUid}`]);


type Resolution = { kind: 'study'; studyUid: string } | { kind: 'waiting'; reason: string };

async function resolveStudy(client: pg.PoolClient, keys: ReportLinkKeys): Promise<Resolution> {
  if (keys.accession) {
    const byAccession = await client.query<{ study_uid: string; patient_id: string }>('SELECT study_uid, patient_id FROM studies WHERE accession_number = $1 ORDER BY study_uid', [keys.accession]);
    const candidates = keys.patientId && byAccession.rows.length > 1 ? byAccession.rows.filter((r) => r.patient_id === keys.patientId) : byAccession.rows;
    if (candidates.length === 1) return { kind: 'study', studyUid: (candidates[0] as { study_uid: string }).study_uid };
    if (candidates.length > 1) return { kind: 'waiting', reason: 'Several studies carry this accession number; add the patient ID to tell them apart.' };
  }
  if (keys.patientId && keys.studyDate) {
    const byDate = await client.query<{ study_uid: string }>('SELECT study_uid FROM studies WHERE patient_id = $1 AND study_date = $2::date ORDER BY study_uid', [keys.patientId, keys.studyDate]);
    if (byDate.rows.length === 1) return { kind: 'study', studyUid: (byDate.rows[0] as { study_uid: string }).study_uid };
    if (byDate.rows.length > 1) return { kind: 'waiting', reason: 'The patient has several studies on that date; give the accession number.' };
  }
  if (keys.accession) return { kind: 'waiting', reason: 'No study with this accession number yet; the report is linked when its images arrive.' };
  if (keys.patientId && keys.studyDate) return { kind: 'waiting', reason: 'No study of this patient on that date yet; the report is linked when its images arrive.' };
  return { kind: 'waiting', reason: 'The report names no accession number, and no patient ID with a study date.' };
}

/** Seals a submission, links it if its study is known, else leaves it waiting. */
export async function submitReport(ctx: ReportContext, submission: ReportSubmission): Promise<SubmissionOutcome> {
  const submissionId = randomUUID();
  const text = stripControlCharacters(submission.text).replace(/\r\n?/g, '\n').trim();
  const direct = 'studyUid' in submission.link ? submission.link.studyUid : undefined;
  const given = 'studyUid' in submission.link ? {} : submission.link;
  const keys = direct ? {} : reportLinkKeys(ctx.key, ctx.deidOptions.dateShiftRangeDays, given);
  const vaulted: VaultedReport = { text, ...(submission.extraNames?.length ? { personNames: [...submission.extraNames] } : {}), ...(given.accession ? { accession: given.accession } : {}), ...(given.patientId ? { patientId: given.patientId } : {}), ...(given.issuer ? { issuer: given.issuer } : {}), ...(given.studyDate ? { studyDate: given.studyDate } : {}) };

  return inTransaction(ctx.db, async (client) => {
    await ctx.vault.store(client, [{ kind: 'report', pseudonym: submissionId, identifiers: { ...vaulted } }]);
    const resolution: Resolution = direct ? { kind: 'study', studyUid: direct } : await resolveStudy(client, keys);
    await client.query(
      `INSERT INTO report_submissions (submission_id, state, source, upload_id, file_index, row_number, link_accession, link_patient_id, link_study_date, reason, submitted_by)
       VALUES ($1, 'waiting', $2, $3, $4, $5, $6, $7, $8::date, $9, $10)`,
      [submissionId, submission.source, submission.uploadId ?? null, submission.fileIndex ?? null, submission.rowNumber ?? null, keys.accession ?? null, keys.patientId ?? null, keys.studyDate ?? null,
        resolution.kind === 'waiting' ? resolution.reason : null, submission.author?.sub ?? null],
    );
    if (resolution.kind === 'waiting') return { submissionId, state: 'waiting', reason: resolution.reason };
    return publishSubmission(ctx, client, submissionId, resolution.studyUid, vaulted, submission);
  });
}

/**
 * Scrubs a submission's original with what is known about the study and
 * adds it as the report's next version (or marks it a duplicate when the
 * scrubbed text equals the current version).
 */
async function publishSubmission(ctx: ReportContext, client: pg.PoolClient, submissionId: string, studyUid: string, original: VaultedReport, meta: Pick<ReportSubmission, 'source' | 'author' | 'reason'>): Promise<SubmissionOutcome> {
  await reportLock(client, studyUid);
  const { known, replacements } = await studyScrubbing(ctx, client, studyUid, [{ accessionNumber: original.accession, patientId: original.patientId, personNames: original.personNames }]);
  const scrubbed = scrubReport(original.text, known, replacements);
  // A correction's reason is free text shown with the version ("the name was wrong: …"): scrubbed like the report.
  const reason = meta.reason ? scrubReport(meta.reason, known, replacements).text : null;

  const current = await client.query<{ current_version: number; text: string }>('SELECT current_version, text FROM reports WHERE study_uid = $1', [studyUid]);
  const existing = current.rows[0];
  if (existing && existing.text === scrubbed.text) {
    await client.query(`UPDATE report_submissions SET state = 'duplicate', study_uid = $2, version = $3, reason = NULL, linked_at = now() WHERE submission_id = $1`, [submissionId, studyUid, existing.current_version]);
    return { submissionId, state: 'duplicate', studyUid, version: existing.current_version };
  }
  const version = (existing?.current_version ?? 0) + 1;
  const search = reportSearchTexts(scrubbed.text);
  await client.query(
    `INSERT INTO reports (study_uid, current_version, text, search_text, affirmed_search_text, negated_search_text) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (study_uid) DO UPDATE SET current_version = EXCLUDED.current_version, text = EXCLUDED.text, search_text = EXCLUDED.search_text,
       affirmed_search_text = EXCLUDED.affirmed_search_text, negated_search_text = EXCLUDED.negated_search_text, updated_at = now()`,
    [studyUid, version, scrubbed.text, search.all, search.affirmed, search.negated],
  );
  await client.query(
    `INSERT INTO report_versions (study_uid, version, text, source, submission_id, author_sub, author_name, reason, scrub_counts) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [studyUid, version, scrubbed.text, meta.source, submissionId, meta.author?.sub ?? null, meta.author?.name ?? null, reason, JSON.stringify(scrubbed.counts)],
  );
  await client.query(`UPDATE report_submissions SET state = 'linked', study_uid = $2, version = $3, reason = NULL, linked_at = now() WHERE submission_id = $1`, [submissionId, studyUid, version]);
  // The vault was read to scrub: say so in the audit log (counts only).
  await new AuditLog(client).record({ actorSub: meta.author?.sub, actorName: meta.author?.name ?? 'system', action: 'reports.link', resource: `study/${studyUid}`, details: { submission: submissionId, version, source: meta.source, replaced: scrubbed.counts as Partial<Record<PhiKind, number>> } });
  return { submissionId, state: 'linked', studyUid, version };
}

/**
 * Links the submissions waiting for these (newly indexed) studies: same
 * accession pseudonym, or same patient pseudonym and shifted study date.
 * Called after the index writer committed; safe to call again (a linked
 * submission is no longer waiting). Returns what was linked.
 */
export async function linkWaitingReports(ctx: ReportContext, studyUids: readonly string[]): Promise<SubmissionOutcome[]> {
  if (studyUids.length === 0) return [];
  // One round trip for every study of the batch (called after each committed ingest batch, mostly to find nothing).
  const waiting = await ctx.db.query<{ submission_id: string; link_accession: string | null; link_patient_id: string | null; link_study_date: string | null }>(
    `SELECT submission_id, link_accession, link_patient_id, link_study_date FROM (
       SELECT DISTINCT ON (r.submission_id) r.submission_id, r.link_accession, r.link_patient_id, to_char(r.link_study_date, 'YYYY-MM-DD') AS link_study_date, r.created_at
       FROM studies s JOIN report_submissions r ON r.state = 'waiting'
         AND ((r.link_accession IS NOT NULL AND r.link_accession = s.accession_number) OR (r.link_patient_id = s.patient_id AND r.link_study_date = s.study_date))
       WHERE s.study_uid = ANY($1)
       ORDER BY r.submission_id) w
     ORDER BY created_at, submission_id`,
    [[...studyUids]],
  );
  const outcomes: SubmissionOutcome[] = [];
  for (const candidate of waiting.rows) {
    const outcome = await inTransaction(ctx.db, async (client) => {
      // Another worker may have linked it meanwhile.
      const locked = await client.query<{ source: ReportSource; submitted_by: string | null }>(`SELECT source, submitted_by FROM report_submissions WHERE submission_id = $1 AND state = 'waiting' FOR UPDATE SKIP LOCKED`, [candidate.submission_id]);
      const row = locked.rows[0];
      if (!row) return undefined;
      const resolution = await resolveStudy(client, { ...(candidate.link_accession ? { accession: candidate.link_accession } : {}), ...(candidate.link_patient_id ? { patientId: candidate.link_patient_id } : {}), ...(candidate.link_study_date ? { studyDate: candidate.link_study_date } : {}) });
      if (resolution.kind === 'waiting') {
        await client.query('UPDATE report_submissions SET reason = $2 WHERE submission_id = $1', [candidate.submission_id, resolution.reason]);
        return undefined;
      }
      const original = (await ctx.vault.revealIdentifiers(client, 'report', candidate.submission_id)) as VaultedReport | undefined;
      if (!original || typeof original.text !== 'string') throw new Error('a waiting report has no original in the PHI vault');
      const owner = row.submitted_by ? await client.query<{ owner_name: string | null }>('SELECT owner_name FROM uploads u JOIN report_submissions r ON r.upload_id = u.upload_id WHERE r.submission_id = $1', [candidate.submission_id]) : undefined;
      return publishSubmission(ctx, client, candidate.submission_id, resolution.studyUid, original, { source: row.source, author: { sub: row.submitted_by ?? undefined, name: owner?.rows[0]?.owner_name ?? undefined } });
    });
    if (outcome) outcomes.push(outcome);
  }
  return outcomes;
}
