/**
 * Studies for the identity tests (subscriptions, re-identification, audit):
 * real Part 10 files from the PHI fixture builder, with PHI planted
 * everywhere, one patient per study, of a chosen modality and body part, and
 * the helpers to push them through the real upload → ingest path.
 */
import type { ElementSpec } from './fixtures/dicom/build-dicom';
import { el } from './fixtures/dicom/build-dicom';
import { ctImageStorage, phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import type { UploadStatus } from './ingest-support';
import { ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';

const mrImageStorage = '1.2.840.10008.5.1.4.1.1.4';

export interface StudySpec {
  /** A number unique within the test file: UIDs, patient ID and name derive from it. */
  n: number;
  modality: 'CT' | 'MR';
  bodyPart: string;
  instances?: number;
}

export interface BuiltStudy {
  spec: StudySpec;
  files: { name: string; bytes: Uint8Array }[];
  /** Original identifiers as planted (what re-identification must give back). */
  original: { studyUid: string; seriesUid: string; patientId: string; patientName: string; accessionNumber: string; birthDate: string };
  /** Every planted value (none may reach an email or an answer other than re-identification). */
  planted: string[];
}

function replace(dataset: ElementSpec[], tag: number, element: ElementSpec): ElementSpec[] {
  return dataset.map((e) => (e.tag === tag ? element : e));
}

export function buildStudy(spec: StudySpec): BuiltStudy {
  const studyUid = `1.2.826.0.1.3680043.10.3000.${spec.n}.1`;
  const seriesUid = `1.2.826.0.1.3680043.10.3000.${spec.n}.2`;
  const patientId = `PID-IDT-${spec.n}`;
  const patientName = `IDTPATIENT${spec.n}^HELENA`;
  const files: BuiltStudy['files'] = [];
  const planted = new Set<string>();
  for (let i = 1; i <= (spec.instances ?? 2); i++) {
    const built = phiInstance({
      patientId,
      patientName,
      studyUid,
      seriesUid,
      sopUid: `1.2.826.0.1.3680043.10.3000.${spec.n}.3.${i}`,
      sopClassUid: spec.modality === 'MR' ? mrImageStorage : ctImageStorage,
      studyDate: '20210611',
    });
    built.dataset = replace(replace(built.dataset, 0x00080060, el(0x00080060, 'CS', spec.modality)), 0x00180015, el(0x00180015, 'CS', spec.bodyPart));
    for (const value of built.planted) planted.add(value);
    files.push({ name: `study-${spec.n}-${i}.dcm`, bytes: phiPart10(built) });
  }
  return {
    spec,
    files,
    original: { studyUid, seriesUid, patientId, patientName, accessionNumber: 'ACC-PLANT-77', birthDate: '19610203' },
    planted: [...planted].filter((value) => value.length >= 6),
  };
}

/** Uploads the studies in ONE upload batch (a burst) and answers the pseudonymous Study UID of each, in order (re-uploads are duplicates). */
export async function ingestStudies(stack: TestStack, uploader: TestUser, studies: readonly BuiltStudy[]): Promise<{ status: UploadStatus; studyUids: string[] }> {
  const files = studies.flatMap((s) => s.files);
  const status = await ingestFiles(stack, uploader, files);
  const studyUids: string[] = [];
  let index = 0;
  for (const study of studies) {
    const file = status.files.find((f) => f.index === index);
    if (!file || !['accepted', 'duplicate'].includes(file.state) || !file.studies[0]) throw new Error(`study ${study.spec.n} was not stored: ${JSON.stringify(file)}`);
    studyUids.push(file.studies[0]);
    index += study.files.length;
  }
  return { status, studyUids };
}
