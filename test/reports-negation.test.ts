/**
 * Negation-aware report search through the real API on the local stack
 * (PostgreSQL, Cognito and S3/SQS emulators): a plain search finds what
 * reports affirm, `no:` and negation written as in a report find what they
 * negate, `any:` finds both; the study browser's `q` filters the same way;
 * reports stored before the negation columns existed are indexed by the
 * migration run (backfill) and found correctly afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envNames } from '@medlake/shared/resources';
import { migrateDatabase } from '@medlake/functions/adapters/migrate';
import { phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import { ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let uploader: TestUser;
let researcher: TestUser;
let annotator: TestUser;

const reports = {
  affirmed: 'FINDINGS: Dense consolidation in the right lower lobe, consistent with pneumonia. No pleural effusion.\nIMPRESSION: Right lower lobe pneumonia.',
  negated: 'FINDINGS: No evidence of pneumonia. Small left pleural effusion. Pulmonary embolism ruled out.\nIMPRESSION: No acute cardiopulmonary process.',
  pseudo: 'FINDINGS: Pneumonia cannot be excluded in the left base. No change in the small right pleural effusion.',
  german: 'BEFUND: Kein Nachweis einer Lungenembolie. Kein Pleuraerguss. Pneumonie im linken Unterlappen.',
} as const;
type Name = keyof typeof reports;
const uid: Partial<Record<Name, string>> = {};
const nameOf = (studyUid: string) => (Object.keys(uid) as Name[]).find((name) => uid[name] === studyUid) ?? studyUid;

interface SearchBody {
  total: number;
  items: { studyInstanceUID: string; highlights: { text: string; match: boolean }[] }[];
}

async function search(q: string): Promise<{ names: string[]; body: SearchBody }> {
  const res = await stack.request(`/api/reports/search?q=${encodeURIComponent(q)}&limit=50`, { token: researcher.idToken });
  expect(res.status).toBe(200);
  const body = res.body as SearchBody;
  return { names: body.items.map((i) => nameOf(i.studyInstanceUID)).sort(), body };
}

async function studies(q: string): Promise<string[]> {
  const res = await stack.request(`/api/studies?q=${encodeURIComponent(q)}&limit=50`, { token: researcher.idToken });
  expect(res.status).toBe(200);
  return (res.body as { items: { studyInstanceUID: string }[] }).items.map((i) => nameOf(i.studyInstanceUID)).sort();
}

beforeAll(async () => {
  stack = await startTestStack();
  [uploader, researcher, annotator] = await Promise.all([stack.createUser({ groups: ['uploader'] }), stack.createUser({ groups: ['researcher'] }), stack.createUser({ groups: ['annotator'] })]);
  const names = Object.keys(reports) as Name[];
  const files = names.map((name, i) => ({
    name: `${name}.dcm`,
    bytes: phiPart10(phiInstance({ patientId: `NEG-${i}`, studyUid: `1.2.826.0.1.3680043.10.1000.61.${i + 1}`, seriesUid: `1.2.826.0.1.3680043.10.1000.62.${i + 1}`, sopUid: `1.2.826.0.1.3680043.10.1000.63.${i + 1}` })),
  }));
  const status = await ingestFiles(stack, uploader, files);
  names.forEach((name, i) => {
    uid[name] = status.files[i]?.studies[0];
  });
  for (const name of names) {
    const put = await stack.request(`/api/studies/${uid[name]}/report`, { method: 'PUT', token: annotator.idToken, json: { text: reports[name] } });
    expect(put.status).toBe(201);
  }
});

afterAll(async () => {
  await stack?.stop();
});

describe('negation-aware report search', () => {
  it('a plain search finds affirmed mentions only; a pseudo-negation ("cannot be excluded", "no change in") is not a negation', async () => {
    expect((await search('pneumonia')).names).toEqual(['affirmed', 'german', 'pseudo']);
    expect((await search('pleural effusion')).names).toEqual(['negated', 'pseudo']);
    expect((await search('pulmonary embolism')).names).toEqual([]);
  });

  it('no:term finds the reports that negate it, and highlights it', async () => {
    const negated = await search('no:pneumonia');
    expect(negated.names).toEqual(['negated']);
    expect(negated.body.items[0]?.highlights.filter((s) => s.match).map((s) => s.text.toLowerCase())).toContain('pneumonia');
    expect((await search('no:"pleural effusion"')).names).toEqual(['affirmed']);
    expect((await search('no:Lungenembolie')).names).toEqual(['german']);
    // Typos are tolerated in negated terms too.
    expect((await search('no:pnemonia')).names).toEqual(['negated']);
  });

  it('negation written as in a report is understood; parts combine', async () => {
    expect((await search('no evidence of pneumonia')).names).toEqual(['negated']);
    expect((await search('pulmonary embolism ruled out')).names).toEqual(['negated']);
    expect((await search('pneumonia without pleural effusion')).names).toEqual(['affirmed']);
    expect((await search('pneumonia no:lungenembolie')).names).toEqual(['german']);
  });

  it('any:term finds a term whatever the report says about it', async () => {
    expect((await search('any:pneumonia')).names).toEqual(['affirmed', 'german', 'negated', 'pseudo']);
    expect((await search('any:"pulmonary embolism"')).names).toEqual(['negated']);
  });

  it("the study browser's q filters the same way", async () => {
    expect(await studies('pneumonia')).toEqual(['affirmed', 'german', 'pseudo']);
    expect(await studies('no:pneumonia')).toEqual(['negated']);
  });

  it('reports stored before negation-aware indexing are indexed by the next migration run', async () => {
    // As migration 0054 leaves existing rows: no affirmed/negated texts yet, the whole text counts as affirmed.
    await stack.db.query('UPDATE reports SET affirmed_search_text = NULL, negated_search_text = NULL');
    expect((await search('pneumonia')).names).toEqual(['affirmed', 'german', 'negated', 'pseudo']);
    const log: string[] = [];
    await migrateDatabase(stack.env[envNames.databaseUrl] as string, { allowOutOfOrder: true, log: (line) => log.push(line) });
    expect(log).toContain('negation-aware search texts: 4 reports done, 0 left for the next run');
    expect((await search('pneumonia')).names).toEqual(['affirmed', 'german', 'pseudo']);
    expect((await search('no:pneumonia')).names).toEqual(['negated']);
    // Nothing is left to do: the next run is silent.
    const again: string[] = [];
    await migrateDatabase(stack.env[envNames.databaseUrl] as string, { allowOutOfOrder: true, log: (line) => again.push(line) });
    expect(again).toEqual([]);
  });
});
