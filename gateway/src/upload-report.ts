/**
 * The end of an upload run, for people (a short summary) and for scripts
 * (--json), and the exit code both share.
 */
import { formatBytes } from '@medlake/shared/byte-size';
import type { SkippedFile } from './collect-files';
import type { FileOutcome } from './upload-run';
import { tally } from './upload-run';

export const exitCodes = {
  ok: 0,
  /** Some file was rejected by the server or could not be sent. */
  rejectedOrFailed: 1,
  /** Bad usage, configuration or sign-in: nothing was sent. */
  usage: 2,
  /** Sent, but the server had not finished every file when --wait-timeout ran out. */
  stillProcessing: 3,
  interrupted: 130,
} as const;

export interface RunReport {
  ok: boolean;
  exitCode: number;
  dryRun: boolean;
  interrupted: boolean;
  server: string;
  durationSeconds: number;
  bytesSent: number;
  totals: ReturnType<typeof tally> & { files: number; skipped: number; instances: { accepted: number; duplicate: number; rejected: number; held: number } };
  uploads: string[];
  files: {
    path: string;
    kind: string;
    sizeBytes: number;
    sha256?: string;
    transfer: FileOutcome['transfer'];
    state: FileOutcome['state'];
    reason?: string;
    uploadId?: string;
    index?: number;
    instances?: FileOutcome['instances'];
    studies?: string[];
  }[];
  skipped: SkippedFile[];
}

export function buildReport(input: { server: string; outcomes: FileOutcome[]; skipped: SkippedFile[]; startedAt: number; bytesSent: number; dryRun: boolean; interrupted: boolean }): RunReport {
  const counts = tally(input.outcomes);
  const instances = { accepted: 0, duplicate: 0, rejected: 0, held: 0 };
  for (const outcome of input.outcomes) {
    for (const key of Object.keys(instances) as (keyof typeof instances)[]) instances[key] += outcome.instances?.[key] ?? 0;
  }
  const exitCode = input.interrupted
    ? exitCodes.interrupted
    : counts.rejected > 0 || counts.failed > 0 || (!input.dryRun && counts['not-sent'] > 0)
      ? exitCodes.rejectedOrFailed
      : counts.pending > 0 && !input.dryRun
        ? exitCodes.stillProcessing
        : exitCodes.ok;
  return {
    ok: exitCode === exitCodes.ok,
    exitCode,
    dryRun: input.dryRun,
    interrupted: input.interrupted,
    server: input.server,
    durationSeconds: Math.round((Date.now() - input.startedAt) / 100) / 10,
    bytesSent: input.bytesSent,
    totals: { ...counts, files: input.outcomes.length, skipped: input.skipped.length, instances },
    uploads: [...new Set(input.outcomes.map((o) => o.uploadId).filter((id): id is string => Boolean(id)))],
    files: input.outcomes.map((o) => ({
      path: o.file.displayPath,
      kind: o.file.kind,
      sizeBytes: o.file.sizeBytes,
      ...(o.sha256 ? { sha256: o.sha256 } : {}),
      transfer: o.transfer,
      state: o.state,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.uploadId ? { uploadId: o.uploadId, index: o.index } : {}),
      ...(o.instances ? { instances: o.instances } : {}),
      ...(o.studies ? { studies: o.studies } : {}),
    })),
    skipped: input.skipped,
  };
}

const listLimit = 20;

export function renderReport(report: RunReport): string {
  const t = report.totals;
  const lines: string[] = [];
  if (report.dryRun) {
    lines.push(`Dry run: ${t.files} file(s) would be considered, ${t.resumed} already sent earlier, ${t.files - t.resumed} to send; ${t.skipped} skipped.`);
  } else {
    const rate = report.durationSeconds > 0 ? ` (${formatBytes(report.bytesSent / report.durationSeconds)}/s)` : '';
    lines.push(`${t.files} file(s): ${t.sent} sent now (${formatBytes(report.bytesSent)} in ${report.durationSeconds} s${rate}), ${t.resumed} sent by an earlier run; ${t.skipped} skipped.`);
    lines.push(`Server results: ${t.accepted} accepted, ${t.duplicate} duplicate, ${t.rejected} rejected, ${t.held} held for review, ${t.pending} still processing, ${t.failed} failed${t['not-sent'] ? `, ${t['not-sent']} not sent` : ''}.`);
    const inst = t.instances;
    if (inst.accepted + inst.duplicate + inst.rejected + inst.held > 0) {
      lines.push(`Instances: ${inst.accepted} accepted, ${inst.duplicate} duplicate, ${inst.rejected} rejected, ${inst.held} held.`);
    }
  }
  section(lines, 'Rejected', report.files.filter((f) => f.state === 'rejected').map((f) => `${f.path}: ${f.reason ?? 'no reason given'}`));
  section(lines, 'Failed', report.files.filter((f) => f.state === 'failed').map((f) => `${f.path}: ${f.reason ?? 'unknown error'}`));
  section(lines, 'Held for review', report.files.filter((f) => f.state === 'held').map((f) => `${f.path}${f.reason ? `: ${f.reason}` : ''}`));
  section(lines, 'Skipped', report.skipped.map((s) => `${s.displayPath}: ${s.reason}`));
  if (report.interrupted) lines.push('Interrupted: run the same command again to resume; files already sent are not sent again.');
  else if (report.exitCode === exitCodes.stillProcessing) lines.push('The server is still processing some files: run the same command again later to see their results (nothing is sent twice).');
  return `${lines.join('\n')}\n`;
}

function section(lines: string[], title: string, items: string[]): void {
  if (items.length === 0) return;
  lines.push(`${title} (${items.length}):`);
  for (const item of items.slice(0, listLimit)) lines.push(`  ${item}`);
  if (items.length > listLimit) lines.push(`  … and ${items.length - listLimit} more (--json lists all)`);
}
