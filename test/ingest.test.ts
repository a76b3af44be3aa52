/**
 * Ingest end to end: files with PHI planted everywhere go through the upload
 * API, presigned PUTs, the S3 → SQS bridge, the poller and the ingest handler
 * (real de-identification, real PostgreSQL, the S3 emulator), and what a user
 * and an auditor would check is checked: the status, the index, the archive,
 * and that no planted value survives anywhere but in the PHI vault.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePart10 } from '@medlake/shared/dicom/index';
import { phiVaultFromEnv } from '@medlake/functions/adapters/phi-vault';
import { el, transferSyntaxes } from './fixtures/dicom/build-dicom';
import type { PhiInstanceOptions } from './fixtures/dicom/phi-instance';
import { phiInstance, phiPart10, secondaryCaptureStorage } from './fixtures/dicom/phi-instance';
import type { UploadStatus } from './ingest-support';
import { allObjects, databaseText, findPlanted, getObject, ingestFiles, zipOf } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

const MiB = 1024 * 1024;
const fixturesDir = fileURLToPath(new URL('./fixtures/dicom/files/', import.meta.url));

let stack: TestStack;
let uploader: TestUser;
let researcher: TestUser;
const savedEnv = { ...process.env };
/** Every planted value of every file uploaded by this test file. */
const planted = new Set<string>();

function instance(options: PhiInstanceOptions = {}, transferSyntax: string = transferSyntaxes.explicitLittle) {
  const built = phiInstance(options);
  for (const value of built.planted) planted.add(value);
  return { ...built, bytes: phiPart10(built, transferSyntax) };
}

/** A distinct instance (own UIDs) of one study/series by number. */
function uids(n: number, study = 1, series = 1): Pick<PhiInstanceOptions, 'studyUid' | 'seriesUid' | 'sopUid'> {
  return { studyUid: `1.2.826.0.1.3680043.10.1000.11.${study}`, seriesUid: `1.2.826.0.1.3680043.10.1000.12.${study}${series}`, sopUid: `1.2.826.0.1.3680043.10.1000.13.${study}${series}${n}` };
}

interface InstanceRow {
  sop_uid: string; series_uid: string; study_uid: string; archive_key: string; version: number; number_of_frames: number;
  frame_ranges: [number, number][]; pixel_data_offset: string | null; pixel_data_length: string | null; transfer_syntax_uid: string; attributes: Record<string, { Value?: unknown[] }>;
}

async function instancesOfStudy(studyUid: string): Promise<InstanceRow[]> {
  const { rows } = await stack.db.query<InstanceRow>('SELECT * FROM instances WHERE study_uid = $1 ORDER BY instance_number, sop_uid', [studyUid]);
  return rows;
}

/** The instances an upload published (the index row of each, whatever version is current). */
async function instancesOfUpload(uploadId: string): Promise<InstanceRow[]> {
  const { rows } = await stack.db.query<InstanceRow>(
    'SELECT i.* FROM instances i WHERE i.sop_uid IN (SELECT sop_uid FROM instance_versions WHERE upload_id = $1) ORDER BY i.instance_number, i.sop_uid', [uploadId],
  );
  return rows;
}

async function archived(key: string): Promise<Buffer> {
  return getObject(stack, stack.buckets.archive, key);
}

function only(status: UploadStatus) {
  expect(status.files).toHaveLength(1);
  return status.files[0]!;
}

beforeAll(async () => {
  process.env.UPLOAD_MULTIPART_THRESHOLD_BYTES = String(10 * MiB);
  stack = await startTestStack();
  [uploader, researcher] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] })]);
});

afterAll(async () => {
  await stack?.stop();
  process.env = savedEnv;
});

