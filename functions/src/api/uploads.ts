/**
 * The upload API: a batch of files gets presigned S3 URLs into the quarantine
 * bucket (a single PUT for small files, a multipart upload with part URLs for
 * large ones); nothing passes through API Gateway bodies. The ingest worker
 * takes over from the S3 event; `GET /api/uploads/{id}` shows its progress.
 *
 * Uploaders and admins create uploads; only an upload's owner refreshes part
 * URLs or completes it; its owner and admins read its status (everyone else
 * gets 404, so upload ids reveal nothing).
 */
import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { z } from 'zod';
import { formatBytes } from '@medlake/shared/byte-size';
import { audit } from '../auth/audit-trail';
import type { Principal } from '../auth/principal';
import { databasePool } from '../adapters/database';
import { quarantineFromEnv } from '../adapters/quarantine';
import type { UploadFileRecord, UploadRecord, UploadSummary } from '../adapters/upload-records';
import { UploadRecords } from '../adapters/upload-records';
import { HttpError, badRequest, conflict, forbidden, notFound } from '../http/errors';
import { json } from '../http/response';
import type { HttpRequest, Route } from '../http/router';
import { requirePrincipal, route } from '../http/router';
import { planParts, quarantineKey, sha256HexToBase64, uploadSettings } from '../ingest/upload-policy';
import { isAdmin, ownedItemsPage, uuidPattern } from './listing';

const fileSpec = z.object({
  name: z.string().min(1, 'a file needs a name').max(255, 'file names are limited to 255 characters').refine((n) => ![...n].some((c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127), 'file names cannot contain control characters'),
  sizeBytes: z.number().int('sizeBytes must be a whole number').positive('empty files cannot be uploaded'),
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hexadecimal digits').transform((s) => s.toLowerCase()).optional(),
});

/** Limits come from the environment at request time (the local stack and tests set them). */
const createBody = z.object({ files: z.array(fileSpec).min(1, 'list at least one file') }).superRefine((body, ctx) => {
  const settings = uploadSettings();
  if (body.files.length > settings.maxFiles) {
    ctx.addIssue({ code: 'custom', path: ['files'], message: `at most ${settings.maxFiles} files per upload; split the batch` });
  }
  body.files.forEach((file, index) => {
    if (file.sizeBytes > settings.maxFileBytes) ctx.addIssue({ code: 'custom', path: ['files', index, 'sizeBytes'], message: `files are limited to ${formatBytes(settings.maxFileBytes)}` });
  });
  const total = body.files.reduce((sum, f) => sum + f.sizeBytes, 0);
  if (total > settings.maxTotalBytes) ctx.addIssue({ code: 'custom', path: ['files'], message: `an upload is limited to ${formatBytes(settings.maxTotalBytes)} in total; split the batch` });
});

const partsBody = z.object({ partNumbers: z.array(z.number().int().min(1).max(10_000)).min(1, 'ask for at least one part').max(1000, 'at most 1000 part URLs per call') });
const completeBody = z.object({
  parts: z.array(z.object({ partNumber: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) })).min(1, 'list the uploaded parts').max(10_000),
});

let records: UploadRecords | undefined;
function uploadRecordsFromEnv(): UploadRecords {
  records ??= new UploadRecords(databasePool());
  return records;
}

const noSuchUpload = () => notFound('upload_not_found', 'No such upload (or it is not yours).');

/** The upload if the caller may see it: its owner, or an admin. */
async function visibleUpload(request: HttpRequest<unknown>): Promise<{ principal: Principal; upload: UploadRecord }> {
  const principal = requirePrincipal(request);
  const id = request.params.id ?? '';
  if (!uuidPattern.test(id)) throw noSuchUpload();
  const upload = await uploadRecordsFromEnv().upload(id.toLowerCase());
  if (!upload || (upload.ownerSub !== principal.sub && !isAdmin(principal))) throw noSuchUpload();
  return { principal, upload };
}

