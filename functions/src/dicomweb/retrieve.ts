/**
 * WADO-RS retrieve of a study, series or instance (PS3.18 §10.4.1.1.1):
 * multipart/related; type="application/dicom", one part per archived Part 10
 * file, streamed from the archive as stored (no transcoding). A single
 * instance may also be asked for as bare application/dicom. A study or
 * series holds the instances its QIDO-RS lists answer the caller.
 */
import { annotationInstanceShownSql } from '@medlake/shared/annotations/visibility-sql';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { notFound } from '../http/errors';
import type { HttpRequest } from '../http/router';
import { notAcceptable, parseAccept, typeMatches } from './accept';
import { archiveReader } from './archive-reader';
import { closingDelimiter, newBoundary, partHeader } from './multipart';
import type { StreamingResult } from './streaming';
import { streamed } from './streaming';
import { auditStudyAccess } from './study-access';
import { transferSyntaxName } from './transfer-syntax';

interface Stored {
  sop_uid: string;
  study_uid: string;
  transfer_syntax_uid: string;
  archive_key: string;
  size_bytes: string;
}

type Rendition = { kind: 'multipart' } | { kind: 'single' };

/** How to send these instances for this Accept header; 406 with the reason otherwise. (Exported for tests.) */
export function negotiateRetrieve(accept: string | undefined, storedSyntaxes: readonly string[], single: boolean): Rendition {
  for (const range of parseAccept(accept)) {
    if (range.type === '*/*' || range.type === 'multipart/*') return { kind: 'multipart' };
    if (range.type === 'application/dicom' && single) {
      const wanted = range.params['transfer-syntax'];
      if (!wanted || wanted === '*' || storedSyntaxes.every((s) => s === wanted)) return { kind: 'single' };
      continue;
    }
    if (range.type !== 'multipart/related') continue;
    const partType = range.params.type?.toLowerCase() ?? 'application/dicom';
    if (!typeMatches(partType, 'application/dicom')) continue;
    const wanted = range.params['transfer-syntax'];
    if (!wanted || wanted === '*' || storedSyntaxes.every((s) => s === wanted)) return { kind: 'multipart' };
  }
  const stored = [...new Set(storedSyntaxes)].map((s) => `${transferSyntaxName(s)} (${s})`).join(', ');
  throw notAcceptable(`Instances are sent as stored (${stored}); transcoding is not supported. Ask for multipart/related; type="application/dicom" with transfer-syntax=* or without transfer-syntax.`);
}

export async function answerRetrieve(request: HttpRequest<unknown>, db: Queryable = databasePool()): Promise<StreamingResult> {
  const { study, series, instance } = request.params as { study: string; series?: string; instance?: string };
  const values: (string | null)[] = [study];
  let where = 'study_uid = $1';
  if (series) {
    values.push(series);
    where += ` AND series_uid = $${values.length}`;
  }
  if (instance) {
    values.push(instance);
    where += ` AND sop_uid = $${values.length}`;
  } else {
    // A study or series sends what its QIDO-RS lists hold: of each annotation set the version the caller looks at (older ones by their own path).
    values.push(request.principal?.sub ?? null);
    where += ` AND ${annotationInstanceShownSql('instances.sop_uid', `$${values.length}`)}`;
  }
  const rows = (await db.query<Stored>(`SELECT sop_uid, study_uid, transfer_syntax_uid, archive_key, size_bytes FROM instances WHERE ${where} ORDER BY series_uid, instance_number NULLS LAST, sop_uid`, values)).rows;
  if (rows.length === 0) throw notFound('not_found', instance ? 'No such instance in this series and study.' : series ? 'No such series in this study.' : 'No such study.');
  const rendition = negotiateRetrieve(request.header('accept'), rows.map((r) => r.transfer_syntax_uid), Boolean(instance));
  await auditStudyAccess(request, 'retrieve', [study]);
  const reader = archiveReader();
  if (rendition.kind === 'single') {
    const row = rows[0] as Stored;
    return streamed(200, `application/dicom; transfer-syntax=${row.transfer_syntax_uid}`, { bytes: Number(row.size_bytes), chunks: () => reader.chunks(row.archive_key) });
  }
  const boundary = newBoundary();
  const headers = rows.map((row, i) => partHeader(boundary, { contentType: `application/dicom; transfer-syntax=${row.transfer_syntax_uid}` }, i === 0));
  const closing = closingDelimiter(boundary);
  const bytes = rows.reduce((sum, row, i) => sum + Number(row.size_bytes) + (headers[i] as Buffer).length, closing.length);
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (const [i, row] of rows.entries()) {
      yield headers[i] as Buffer;
      yield* reader.chunks(row.archive_key);
    }
    yield closing;
  }
  return streamed(200, `multipart/related; type="application/dicom"; boundary=${boundary}`, { bytes, chunks });
}
