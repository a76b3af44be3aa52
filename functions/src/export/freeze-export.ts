/**
 * Freezing an export: at the start of its first run, the selection becomes a
 * fixed list of zip entries in `export_items` — every DICOM instance with its
 * archive key, sha256, size and indexed attributes, the report version of
 * each study, each annotation SR's DICOM JSON, the labels — and the zip's
 * plan is fixed. From then on the export does not depend on the index any
 * more: a resumed run, or a re-run, writes exactly this list.
 *
 * Instances are read through a server-side cursor and inserted in batches,
 * so memory does not grow with the export.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { stringValue } from '@medlake/shared/dicom/dicom-json-read';
import { annotationSopClassSql, isAnnotationSopClass } from '@medlake/shared/export/export-options';
import { exportedInstancesSql, selectedStudiesSql } from '@medlake/shared/export/export-selection-sql';
import type { DeidCode, DeidSummary } from '@medlake/shared/export/readme';
import { annotationPath, dicomPath, estimateZipBytes, labelsCsvPath, manifestCsvPath, manifestJsonPath, readmePath, reportPath } from '@medlake/shared/export/zip-layout';
import { SqlParameters } from '@medlake/shared/query/sql';
import { studyFilterFromJson } from '@medlake/shared/query/study-filter';
import { inTransaction } from '../adapters/database';
import type { ExportAnnotationVersion } from '../annotations/annotation-export';
import { annotationVersionsForExport, labelRowsForExport } from '../annotations/annotation-export';
import { ReportStore } from '../reports/report-store';
import type { ExportFailure, ExportRecord, ItemKind, ZipPlan } from './export-records';
import type { ExportSettings } from './export-settings';
import { maxPartCount } from './export-settings';
import type { FrozenAnnotation } from './frozen-annotation';

const MiB = 1024 * 1024;
const fetchRows = 1000;
const insertRows = 1000;

/** Objects up to this size are fetched whole and written with their CRC in the header; larger ones stream. */
export const wholeObjectMaxBytes = 16 * MiB;
export const rangeBytes = 8 * MiB;
export const deflateLevel = 6;

export type FreezeOutcome = { kind: 'frozen'; totalFiles: number; totalBytes: number } | { kind: 'refused'; failure: ExportFailure };

interface NewItem {
  kind: ItemKind;
  path: string;
  patientId: string | null;
  studyUid: string | null;
  studyDate: string | null;
  seriesUid: string | null;
  seriesNumber: number | null;
  modality: string | null;
  sopUid: string | null;
  sopClassUid: string | null;
  instanceNumber: number | null;
  transferSyntaxUid: string | null;
  archiveKey: string | null;
  sha256: string | null;
  sizeBytes: number | null;
  reportVersion: number | null;
  document: unknown;
}

interface InstanceRow {
  patient_id: string;
  study_date: string | null;
  study_uid: string;
  series_uid: string;
  series_number: number | null;
  modality: string | null;
  sop_uid: string;
  sop_class_uid: string;
  instance_number: number | null;
  transfer_syntax_uid: string;
  archive_key: string;
  sha256: string;
  size_bytes: string;
  document: unknown;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

export function buildFingerprint(): ZipPlan['build'] {
  return { node: process.versions.node, zlib: process.versions.zlib ?? 'unknown', arch: process.arch };
}

/** A blank item of a kind (the generated files at the end of the zip). */
function generated(kind: ItemKind, path: string): NewItem {
  return {
    kind, path, patientId: null, studyUid: null, studyDate: null, seriesUid: null, seriesNumber: null, modality: null, sopUid: null,
    sopClassUid: null, instanceNumber: null, transferSyntaxUid: null, archiveKey: null, sha256: null, sizeBytes: null, reportVersion: null, document: null,
  };
}

class ItemInserter {
  private pending: NewItem[] = [];
  seq = 0;
  dataBytes = 0;
  files = 0;

  constructor(private readonly client: pg.PoolClient, readonly exportId: string) {}