/** A multipart file of an upload the caller owns, still open for parts. */
async function ownMultipartFile(request: HttpRequest<unknown>): Promise<{ upload: UploadRecord; file: UploadFileRecord & { multipartUploadId: string; partSizeBytes: number }; partCount: number }> {
  const { principal, upload } = await visibleUpload(request);
  if (upload.ownerSub !== principal.sub) throw forbidden('not_upload_owner', 'Only the user who started this upload can continue it.');
  const index = Number(request.params.index);
  const file = Number.isInteger(index) && index >= 0 ? await uploadRecordsFromEnv().file(upload.uploadId, index) : undefined;
  if (!file) throw notFound('file_not_found', `This upload has no file number ${request.params.index ?? ''}.`);
  if (!file.multipartUploadId || !file.partSizeBytes) throw conflict('not_multipart', 'This file is uploaded with a single PUT, not in parts.');
  const resumableUntil = upload.createdAt.getTime() + uploadSettings().resumeWindowSeconds * 1000;
  if (Date.now() > resumableUntil) throw new HttpError(410, 'upload_expired', 'This upload can no longer be continued; start a new one.');
  return { upload, file: file as UploadFileRecord & { multipartUploadId: string; partSizeBytes: number }, partCount: planPartsOf(file) };
}

function planPartsOf(file: UploadFileRecord): number {
  return Math.max(1, Math.ceil(file.sizeBytes / (file.partSizeBytes ?? file.sizeBytes)));
}

function fileStatus(file: UploadFileRecord) {
  return {
    index: file.index,
    name: file.name,
    sizeBytes: file.sizeBytes,
    state: file.state,
    ...(file.reason ? { reason: file.reason } : {}),
    instances: file.instances,
    studies: file.studies,
    updatedAt: file.updatedAt.toISOString(),
  };
}

function summary(upload: UploadSummary) {
  return { uploadId: upload.uploadId, createdAt: upload.createdAt.toISOString(), expiresAt: upload.expiresAt.toISOString(), owner: upload.ownerName ?? upload.ownerSub, client: upload.client, totals: upload.totals };
}