describe('one DICOM file', () => {
  it('is accepted end to end, de-identified, archived with its sha256 and indexed', async () => {
    const ct = instance(uids(1));
    const status = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: ct.bytes }]);
    const file = only(status);
    expect(file).toMatchObject({ state: 'accepted', instances: { accepted: 1, duplicate: 0, rejected: 0, held: 0 } });
    expect(file.studies).toHaveLength(1);
    const [row] = await instancesOfStudy(file.studies[0]!);
    expect(row?.sop_uid).toMatch(/^2\.25\./);
    expect(row?.archive_key).toBe(`studies/${row?.study_uid}/series/${row?.series_uid}/instances/${row?.sop_uid}.dcm`);
    const bytes = await archived(row!.archive_key);
    // Pixel data copied byte for byte.
    const offset = Number(row!.pixel_data_offset);
    expect(bytes.subarray(offset, offset + Number(row!.pixel_data_length)).equals(Buffer.from(ct.pixelBytes))).toBe(true);
    expect(row!.frame_ranges).toEqual([[offset, ct.pixelBytes.length]]);
    // The archived file is DICOM again, with the new UIDs.
    const parsed = parsePart10(bytes);
    expect(parsed.layout).toBe('part10');
    const { rows: [study] } = await stack.db.query('SELECT num_instances, num_series, modalities, size_bytes FROM studies WHERE study_uid = $1', [row!.study_uid]);
    expect(study).toMatchObject({ num_instances: 1, num_series: 1, modalities: ['CT'], size_bytes: String(bytes.length) });
    const { createHash } = await import('node:crypto');
    const { rows: [version] } = await stack.db.query('SELECT sha256, version FROM instance_versions WHERE sop_uid = $1', [row!.sop_uid]);
    expect(version).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), version: 1 });
  });

  it('keeps references consistent across instances and files of a study', async () => {
    const a = instance(uids(1, 2));
    const b = instance({ ...uids(2, 2), referencedSopUid: a.sopUid });
    const status = await ingestFiles(stack, uploader, [{ name: 'a.dcm', bytes: a.bytes }, { name: 'b.dcm', bytes: b.bytes }]);
    expect(status.files.map((f) => f.state)).toEqual(['accepted', 'accepted']);
    expect(status.files[0]?.studies).toEqual(status.files[1]?.studies);
    const rows = await instancesOfStudy(status.files[0]!.studies[0]!);
    expect(rows).toHaveLength(2);
    // B's Referenced Image Sequence names A's new SOP Instance UID.
    const references = rows.map((r) => JSON.stringify(r.attributes['00081140'] ?? {}));
    const sops = rows.map((r) => r.sop_uid);
    expect(references.some((ref, i) => sops.some((sop, j) => j !== i && ref.includes(sop)))).toBe(true);
    expect(new Set(rows.map((r) => r.series_uid)).size).toBe(1);
  });

  it('gives the same patient the same pseudonym across uploads and keeps intervals between studies', async () => {
    // The builder's default patient in both (its descriptions quote that patient's name and ID).
    const first = instance({ ...uids(1, 3), studyDate: '20200315' });
    const second = instance({ ...uids(1, 4), studyDate: '20210101' });
    const one = await ingestFiles(stack, uploader, [{ name: 'first.dcm', bytes: first.bytes }]);
    const two = await ingestFiles(stack, uploader, [{ name: 'second.dcm', bytes: second.bytes }]);
    const { rows } = await stack.db.query<{ patient_id: string; study_date: Date }>(
      'SELECT patient_id, study_date FROM studies WHERE study_uid = ANY($1) ORDER BY study_date', [[only(one).studies[0], only(two).studies[0]]],
    );
    expect(rows).toHaveLength(2);
    expect(rows[0]?.patient_id).toBe(rows[1]?.patient_id);
    const days = (rows[1]!.study_date.getTime() - rows[0]!.study_date.getTime()) / 86_400_000;
    expect(days).toBe(292); // 2020-03-15 → 2021-01-01
    expect(rows[0]!.study_date.toISOString().slice(0, 10)).not.toBe('2020-03-15');
  });

  it.each([
    ['implicit VR little endian', transferSyntaxes.implicitLittle],
    ['explicit VR big endian', transferSyntaxes.explicitBig],
    ['deflated explicit VR little endian', transferSyntaxes.deflated],
  ])('accepts %s with pixel data intact', async (_label, syntax) => {
    const ct = instance(uids(1, 5, syntax.length), syntax);
    const status = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: ct.bytes }]);
    expect(only(status)).toMatchObject({ state: 'accepted' });
    const [row] = await instancesOfStudy(only(status).studies[0]!);
    const bytes = await archived(row!.archive_key);
    const [offset, length] = row!.frame_ranges[0]!;
    // The frame's bytes are the source's pixel bytes as encoded (byte order of the transfer syntax).
    expect(Buffer.from(ct.bytes).indexOf(bytes.subarray(offset, offset + length)) >= 0 || syntax === transferSyntaxes.deflated).toBe(true);
    if (syntax !== transferSyntaxes.explicitBig) expect(bytes.subarray(offset, offset + length).equals(Buffer.from(ct.pixelBytes))).toBe(true);
  });

  it('accepts a multi-frame instance with one byte range per frame', async () => {
    const ct = instance({ ...uids(1, 6), frames: 3 });
    const status = await ingestFiles(stack, uploader, [{ name: 'mf.dcm', bytes: ct.bytes }]);
    const [row] = await instancesOfStudy(only(status).studies[0]!);
    expect(row?.number_of_frames).toBe(3);
    expect(row?.frame_ranges).toHaveLength(3);
    const bytes = await archived(row!.archive_key);
    const frameBytes = ct.pixelBytes.length / 3;
    row!.frame_ranges.forEach(([offset, length], i) => {
      expect(bytes.subarray(offset, offset + length).equals(Buffer.from(ct.pixelBytes.subarray(i * frameBytes, (i + 1) * frameBytes)))).toBe(true);
    });
  });

  it.each(readdirSync(fixturesDir).filter((f) => f.endsWith('.dcm')).sort())('accepts the compressed fixture %s with its frames copied untouched, and renders it or says why not', async (name) => {
    const source = readFileSync(join(fixturesDir, name));
    const status = await ingestFiles(stack, uploader, [{ name, bytes: source }]);
    expect(only(status), only(status).reason).toMatchObject({ state: 'accepted' });
    const [row, ...more] = await instancesOfUpload(status.uploadId);
    expect(more).toEqual([]);
    expect(row!.transfer_syntax_uid, 'the encapsulated transfer syntax is kept').toBe(parsePart10(source).transferSyntax.uid);
    const bytes = await archived(row!.archive_key);
    expect(row!.frame_ranges.length).toBe(row!.number_of_frames);
    for (const [offset, length] of row!.frame_ranges) expect(source.indexOf(bytes.subarray(offset, offset + length))).toBeGreaterThan(0);
    // Study cards and previews: every fixture's frames are decoded and rendered (JPEG, JPEG Lossless, RLE in JavaScript; JPEG-LS,
    // JPEG 2000, HTJ2K by the WebAssembly codecs; rendered-compressed.test.ts compares their pixels with the uncompressed originals).
    // The fixtures' pixels (0-356, rescaled by -1024) lie below their header's soft-tissue window: the request names one that shows them.
    const frame = `${stack.url}/dicomweb/studies/${row!.study_uid}/series/${row!.series_uid}/instances/${row!.sop_uid}/frames/${row!.number_of_frames}`;
    const rendered = await fetch(`${frame}/rendered?window=-850,400`, {
      headers: { authorization: `Bearer ${researcher.idToken}`, accept: 'image/png' },
    });
    const image = Buffer.from(await rendered.arrayBuffer());
    expect(rendered.status, image.toString()).toBe(200);
    const png = PNG.sync.read(image);
    expect([png.width, png.height]).toEqual([64, 64]);
    const greys = new Set<number>();
    for (let i = 0; i < png.data.length; i += 4) greys.add(png.data[i] as number);
    // The signed sources (the phantom less 2048) lie far below that window: all black there.
    if (!/signed/.test(name)) expect(greys.size, 'a gradient with a disc, not a blank image').toBeGreaterThan(10);
  });

  it('accepts non-Latin character sets and removes the names written in them', async () => {
    const greek = 'ΠΑΠΑΔΟΠΟΥΛΟΣ^ΓΙΑΝΝΗΣ';
    const japanese = 'ヤマダ^タロウ';
    const built = phiInstance(uids(1, 7));
    const dataset = built.dataset.map((e) => {
      if (e.tag === 0x00080005) return el(0x00080005, 'CS', 'ISO_IR 192');
      // The builder's patient (quoted in its descriptions) with Greek and Japanese component groups.
      if (e.tag === 0x00100010) return el(0x00100010, 'PN', Uint8Array.from(Buffer.from(`DOEPLANTED^JOHNATHAN=${greek}=${japanese}`, 'utf8')));
      return e;
    });
    const bytes = phiPart10({ ...built, dataset });
    for (const value of [...built.planted, 'ΠΑΠΑΔΟΠΟΥΛΟΣ', 'ヤマダ', 'タロウ']) planted.add(value);
    const status = await ingestFiles(stack, uploader, [{ name: 'utf8.dcm', bytes }]);
    expect(only(status)).toMatchObject({ state: 'accepted' });
    const [row] = await instancesOfStudy(only(status).studies[0]!);
    const archivedText = (await archived(row!.archive_key)).toString('utf8');
    expect(archivedText).not.toContain('ΠΑΠΑΔΟΠΟΥΛΟΣ');
    expect(archivedText).not.toContain('ヤマダ');
  });
});

