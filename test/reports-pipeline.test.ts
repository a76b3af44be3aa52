/**
 * The report pipeline on a real PostgreSQL with the full schema: linking
 * (after and before the images, by accession, by patient and date, waiting
 * then matched, ambiguous), versions, CSV and text uploads, the whole
 * synthetic corpus with no planted personal data surviving in any table, and
 * every planted typo query finding its report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStudyFilter } from '@medlake/shared/query/study-filter';
import { foldForSearch } from '@medlake/shared/reports/fold-text';
import { listStudies } from '@medlake/functions/api/studies';
import type { ReportContext } from '@medlake/functions/reports/report-context';
import { ingestReportObject } from '@medlake/functions/reports/ingest-report-object';
import { linkWaitingReports, submitReport } from '@medlake/functions/reports/report-intake';
import { ReportStore } from '@medlake/functions/reports/report-store';
import type { CorpusReport } from './fixtures/reports/corpus';
import { corpus, plainReport } from './fixtures/reports/corpus';
import type { IndexedStudy } from './fixtures/reports/lake';
import { indexStudy, reportTestContext } from './fixtures/reports/lake';
import type { TestDatabase } from './support/test-database';
import { startTestDatabase } from './support/test-database';

let database: TestDatabase;
let ctx: ReportContext;
let store: ReportStore;
/** Corpus report id → the study UID it was indexed under (the first, when indexed twice). */
const uidOf = new Map<string, string>();

async function indexCorpusStudy(r: CorpusReport, study = r.study): Promise<IndexedStudy> {
  const indexed = await indexStudy(ctx, r.patient, study);
  if (!uidOf.has(r.id)) uidOf.set(r.id, indexed.studyUid);
  return indexed;
}

beforeAll(async () => {
  database = await startTestDatabase();
  ctx = reportTestContext(database.pool);
  store = new ReportStore(database.pool);
});

afterAll(async () => {
  await database?.stop();
});

const report = (id: string) => corpus.find((r) => r.id === id) as CorpusReport;
const textOf = (id: string) => plainReport(report(id)).text;
const dicomDate = (d: string) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;

/** Every value the corpus planted for this report, plus its patient's and study's identifiers. */
function plantedValues(r: CorpusReport): string[] {
  const { planted } = plainReport(r);
  const nameParts = r.patient.name.split(/[\^\s-]+/).filter((p) => p.length >= 3);
  return [...planted.map((p) => p.value), ...nameParts, r.patient.id, r.study.accession];
}

/** Random UUIDs (submission ids, request ids) whose groups could equal a short planted number by chance. */
const uuids = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;

function survivors(text: string, values: readonly string[]): string[] {
  const haystack = foldForSearch(text.replace(uuids, '<uuid>')).replace(/\s+/g, ' ');
  return values.filter((value) => {
    const needle = foldForSearch(value).replace(/\s+/g, ' ').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(`(?<![\\p{L}\\p{N}])${needle}(?![\\p{L}\\p{N}])`, 'u').test(haystack);
  });
}