export const uploadRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/uploads',
    action: 'uploads:create',
    body: createBody,
    async handle(request) {
      const principal = requirePrincipal(request);
      const settings = uploadSettings();
      const quarantine = quarantineFromEnv();
      const uploadId = randomUUID();
      const expiresAt = new Date(Date.now() + settings.urlExpiresSeconds * 1000);
      let urlBudget = settings.partUrlBudget;
      const limit = pLimit(8);
      const planned = await Promise.all(request.body.files.map((spec, index) => limit(async () => {
        const key = quarantineKey(uploadId, index);
        if (spec.sizeBytes < settings.multipartThresholdBytes) {
          const put = await quarantine.presignPut(key, spec.sizeBytes, settings.urlExpiresSeconds, spec.sha256 ? sha256HexToBase64(spec.sha256) : undefined);
          return {
            record: { index, name: spec.name, sizeBytes: spec.sizeBytes, sha256: spec.sha256, key, multipartUploadId: undefined, partSizeBytes: undefined },
            answer: { index, name: spec.name, key, method: 'PUT' as const, url: put.url, headers: put.headers },
          };
        }
        const plan = planParts(spec.sizeBytes, settings.partSizeBytes);
        const multipartUploadId = await quarantine.createMultipart(key);
        // URLs for the first parts now, the rest through the parts call: the answer must stay small.
        const upFront = Math.min(plan.partCount, Math.max(0, urlBudget));
        urlBudget -= upFront;
        const parts = await Promise.all(Array.from({ length: upFront }, (_, i) => i + 1).map(async (partNumber) => ({
          partNumber, url: await quarantine.presignPart(key, multipartUploadId, partNumber, settings.urlExpiresSeconds),
        })));
        return {
          record: { index, name: spec.name, sizeBytes: spec.sizeBytes, sha256: spec.sha256, key, multipartUploadId, partSizeBytes: plan.partSizeBytes },
          answer: { index, name: spec.name, key, method: 'multipart' as const, uploadId: multipartUploadId, partSizeBytes: plan.partSizeBytes, partCount: plan.partCount, parts },
        };
      })));
      await uploadRecordsFromEnv().create({
        uploadId,
        ownerSub: principal.sub,
        ownerName: principal.email ?? principal.username,
        client: principal.isMachine ? 'gateway' : 'web',
        expiresAt,
        files: planned.map((p) => p.record),
      });
      const totalBytes = request.body.files.reduce((sum, f) => sum + f.sizeBytes, 0);
      await audit(request, 'uploads.create', {
        resource: `upload/${uploadId}`,
        details: { files: planned.length, totalBytes, multipartFiles: planned.filter((p) => p.answer.method === 'multipart').length, client: principal.isMachine ? 'gateway' : 'web' },
      });
      request.logger.info('upload created', { uploadId, files: planned.length, totalBytes });
      return json(201, { uploadId, expiresAt: expiresAt.toISOString(), files: planned.map((p) => p.answer) });
    },
  }),
  route({
    method: 'POST',
    path: '/api/uploads/{id}/files/{index}/parts',
    action: 'uploads:create',
    body: partsBody,
    async handle(request) {
      const { upload, file, partCount } = await ownMultipartFile(request);
      if (file.state !== 'waiting') throw conflict('upload_completed', 'This file has already been uploaded.');
      const wanted = [...new Set(request.body.partNumbers)].sort((a, b) => a - b);
      const beyond = wanted.find((n) => n > partCount);
      if (beyond !== undefined) throw badRequest('invalid_part_number', `This file has ${partCount} parts; there is no part ${beyond}.`);
      const settings = uploadSettings();
      const quarantine = quarantineFromEnv();
      const parts = await Promise.all(wanted.map(async (partNumber) => ({ partNumber, url: await quarantine.presignPart(file.key, file.multipartUploadId, partNumber, settings.urlExpiresSeconds) })));
      return json(200, { uploadId: upload.uploadId, index: file.index, partSizeBytes: file.partSizeBytes, partCount, expiresAt: new Date(Date.now() + settings.urlExpiresSeconds * 1000).toISOString(), parts });
    },
  }),
  route({
    method: 'POST',
    path: '/api/uploads/{id}/files/{index}/complete',
    action: 'uploads:create',
    body: completeBody,
    async handle(request) {
      const { upload, file, partCount } = await ownMultipartFile(request);
      const quarantine = quarantineFromEnv();
      const parts = [...request.body.parts].sort((a, b) => a.partNumber - b.partNumber);
      const numbers = parts.map((p) => p.partNumber);
      if (new Set(numbers).size !== numbers.length) throw badRequest('invalid_parts', 'Each part may be listed only once.');
      if (parts.length !== partCount || numbers.some((n, i) => n !== i + 1)) {
        throw badRequest('invalid_parts', `List all ${partCount} parts (numbers 1 to ${partCount}) with the ETag S3 returned for each.`);
      }
      if (file.state === 'waiting') {
        try {
          await quarantine.completeMultipart(file.key, file.multipartUploadId, parts);
        } catch (error) {
          const name = (error as { name?: string }).name ?? '';
          if (name === 'NoSuchUpload') {
            // A repeated call after success: S3 forgot the multipart upload, the object is there.
            if (!(await quarantine.exists(file.key))) throw conflict('multipart_not_found', 'S3 no longer knows this multipart upload; start a new upload.');
          } else if (['InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'EntityTooLarge'].includes(name)) {
            throw badRequest('invalid_parts', `S3 refused the parts (${name}): upload every part completely and send the ETags S3 returned.`);
          } else {
            throw error;
          }
        }
      }
      request.logger.info('multipart upload completed', { uploadId: upload.uploadId, fileIndex: file.index, parts: parts.length });
      const after = await uploadRecordsFromEnv().file(upload.uploadId, file.index);
      return json(200, { uploadId: upload.uploadId, index: file.index, state: after?.state ?? file.state });
    },
  }),
  route({
    method: 'GET',
    path: '/api/uploads/{id}',
    action: 'uploads:read',
    async handle(request) {
      const { upload } = await visibleUpload(request);
      const store = uploadRecordsFromEnv();
      const [files, totals] = await Promise.all([store.files(upload.uploadId), store.totals(upload.uploadId)]);
      return json(200, {
        uploadId: upload.uploadId,
        createdAt: upload.createdAt.toISOString(),
        expiresAt: upload.expiresAt.toISOString(),
        owner: upload.ownerName ?? upload.ownerSub,
        client: upload.client,
        totals,
        files: files.map(fileStatus),
      });
    },
  }),
  route({
    method: 'GET',
    path: '/api/uploads',
    action: 'uploads:read',
    async handle(request) {
      // Admins see every upload (also those nobody announced); everyone else their own.
      const page = await ownedItemsPage(
        request,
        ({ ownerSub, limit, before }) => uploadRecordsFromEnv().list({ ownerSub, limit, before: before && { createdAt: before.createdAt, uploadId: before.id } }),
        (item) => ({ createdAt: item.createdAt, id: item.uploadId }),
      );
      return json(200, { ...page, items: page.items.map(summary) });
    },
  }),
];
