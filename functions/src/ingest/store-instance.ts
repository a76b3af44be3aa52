/**
 * One DICOM Part 10 instance into the lake: de-identify (parse once, pixel
 * data copied, never decoded) → archive object → index rows and PHI vault
 * records, through the group-committing index writer. Used by the ingest
 * worker for every uploaded file or zip entry, and by STOW-RS, so every
 * instance takes the same path whatever door it came through.
 */
import { createHash } from 'node:crypto';
import { deidentifyPart10, isDicomRejection } from '@medlake/shared/dicom/index';
import type { DeidentifiedInstance } from '@medlake/shared/dicom/index';
import type { DerivedFromLake } from '@medlake/shared/dicom/deidentify-part10';
import { isReportSopClass } from '@medlake/shared/reports/dicom-report-text';
import type { HeldRelease, IndexDecision, InstanceOrigin, InstanceToIndex, VaultEntry } from '../adapters/index-writer';
import { ingestDicomReport } from '../reports/ingest-dicom-report';
import { reportContextFor } from '../reports/report-context';
import type { IngestContext } from './ingest-context';
import { ingestContextFromEnv } from './ingest-context';

export type StoreOutcome = IndexDecision | 'rejected';

export interface StoreResult {
  outcome: StoreOutcome;
  /** Machine code of a rejection (DicomRejection codes, or `archive-entry`). */
  code?: string;
  /** A sentence for the uploader; never a value from the file. */
  reason?: string;
  studyUid?: string;
  seriesUid?: string;
  sopUid?: string;
  sopClassUid?: string;
  /** Version number when this call published a new version (1 for the first). */
  version?: number;
}

export type { InstanceOrigin };

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * De-identifies and stores one instance. Unreadable input is a `rejected`
 * result with a reason; storage failures (S3, PostgreSQL) throw, so the
 * caller's message or request can be retried.
 */
export async function storeInstance(part10: Uint8Array, origin: InstanceOrigin, context?: IngestContext, known?: { sourceSha256?: string; derivedFrom?: DerivedFromLake | undefined }): Promise<StoreResult> {
  const ctx = context ?? (await ingestContextFromEnv());
  const slot = ctx.batcher.reserve();
  let deidentified: DeidentifiedInstance;
  let item: InstanceToIndex;
  try {
    // An object made from lake data (a viewer's SR posted back) keeps the lake's identifiers of its study.
    deidentified = deidentifyPart10(part10, { key: ctx.key, options: ctx.deidOptions, ...(known?.derivedFrom ? { derivedFrom: known.derivedFrom } : {}) });
    // The caller may already have hashed these bytes (the quarantine read does, for single-instance files).
    item = instanceToIndex(deidentified, { sourceSha256: known?.sourceSha256 ?? sha256(part10), origin, vault: vaultEntries(deidentified) });
  } catch (error) {
    slot.cancel();
    if (isDicomRejection(error)) return { outcome: 'rejected', code: error.code, reason: error.reason };
    throw error;
  }
  const outcome = await slot.submit(item);
  // Reports inside DICOM (SR text, PDF) are read from the original bytes: de-identification removed them.
  if (outcome.outcome === 'accepted' && isReportSopClass(deidentified.uids.sopClass)) {
    await ingestDicomReport(await reportContextFor(ctx), part10, outcome.studyUid, { uploadId: origin.uploadId, fileIndex: origin.fileIndex });
  }
  return {
    outcome: outcome.outcome,
    ...(outcome.outcome === 'held' ? { reason: deidentified.held?.reason ?? 'held for review' } : {}),
    studyUid: outcome.studyUid,
    seriesUid: outcome.seriesUid,
    sopUid: outcome.sopUid,
    sopClassUid: deidentified.uids.sopClass,
    ...(outcome.version !== undefined && outcome.outcome === 'accepted' ? { version: outcome.version } : {}),
  };
}

/** The original identifiers, split by the pseudonym that re-identifies them. */
function vaultEntries(d: DeidentifiedInstance): VaultEntry[] {
  const { original } = d;
  const { patientName, patientId, issuerOfPatientId, otherPatientIds, birthDate, sex, studyUid, seriesUid, sopUid, frameOfReferenceUid, transferSyntaxUid, ...studyLevel } = original;
  return [
    { kind: 'patient', pseudonym: d.patientPseudonym, identifiers: { patientName, patientId, issuerOfPatientId, otherPatientIds, birthDate, sex, dateShiftDays: d.dateShiftDays } },
    { kind: 'study', pseudonym: d.uids.study, identifiers: { studyUid, ...studyLevel } },
    { kind: 'series', pseudonym: d.uids.series, identifiers: { seriesUid, frameOfReferenceUid } },
    { kind: 'instance', pseudonym: d.uids.sop, identifiers: { sopUid, seriesUid, studyUid, transferSyntaxUid } },
  ];
}

/** What the index writer needs of a de-identified file: a fresh de-identification, or a held file coming back for release. */
export type IndexableInstance = Pick<DeidentifiedInstance, 'part10' | 'uids' | 'index' | 'dicomJson' | 'frames' | 'frameFragments' | 'pixelData' | 'sourceUidHash' | 'held'>;

export function instanceToIndex(d: IndexableInstance, source: { sourceSha256: string; origin: InstanceOrigin; vault: readonly VaultEntry[]; release?: HeldRelease; sha256?: string }): InstanceToIndex {
  const { patient, study, series, instance } = d.index;
  return {
    patient: { patientId: patient.patientId, patientName: patient.patientName, sex: patient.sex, birthDate: patient.birthDate },
    study: {
      studyUid: d.uids.study,
      studyDate: study.studyDate,
      studyTime: study.studyTime,
      accessionNumber: study.accessionNumber,
      studyId: study.studyId,
      description: study.description,
      patientAge: study.patientAge,
      referringPhysician: study.referringPhysician,
      attributes: study.attributes,
    },
    series: {
      seriesUid: d.uids.series,
      modality: series.modality,
      seriesNumber: series.seriesNumber,
      description: series.description,
      bodyPart: series.bodyPart,
      attributes: series.attributes,
    },
    instance: {
      sopUid: d.uids.sop,
      sopClassUid: d.uids.sopClass,
      instanceNumber: instance.instanceNumber,
      transferSyntaxUid: d.uids.transferSyntax,
      numberOfFrames: instance.numberOfFrames,
      rows: instance.rows,
      columns: instance.columns,
      attributes: d.dicomJson,
      frameRanges: d.frames,
      frameFragments: d.frameFragments,
      pixelDataOffset: d.pixelData?.offset ?? null,
      pixelDataLength: d.pixelData?.length ?? null,
    },
    part10: d.part10,
    // A released held file was hashed when it was read back (and checked against its record).
    sha256: source.sha256 ?? sha256(d.part10),
    sourceSha256: source.sourceSha256,
    sourceUidHash: d.sourceUidHash,
    held: d.held,
    ...(source.release ? { release: source.release } : {}),
    vault: source.vault,
    origin: source.origin,
  };
}
