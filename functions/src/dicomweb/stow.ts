/**
 * STOW-RS (PS3.18 §10.5): `POST /studies` and `POST /studies/{S}` with
 * multipart/related; type="application/dicom". Every part goes through the
 * ingest path's `storeInstance` (de-identification, archive, index in one
 * transaction), so what the viewer saves (measurement SRs, SEGs) is in the
 * next QIDO and /metadata answer. An object about a study of the lake keeps
 * the UIDs, pseudonym and dates the lake issued (de-identification's
 * derived-from-lake mode), so it lands in that study. The answer is the Store Instances Response
 * Module (PS3.18 Table 10.5.3-1): 200 all stored, 202 some failed or were
 * changed (warnings), 409 none stored.
 */
import dicomParser from 'dicom-parser';
import type { DerivedFromLake } from '@medlake/shared/dicom/deidentify-part10';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { storeInstance } from '../ingest/store-instance';
import type { StoreResult } from '../ingest/store-instance';
import { HttpError } from '../http/errors';
import type { HttpRequest } from '../http/router';
import type { HttpResult } from '../http/types';
import { audit } from '../auth/audit-trail';
import { recordAnnotationSave } from '../annotations/stow-hook';
import { dicomwebBaseUrl } from './base-url';
import type { DicomElement, DicomJson } from './dicom-json';
import { parseMediaType, parseMultipart } from './multipart';

/** PS3.18 Table 10.5.3-2 / PS3.4 Annex GG failure and warning reasons. */
export const stowReasons = {
  /** Processing failure: the instance was taken in but held for review, not published. */
  processingFailure: 0x0110,
  /** Refused: out of resources. */
  outOfResources: 0xa700,
  /** Error: data set does not match SOP class (here: it belongs to another study than the URL's). */
  studyMismatch: 0xa900,
  /** Error: cannot understand (not DICOM, unreadable). */
  cannotUnderstand: 0xc000,
  /** Warning: coercion of data elements (de-identification changed identifying values). */
  coercion: 0xb000,
} as const;

interface PostedIdentifiers {
  studyUid: string | undefined;
  sopClassUid: string | undefined;
  sopUid: string | undefined;
}

function postedIdentifiers(part: Uint8Array): PostedIdentifiers {
  try {
    const dataSet = dicomParser.parseDicom(part, { untilTag: 'x7fe00010' });
    const read = (tag: string) => dataSet.string(tag)?.trim() || undefined;
    return { studyUid: read('x0020000d'), sopClassUid: read('x00080016'), sopUid: read('x00080018') };
  } catch {
    return { studyUid: undefined, sopClassUid: undefined, sopUid: undefined };
  }
}

/**
 * What the lake issued for a study, when a posted object belongs to one (a
 * viewer's SR or SEG about lake images): its UIDs (study, series, instances,
 * frames of reference), patient pseudonym and accession, which
 * de-identification then keeps instead of remapping them a second time.
 * Undefined for a study the lake does not hold (a new object is de-identified
 * like any upload).
 */
export async function derivedFromLake(studyUid: string, db: Queryable = databasePool()): Promise<DerivedFromLake | undefined> {
  const row = (await db.query<{ patient_id: string; accession_number: string | null; uids: string[] }>(
    `SELECT s.patient_id, s.accession_number,
            ARRAY(SELECT series_uid FROM series WHERE study_uid = s.study_uid)
            || ARRAY(SELECT sop_uid FROM instances WHERE study_uid = s.study_uid)
            || ARRAY(SELECT DISTINCT i.attributes -> '00200052' -> 'Value' ->> 0 FROM instances i
                     WHERE i.study_uid = s.study_uid AND i.attributes ? '00200052') AS uids
     FROM studies s WHERE s.study_uid = $1`,
    [studyUid],
  )).rows[0];
  if (!row) return undefined;
  return { knownUids: new Set([studyUid, ...row.uids.filter(Boolean)]), patientPseudonym: row.patient_id, accessionNumber: row.accession_number };
}

const ui = (value: string | undefined): DicomElement => (value ? { vr: 'UI', Value: [value] } : { vr: 'UI' });
const us = (value: number): DicomElement => ({ vr: 'US', Value: [value] });

