/**
 * Telling the requester: the email when an export is done (its presigned
 * link, the stable /download address, the expiry) or has failed (the
 * reason), and the matching audit entries. Emails go through the notify
 * queue (NotifyQueueMailer: the notify function sends them and then writes
 * the `exports.link-emailed` audit entry). Enqueued once per export: the
 * claim on `notified_at` makes a redelivered message skip it. No PHI: an
 * export is described by its id, name, counts and size.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { AuditLog } from '../adapters/audit-log';
import type { MailMessage, SentMail } from '../adapters/mailer';
import type { EmailMessage } from '../notify/messages';
import { presignDownload } from './download-link';
import type { ExportRecord, ExportRecords } from './export-records';

export interface NoticeContext {
  records: ExportRecords;
  audit: AuditLog;
  /** Sends (enqueues) an email; the audit entry is written once it has gone out. */
  mailer: { send(message: MailMessage, audit?: EmailMessage['audit']): Promise<SentMail> };
  presigner: S3Client;
  exportsBucket: string;
  publicBaseUrl: string | undefined;
  log: (message: string, details?: Record<string, unknown>) => void;
}

function title(record: ExportRecord): string {
  return record.name ? `"${record.name}"` : `export ${record.exportId.slice(0, 8)}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 1 : 0)} MB`;
}

export function downloadPath(exportId: string): string {
  return `/api/exports/${exportId}/download`;
}

export async function noticeDone(context: NoticeContext, record: ExportRecord): Promise<void> {
  if (!record.ownerEmail) {
    context.log('no email for a finished export: its owner has no email address', { exportId: record.exportId });
    return;
  }
  if (!(await context.records.claimNotification(record.exportId))) return;
  try {
    const expiresAt = record.expiresAt as Date;
    const link = await presignDownload(context.presigner, context.exportsBucket, record.exportId, record.objectKey as string, expiresAt);
    const stable = `${context.publicBaseUrl ?? ''}${downloadPath(record.exportId)}`;
    const when = expiresAt.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
    await context.mailer.send({
      to: record.ownerEmail,
      subject: `medlake: ${title(record)} is ready`,
      text: [
        `Your medlake export ${title(record)} is ready: ${record.zipFiles ?? 0} files, ${megabytes(record.zipBytes ?? 0)}, in one zip.`,
        '',
        `Download it (this link works until ${when}):`,
        link?.url ?? '(expired)',
        '',
        'If the link stops working earlier, download it from medlake while signed in:',
        stable,
        '',
        `The zip is deleted on ${when}. Export id: ${record.exportId}.`,
      ].join('\n'),
    }, { action: 'exports.link-emailed', resource: `export/${record.exportId}`, actorSub: record.ownerSub, ...(record.ownerName ? { actorName: record.ownerName } : {}), details: { expiresAt: expiresAt.toISOString() } });
  } catch (error) {
    await context.records.unclaimNotification(record.exportId);
    throw error;
  }
}

export async function noticeFailed(context: NoticeContext, record: ExportRecord): Promise<void> {
  await context.audit.record({ actorSub: record.ownerSub, actorName: record.ownerName ?? undefined, action: 'exports.failed', resource: `export/${record.exportId}`, outcome: 'failed', details: { code: record.failure?.code } });
  if (!record.ownerEmail) return;
  if (!(await context.records.claimNotification(record.exportId))) return;
  try {
    await context.mailer.send({
      to: record.ownerEmail,
      subject: `medlake: ${title(record)} failed`,
      text: [
        `Your medlake export ${title(record)} could not be made.`,
        '',
        record.failure?.message ?? 'It failed.',
        '',
        `Export id: ${record.exportId}.`,
      ].join('\n'),
    });
  } catch (error) {
    await context.records.unclaimNotification(record.exportId);
    throw error;
  }
}