  async add(item: NewItem): Promise<void> {
    this.pending.push(item);
    this.files++;
    if (item.sizeBytes !== null) this.dataBytes += item.sizeBytes;
    if (this.pending.length >= insertRows) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const rows = this.pending;
    this.pending = [];
    const first = this.seq;
    this.seq += rows.length;
    const column = <T>(pick: (item: NewItem) => T) => rows.map(pick);
    await this.client.query(
      `INSERT INTO export_items (export_id, seq, kind, path, patient_id, study_uid, study_date, series_uid, series_number, modality, sop_uid, sop_class_uid,
         instance_number, transfer_syntax_uid, archive_key, sha256, size_bytes, report_version, document)
       SELECT $1, v.* FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::date[], $8::text[], $9::int[], $10::text[], $11::text[], $12::text[],
         $13::int[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::int[], $19::jsonb[]) AS v`,
      [
        this.exportId,
        rows.map((_, i) => first + i),
        column((r) => r.kind), column((r) => r.path), column((r) => r.patientId), column((r) => r.studyUid), column((r) => r.studyDate),
        column((r) => r.seriesUid), column((r) => r.seriesNumber), column((r) => r.modality), column((r) => r.sopUid), column((r) => r.sopClassUid),
        column((r) => r.instanceNumber), column((r) => r.transferSyntaxUid), column((r) => r.archiveKey), column((r) => r.sha256), column((r) => r.sizeBytes),
        column((r) => r.reportVersion), column((r) => (r.document === null ? null : JSON.stringify(r.document))),
      ],
    );
  }
}

/**
 * Freezes the export in one transaction (a concurrent or repeated call finds
 * it frozen and does nothing). `refused` when it ends up empty or too large.
 */
export async function freezeExport(db: pg.Pool, record: ExportRecord, settings: ExportSettings, now: Date = new Date()): Promise<FreezeOutcome> {
  return inTransaction(db, async (client, transaction): Promise<FreezeOutcome> => {
    const locked = (await client.query<{ frozen_at: Date | null; total_files: number | null; total_bytes: string | null }>(
      'SELECT frozen_at, total_files, total_bytes FROM exports WHERE export_id = $1 FOR UPDATE',
      [record.exportId],
    )).rows[0];
    if (locked?.frozen_at) return transaction.rollback({ kind: 'frozen', totalFiles: locked.total_files ?? 0, totalBytes: Number(locked.total_bytes ?? 0) });
    const inserter = new ItemInserter(client, record.exportId);
    let deidSummary: DeidSummary;
    if (record.rerunOf) {
      deidSummary = await copyFrozenList(client, record.rerunOf, inserter);
    } else {
      const counts = await freezeSelection(client, record, inserter);
      if (counts.dicom === 0) {
        return transaction.rollback({ kind: 'refused', failure: { code: 'empty_selection', message: 'No study of the selection holds an instance any more: there is nothing to export.' } });
      }
      deidSummary = await deidentificationSummary(client, record.exportId);
    }
    const limit = Math.min(record.options.maxSizeBytes ?? Number.POSITIVE_INFINITY, settings.maxBytes);
    if (inserter.dataBytes > limit) {
      return transaction.rollback({ kind: 'refused', failure: { code: 'export_too_large', message: `The export holds ${inserter.dataBytes} bytes, more than its limit of ${limit} bytes.` } });
    }
    const estimate = estimateZipBytes({ layout: record.options.layout, instances: inserter.files, dataBytes: inserter.dataBytes, reports: 0, reportBytes: 0, annotations: 0 });
    // S3 takes at most 10,000 parts: big exports get bigger parts (with a margin for the estimate).
    const partSizeBytes = Math.max(settings.partSizeBytes, Math.ceil((estimate * 1.1) / (maxPartCount - 100) / MiB) * MiB);
    const plan: ZipPlan = { partSizeBytes, wholeObjectMaxBytes, rangeBytes, deflateLevel, timestamp: now.toISOString(), build: buildFingerprint() };
    await client.query(
      'UPDATE exports SET frozen_at = $2, plan = $3, total_files = $4, total_bytes = $5, deid_summary = $6 WHERE export_id = $1',
      [record.exportId, now, JSON.stringify(plan), inserter.files, inserter.dataBytes, JSON.stringify(deidSummary)],
    );
    return { kind: 'frozen', totalFiles: inserter.files, totalBytes: inserter.dataBytes };
  });
}

async function freezeSelection(client: pg.PoolClient, record: ExportRecord, inserter: ItemInserter): Promise<{ dicom: number }> {
  const { options, selection } = record;
  const params = new SqlParameters();
  const selected = selectedStudiesSql({ filter: selection.filter ? studyFilterFromJson(selection.filter) : null, studies: selection.studies }, params);
  const versions = options.annotations ? await annotationVersionsOfSelection(client, selected, params.values) : new Map<string, ExportAnnotationVersion>();
  await client.query(
    `DECLARE export_freeze NO SCROLL CURSOR FOR
     SELECT s.patient_id, to_char(s.study_date, 'YYYY-MM-DD') AS study_date, s.study_uid, se.series_uid, se.series_number, se.modality,
       i.sop_uid, i.sop_class_uid, i.instance_number, i.transfer_syntax_uid, i.archive_key, i.sha256, i.size_bytes,
       CASE WHEN ${annotationSopClassSql('i.sop_class_uid')} THEN i.attributes END AS document
     FROM (${selected}) selected
     JOIN studies s ON s.study_uid = selected.study_uid
     JOIN instances i ON i.study_uid = s.study_uid
     JOIN series se ON se.series_uid = i.series_uid
     WHERE ${exportedInstancesSql(options)}
     ORDER BY s.patient_id, s.study_date NULLS LAST, s.study_uid, se.series_number NULLS LAST, se.series_uid, i.instance_number NULLS LAST, i.sop_uid`,
    params.values,
  );
  const reports = new ReportStore(client);
  const studies: string[] = [];
  let dicom = 0;
  let study: { uid: string; patientId: string; studyDate: string | null; annotations: InstanceRow[] } | undefined;
  const closeStudy = async () => {
    if (!study) return;
    if (options.reports) {
      const report = await reports.version(study.uid);
      if (report) {
        const bytes = Buffer.byteLength(report.text, 'utf8');
        await inserter.add({
          ...generated('report', reportPath(options.layout, { patientId: study.patientId, studyUid: study.uid })),
          patientId: study.patientId, studyUid: study.uid, studyDate: study.studyDate, sha256: sha256Hex(report.text), sizeBytes: bytes, reportVersion: report.version,
        });
      }
    }
    for (const sr of study.annotations) {
      const version = versions.get(sr.archive_key);
      const frozen: FrozenAnnotation = { sr: sr.document as FrozenAnnotation['sr'], set: version?.set ?? null, measurements: version?.document ?? null };
      await inserter.add({
        ...generated('annotation', annotationPath(options.layout, { patientId: sr.patient_id, studyUid: sr.study_uid, seriesUid: sr.series_uid, sopUid: sr.sop_uid })),
        patientId: sr.patient_id, studyUid: sr.study_uid, studyDate: sr.study_date, seriesUid: sr.series_uid, seriesNumber: sr.series_number, modality: sr.modality,
        sopUid: sr.sop_uid, sopClassUid: sr.sop_class_uid, instanceNumber: sr.instance_number, document: frozen,
      });
    }
  };
  for (;;) {
    const page = await client.query<InstanceRow>(`FETCH ${fetchRows} FROM export_freeze`);
    if (page.rows.length === 0) break;
    for (const row of page.rows) {
      if (study?.uid !== row.study_uid) {
        await closeStudy();
        study = { uid: row.study_uid, patientId: row.patient_id, studyDate: row.study_date, annotations: [] };
        studies.push(row.study_uid);
      }
      if (options.annotations && isAnnotationSopClass(row.sop_class_uid)) study.annotations.push(row);
      dicom++;
      await inserter.add({
        kind: 'dicom',
        path: dicomPath(options.layout, { patientId: row.patient_id, studyUid: row.study_uid, seriesUid: row.series_uid, sopUid: row.sop_uid }),
        patientId: row.patient_id, studyUid: row.study_uid, studyDate: row.study_date, seriesUid: row.series_uid, seriesNumber: row.series_number,
        modality: row.modality, sopUid: row.sop_uid, sopClassUid: row.sop_class_uid, instanceNumber: row.instance_number,
        transferSyntaxUid: row.transfer_syntax_uid, archiveKey: row.archive_key, sha256: row.sha256, sizeBytes: Number(row.size_bytes), reportVersion: null, document: null,
      });
    }
  }
  await closeStudy();
  await client.query('CLOSE export_freeze');
  if (options.labels) {
    // The labels as they are now, kept with the list: a resumed or re-run export writes the same labels.csv.
    await inserter.add({ ...generated('labels', labelsCsvPath), document: await labelRowsForExport(studies, client) });
  }
  await addTrailingFiles(inserter);
  return { dicom };
}

/**
 * Which annotation set version each SR of the selection is in the lake's
 * history, by its archived object (with its measurements): one query for all
 * the selected studies that hold annotations.
 */
async function annotationVersionsOfSelection(client: pg.PoolClient, selected: string, values: unknown[]): Promise<Map<string, ExportAnnotationVersion>> {
  const annotated = await client.query<{ study_uid: string }>(
    `SELECT DISTINCT i.study_uid FROM (${selected}) selected JOIN instances i ON i.study_uid = selected.study_uid WHERE ${annotationSopClassSql('i.sop_class_uid')}`,
    values,
  );
  const byArchiveKey = new Map<string, ExportAnnotationVersion>();
  for (const version of await annotationVersionsForExport(annotated.rows.map((r) => r.study_uid), { all: true }, client)) {
    if (!byArchiveKey.has(version.archiveKey)) byArchiveKey.set(version.archiveKey, version);
  }
  return byArchiveKey;
}

async function addTrailingFiles(inserter: ItemInserter): Promise<void> {
  await inserter.add(generated('manifest-csv', manifestCsvPath));
  await inserter.add(generated('manifest-json', manifestJsonPath));
  await inserter.add(generated('readme', readmePath));
  await inserter.flush();
}

/** A re-run: the original's frozen list as it is (same files, versions, paths), and its de-identification summary. */
async function copyFrozenList(client: pg.PoolClient, sourceId: string, inserter: ItemInserter): Promise<DeidSummary> {
  const source = (await client.query<{ frozen_at: Date | null; deid_summary: DeidSummary | null }>('SELECT frozen_at, deid_summary FROM exports WHERE export_id = $1', [sourceId])).rows[0];
  if (!source?.frozen_at) throw new Error('the export to re-run has no frozen list');
  const generatedKinds = ['annotation', 'labels', 'manifest-csv', 'manifest-json', 'readme'];
  const copied = await client.query<{ files: string; bytes: string | null }>(
    `WITH copied AS (
       INSERT INTO export_items (export_id, seq, kind, path, patient_id, study_uid, study_date, series_uid, series_number, modality, sop_uid, sop_class_uid,
         instance_number, transfer_syntax_uid, archive_key, sha256, size_bytes, report_version, document)
       SELECT $1, seq, kind, path, patient_id, study_uid, study_date, series_uid, series_number, modality, sop_uid, sop_class_uid, instance_number,
         transfer_syntax_uid, archive_key, CASE WHEN kind = ANY($3) THEN NULL ELSE sha256 END, CASE WHEN kind = ANY($3) THEN NULL ELSE size_bytes END,
         report_version, document
       FROM export_items WHERE export_id = $2
       RETURNING size_bytes
     )
     SELECT count(*) AS files, sum(size_bytes) AS bytes FROM copied`,
    [inserter.exportId, sourceId, generatedKinds],
  );
  inserter.files = Number(copied.rows[0]?.files ?? 0);
  inserter.dataBytes = Number(copied.rows[0]?.bytes ?? 0);
  return source.deid_summary ?? { patientIdentityRemoved: [], methods: [], codes: [], longitudinalTemporalInformationModified: [], undeclared: 0 };
}

/** The de-identification the frozen instances declare in their headers (distinct values), for the README. */
async function deidentificationSummary(client: pg.PoolClient, exportId: string): Promise<DeidSummary> {
  const rows = await client.query<{ removed: string | null; methods: string[] | null; codes: Record<string, { Value?: unknown[] }>[] | null; temporal: string | null; n: string }>(
    `SELECT i.attributes->'00120062'->'Value'->>0 AS removed, i.attributes->'00120063'->'Value' AS methods,
       i.attributes->'00120064'->'Value' AS codes, i.attributes->'00280303'->'Value'->>0 AS temporal, count(*) AS n
     FROM export_items e JOIN instances i ON i.sop_uid = e.sop_uid
     WHERE e.export_id = $1 AND e.kind = 'dicom'
     GROUP BY 1, 2, 3, 4`,
    [exportId],
  );
  const removed = new Set<string>();
  const methods = new Set<string>();
  const temporal = new Set<string>();
  const codes = new Map<string, DeidCode>();
  let undeclared = 0;
  for (const row of rows.rows) {
    if (!row.removed && !row.methods && !row.codes) undeclared += Number(row.n);
    if (row.removed) removed.add(row.removed);
    for (const method of row.methods ?? []) methods.add(String(method));
    if (row.temporal) temporal.add(row.temporal);
    for (const item of row.codes ?? []) {
      const value = (tag: string) => stringValue(item, tag) ?? '';
      const code = { code: value('00080100'), scheme: value('00080102'), meaning: value('00080104') };
      if (code.code) codes.set(`${code.scheme}:${code.code}`, code);
    }
  }
  return {
    patientIdentityRemoved: [...removed].sort(),
    methods: [...methods].sort(),
    codes: [...codes.values()].sort((a, b) => a.code.localeCompare(b.code)),
    longitudinalTemporalInformationModified: [...temporal].sort(),
    undeclared,
  };
}