describe('what is not accepted', () => {
  it('rejects a truncated file with a reason', async () => {
    const ct = instance(uids(1, 8));
    const status = await ingestFiles(stack, uploader, [{ name: 'cut.dcm', bytes: ct.bytes.subarray(0, Math.floor(ct.bytes.length * 0.6)) }]);
    expect(only(status)).toMatchObject({ state: 'rejected', instances: { rejected: 1 } });
    expect(only(status).reason).toMatch(/truncated|ends/i);
  });

  it('rejects a file that is not DICOM', async () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2000, 7)]);
    const status = await ingestFiles(stack, uploader, [{ name: 'photo.png', bytes: png }]);
    expect(only(status)).toMatchObject({ state: 'rejected', reason: 'The file is neither DICOM (Part 10) nor a zip archive of DICOM files.' });
  });

  it('rejects a zip bomb without inflating it', async () => {
    const bomb = await zipOf([{ name: 'a.dcm', bytes: Buffer.alloc(200 * MiB) }]);
    expect(bomb.length).toBeLessThan(MiB);
    const status = await ingestFiles(stack, uploader, [{ name: 'bomb.zip', bytes: bomb }]);
    expect(only(status)).toMatchObject({ state: 'rejected', reason: expect.stringContaining('zip bomb') });
  });

  it('holds an image with likely burned-in text for review, outside the index', async () => {
    const capture = instance({ ...uids(1, 9), sopClassUid: secondaryCaptureStorage });
    const status = await ingestFiles(stack, uploader, [{ name: 'screenshot.dcm', bytes: capture.bytes }]);
    expect(only(status)).toMatchObject({ state: 'held', instances: { held: 1, accepted: 0 } });
    const { rows } = await stack.db.query<{ sop_uid: string; archive_key: string; reason: string }>('SELECT sop_uid, archive_key, reason FROM held_instances');
    const held = rows.find((r) => r.archive_key.startsWith(`held/${r.sop_uid}/`));
    expect(held?.reason).toBeTruthy();
    expect((await stack.db.query('SELECT 1 FROM instances WHERE sop_uid = $1', [held!.sop_uid])).rowCount).toBe(0);
    expect(parsePart10(await archived(held!.archive_key)).layout).toBe('part10');
  });
});

