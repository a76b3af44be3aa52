/**
 * Free text people type besides reports is scrubbed before it is stored, on
 * the real local stack: names and messages of annotation sets and versions,
 * messages of label versions (with what the PHI vault knows of the study:
 * its patient's name becomes the pseudonym, dates are shifted like the
 * images'), and names of saved searches (pattern rules alone: they belong to
 * no study, and are emailed). A name, a phone number and a date are planted
 * in each; none of them is stored, shown or put in the annotation's SR.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phiInstance, phiPart10 } from './fixtures/dicom/phi-instance';
import { ingestFiles } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let annotator: TestUser;
let admin: TestUser;
let studyUid: string;

// The fixture's patient is DOEPLANTED^JOHNATHAN^QUINCY.
const plantedName = /doeplanted|johnathan/i;
// Any two groups of the planted 555-867-5309 (bare "867" also occurs in the random digits of UIDs).
const plantedPhone = /555.?867|867.?5309/;
const plantedDate = /2021-03-15|15\.03\.2021/;

function clean(text: string | null | undefined): void {
  expect(text ?? '').not.toMatch(plantedName);
  expect(text ?? '').not.toMatch(plantedPhone);
  expect(text ?? '').not.toMatch(plantedDate);
}

beforeAll(async () => {
  stack = await startTestStack({ queueHandlers: { notify: false } });
  const uploader = await stack.createUser({ groups: ['uploader'] });
  [annotator, admin] = await Promise.all([stack.createUser({ groups: ['annotator'] }), stack.createUser({ groups: ['admin'] })]);
  const status = await ingestFiles(stack, uploader, [{ name: 'ct.dcm', bytes: phiPart10(phiInstance({ studyUid: '1.2.826.0.1.3680043.10.1000.71.1', seriesUid: '1.2.826.0.1.3680043.10.1000.72.1', sopUid: '1.2.826.0.1.3680043.10.1000.73.1' })) }]);
  studyUid = status.files[0]?.studies[0] as string;
  expect((await stack.request('/api/labels/vocabulary', { token: admin.idToken, json: { code: 'nodule', display: 'Nodule' } })).status).toBe(201);
});

afterAll(async () => {
  await stack?.stop();
});

describe('free text of a study, scrubbed with what is known of it', () => {
  let setId: string;

  it('an annotation set\'s name and its first message', async () => {
    const res = await stack.request(`/api/studies/${studyUid}/annotations`, {
      token: annotator.idToken,
      json: { name: 'Doeplanted 555-867-5309 2021-03-15', message: 'Discussed with Johnathan Doeplanted on 2021-03-15, call 555-867-5309', measurements: [] },
    });
    expect(res.status, res.text).toBe(201);
    const created = res.body as { setId: string; message: string; sopInstanceUID: string };
    setId = created.setId;
    const { rows: [set] } = await stack.db.query<{ name: string }>('SELECT name FROM annotation_sets WHERE set_id = $1', [setId]);
    clean(set?.name);
    // The patient's pseudonym took the name's place; the phone is gone, the date shifted.
    expect(set?.name).toMatch(/^MLP-\S+ \[PHONE\] \d{4}-\d{2}-\d{2}$/);
    const { rows: [version] } = await stack.db.query<{ message: string }>('SELECT message FROM annotation_versions WHERE set_id = $1 AND version = 1', [setId]);
    clean(version?.message);
    expect(version?.message).toContain('[PHONE]');
    clean(created.message);
    // The stored SR carries the scrubbed name as its series description (de-identification then also cleans the pseudonym out of it).
    const { rows: [sr] } = await stack.db.query<{ description: string | null }>('SELECT se.description FROM instances i JOIN series se USING (series_uid) WHERE i.sop_uid = $1', [created.sopInstanceUID]);
    clean(sr?.description);
    expect(sr?.description).toContain('[PHONE]');
    const listed = (await stack.request(`/api/studies/${studyUid}/annotations`, { token: annotator.idToken })).body;
    clean(JSON.stringify(listed));
  });

  it('a later version\'s message and a restore\'s message', async () => {
    const next = await stack.request(`/api/studies/${studyUid}/annotations/${setId}/versions`, { token: annotator.idToken, json: { message: 'Per Dr. Johnathan Doeplanted (tel. 555-867-5309), 15.03.2021', measurements: [] } });
    expect(next.status, next.text).toBe(201);
    clean((next.body as { message: string }).message);
    const restored = await stack.request(`/api/studies/${studyUid}/annotations/${setId}/versions/1/restore`, { token: annotator.idToken, json: { message: 'Back to the first read, Doeplanted agreed on 2021-03-15 (555-867-5309)' } });
    expect(restored.status, restored.text).toBe(201);
    const { rows } = await stack.db.query<{ message: string }>('SELECT message FROM annotation_versions WHERE set_id = $1 ORDER BY version', [setId]);
    expect(rows).toHaveLength(3);
    for (const row of rows) clean(row.message);
  });

  it('a label version\'s message', async () => {
    const res = await stack.request(`/api/studies/${studyUid}/labels`, { method: 'PUT', token: annotator.idToken, json: { labels: [{ code: 'nodule' }], message: 'Johnathan Doeplanted: nodule seen 2021-03-15, family at 555-867-5309' } });
    expect(res.status, res.text).toBe(201);
    const { rows: [row] } = await stack.db.query<{ message: string }>("SELECT message FROM label_versions WHERE target LIKE '%' || $1 || '%'", [studyUid]);
    clean(row?.message);
    expect(row?.message).toMatch(/^MLP-\S+: nodule seen \d{4}-\d{2}-\d{2}, family at \[PHONE\]$/);
    const versions = await stack.request(`/api/studies/${studyUid}/labels/versions`, { token: annotator.idToken });
    clean(JSON.stringify(versions.body));
  });
});

describe('names of saved searches, scrubbed by the pattern rules', () => {
  it('when created and when renamed', async () => {
    const created = await stack.request('/api/subscriptions', { token: annotator.idToken, json: { name: 'Dr. Doeplanted 555-867-5309 2021-03-15', query: 'modality=CT' } });
    expect(created.status, created.text).toBe(201);
    const subscription = created.body as { id: string; name: string };
    expect(subscription.name).toBe('Dr. [NAME] [PHONE] [DATE]');
    const renamed = await stack.request(`/api/subscriptions/${subscription.id}`, { method: 'PATCH', token: annotator.idToken, json: { name: 'Mrs. Johnathan, tel. 555-867-5309, since 15.03.2021' } });
    expect(renamed.status, renamed.text).toBe(200);
    const { rows: [row] } = await stack.db.query<{ name: string }>('SELECT name FROM subscriptions WHERE subscription_id = $1', [subscription.id]);
    clean(row?.name);
    expect(row?.name).toBe('Mrs. [NAME], tel. [PHONE], since [DATE]');
  });
});