export async function answerStow(request: HttpRequest<unknown>): Promise<HttpResult> {
  const contentType = parseMediaType(request.header('content-type') ?? '');
  if (contentType.type !== 'multipart/related') {
    throw new HttpError(415, 'unsupported_media_type', 'STOW-RS takes multipart/related; type="application/dicom" (one DICOM Part 10 file per part).');
  }
  const partType = (contentType.params.type ?? 'application/dicom').toLowerCase();
  if (partType !== 'application/dicom') {
    throw new HttpError(415, 'unsupported_media_type', `Only application/dicom parts are accepted (not ${partType}): DICOM JSON/XML with bulk data is not supported.`);
  }
  const boundary = contentType.params.boundary;
  if (!boundary) throw new HttpError(400, 'invalid_multipart', 'The Content-Type has no boundary parameter.');
  const parts = parseMultipart(request.rawBody, boundary);
  if (parts.length === 0) throw new HttpError(400, 'invalid_multipart', 'The request holds no parts.');
  const targetStudy = request.params.study;
  const baseUrl = dicomwebBaseUrl(request);

  const lakeStudies = new Map<string, Promise<DerivedFromLake | undefined>>();
  const referenced: DicomJson[] = [];
  const failed: DicomJson[] = [];
  const storedStudies = new Set<string>();
  let warnings = 0;
  for (const part of parts) {
    const type = parseMediaType(part.contentType).type;
    const posted = postedIdentifiers(part.body);
    const fail = (reason: number) => failed.push({ '00081150': ui(posted.sopClassUid), '00081155': ui(posted.sopUid), '00081197': us(reason) });
    if (type !== 'application/dicom') {
      fail(stowReasons.cannotUnderstand);
      continue;
    }
    if (targetStudy && posted.studyUid !== targetStudy) {
      fail(stowReasons.studyMismatch);
      continue;
    }
    let result: StoreResult;
    try {
      let derivedFrom: DerivedFromLake | undefined;
      if (posted.studyUid) {
        if (!lakeStudies.has(posted.studyUid)) lakeStudies.set(posted.studyUid, derivedFromLake(posted.studyUid));
        derivedFrom = await lakeStudies.get(posted.studyUid);
      }
      result = await storeInstance(part.body, { uploadId: undefined, fileIndex: undefined, via: 'stow' }, undefined, { derivedFrom });
      // A measurement report becomes the next version of its annotation set (functions/src/annotations).
      if (result.outcome === 'accepted' || result.outcome === 'duplicate') await recordAnnotationSave(request, result);
    } catch (error) {
      request.logger.error('STOW-RS store failed', { error: { name: (error as Error).name, message: (error as Error).message } });
      fail(stowReasons.outOfResources);
      continue;
    }
    if (result.outcome === 'rejected') {
      fail(stowReasons.cannotUnderstand);
      continue;
    }
    if (result.outcome === 'held') {
      fail(stowReasons.processingFailure);
      continue;
    }
    const url = `${baseUrl}/studies/${result.studyUid}/series/${result.seriesUid}/instances/${result.sopUid}`;
    const item: DicomJson = { '00081150': ui(result.sopClassUid), '00081155': ui(result.sopUid), '00081190': { vr: 'UR', Value: [url] } };
    // The stored instance answers to other UIDs than the posted one: say so, as the standard's coercion warning.
    if (result.sopUid !== posted.sopUid || result.studyUid !== posted.studyUid) {
      item['00081196'] = us(stowReasons.coercion);
      warnings++;
    }
    referenced.push(item);
    if (result.studyUid) storedStudies.add(result.studyUid);
  }

  await audit(request, 'dicomweb.stow', {
    resource: storedStudies.size === 1 ? `study/${[...storedStudies][0]}` : undefined,
    outcome: referenced.length ? 'ok' : 'failed',
    details: { stored: referenced.length, failed: failed.length, studies: [...storedStudies] },
  });
  const answer: DicomJson = {};
  if (storedStudies.size === 1) answer['00081190'] = { vr: 'UR', Value: [`${baseUrl}/studies/${[...storedStudies][0]}`] };
  if (failed.length) answer['00081198'] = { vr: 'SQ', Value: failed };
  if (referenced.length) answer['00081199'] = { vr: 'SQ', Value: referenced };
  const status = referenced.length === 0 ? 409 : failed.length || warnings ? 202 : 200;
  return { statusCode: status, headers: { 'content-type': 'application/dicom+json', 'cache-control': 'no-store' }, body: JSON.stringify(answer) };
}