describe('linking', () => {
  let r01: IndexedStudy;

  it('a report uploaded after its images is linked by accession number and scrubbed', async () => {
    r01 = await indexCorpusStudy(report('r01'));
    const outcome = await submitReport(ctx, { source: 'text', text: textOf('r01'), link: { accession: 'A10001' } });
    expect(outcome).toMatchObject({ state: 'linked', studyUid: r01.studyUid, version: 1 });
    const stored = await store.version(r01.studyUid);
    expect(stored?.text).toContain('pnemonia');
    expect(survivors(stored?.text ?? '', plantedValues(report('r01')))).toEqual([]);
    // The same pseudonyms as the images: patient ID, accession, shifted exam date (14.03.2021 moved by the patient's offset).
    expect(stored?.text).toContain(r01.patientId);
    expect(stored?.text).toContain(r01.accession);
    const shifted = new Date(Date.UTC(2021, 2, 14) + r01.shiftDays * 86_400_000);
    expect(stored?.text).toContain(`${String(shifted.getUTCDate()).padStart(2, '0')}.${String(shifted.getUTCMonth() + 1).padStart(2, '0')}.${shifted.getUTCFullYear()}`);
  });

  it('a report uploaded before its images waits, is listed as unmatched, and links when the study is indexed', async () => {
    const r02 = report('r02');
    const outcome = await submitReport(ctx, { source: 'csv', text: textOf('r02'), link: { patientId: r02.patient.id, issuer: r02.patient.issuer, studyDate: dicomDate(r02.study.date) }, author: { sub: 'uploader-1' } });
    expect(outcome.state).toBe('waiting');
    expect(outcome.reason).toMatch(/No study of this patient on that date yet/);
    const waiting = await store.waiting('uploader-1');
    expect(waiting.map((w) => w.submissionId)).toContain(outcome.submissionId);
    expect(waiting.find((w) => w.submissionId === outcome.submissionId)?.linkBy).toEqual(['patient-and-date']);
    // Nothing de-identified is stored while it waits; the original is only in the vault.
    const vaulted = await database.pool.query(`SELECT count(*)::int AS n FROM phi_vault WHERE kind = 'report' AND pseudonym = $1`, [outcome.submissionId]);
    expect(vaulted.rows[0].n).toBe(1);

    const study = await indexCorpusStudy(r02);
    const linked = await linkWaitingReports(ctx, [study.studyUid]);
    expect(linked).toEqual([expect.objectContaining({ submissionId: outcome.submissionId, state: 'linked', studyUid: study.studyUid, version: 1 })]);
    expect(await store.waiting('uploader-1')).toEqual([]);
    expect(survivors((await store.version(study.studyUid))?.text ?? '', plantedValues(r02))).toEqual([]);
  });

  it('waits by accession before the images, and links on their arrival', async () => {
    const r03 = report('r03');
    const outcome = await submitReport(ctx, { source: 'text', text: textOf('r03'), link: { accession: r03.study.accession } });
    expect(outcome).toMatchObject({ state: 'waiting' });
    expect(outcome.reason).toMatch(/No study with this accession number yet/);
    const study = await indexCorpusStudy(r03);
    expect((await linkWaitingReports(ctx, [study.studyUid]))[0]).toMatchObject({ state: 'linked', studyUid: study.studyUid });
    // Calling the hook again links nothing twice.
    expect(await linkWaitingReports(ctx, [study.studyUid])).toEqual([]);
  });

  it('a different issuer is a different patient: the report keeps waiting', async () => {
    const r04 = report('r04');
    await indexCorpusStudy(r04);
    const outcome = await submitReport(ctx, { source: 'csv', text: textOf('r04'), link: { patientId: r04.patient.id, issuer: 'OTHER-HOSPITAL', studyDate: dicomDate(r04.study.date) } });
    expect(outcome.state).toBe('waiting');
    const matched = await submitReport(ctx, { source: 'csv', text: textOf('r04'), link: { patientId: r04.patient.id, issuer: r04.patient.issuer.toLowerCase(), studyDate: dicomDate(r04.study.date) } });
    expect(matched.state).toBe('linked');
  });

  it('two studies of the patient on the same day: the report waits for an accession number', async () => {
    const r05 = report('r05');
    await indexCorpusStudy(r05);
    await indexCorpusStudy(r05, { ...r05.study, accession: 'A10005-B', modality: 'CR' });
    const outcome = await submitReport(ctx, { source: 'csv', text: textOf('r05'), link: { patientId: r05.patient.id, issuer: r05.patient.issuer, studyDate: dicomDate(r05.study.date) } });
    expect(outcome).toMatchObject({ state: 'waiting', reason: expect.stringMatching(/several studies on that date/) });
    const byAccession = await submitReport(ctx, { source: 'csv', text: textOf('r05'), link: { accession: 'A10005', patientId: r05.patient.id, issuer: r05.patient.issuer, studyDate: dicomDate(r05.study.date) } });
    expect(byAccession.state).toBe('linked');
  });

  it('corrections add versions with author and reason; an identical resubmission adds none', async () => {
    const uid = r01.studyUid;
    const corrected = textOf('r01').replace('Small right pleural effusion.', 'Small right pleural effusion. Addendum: Dr. Nadia Petrov reviewed, phone 555-300-1212.');
    const second = await submitReport(ctx, { source: 'api', text: corrected, link: { studyUid: uid }, author: { sub: 'annotator-1', name: 'annotator@example.org' }, reason: 'addendum after review of John Doe, MRN 00123456' });
    expect(second).toMatchObject({ state: 'linked', version: 2 });
    const again = await submitReport(ctx, { source: 'api', text: corrected, link: { studyUid: uid }, author: { sub: 'annotator-1' } });
    expect(again).toMatchObject({ state: 'duplicate', version: 2 });
    const versions = await store.versions(uid);
    expect(versions.map((v) => [v.version, v.source, v.author, v.reason])).toEqual([[1, 'text', null, null], [2, 'api', 'annotator@example.org', expect.stringMatching(/^addendum after review of [^J]+, MRN [^0]+$/)]]);
    // The reason is shown with the version: scrubbed like the text.
    expect(versions[1]?.reason).not.toMatch(/John|Doe|00123456/);
    expect(versions[1]?.replaced).toMatchObject({ name: expect.any(Number), phone: 1 });
    const first = await store.version(uid, 1);
    const latest = await store.version(uid);
    expect(first?.text).not.toContain('Addendum');
    expect(first?.latest).toBe(false);
    expect(latest?.text).toContain('Addendum: Dr. [NAME] reviewed, phone [PHONE].');
  });
});

