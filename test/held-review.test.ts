/**
 * Review of held instances on the real local stack: images with likely
 * burned-in text are uploaded the real way and held; an administrator lists
 * them (de-identified attributes, a rendered preview), releases one (it then
 * is in /api/studies and QIDO-RS, through the same index path as ingest, and
 * the upload's status follows) and discards another (never indexed, its
 * file kept). Decisions need a reason, are audited, repeat harmlessly, and
 * only administrators may take them.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phiInstance, phiPart10, secondaryCapture, secondaryCaptureStorage } from './fixtures/dicom/phi-instance';
import type { UploadStatus } from './ingest-support';
import { findPlanted, ingestFiles, uploadStatus, zipOf } from './ingest-support';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';

let stack: TestStack;
let admin: TestUser;
let uploader: TestUser;
let researcher: TestUser;
const planted = new Set<string>();

interface HeldItem {
  sopInstanceUID: string;
  studyInstanceUID: string;
  uploadId: string;
  fileIndex: number;
  reason: string;
  state: 'waiting' | 'released' | 'discarded';
  decidedBy: string | null;
  decisionReason: string | null;
  attributes: { sopClassUid: string; sopClassName: string | null; rows: number; columns: number; patientId: string };
  preview: string | null;
  outcome?: string;
  version?: number;
}

interface HeldList {
  total: number;
  reasons: { reason: string; count: number }[];
  items: HeldItem[];
  next?: string;
}

/** A secondary capture (held at ingest), its planted values remembered. */
function capture(n: number) {
  const built = secondaryCapture(n, { rows: 12, columns: 20 });
  for (const value of built.planted) planted.add(value);
  return phiPart10(built);
}