describe('zip archives', () => {
  it('ingests DICOM files in folders entry by entry, skipping DICOMDIR and other files, storing no entry names', async () => {
    const a = instance(uids(1, 10));
    const b = instance(uids(2, 10));
    const c = instance(uids(3, 10, 2));
    planted.add('FOLDERPLANT');
    const archive = await zipOf([
      { name: 'FOLDERPLANT DOE/' },
      { name: 'FOLDERPLANT DOE/SE1/IM1', bytes: a.bytes },
      { name: 'FOLDERPLANT DOE/SE1/IM2', bytes: b.bytes, compress: false },
      { name: 'FOLDERPLANT DOE/SE2/IM1', bytes: c.bytes },
      { name: 'DICOMDIR', bytes: a.bytes },
      { name: 'README.txt', bytes: Buffer.from('exported by PACS') },
    ]);
    const status = await ingestFiles(stack, uploader, [{ name: 'study.zip', bytes: archive }]);
    expect(only(status)).toMatchObject({ state: 'accepted', instances: { accepted: 3, duplicate: 0, rejected: 0, held: 0 } });
    const rows = await instancesOfStudy(only(status).studies[0]!);
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.series_uid)).size).toBe(2);
    const { rows: [details] } = await stack.db.query<{ details: { entries: number; skipped: number } }>('SELECT details FROM upload_files WHERE upload_id = $1', [status.uploadId]);
    expect(details?.details).toMatchObject({ entries: 6, skipped: 3 });
  });

  it('reports entries it could not accept, by number', async () => {
    const good = instance(uids(1, 11));
    const archive = await zipOf([{ name: 'ok.dcm', bytes: good.bytes }, { name: 'cut.dcm', bytes: good.bytes.subarray(0, 400) }]);
    const status = await ingestFiles(stack, uploader, [{ name: 'mixed.zip', bytes: archive }]);
    expect(only(status)).toMatchObject({ state: 'accepted', instances: { accepted: 1, rejected: 1 }, reason: expect.stringContaining('1 rejected') });
    const { rows: [row] } = await stack.db.query<{ details: { notes: { entry: number; outcome: string; reason: string }[] } }>('SELECT details FROM upload_files WHERE upload_id = $1', [status.uploadId]);
    expect(row?.details.notes).toEqual([{ entry: 2, outcome: 'rejected', reason: expect.any(String) }]);
  });

  it('ingests a large zip uploaded in parts', async () => {
    const members = Array.from({ length: 3 }, (_, i) => instance({ ...uids(i + 1, 12), rows: 1024, columns: 1024 * 2 }));
    const archive = await zipOf(members.map((m, i) => ({ name: `SE1/IM${i}`, bytes: m.bytes, compress: false })));
    expect(archive.length).toBeGreaterThan(10 * MiB);
    const status = await ingestFiles(stack, uploader, [{ name: 'large.zip', bytes: archive }]);
    expect(only(status)).toMatchObject({ state: 'accepted', instances: { accepted: 3 } });
  });
});

