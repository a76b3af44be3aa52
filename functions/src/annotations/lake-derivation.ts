/**
 * What de-identification needs to store an object made from lake data (a
 * viewer's SR posted back through STOW-RS, or an SR the API builds) in the
 * study it belongs to: the UIDs the lake issued for that study, its patient
 * pseudonym and accession pseudonym. See DerivedFromLake in
 * shared/src/dicom/deidentify-part10.ts.
 */
import type { DerivedFromLake } from '@medlake/shared/dicom/deidentify-part10';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';

/**
 * The lake's identifiers of a study, or undefined when the UID is no study of
 * the lake (then the object is new data and is de-identified as such).
 * `extraUids` are UIDs the caller issued itself (an SR the API builds).
 */
export async function lakeDerivation(studyUid: string, extraUids: readonly string[] = [], db: Queryable = databasePool()): Promise<DerivedFromLake | undefined> {
  const study = await db.query<{ patient_id: string; accession_number: string | null }>('SELECT patient_id, accession_number FROM studies WHERE study_uid = $1', [studyUid]);
  const row = study.rows[0];
  if (!row) return undefined;
  // Study, series, instances, frames of reference, and the tracking UIDs of the study's annotation versions.
  const uids = await db.query<{ uid: string }>(
    `SELECT $1::text AS uid
     UNION SELECT series_uid FROM series WHERE study_uid = $1
     UNION SELECT sop_uid FROM instances WHERE study_uid = $1
     UNION SELECT attributes -> '00200052' -> 'Value' ->> 0 FROM series WHERE study_uid = $1 AND attributes ? '00200052'
     UNION SELECT m ->> 'trackingUid' FROM annotation_versions av JOIN annotation_sets s ON s.set_id = av.set_id,
       jsonb_array_elements(av.document -> 'measurements') m
       WHERE s.study_uid = $1 AND m ->> 'trackingUid' IS NOT NULL`,
    [studyUid],
  );
  const knownUids = new Set<string>(extraUids);
  for (const r of uids.rows) if (r.uid) knownUids.add(r.uid);
  return { knownUids, patientPseudonym: row.patient_id, accessionNumber: row.accession_number };
}
