/**
 * WADO-RS bulk data (the BulkDataURIs of /metadata): one top-level element's
 * value as multipart/related; type="application/octet-stream". Pixel Data is
 * read by byte range at the offset recorded at ingest; other bulk elements
 * (rare: overlays, ICC profiles, waveforms, encapsulated documents) are
 * located by parsing the stored header up to that element.
 */
import dicomParser from 'dicom-parser';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { badRequest, notFound } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { binary } from '../http/response';
import { notAcceptable, parseAccept } from './accept';
import { archiveReader } from './archive-reader';
import { buildMultipart, newBoundary } from './multipart';
import { auditStudyAccess } from './study-access';

export async function answerBulk(request: HttpRequest<unknown>, db: Queryable = databasePool()): Promise<HttpResult> {
  const { study, series, instance, tag: rawTag } = request.params as Record<string, string>;
  const tag = (rawTag ?? '').toUpperCase();
  if (!/^[0-9A-F]{8}$/.test(tag)) throw badRequest('invalid_tag', 'Bulk data is addressed by a tag of 8 hex digits, e.g. 7FE00010.');
  const accepted = parseAccept(request.header('accept')).some((r) => r.type === '*/*' || r.type === 'multipart/related' || r.type === 'application/octet-stream');
  if (!accepted) throw notAcceptable('Bulk data is sent as multipart/related; type="application/octet-stream".');
  const row = (await db.query<{ archive_key: string; pixel_data_offset: string | null; pixel_data_length: string | null; attributes: Record<string, { BulkDataURI?: string }>; transfer_syntax_uid: string }>(
    'SELECT archive_key, pixel_data_offset, pixel_data_length, attributes, transfer_syntax_uid FROM instances WHERE sop_uid = $1 AND series_uid = $2 AND study_uid = $3',
    [instance, series, study],
  )).rows[0];
  if (!row) throw notFound('not_found', 'No such instance in this series and study.');
  if (!row.attributes[tag] || row.attributes[tag]?.BulkDataURI === undefined) throw notFound('no_bulk_data', `This instance has no bulk data element ${tag}.`);
  let bytes: Buffer;
  if (tag === '7FE00010' && row.pixel_data_offset !== null && row.pixel_data_length !== null) {
    bytes = await archiveReader().range(row.archive_key, Number(row.pixel_data_offset), Number(row.pixel_data_length));
  } else {
    const file = await archiveReader().whole(row.archive_key);
    const element = dicomParser.parseDicom(file).elements[`x${tag.toLowerCase()}`];
    if (!element) throw notFound('no_bulk_data', `Element ${tag} is not in the stored file.`);
    bytes = file.subarray(element.dataOffset, element.dataOffset + element.length);
  }
  await auditStudyAccess(request, 'retrieve', [study as string]);
  const boundary = newBoundary();
  const type = `application/octet-stream; transfer-syntax=${row.transfer_syntax_uid}`;
  return binary(200, buildMultipart(boundary, [{ contentType: type, body: bytes }]), `multipart/related; type="application/octet-stream"; boundary=${boundary}`, {
    headers: { 'cache-control': 'private, max-age=3600' },
  });
}