describe('idempotency and versions', () => {
  it('reports a re-upload of the same file as duplicate and keeps one instance', async () => {
    const ct = instance(uids(1, 13));
    const first = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: ct.bytes }]);
    const again = await ingestFiles(stack, uploader, [{ name: 'ct-again.dcm', bytes: ct.bytes }]);
    expect(only(first).state).toBe('accepted');
    expect(only(again)).toMatchObject({ state: 'duplicate', instances: { duplicate: 1, accepted: 0 }, studies: only(first).studies });
    const rows = await instancesOfStudy(only(first).studies[0]!);
    expect(rows).toHaveLength(1);
    const { rows: [study] } = await stack.db.query('SELECT num_instances FROM studies WHERE study_uid = $1', [only(first).studies[0]]);
    expect(study).toEqual({ num_instances: 1 });
  });

  it('records a changed file with the same SOP Instance UID as a new version and keeps the old object', async () => {
    const v1 = instance(uids(1, 14));
    const v2 = instance({ ...uids(1, 14), extra: [el(0x00181020, 'LO', 'SOFTWARE 2.0')] });
    const one = await ingestFiles(stack, uploader, [{ name: 'v1.dcm', bytes: v1.bytes }]);
    const two = await ingestFiles(stack, uploader, [{ name: 'v2.dcm', bytes: v2.bytes }]);
    expect(only(two)).toMatchObject({ state: 'accepted', instances: { accepted: 1 } });
    const rows = await instancesOfStudy(only(one).studies[0]!);
    expect(rows).toHaveLength(1);
    expect(rows[0]?.version).toBe(2);
    const { rows: versions } = await stack.db.query<{ version: number; archive_key: string }>('SELECT version, archive_key FROM instance_versions WHERE sop_uid = $1 ORDER BY version', [rows[0]!.sop_uid]);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
    expect(rows[0]?.archive_key).toBe(versions[1]?.archive_key);
    const [old, current] = await Promise.all(versions.map((v) => archived(v.archive_key)));
    expect(old?.equals(current!)).toBe(false);
    expect(current?.toString('latin1')).toContain('SOFTWARE 2.0');
    const { rows: [study] } = await stack.db.query('SELECT num_instances FROM studies WHERE study_uid = $1', [rows[0]!.study_uid]);
    expect(study).toEqual({ num_instances: 1 });
  });

  it('renders a new version with its own pixels, not the image cached for the previous one', async () => {
    const renderedSize = async (row: InstanceRow) => {
      const url = `${stack.url}/dicomweb/studies/${row.study_uid}/series/${row.series_uid}/instances/${row.sop_uid}/rendered`;
      const answer = await fetch(url, { headers: { authorization: `Bearer ${researcher.idToken}`, accept: 'image/png' } });
      const image = Buffer.from(await answer.arrayBuffer());
      expect(answer.status, image.toString()).toBe(200);
      const png = PNG.sync.read(image);
      return [png.width, png.height];
    };
    const one = await ingestFiles(stack, uploader, [{ name: 'small.dcm', bytes: instance({ ...uids(1, 16), rows: 16, columns: 16 }).bytes }]);
    const [first] = await instancesOfUpload(one.uploadId);
    expect(await renderedSize(first!)).toEqual([16, 16]);
    const two = await ingestFiles(stack, uploader, [{ name: 'larger.dcm', bytes: instance({ ...uids(1, 16), rows: 24, columns: 20 }).bytes }]);
    const [second] = await instancesOfUpload(two.uploadId);
    expect([second?.sop_uid, second?.version]).toEqual([first?.sop_uid, 2]);
    expect(await renderedSize(second!)).toEqual([20, 24]);
  });
});