async function heldList(query = '', token = admin.idToken): Promise<HeldList> {
  const res = await stack.request(`/api/held${query}`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body as HeldList;
}

async function heldOfUpload(uploadId: string, state = 'all'): Promise<HeldItem[]> {
  return (await heldList(`?upload=${uploadId}&state=${state}`)).items;
}

async function decide(sop: string, decision: 'release' | 'discard', reason: string | undefined, token = admin.idToken) {
  return stack.request(`/api/held/${sop}/${decision}`, { token, json: reason === undefined ? {} : { reason } });
}

async function auditRows(action: string, sop: string) {
  const { rows } = await stack.db.query<{ actor_sub: string; outcome: string; details: Record<string, unknown> }>(
    'SELECT actor_sub, outcome, details FROM audit_log WHERE action = $1 AND resource = $2 ORDER BY id', [action, `held/${sop}`],
  );
  return rows;
}

function only(status: UploadStatus) {
  expect(status.files).toHaveLength(1);
  return status.files[0]!;
}

beforeAll(async () => {
  stack = await startTestStack();
  [admin, uploader, researcher] = await Promise.all([
    stack.createUser({ groups: ['admin'] }),
    stack.createUser({ groups: ['uploader'] }),
    stack.createUser({ groups: ['researcher'] }),
  ]);
});

afterAll(async () => {
  await stack?.stop();
});

describe('held for review', () => {
  let released: HeldItem;
  let releasedUpload: string;

  it('lists a held image with de-identified attributes only and a rendered preview', async () => {
    const status = await ingestFiles(stack, uploader, [{ name: 'DOE JOHN screenshot.dcm', bytes: capture(1) }]);
    expect(only(status)).toMatchObject({ state: 'held', instances: { held: 1, accepted: 0 } });
    releasedUpload = status.uploadId;
    const list = await heldList(`?upload=${status.uploadId}`);
    expect(list.total).toBe(1);
    const [item] = list.items;
    expect(item).toMatchObject({
      uploadId: status.uploadId,
      fileIndex: 0,
      state: 'waiting',
      decidedBy: null,
      reason: expect.stringContaining('Secondary Capture Image'),
      attributes: { sopClassUid: secondaryCaptureStorage, sopClassName: 'Secondary Capture Image', rows: 12, columns: 20 },
    });
    expect(item?.sopInstanceUID).toMatch(/^2\.25\./);
    expect(item?.studyInstanceUID).toMatch(/^2\.25\./);
    expect(list.reasons.find((r) => r.reason === item?.reason)?.count).toBeGreaterThanOrEqual(1);
    // Nothing identifying: no planted value, no upload file name.
    const answer = JSON.stringify(list);
    expect(findPlanted(answer, [...planted])).toEqual([]);
    expect(answer).not.toContain('screenshot');
    released = item!;

    const png = await fetch(`${stack.url}${item?.preview}`, { headers: { authorization: `Bearer ${admin.idToken}` } });
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    const image = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
    expect([image.width, image.height]).toEqual([20, 12]);
    // The test pattern's pixels, windowed: not a blank image.
    expect(new Set(image.data.filter((_, i) => i % 4 === 0)).size).toBeGreaterThan(10);
    const jpg = await fetch(`${stack.url}${item?.preview}`, { headers: { authorization: `Bearer ${admin.idToken}`, accept: 'image/jpeg' } });
    expect(jpg.headers.get('content-type')).toBe('image/jpeg');
    expect(jpeg.decode(Buffer.from(await jpg.arrayBuffer())).width).toBe(20);
  });

  it('is not in the lake before a decision', async () => {
    expect((await stack.request(`/api/studies/${released.studyInstanceUID}`, { token: admin.idToken })).status).toBe(404);
    expect((await stack.db.query('SELECT 1 FROM instances WHERE sop_uid = $1', [released.sopInstanceUID])).rowCount).toBe(0);
  });

  it('needs a reason to release', async () => {
    const missing = await decide(released.sopInstanceUID, 'release', undefined);
    expect(missing.status).toBe(400);
    expect((missing.body as { error: { code: string } }).error.code).toBe('invalid_request');
    expect((await decide(released.sopInstanceUID, 'release', 'ok')).status).toBe(400);
  });

  it('releases it into the archive and the index: /api/studies and QIDO-RS show it, the upload status follows, the release is audited', async () => {
    const res = await decide(released.sopInstanceUID, 'release', 'Checked: the screenshot shows no text, only the image.');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ sopInstanceUID: released.sopInstanceUID, state: 'released', outcome: 'accepted', version: 1, decisionReason: 'Checked: the screenshot shows no text, only the image.', decidedBy: admin.email });

    const study = await stack.request(`/api/studies/${released.studyInstanceUID}`, { token: admin.idToken });
    expect(study.status).toBe(200);
    expect(study.body).toMatchObject({ studyInstanceUID: released.studyInstanceUID, numInstances: 1, modalities: expect.any(Array) });
    const search = await stack.request(`/api/studies?patientId=${encodeURIComponent(released.attributes.patientId)}`, { token: admin.idToken });
    expect((search.body as { items: { studyInstanceUID: string }[] }).items.map((s) => s.studyInstanceUID)).toContain(released.studyInstanceUID);
    const qido = await stack.request(`/dicomweb/studies?StudyInstanceUID=${released.studyInstanceUID}`, { token: admin.idToken, headers: { accept: 'application/dicom+json' } });
    expect(qido.status).toBe(200);
    expect(qido.body).toHaveLength(1);
    const instances = await stack.request(`/dicomweb/studies/${released.studyInstanceUID}/instances`, { token: admin.idToken, headers: { accept: 'application/dicom+json' } });
    expect(JSON.stringify(instances.body)).toContain(released.sopInstanceUID);

    // The same index path as ingest: the archive key, a version row, the source marked accepted.
    const { rows: [row] } = await stack.db.query<{ archive_key: string; version: number; series_uid: string }>('SELECT archive_key, version, series_uid FROM instances WHERE sop_uid = $1', [released.sopInstanceUID]);
    expect(row?.archive_key).toBe(`studies/${released.studyInstanceUID}/series/${row?.series_uid}/instances/${released.sopInstanceUID}.dcm`);
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.buckets.archive, Key: row!.archive_key }));
    const { rows: versions } = await stack.db.query('SELECT upload_id, file_index, via FROM instance_versions WHERE sop_uid = $1', [released.sopInstanceUID]);
    expect(versions).toEqual([{ upload_id: releasedUpload, file_index: 0, via: 'upload' }]);
    const { rows: sources } = await stack.db.query('SELECT outcome FROM ingested_sources WHERE sop_uid = $1', [released.sopInstanceUID]);
    expect(sources).toEqual([{ outcome: 'accepted' }]);

    expect(only(await uploadStatus(stack, uploader, releasedUpload))).toMatchObject({ state: 'accepted', instances: { accepted: 1, held: 0 } });
    const audits = await auditRows('held.release', released.sopInstanceUID);
    expect(audits).toEqual([{ actor_sub: admin.username, outcome: 'ok', details: expect.objectContaining({ reason: 'Checked: the screenshot shows no text, only the image.', outcome: 'accepted', studyInstanceUID: released.studyInstanceUID, uploadId: releasedUpload }) }]);
  });

  it('releasing again changes nothing', async () => {
    const again = await decide(released.sopInstanceUID, 'release', 'Second click on the same button.');
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ state: 'released', outcome: 'already-released', decisionReason: 'Checked: the screenshot shows no text, only the image.' });
    expect((await stack.db.query('SELECT 1 FROM instance_versions WHERE sop_uid = $1', [released.sopInstanceUID])).rowCount).toBe(1);
    expect((await stack.db.query<{ num_instances: number }>('SELECT num_instances FROM studies WHERE study_uid = $1', [released.studyInstanceUID])).rows[0]?.num_instances).toBe(1);
    expect(only(await uploadStatus(stack, uploader, releasedUpload))).toMatchObject({ instances: { accepted: 1, held: 0 } });
    expect(await auditRows('held.release', released.sopInstanceUID)).toHaveLength(1);
    const discard = await decide(released.sopInstanceUID, 'discard', 'Changed my mind about this one.');
    expect(discard.status).toBe(409);
    expect((discard.body as { error: { code: string } }).error.code).toBe('held_released');
  });

  it('a discarded image is never indexed, its file is kept, the upload says why, and it cannot be released', async () => {
    const status = await ingestFiles(stack, uploader, [{ name: 'report page.dcm', bytes: capture(2) }]);
    const [item] = await heldOfUpload(status.uploadId);
    const res = await decide(item!.sopInstanceUID, 'discard', 'The page shows the patient name in its header; asked 555-867-5309 on 2021-03-15.');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ state: 'discarded', outcome: 'discarded', decidedBy: admin.email });
    expect(only(await uploadStatus(stack, uploader, status.uploadId))).toMatchObject({ state: 'rejected', reason: expect.stringContaining('Discarded after review'), instances: { rejected: 1, held: 0 } });

    const again = await decide(item!.sopInstanceUID, 'discard', 'Clicked twice by accident.');
    expect(again.body).toMatchObject({ state: 'discarded', outcome: 'already-discarded' });
    const release = await decide(item!.sopInstanceUID, 'release', 'Trying to publish it anyway.');
    expect(release.status).toBe(409);
    expect((release.body as { error: { code: string } }).error.code).toBe('held_discarded');

    expect((await stack.db.query('SELECT 1 FROM instances WHERE sop_uid = $1', [item!.sopInstanceUID])).rowCount).toBe(0);
    expect((await stack.db.query('SELECT 1 FROM instance_versions WHERE sop_uid = $1', [item!.sopInstanceUID])).rowCount).toBe(0);
    expect((await stack.request(`/api/studies/${item!.studyInstanceUID}`, { token: admin.idToken })).status).toBe(404);
    const qido = await stack.request(`/dicomweb/studies?StudyInstanceUID=${item!.studyInstanceUID}`, { token: admin.idToken, headers: { accept: 'application/dicom+json' } });
    expect(qido.status === 204 || (Array.isArray(qido.body) && qido.body.length === 0)).toBe(true);
    const { rows: [held] } = await stack.db.query<{ archive_key: string }>('SELECT archive_key FROM held_instances WHERE sop_uid = $1', [item!.sopInstanceUID]);
    await stack.s3.send(new HeadObjectCommand({ Bucket: stack.buckets.archive, Key: held!.archive_key }));
    expect(await auditRows('held.discard', item!.sopInstanceUID)).toEqual([
      // Reasons are free text: scrubbed by the pattern rules before they are stored, audited or shown.
      { actor_sub: admin.username, outcome: 'ok', details: expect.objectContaining({ reason: 'The page shows the patient name in its header; asked [PHONE] on [DATE].', uploadId: status.uploadId }) },
    ]);
    const { rows: [decided] } = await stack.db.query<{ decision_reason: string }>('SELECT decision_reason FROM held_instances WHERE sop_uid = $1', [item!.sopInstanceUID]);
    expect(decided?.decision_reason).toBe('The page shows the patient name in its header; asked [PHONE] on [DATE].');
    expect(await auditRows('held.release', item!.sopInstanceUID)).toEqual([]);

    // The list by state.
    expect((await heldList('?state=discarded')).items.map((i) => i.sopInstanceUID)).toContain(item!.sopInstanceUID);
    expect((await heldList('?state=waiting')).items.map((i) => i.sopInstanceUID)).not.toContain(item!.sopInstanceUID);
  });

  it('releasing the held entry of a zip turns "1 held for review" into a fully accepted file', async () => {
    const ct = phiInstance({ studyUid: '1.2.826.0.1.3680043.10.1000.51.30', seriesUid: '1.2.826.0.1.3680043.10.1000.52.30', sopUid: '1.2.826.0.1.3680043.10.1000.53.30' });
    for (const value of ct.planted) planted.add(value);
    const zip = await zipOf([{ name: 'a/ct.dcm', bytes: phiPart10(ct) }, { name: 'a/capture.dcm', bytes: capture(3) }]);
    const status = await ingestFiles(stack, uploader, [{ name: 'mixed.zip', bytes: zip }]);
    expect(only(status)).toMatchObject({ state: 'accepted', reason: 'Of 2 instances: 1 held for review.', instances: { accepted: 1, held: 1 } });
    const [item] = await heldOfUpload(status.uploadId, 'waiting');
    expect((await decide(item!.sopInstanceUID, 'release', 'Reviewed with the radiologist: no text.')).status).toBe(200);
    const after = only(await uploadStatus(stack, uploader, status.uploadId));
    expect(after).toMatchObject({ state: 'accepted', instances: { accepted: 2, held: 0 } });
    expect(after.reason).toBeUndefined();
  });

  it('filters by upload, reason words and state, and pages newest first', async () => {
    await ingestFiles(stack, uploader, [{ name: 'x.dcm', bytes: capture(4) }, { name: 'y.dcm', bytes: capture(5) }]);
    const waiting = await heldList('?reason=secondary%20capture');
    expect(waiting.items.length).toBeGreaterThanOrEqual(2);
    expect(waiting.items.every((i) => i.state === 'waiting' && /Secondary Capture/.test(i.reason))).toBe(true);
    expect((await heldList('?reason=no%20such%20words')).total).toBe(0);
    const first = await heldList('?state=all&limit=2');
    expect(first.items).toHaveLength(2);
    expect(first.next).toBeTruthy();
    const second = await heldList(`?state=all&limit=2&before=${first.next}`);
    expect(second.items.map((i) => i.sopInstanceUID)).not.toContain(first.items[0]?.sopInstanceUID);
    expect(first.total).toBe(second.total);
    expect((await stack.request('/api/held?state=maybe', { token: admin.idToken })).status).toBe(400);
    expect((await stack.request('/api/held?upload=not-an-id', { token: admin.idToken })).status).toBe(400);
    expect((await stack.request('/api/held?before=garbage', { token: admin.idToken })).status).toBe(400);
  });

  it('is for administrators only: others get 403, nobody 401, and nothing changes', async () => {
    const [item] = (await heldList('?state=waiting')).items;
    for (const user of [uploader, researcher]) {
      expect((await stack.request('/api/held', { token: user.idToken })).status).toBe(403);
      expect((await stack.request(`/api/held/${item!.sopInstanceUID}/preview`, { token: user.idToken })).status).toBe(403);
      expect((await decide(item!.sopInstanceUID, 'release', 'Not mine to decide, really.', user.idToken)).status).toBe(403);
      expect((await decide(item!.sopInstanceUID, 'discard', 'Not mine to decide, really.', user.idToken)).status).toBe(403);
    }
    expect((await stack.request('/api/held')).status).toBe(401);
    expect((await stack.request(`/api/held/${item!.sopInstanceUID}/release`, { json: { reason: 'Anonymous attempt here.' } })).status).toBe(401);
    expect((await heldList('?state=waiting')).items.find((i) => i.sopInstanceUID === item!.sopInstanceUID)?.state).toBe('waiting');
    expect(await auditRows('held.release', item!.sopInstanceUID)).toEqual([]);
    expect((await stack.request('/api/held/1.2.3/release', { token: admin.idToken, json: { reason: 'There is no such instance.' } })).status).toBe(404);
  });
});