describe('uploaded report files', () => {
  it('a CSV batch (Latin-1, semicolons, German headers) links its rows and reports row problems without values', async () => {
    const r33 = report('r33');
    const r34 = report('r34');
    await indexCorpusStudy(r33);
    const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;
    const csv = [
      'Auftragsnummer;Patienten-ID;Herausgeber;Untersuchungsdatum;Befund',
      `${r33.study.accession};${r33.patient.id};${r33.patient.issuer};09.03.2021;${quote(textOf('r33'))}`,
      `;${r34.patient.id};${r34.patient.issuer};12.04.2021;${quote(textOf('r34'))}`,
      `K99999;;;;`,
    ].join('\r\n');
    await database.pool.query(`INSERT INTO uploads (upload_id, owner_sub, owner_name, expires_at) VALUES ('00000000-0000-4000-8000-000000000033', 'uploader-2', 'uploader2@example.org', now() + interval '1 day')`);
    const result = await ingestReportObject(ctx, { bytes: Buffer.from(csv, 'latin1'), fileName: 'befunde.csv', uploadId: '00000000-0000-4000-8000-000000000033', fileIndex: 0 });
    expect(result.state).toBe('accepted');
    expect(result.details).toMatchObject({ reports: { linked: 1, waiting: 1, duplicate: 0, rejected: 1 }, problems: [{ row: 3, code: 'no_text' }] });
    expect(result.reason).toMatch(/1 linked to its study; 1 waiting for its study/);
    expect(result.studies).toHaveLength(1);
    const linked = await store.version(result.studies[0] as string);
    expect(linked?.text).toContain('Pleuraerguß');
    expect(survivors(linked?.text ?? '', plantedValues(r33))).toEqual([]);
    const waiting = await store.waiting('uploader-2');
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ source: 'csv', rowNumber: 2, linkBy: ['patient-and-date'] });
  });

  it('a plain text report finds its study by the accession number in its header', async () => {
    const r06 = report('r06');
    const study = await indexCorpusStudy(r06);
    const text = `Accession: ${r06.study.accession}\n${textOf('r06')}`;
    const result = await ingestReportObject(ctx, { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]), fileName: 'report.txt', uploadId: '00000000-0000-4000-8000-000000000006', fileIndex: 0 });
    expect(result).toMatchObject({ state: 'accepted', studies: [study.studyUid] });
  });

  it('a text report naming no study is rejected with a reason', async () => {
    const result = await ingestReportObject(ctx, { bytes: Buffer.from('Findings: no acute abnormality.'), fileName: 'notes.txt', uploadId: '00000000-0000-4000-8000-000000000007', fileIndex: 0 });
    expect(result.state).toBe('rejected');
    expect(result.reason).toMatch(/names its study neither by an accession number/);
  });
});

