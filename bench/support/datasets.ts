/**
 * The benchmark data of the Orthanc baseline, generated once by
 * bench/tools/gen_dicom.py (deterministic: same arguments, same bytes) into
 * bench/data/<name> (ignored by git) and reused from there. Directory names
 * are those the ingest and DICOMweb benchmarks already use, so one cache
 * serves every benchmark.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchRoot = fileURLToPath(new URL('..', import.meta.url));
export const dataRoot = join(benchRoot, 'data');
export const generator = join(benchRoot, 'tools', 'gen_dicom.py');

export interface DatasetSpec {
  name: string;
  args: string[];
}

export interface ManifestRow {
  /** Absolute path of the file. */
  file: string;
  bytes: number;
  patientId: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  modality: string;
  studyDate: string;
  matrix: number;
}

export interface Dataset {
  spec: DatasetSpec;
  dir: string;
  rows: ManifestRow[];
}

/** The 1.1 GB CT study (1 patient, 7 x 300 slices of 512x512, seed 11); `--quick`: its first series alone. */
export function ctStudySpec(quick: boolean): DatasetSpec {
  return quick
    ? { name: 'ct-1x300-s11', args: ['--patients', '1', '--studies-per-patient', '1', '--series-per-study', '1', '--slices', '300', '--modality', 'CT', '--seed', '11'] }
    : { name: 'ct-7x300', args: ['--patients', '1', '--series-per-study', '7', '--slices', '300', '--modality', 'CT', '--seed', '11'] };
}

/** The query set: patients x 2 studies x 2 series x 1 headers-only (8x8) instance, ~70 % CT, seed 13. */
export function querySetSpec(patients: number): DatasetSpec {
  return {
    name: `query-${patients}x2x2x1-m8-s13`,
    args: ['--patients', String(patients), '--studies-per-patient', '2', '--series-per-study', '2', '--slices', '1', '--matrix', '8', '--modality', 'mix', '--seed', '13'],
  };
}

/** Generates the data set unless bench/data already holds it. */
export function ensureDataset(spec: DatasetSpec, log: (line: string) => void = console.log): Dataset {
  const dir = join(dataRoot, spec.name);
  const manifest = join(dir, 'manifest.tsv');
  if (!existsSync(manifest)) {
    rmSync(dir, { recursive: true, force: true });
    log(`generating ${spec.name} (gen_dicom.py ${spec.args.join(' ')}) ...`);
    try {
      execFileSync('/usr/bin/python3', [generator, '--out', dir, ...spec.args], { stdio: ['ignore', 'inherit', 'pipe'] });
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
      throw new Error(`gen_dicom.py failed (it needs Debian's python3-pydicom and python3-numpy): ${stderr.slice(-500)}`);
    }
  }
  return { spec, dir, rows: readManifest(manifest) };
}

export function readManifest(path: string): ManifestRow[] {
  const dir = join(path, '..');
  const lines = readFileSync(path, 'utf8').trim().split('\n');
  const head = (lines[0] ?? '').split('\t');
  const column = (name: string) => {
    const index = head.indexOf(name);
    if (index < 0) throw new Error(`${path} has no ${name} column`);
    return index;
  };
  const c = { path: column('path'), bytes: column('bytes'), patient: column('patient_id'), study: column('study_uid'), series: column('series_uid'), sop: column('sop_uid'), modality: column('modality'), date: column('study_date'), matrix: column('matrix') };
  return lines.slice(1).map((line) => {
    const f = line.split('\t');
    return {
      file: join(dir, f[c.path] as string),
      bytes: Number(f[c.bytes]),
      patientId: f[c.patient] as string,
      studyUid: f[c.study] as string,
      seriesUid: f[c.series] as string,
      sopUid: f[c.sop] as string,
      modality: f[c.modality] as string,
      studyDate: f[c.date] as string,
      matrix: Number(f[c.matrix]),
    };
  });
}

/** The rows of studies [from, to) in manifest order (the baseline loads the first 1,000 studies, then the rest). */
export function studySlice(rows: readonly ManifestRow[], from: number, to: number): ManifestRow[] {
  const order = [...new Set(rows.map((r) => r.studyUid))];
  const keep = new Set(order.slice(from, to));
  return rows.filter((r) => keep.has(r.studyUid));
}

export const totalBytes = (rows: readonly ManifestRow[]): number => rows.reduce((sum, r) => sum + r.bytes, 0);