describe('the PHI vault', () => {
  it('keeps the original identifiers encrypted and reveals them only through revealIdentifiers', async () => {
    const ct = instance(uids(1, 15));
    const status = await ingestFiles(stack, uploader, [{ name: 'v.dcm', bytes: ct.bytes }]);
    const { rows: [study] } = await stack.db.query<{ patient_id: string }>('SELECT patient_id FROM studies WHERE study_uid = $1', [only(status).studies[0]]);
    const vault = await phiVaultFromEnv();
    const patient = await vault.revealIdentifiers(stack.db, 'patient', study!.patient_id);
    expect(patient).toMatchObject({ patientId: 'PID-PLANT-4711', patientName: 'DOEPLANTED^JOHNATHAN^QUINCY', issuerOfPatientId: 'ISSUER-PLANT', birthDate: '19610203' });
    const studyRecord = await vault.revealIdentifiers(stack.db, 'study', only(status).studies[0]!);
    expect(studyRecord).toMatchObject({ studyUid: ct.studyUid, accessionNumber: 'ACC-PLANT-77', institutionName: 'PLANTED GENERAL HOSPITAL' });
    const [row] = await instancesOfStudy(only(status).studies[0]!);
    expect(await vault.revealIdentifiers(stack.db, 'instance', row!.sop_uid)).toMatchObject({ sopUid: ct.sopUid });
  });
});

describe('no planted value anywhere', () => {
  // Runs last: covers every file this test file uploaded.
  it('is found in any archived object or any PostgreSQL table (the vault excepted)', async () => {
    expect(planted.size).toBeGreaterThan(50);
    const values = [...planted];
    const archived = await allObjects(stack, stack.buckets.archive);
    // The earlier tests of this file archived studies: an empty bucket would prove nothing.
    expect(archived.filter((object) => object.key.startsWith('studies/')).length).toBeGreaterThan(5);
    for (const object of archived) {
      const text = object.bytes.toString('latin1') + object.bytes.toString('utf8');
      expect(findPlanted(text, values), object.key).toEqual([]);
    }
    const tables = await databaseText(stack);
    expect([...tables.keys()]).toEqual(expect.arrayContaining(['instances', 'studies', 'series', 'patients', 'upload_files', 'phi_vault', 'audit_log', 'held_instances']));
    for (const [table, text] of tables) expect(findPlanted(text, values), table).toEqual([]);
  });
});
