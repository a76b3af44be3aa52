/**
 * Making annotation versions. Two doors, one history:
 * - a measurement report or a segmentation the viewer saved through STOW-RS
 *   (or that was uploaded for a study of the lake) becomes the next version
 *   of the set the versioning rule picks (shared/src/annotations/
 *   versioning-rule.ts), or version 1 of a new set;
 * - the API writes a version from JSON (or restores an old one): the SR is
 *   built with dcmjs and stored through `storeInstance`, exactly as a
 *   STOW-RS part would be, then recorded, all under the study's lock so an
 *   If-Match on the parent version is checked against what is really latest.
 * Versions are never changed or deleted; a set only moves its pointer.
 */
import { randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import type { AnnotationDocument } from '@medlake/shared/annotations/annotation-document';
import { documentFromSr, isMeasurementReport, measurementReportSopClasses, predecessorSopUids } from '@medlake/shared/annotations/annotation-document';
import type { AnnotationKind, Author } from '@medlake/shared/annotations/annotation-views';
import type { SegmentationDocument } from '@medlake/shared/annotations/segmentation-document';
import { isSegmentationDocument, referencedSegmentationSops, segmentationDocument, segmentationSopClass } from '@medlake/shared/annotations/segmentation-document';
import type { MeasurementSpec } from '@medlake/shared/annotations/measurement-input';
import { specOfMeasurement } from '@medlake/shared/annotations/measurement-input';
import type { ReferencedImage, ReportStudy } from '@medlake/shared/annotations/sr-content';
import { measurementReportDataset, reportOwnUids } from '@medlake/shared/annotations/sr-content';
import { decideAnnotationSet } from '@medlake/shared/annotations/versioning-rule';
import type { DicomJson } from '@medlake/shared/dicom/dicom-json';
import type { Queryable } from '../adapters/database';
import { databasePool } from '../adapters/database';
import { HttpError, badRequest, notFound } from '../http/errors';
import { archiveReader } from '../dicomweb/archive-reader';
import { storeInstance } from '../ingest/store-instance';
import { scrubStudyTexts } from '../reports/study-scrubbing';
import type { VersionDetail, VersionDocument } from './annotation-store';
import { AnnotationStore } from './annotation-store';
import { lakeDerivation } from './lake-derivation';
import { writeSrPart10 } from './sr-writer';

export function annotationStore(): AnnotationStore {
  return new AnnotationStore(databasePool());
}

/** A set's name is the SR's Series Description (LO, at most 64 characters), also after scrubbing lengthened it. */
function setName(name: string): string {
  return name.length <= 64 ? name : name.slice(0, 64).trimEnd();
}

/** A fresh UID under 2.25 (PS3.5 B.2: a UUID as a decimal integer). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

interface StoredInstance {
  study_uid: string;
  series_uid: string;
  sop_class_uid: string;
  version: number;
  attributes: DicomJson;
}

async function storedInstance(db: Queryable, sopUid: string): Promise<StoredInstance | undefined> {
  return (await db.query<StoredInstance>('SELECT study_uid, series_uid, sop_class_uid, version, attributes FROM instances WHERE sop_uid = $1', [sopUid])).rows[0];
}

function referencedSops(document: AnnotationDocument): string[] {
  const sops = new Set<string>();
  for (const m of document.measurements) for (const v of m.values) if (v.coordinates?.image) sops.add(v.coordinates.image.sopInstanceUID);
  return [...sops];
}

/** The series of the study holding the referenced images (one when the set is about one image series). */
async function imageSeriesOf(db: Queryable, studyUid: string, sops: readonly string[]): Promise<string[]> {
  if (sops.length === 0) return [];
  const rows = await db.query<{ series_uid: string }>('SELECT DISTINCT series_uid FROM instances WHERE study_uid = $1 AND sop_uid = ANY($2::text[])', [studyUid, sops]);
  return rows.rows.map((r) => r.series_uid);
}

export interface RecordedSave {
  setId: string;
  version: number;
  rule: string;
  /** False when this stored SR was already a version (a repeated STOW-RS). */
  created: boolean;
}

/** Who stored an annotation object, and through which door. */
export interface AnnotationOrigin {
  author: Author;
  /** viewer: STOW-RS (derived from lake data); upload: an uploaded file, recorded only when it refers to images of the lake. */
  source: 'viewer' | 'upload';
}

/** SOP classes whose instances may be annotation versions (measurement reports, segmentations): checked before any query. */
export function mayBeAnnotationVersion(sopClassUid: string | null | undefined): boolean {
  return !!sopClassUid && (sopClassUid === segmentationSopClass || (measurementReportSopClasses as readonly string[]).includes(sopClassUid));
}

/** The kind of annotation a stored instance is, with its JSON; undefined for anything else. */
function annotationOf(instance: StoredInstance): { kind: AnnotationKind; document: VersionDocument; title: string; predecessors: string[]; images: string[] } | undefined {
  if (instance.sop_class_uid === segmentationSopClass) {
    const document = segmentationDocument(instance.attributes);
    // A SEG names no predecessor: the series and name rules place it.
    return { kind: 'segmentation', document, title: document.title, predecessors: [], images: referencedSegmentationSops(document) };
  }
  if ((measurementReportSopClasses as readonly string[]).includes(instance.sop_class_uid) && isMeasurementReport(instance.attributes)) {
    const document = documentFromSr(instance.attributes);
    return { kind: 'measurements', document, title: document.title, predecessors: predecessorSopUids(instance.attributes), images: referencedSops(document) };
  }
  return undefined;
}

/**
 * A segmentation's free text (its title, segment labels and descriptions, algorithm names), scrubbed
 * like every text users write about a study before it is stored: the document is what the version,
 * diff and export answers show.
 */
async function scrubbedSegmentation(db: Queryable, studyUid: string, document: SegmentationDocument): Promise<SegmentationDocument> {
  const texts = [document.title, ...document.segments.flatMap((s) => [s.label, s.description, s.algorithmName])];
  const [title, ...scrubbed] = await scrubStudyTexts(db, studyUid, texts);
  const segments = document.segments.map((segment, i) => ({
    ...segment,
    label: scrubbed[i * 3] ?? '',
    description: scrubbed[i * 3 + 1] ?? null,
    algorithmName: scrubbed[i * 3 + 2] ?? null,
  }));
  return { ...document, title: title ?? '', segments, labels: segments.map((s) => s.label).filter((label) => label) };
}

/**
 * Records a stored measurement report or segmentation as an annotation
 * version (saved from the viewer through STOW-RS, or uploaded). Anything
 * else (images, other SRs) is no annotation version: undefined. So is an
 * upload none of whose referenced images is in its study: an annotation of
 * a study the lake does not hold (yet) stays a plain instance.
 */
export async function recordStoredAnnotation(sopUid: string, origin: AnnotationOrigin, store: AnnotationStore = annotationStore(), db: Queryable = databasePool()): Promise<RecordedSave | undefined> {
  const instance = await storedInstance(db, sopUid);
  const annotation = instance ? annotationOf(instance) : undefined;
  if (!instance || !annotation) return undefined;
  const { author } = origin;
  const { kind } = annotation;
  const studyUid = instance.study_uid;
  return store.withStudyLock(studyUid, async (client) => {
    const existing = await store.versionOfInstance(client, sopUid, instance.version);
    if (existing) return { ...existing, rule: 'repeated', created: false };
    const imageSeries = await imageSeriesOf(client, studyUid, annotation.images);
    if (origin.source === 'upload' && imageSeries.length === 0) return undefined;
    const decision = decideAnnotationSet(
      { authorSub: author.sub, title: annotation.title, seriesInstanceUID: instance.series_uid, predecessorSopUids: annotation.predecessors },
      await store.studyAnnotations(client, studyUid, author.sub, kind),
    );
    let setId: string;
    let version: number;
    let parentVersion: number | null;
    if (decision.kind === 'new') {
      setId = randomUUID();
      version = 1;
      parentVersion = null;
      // The title as the viewer (or the other system) wrote it: free text like any other name.
      const [title] = await scrubStudyTexts(client, studyUid, [annotation.title]);
      await store.createSet(client, { setId, studyUid, seriesUid: imageSeries.length === 1 ? (imageSeries[0] ?? null) : null, kind, name: setName(title ?? annotation.title), author });
    } else {
      const set = await store.lockedSet(client, studyUid, decision.setId);
      if (!set) throw new Error('annotation set vanished under the study lock');
      setId = set.set_id;
      version = set.current_version + 1;
      parentVersion = decision.parentVersion;
    }
    const document = isSegmentationDocument(annotation.document) ? await scrubbedSegmentation(client, studyUid, annotation.document) : annotation.document;
    await store.insertVersion(client, {
      setId, version, parentVersion, restoredFrom: null, source: origin.source, rule: decision.rule,
      sopUid, instanceVersion: instance.version, seriesUid: instance.series_uid, sopClassUid: instance.sop_class_uid,
      author, message: null, document,
    });
    // Their save is what they want to see next: the viewer shows the latest again.
    await store.clearSelection(client, author.sub, setId);
    return { setId, version, rule: decision.rule, created: true };
  });
}

export type WriteTarget = { kind: 'new'; name: string; seriesUid: string | null } | { kind: 'existing'; setId: string };

export interface WriteRequest {
  studyUid: string;
  target: WriteTarget;
  measurements: readonly MeasurementSpec[];
  /** The version the writer started from (If-Match); undefined accepts whatever is latest. */
  expectedParent: number | undefined;
  author: Author;
  message: string | null;
  source: 'api' | 'restore';
  restoredFrom?: number;
}

/** 409 with the version that is latest now, so the client can merge or retry. */
async function conflict(store: AnnotationStore, client: Queryable, setId: string, current: number, expected: number): Promise<never> {
  const latest = await store.version(setId, current, client);
  throw new HttpError(409, 'version_conflict', `Version ${expected} is not the latest any more: version ${current} was saved since. Start from it and save again.`, { expectedVersion: expected, current: latest });
}

async function studyOf(db: Queryable, studyUid: string): Promise<ReportStudy> {
  const row = (
    await db.query<{ patient_id: string; patient_name: string; sex: string | null; patient_age: string | null; study_date: string | null; study_time: string | null; accession_number: string | null; study_id: string | null; description: string | null }>(
      `SELECT s.patient_id, p.patient_name, p.sex, s.patient_age, to_char(s.study_date, 'YYYYMMDD') AS study_date, s.study_time, s.accession_number, s.study_id, s.description
       FROM studies s JOIN patients p ON p.patient_id = s.patient_id WHERE s.study_uid = $1`,
      [studyUid],
    )
  ).rows[0];
  if (!row) throw notFound('study_not_found', 'There is no study with this UID.');
  return {
    studyInstanceUID: studyUid, patientId: row.patient_id, patientName: row.patient_name, patientSex: row.sex, patientAge: row.patient_age,
    studyDate: row.study_date, studyTime: row.study_time, accessionNumber: row.accession_number, studyId: row.study_id, studyDescription: row.description,
  };
}

/** The images the measurements refer to, checked against the study (400 for one the study does not hold). */
async function imagesOf(db: Queryable, studyUid: string, measurements: readonly MeasurementSpec[]): Promise<Map<string, ReferencedImage>> {
  const sops = new Set<string>();
  const frames = new Set<string>();
  for (const m of measurements) {
    for (const v of m.values) {
      if (v.coordinates?.image) sops.add(v.coordinates.image.sopInstanceUID);
      if (v.coordinates?.frameOfReferenceUID) frames.add(v.coordinates.frameOfReferenceUID);
    }
  }
  const rows = await db.query<{ sop_uid: string; series_uid: string; sop_class_uid: string }>(
    'SELECT sop_uid, series_uid, sop_class_uid FROM instances WHERE study_uid = $1 AND sop_uid = ANY($2::text[])',
    [studyUid, [...sops]],
  );
  const images = new Map(rows.rows.map((r) => [r.sop_uid, { seriesInstanceUID: r.series_uid, sopClassUID: r.sop_class_uid }]));
  const missing = [...sops].filter((sop) => !images.has(sop));
  if (missing.length) throw badRequest('unknown_image', `${missing.length} referenced image${missing.length === 1 ? ' is' : 's are'} not in this study.`, { sopInstanceUIDs: missing });
  if (frames.size) {
    const known = await db.query<{ uid: string }>(`SELECT DISTINCT attributes -> '00200052' -> 'Value' ->> 0 AS uid FROM series WHERE study_uid = $1`, [studyUid]);
    const knownFrames = new Set(known.rows.map((r) => r.uid));
    const unknown = [...frames].filter((f) => !knownFrames.has(f));
    if (unknown.length) throw badRequest('unknown_frame_of_reference', 'A 3D measurement names a frame of reference no series of this study has.', { frameOfReferenceUIDs: unknown });
  }
  return images;
}

async function nextReportSeriesNumber(db: Queryable, studyUid: string): Promise<number> {
  // Derived series are numbered from 3001, as the viewer numbers its reports.
  const row = (await db.query<{ n: number }>('SELECT GREATEST(3000, coalesce(max(series_number), 0)) + 1 AS n FROM series WHERE study_uid = $1', [studyUid])).rows[0];
  return row?.n ?? 3001;
}

/**
 * Writes a version from measurements: builds the SR, stores it through the
 * ingest path, records it. Answers the new version.
 */
export async function writeVersion(request: WriteRequest, store: AnnotationStore = annotationStore()): Promise<VersionDetail> {
  const { studyUid, author } = request;
  return store.withStudyLock(studyUid, async (client) => {
    // Names and messages are shown to others, exported, and a name becomes the SR's series description: scrubbed first.
    const [newName, message = null] = await scrubStudyTexts(client, studyUid, [request.target.kind === 'new' ? request.target.name : null, request.message]);
    let setId: string;
    let version: number;
    let parentVersion: number | null;
    let name: string;
    let seriesUid: string;
    let seriesNumber: number;
    let predecessor: { seriesInstanceUID: string; sopInstanceUID: string; sopClassUID: string } | undefined;
    if (request.target.kind === 'existing') {
      const set = await store.lockedSet(client, studyUid, request.target.setId);
      if (!set) throw notFound('annotation_set_not_found', 'This study has no such annotation set.');
      if (set.kind !== 'measurements') throw badRequest('segmentation_set', 'This set holds segmentations: save new versions from the viewer, or restore an old one.');
      if (request.expectedParent !== undefined && request.expectedParent !== set.current_version) await conflict(store, client, set.set_id, set.current_version, request.expectedParent);
      const parent = await store.version(set.set_id, set.current_version, client);
      if (!parent) throw new Error('the latest version of a set is missing');
      setId = set.set_id;
      version = set.current_version + 1;
      parentVersion = set.current_version;
      name = set.name;
      seriesUid = parent.seriesInstanceUID;
      seriesNumber = (await client.query<{ series_number: number | null }>('SELECT series_number FROM series WHERE series_uid = $1', [seriesUid])).rows[0]?.series_number ?? (await nextReportSeriesNumber(client, studyUid));
      predecessor = { seriesInstanceUID: parent.seriesInstanceUID, sopInstanceUID: parent.sopInstanceUID, sopClassUID: parent.sopClassUID };
    } else {
      const clash = await store.setByName(client, studyUid, author.sub, setName(newName ?? request.target.name));
      if (clash) throw new HttpError(409, 'annotation_set_exists', `You already have an annotation set named "${clash.name}" in this study: add a version to it.`, { setId: clash.set_id, currentVersion: clash.current_version });
      if (request.target.seriesUid) {
        const found = await client.query('SELECT 1 FROM series WHERE series_uid = $1 AND study_uid = $2', [request.target.seriesUid, studyUid]);
        if (!found.rowCount) throw badRequest('unknown_series', 'The series is not in this study.');
      }
      setId = randomUUID();
      version = 1;
      parentVersion = null;
      name = setName(newName ?? request.target.name);
      seriesUid = newUid();
      seriesNumber = await nextReportSeriesNumber(client, studyUid);
    }

    const images = await imagesOf(client, studyUid, request.measurements);
    const sopUid = newUid();
    const report = {
      title: name,
      measurements: request.measurements,
      study: await studyOf(client, studyUid),
      sopInstanceUID: sopUid,
      seriesInstanceUID: seriesUid,
      seriesNumber,
      instanceNumber: version,
      images,
      predecessor,
      createdAt: new Date(),
    };
    const part10 = writeSrPart10(measurementReportDataset(report));
    const derivedFrom = await lakeDerivation(studyUid, reportOwnUids(report), client);
    const stored = await storeInstance(part10, { uploadId: undefined, fileIndex: undefined, via: 'stow' }, undefined, { derivedFrom });
    if (stored.outcome !== 'accepted' || stored.sopUid !== sopUid || stored.studyUid !== studyUid) {
      throw new Error(`the built report was not stored as built (${stored.outcome}${stored.code ? `: ${stored.code}` : ''})`);
    }
    const instance = await storedInstance(client, sopUid);
    if (!instance) throw new Error('the stored report is not in the index');
    const document = documentFromSr(instance.attributes);

    if (request.target.kind === 'new') await store.createSet(client, { setId, studyUid, seriesUid: request.target.seriesUid, kind: 'measurements', name, author });
    await store.insertVersion(client, {
      setId, version, parentVersion, restoredFrom: request.restoredFrom ?? null, source: request.source, rule: null,
      sopUid, instanceVersion: instance.version, seriesUid: instance.series_uid, sopClassUid: instance.sop_class_uid,
      author, message, document,
    });
    const detail = await store.version(setId, version, client);
    if (!detail) throw new Error('the new version is missing');
    return detail;
  });
}

/** A new version repeating an old one's measurements (its tracking UIDs kept, so diffs match them). */
export async function restoreVersion(
  request: { studyUid: string; setId: string; version: number; expectedParent: number | undefined; author: Author; message: string | null },
  store: AnnotationStore = annotationStore(),
): Promise<VersionDetail> {
  const old = await store.version(request.setId, request.version);
  if (!old || old.studyInstanceUID !== request.studyUid) throw notFound('version_not_found', `This annotation set has no version ${request.version}.`);
  if (isSegmentationDocument(old.document)) return restoreSegmentation(request, store);
  if (!('measurements' in old.document)) throw new Error('a measurement version without measurements');
  return writeVersion(
    {
      studyUid: request.studyUid,
      target: { kind: 'existing', setId: request.setId },
      measurements: old.document.measurements.map((m) => specOfMeasurement(m, newUid)),
      expectedParent: request.expectedParent,
      author: request.author,
      message: request.message ?? `Restored version ${request.version}`,
      source: 'restore',
      restoredFrom: request.version,
    },
    store,
  );
}

/** The archived file of a version with a new SOP Instance UID, instance number and content time: the same segments and pixels again. */
function segmentationCopy(part10: Uint8Array, sopUid: string, instanceNumber: number, at: Date): Uint8Array {
  // A copy of its own: the archive's bytes may be a view into a larger buffer.
  const file = dcmjs.data.DicomMessage.readFile(Uint8Array.from(part10).buffer);
  // Element by element (not naturalized): the pixel data is copied as it is.
  const set = (dict: Record<string, unknown>, tag: string, vr: string, value: string | number) => {
    dict[tag] = { vr, Value: [value] };
  };
  const iso = at.toISOString();
  set(file.dict, '00080018', 'UI', sopUid);
  set(file.meta, '00020003', 'UI', sopUid);
  set(file.dict, '00200013', 'IS', instanceNumber);
  set(file.dict, '00080023', 'DA', iso.slice(0, 10).replace(/-/g, ''));
  set(file.dict, '00080033', 'TM', iso.slice(11, 19).replace(/:/g, ''));
  return new Uint8Array(file.write());
}

/**
 * Restoring a segmentation version: its stored SEG again (same segments and
 * pixels, in its series) as a new instance, recorded as the set's next
 * version with `restoredFrom`. Under the study lock, with If-Match checked.
 */
async function restoreSegmentation(
  request: { studyUid: string; setId: string; version: number; expectedParent: number | undefined; author: Author; message: string | null },
  store: AnnotationStore,
): Promise<VersionDetail> {
  const { studyUid, author } = request;
  const object = await store.srObject(request.setId, request.version);
  if (!object) throw notFound('version_not_found', `This annotation set has no version ${request.version}.`);
  const archived = await archiveReader().whole(object.archiveKey);
  return store.withStudyLock(studyUid, async (client) => {
    const set = await store.lockedSet(client, studyUid, request.setId);
    if (!set) throw notFound('annotation_set_not_found', 'This study has no such annotation set.');
    if (request.expectedParent !== undefined && request.expectedParent !== set.current_version) await conflict(store, client, set.set_id, set.current_version, request.expectedParent);
    const [message = null] = await scrubStudyTexts(client, studyUid, [request.message ?? `Restored version ${request.version}`]);
    const version = set.current_version + 1;
    const sopUid = newUid();
    const part10 = segmentationCopy(archived, sopUid, version, new Date());
    const derivedFrom = await lakeDerivation(studyUid, [sopUid], client);
    const stored = await storeInstance(part10, { uploadId: undefined, fileIndex: undefined, via: 'stow' }, undefined, { derivedFrom });
    if (stored.outcome !== 'accepted' || stored.sopUid !== sopUid || stored.studyUid !== studyUid) {
      throw new Error(`the restored segmentation was not stored as made (${stored.outcome}${stored.code ? `: ${stored.code}` : ''})`);
    }
    const instance = await storedInstance(client, sopUid);
    if (!instance) throw new Error('the stored segmentation is not in the index');
    await store.insertVersion(client, {
      setId: set.set_id, version, parentVersion: set.current_version, restoredFrom: request.version, source: 'restore', rule: null,
      sopUid, instanceVersion: instance.version, seriesUid: instance.series_uid, sopClassUid: instance.sop_class_uid,
      author, message, document: await scrubbedSegmentation(client, studyUid, segmentationDocument(instance.attributes)),
    });
    const detail = await store.version(set.set_id, version, client);
    if (!detail) throw new Error('the new version is missing');
    return detail;
  });
}