describe('the synthetic corpus', () => {
  const linkedIds = new Set(['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r33']);

  beforeAll(async () => {
    // Half the reports arrive before their images, half after.
    const rest = corpus.filter((r) => !linkedIds.has(r.id));
    const before = rest.filter((_, i) => i % 2 === 0);
    const after = rest.filter((_, i) => i % 2 === 1);
    for (const r of after) await indexCorpusStudy(r);
    for (const r of rest) await submitReport(ctx, { source: 'csv', text: textOf(r.id), link: { accession: r.study.accession } });
    const uids: string[] = [];
    for (const r of before) uids.push((await indexCorpusStudy(r)).studyUid);
    await linkWaitingReports(ctx, uids);
  });

  it('every report is linked', async () => {
    const reports = await database.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM reports');
    expect(reports.rows[0]?.n).toBe(corpus.length);
  });

  it('no planted personal data survives in any table (the PHI vault excepted)', async () => {
    const values = [...new Set(corpus.flatMap(plantedValues))];
    const tables = await database.pool.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> 'phi_vault'`);
    expect(tables.rows.map((t) => t.table_name)).toEqual(expect.arrayContaining(['reports', 'report_versions', 'report_submissions', 'report_lexemes', 'audit_log']));
    const found: string[] = [];
    for (const { table_name } of tables.rows) {
      const rows = await database.pool.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${table_name}" t`);
      const text = rows.rows.map((r) => r.row).join('\n');
      for (const value of survivors(text, values)) found.push(`${table_name}: ${value}`);
    }
    expect(found).toEqual([]);
  });

  it('every typo-tolerant query finds its report', async () => {
    const misses: string[] = [];
    for (const r of corpus) {
      for (const query of r.queries) {
        const result = await store.search(query, { limit: 100, offset: 0 });
        const hit = result.items.find((item) => item.studyInstanceUID === uidOf.get(r.id) && item.highlights.some((s) => s.match));
        if (!hit) misses.push(`${r.id}: ${query}`);
      }
    }
    expect(misses).toEqual([]);
  });

  it('the study filter finds studies by report text (typos too) or description, and by hasReport', async () => {
    const list = (query: string) => listStudies(parseStudyFilter(new URLSearchParams(`${query}&limit=200`)), database.pool);
    const pneumonia = await list('q=pnemonia');
    for (const id of ['r01', 'r02', 'r17']) expect(pneumonia.items.map((i) => i.studyInstanceUID)).toContain(uidOf.get(id));
    expect((await list('q=pneumonia')).items.map((i) => i.studyInstanceUID)).toContain(uidOf.get('r33'));
    expect(pneumonia.items.every((i) => i.hasReport)).toBe(true);
    const byDescription = await list('q=triphasic');
    expect(byDescription.items.map((i) => i.studyInstanceUID)).toEqual([uidOf.get('r10')]);
    const withCt = await list('q=pnemonia&modality=CT');
    expect(withCt.items.every((i) => i.modalities.includes('CT'))).toBe(true);
    expect(withCt.total).toBeLessThan(pneumonia.total);
    const withoutReport = await list('hasReport=false');
    expect(withoutReport.items.length).toBeGreaterThan(0);
    expect(withoutReport.items.every((i) => !i.hasReport)).toBe(true);
    const withReport = await list('hasReport=true');
    expect(withReport.total).toBe(corpus.length);
  });
});
