/**
 * Classification labels on the real local stack: the admins' vocabulary
 * (add, replace, retire), labels on a study, a series and an instance as
 * versioned sets with If-Match, the study browser's label filter and the
 * labels /api/studies answers, the labels CSV rows an export takes, the
 * role matrix and the audit trail.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelRowsForExport } from '@medlake/functions/annotations/annotation-export';
import { labelsCsv } from '@medlake/shared/export/labels-csv';
import { generateDicom, uploadAndIngest } from './fixtures/dicomweb/lake';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

interface Study { studyInstanceUID: string; labels: string[]; series: { seriesInstanceUID: string }[] }
interface LabelSet { version: number; labels: { code: string; value: string | null; display: string }[]; changed?: boolean; author: { sub: string } }
type Json = Record<string, { vr: string; Value?: unknown[] }>;

let stack: TestStack;
let annotator: TestUser;
let researcher: TestUser;
let uploader: TestUser;
let admin: TestUser;
let dir: string;
let first: Study;
let second: Study;
let third: Study;
let instanceOfSecond: string;

const api = (path: string, user: TestUser, init: { method?: string; json?: unknown; headers?: Record<string, string> } = {}) => stack.request(path, { token: user.idToken, ...init });
const put = (path: string, user: TestUser, json: unknown, ifMatch?: string) => api(path, user, { method: 'PUT', json, ...(ifMatch !== undefined ? { headers: { 'if-match': ifMatch } } : {}) });
const errorCode = (body: unknown) => (body as { error: { code: string } }).error.code;

async function studiesWith(query: string): Promise<string[]> {
  const res = await api(`/api/studies?${query}`, researcher);
  expect(res.status).toBe(200);
  return (res.body as { items: Study[] }).items.map((s) => s.studyInstanceUID).sort();
}

beforeAll(async () => {
  stack = await startTestStack();
  [annotator, researcher, uploader, admin] = await Promise.all([
    stack.createUser({ groups: ['annotator'] }),
    stack.createUser({ groups: ['researcher'] }),
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['admin'] }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'medlake-labels-'));
  const source = generateDicom(dir, { patients: 3, seriesPerStudy: 2, slices: 2, matrix: 16, seed: 31 });
  await uploadAndIngest(stack, uploader.idToken, source.map((s) => s.path));
  const list = (await api('/api/studies', researcher)).body as { items: Study[] };
  const detailed = await Promise.all(list.items.map(async (s) => (await api(`/api/studies/${s.studyInstanceUID}`, researcher)).body as Study));
  [first, second, third] = detailed.sort((a, b) => a.studyInstanceUID.localeCompare(b.studyInstanceUID)) as [Study, Study, Study];
  const series = second.series[0]?.seriesInstanceUID as string;
  const instances = (await api(`/dicomweb/studies/${second.studyInstanceUID}/series/${series}/instances`, researcher)).body as Json[];
  instanceOfSecond = String(instances[0]?.['00080018']?.Value?.[0]);
}, 600_000);

afterAll(async () => {
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the label vocabulary', () => {
  it('admins add terms; everyone who reads studies reads them', async () => {
    for (const term of [
      { code: 'Nodule', display: 'Pulmonary nodule', description: 'A rounded opacity up to 3 cm.' },
      { code: 'follow-up', display: 'Needs follow-up', levels: ['study'] },
      { code: 'grade', display: 'Lesion grade', levels: ['study', 'series'], values: ['1', '2', '3', '4', '5'] },
      { code: 'artifact', display: 'Image artifact', levels: ['instance', 'series'] },
      { code: 'obsolete', display: 'Old term' },
    ]) {
      const res = await api('/api/labels/vocabulary', admin, { json: term });
      expect(res.status).toBe(201);
    }
    expect(errorCode((await api('/api/labels/vocabulary', admin, { json: { code: 'nodule' } })).body)).toBe('label_exists');
    expect(errorCode((await api('/api/labels/vocabulary', admin, { json: { code: 'Not a code!' } })).body)).toBe('invalid_label_code');
    const read = await api('/api/labels/vocabulary', researcher);
    expect(read.status).toBe(200);
    const terms = (read.body as { terms: { code: string; levels: string[]; values: string[] }[] }).terms;
    expect(terms.map((t) => t.code)).toEqual(['artifact', 'follow-up', 'grade', 'nodule', 'obsolete']);
    expect(terms.find((t) => t.code === 'nodule')).toMatchObject({ levels: ['study', 'series', 'instance'], values: [] });
  });

  it('replacing the vocabulary updates listed terms and retires the others', async () => {
    const current = ((await api('/api/labels/vocabulary', admin)).body as { terms: Record<string, unknown>[] }).terms;
    const kept = current.filter((t) => t.code !== 'obsolete').map((t) => (t.code === 'nodule' ? { ...t, display: 'Nodule' } : t));
    const res = await put('/api/labels/vocabulary', admin, { terms: kept });
    expect(res.status).toBe(200);
    expect((res.body as { retired: string[] }).retired).toEqual(['obsolete']);
    const active = ((await api('/api/labels/vocabulary', researcher)).body as { terms: { code: string; display: string }[] }).terms;
    expect(active.map((t) => t.code)).not.toContain('obsolete');
    expect(active.find((t) => t.code === 'nodule')?.display).toBe('Nodule');
    const all = ((await api('/api/labels/vocabulary?retired=true', researcher)).body as { terms: { code: string; active: boolean }[] }).terms;
    expect(all.find((t) => t.code === 'obsolete')?.active).toBe(false);
  });
});

describe('labels on studies, series and instances', () => {
  it('each change is a new version with its author; the same labels again are no change', async () => {
    const path = `/api/studies/${first.studyInstanceUID}/labels`;
    const empty = await api(path, researcher);
    expect(empty.status).toBe(200);
    expect(empty.headers.get('etag')).toBe('"0"');
    expect(empty.body).toMatchObject({ version: 0, labels: [] });

    const v1 = await put(path, annotator, { labels: [{ code: 'nodule' }], message: 'first read' }, '"0"');
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ version: 1, changed: true, labels: [{ code: 'nodule', value: null, display: 'Nodule' }], author: { sub: annotator.username } });
    const same = await put(path, annotator, { labels: [{ code: 'NODULE' }] }, '"1"');
    expect(same.status).toBe(200);
    expect(same.body).toMatchObject({ version: 1, changed: false });

    const v2 = await put(path, admin, { labels: [{ code: 'nodule' }, { code: 'grade', value: '3' }, { code: 'follow-up' }] }, '"1"');
    expect(v2.status).toBe(201);
    expect((v2.body as LabelSet).labels.map((l) => [l.code, l.value])).toEqual([['follow-up', null], ['grade', '3'], ['nodule', null]]);

    const versions = (await api(`${path}/versions`, researcher)).body as { versions: (LabelSet & { message: string | null; createdAt: string })[] };
    expect(versions.versions.map((v) => [v.version, v.author.sub, v.labels.length, v.message])).toEqual([
      [1, annotator.username, 1, 'first read'],
      [2, admin.username, 3, null],
    ]);
  });

  it('a stale If-Match answers 409 with the latest labels', async () => {
    const res = await put(`/api/studies/${first.studyInstanceUID}/labels`, annotator, { labels: [] }, '"1"');
    expect(res.status).toBe(409);
    const error = (res.body as { error: { code: string; current: LabelSet } }).error;
    expect(error.code).toBe('version_conflict');
    expect(error.current.version).toBe(2);
    expect(error.current.labels).toHaveLength(3);
  });

  it('checks labels against the vocabulary and the object', async () => {
    const study = `/api/studies/${second.studyInstanceUID}`;
    const series = `${study}/series/${second.series[0]?.seriesInstanceUID}`;
    const cases: [string, unknown, string][] = [
      [`${study}/labels`, { labels: [{ code: 'unheard-of' }] }, 'unknown_label'],
      [`${study}/labels`, { labels: [{ code: 'obsolete' }] }, 'retired_label'],
      [`${study}/labels`, { labels: [{ code: 'grade' }] }, 'invalid_label_value'],
      [`${study}/labels`, { labels: [{ code: 'grade', value: '9' }] }, 'invalid_label_value'],
      [`${study}/labels`, { labels: [{ code: 'artifact' }] }, 'label_not_allowed_here'],
      [`${series}/labels`, { labels: [{ code: 'follow-up' }] }, 'label_not_allowed_here'],
      [`${study}/labels`, { labels: [{ code: 'nodule' }, { code: 'nodule' }] }, 'duplicate_label'],
    ];
    for (const [path, body, code] of cases) {
      const res = await put(path, annotator, body);
      expect([res.status, errorCode(res.body)]).toEqual([400, code]);
    }
    expect((await put(`/api/studies/${second.studyInstanceUID}/series/${third.series[0]?.seriesInstanceUID}/labels`, annotator, { labels: [] })).status).toBe(404);
    expect((await put(`${series}/instances/2.25.1/labels`, annotator, { labels: [] })).status).toBe(404);
  });

  it('labels series and instances, and a study carries the labels of its parts', async () => {
    const series = `/api/studies/${second.studyInstanceUID}/series/${second.series[0]?.seriesInstanceUID}`;
    expect((await put(`${series}/labels`, annotator, { labels: [{ code: 'nodule' }, { code: 'grade', value: '2' }] })).status).toBe(201);
    expect((await put(`${series}/instances/${instanceOfSecond}/labels`, annotator, { labels: [{ code: 'artifact' }] }, '"0"')).status).toBe(201);
    const overview = (await api(`/api/studies/${second.studyInstanceUID}/labels/all`, researcher)).body as { labels: string[]; study: unknown; series: LabelSet[]; instances: (LabelSet & { sopInstanceUID: string })[] };
    expect(overview.labels).toEqual(['artifact', 'grade', 'nodule']);
    expect(overview.study).toBeNull();
    expect(overview.series).toHaveLength(1);
    expect(overview.instances.map((i) => i.sopInstanceUID)).toEqual([instanceOfSecond]);
    expect(((await api(`${series}/instances/${instanceOfSecond}/labels`, researcher)).body as LabelSet).labels.map((l) => l.code)).toEqual(['artifact']);
  });

  it('filters the study browser by labels (all of them, any case) and lists each study\'s labels', async () => {
    expect(await studiesWith('label=nodule')).toEqual([first.studyInstanceUID, second.studyInstanceUID].sort());
    expect(await studiesWith('label=nodule&label=follow-up')).toEqual([first.studyInstanceUID]);
    expect(await studiesWith('label=Artifact')).toEqual([second.studyInstanceUID]);
    expect(await studiesWith('label=grade&label=artifact')).toEqual([second.studyInstanceUID]);
    expect(await studiesWith('label=nothing-like-it')).toEqual([]);
    const all = (await api('/api/studies', researcher)).body as { items: Study[] };
    const labelsOf = Object.fromEntries(all.items.map((s) => [s.studyInstanceUID, s.labels]));
    expect(labelsOf[first.studyInstanceUID]).toEqual(['follow-up', 'grade', 'nodule']);
    expect(labelsOf[second.studyInstanceUID]).toEqual(['artifact', 'grade', 'nodule']);
    expect(labelsOf[third.studyInstanceUID]).toEqual([]);
    expect(((await api(`/api/studies/${first.studyInstanceUID}`, researcher)).body as Study).labels).toEqual(['follow-up', 'grade', 'nodule']);
    // A later version counts, not an earlier one.
    await put(`/api/studies/${first.studyInstanceUID}/labels`, annotator, { labels: [{ code: 'follow-up' }] }, '"2"');
    expect(await studiesWith('label=nodule')).toEqual([second.studyInstanceUID]);
  });

  it('hands an export the current labels as CSV rows', async () => {
    const rows = await labelRowsForExport([first.studyInstanceUID, second.studyInstanceUID, third.studyInstanceUID], stack.db);
    expect(rows.map((r) => [r.studyInstanceUID === first.studyInstanceUID ? 'first' : 'second', r.seriesInstanceUID ? 'series' : 'study', r.sopInstanceUID ? 'instance' : '-', r.label, r.value])).toEqual([
      ['first', 'study', '-', 'follow-up', null],
      ['second', 'series', '-', 'grade', '2'],
      ['second', 'series', '-', 'nodule', null],
      ['second', 'series', 'instance', 'artifact', null],
    ]);
    expect(rows.every((r) => r.author && !Number.isNaN(Date.parse(r.createdAt ?? '')))).toBe(true);
    const csv = labelsCsv(rows);
    expect(csv.split(/\r?\n/)[0]).toBe('studyInstanceUID,seriesInstanceUID,sopInstanceUID,label,value,author,createdAt');
    expect(csv).toContain(`${second.studyInstanceUID},${second.series[0]?.seriesInstanceUID},${instanceOfSecond},artifact`);
  });
});

describe('who may do what with labels', () => {
  it('admins manage the vocabulary; annotators and admins label; researchers read', async () => {
    const study = `/api/studies/${third.studyInstanceUID}/labels`;
    const status = async (user: TestUser, path: string, init: { method?: string; json?: unknown } = {}) => (await api(path, user, init)).status;
    const term = (code: string) => ({ code });
    expect(await status(annotator, '/api/labels/vocabulary', { json: term('a1') })).toBe(403);
    expect(await status(researcher, '/api/labels/vocabulary', { method: 'PUT', json: { terms: [] } })).toBe(403);
    expect(await status(admin, '/api/labels/vocabulary', { json: term('a2') })).toBe(201);
    for (const user of [annotator, researcher, admin]) expect(await status(user, '/api/labels/vocabulary')).toBe(200);
    expect(await status(uploader, '/api/labels/vocabulary')).toBe(403);
    expect(await status(annotator, study, { method: 'PUT', json: { labels: [{ code: 'nodule' }] } })).toBe(201);
    expect(await status(admin, study, { method: 'PUT', json: { labels: [{ code: 'nodule' }, { code: 'a2' }] } })).toBe(201);
    expect(await status(researcher, study, { method: 'PUT', json: { labels: [] } })).toBe(403);
    expect(await status(uploader, study, { method: 'PUT', json: { labels: [] } })).toBe(403);
    for (const user of [annotator, researcher, admin]) {
      expect(await status(user, study)).toBe(200);
      expect(await status(user, `${study}/versions`)).toBe(200);
      expect(await status(user, `/api/studies/${third.studyInstanceUID}/labels/all`)).toBe(200);
    }
    expect(await status(uploader, study)).toBe(403);
    expect((await fetch(`${stack.url}${study}`)).status).toBe(401);
  });

  it('audits every write', async () => {
    const rows = await stack.db.query<{ action: string; resource: string | null; details: { level?: string; changed?: boolean } }>("SELECT action, resource, details FROM audit_log WHERE action LIKE 'labels.%' ORDER BY id");
    const actions = rows.rows.map((r) => r.action);
    expect(actions.filter((a) => a === 'labels.vocabulary.add')).toHaveLength(6);
    expect(actions).toContain('labels.vocabulary.replace');
    const writes = rows.rows.filter((r) => r.action === 'labels.write');
    expect(writes.length).toBeGreaterThanOrEqual(7);
    expect(new Set(writes.map((w) => w.details.level))).toEqual(new Set(['study', 'series', 'instance']));
    expect(writes.some((w) => w.details.changed === false)).toBe(true);
  });
});
