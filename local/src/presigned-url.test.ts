import { GetObjectCommand, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { checkPresignedRequest } from './presigned-url';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const client = new S3Client({ region: 'us-east-1', endpoint: 'http://localhost:3000/s3', forcePathStyle: true, credentials });

/** The request a browser makes for a presigned URL. */
function asRequest(url: string, method = 'PUT', host?: string) {
  const parsed = new URL(url);
  return { method, path: parsed.pathname, rawQuery: parsed.search.slice(1), headers: { host: host ?? parsed.host } };
}

describe('presigned URL checks', () => {
  it('accept URLs the SDK presigned, with awkward keys, multipart parts and response overrides', async () => {
    const urls = [
      await getSignedUrl(client, new PutObjectCommand({ Bucket: 'b', Key: "incoming/u 1/(scan)+ü*'!.dcm" }), { expiresIn: 900 }),
      await getSignedUrl(client, new UploadPartCommand({ Bucket: 'b', Key: 'incoming/big.zip', UploadId: 'abc+/=', PartNumber: 3 }), { expiresIn: 900 }),
    ];
    for (const url of urls) expect(checkPresignedRequest(asRequest(url), credentials)).toEqual({ ok: true });
    const get = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'b', Key: 'exports/x.zip', ResponseContentDisposition: 'attachment; filename="x y.zip"' }), { expiresIn: 900 });
    expect(checkPresignedRequest(asRequest(get, 'GET'), credentials)).toEqual({ ok: true });
  });

  it('refuse another method, key, host, secret, or a missing signature', async () => {
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'b', Key: 'incoming/a.dcm' }), { expiresIn: 900 });
    const mismatch = { ok: false, status: 403, code: 'SignatureDoesNotMatch' };
    expect(checkPresignedRequest(asRequest(url, 'DELETE'), credentials)).toMatchObject(mismatch);
    expect(checkPresignedRequest(asRequest(url.replace('a.dcm', 'b.dcm')), credentials)).toMatchObject(mismatch);
    expect(checkPresignedRequest(asRequest(url, 'PUT', 'evil.example:3000'), credentials)).toMatchObject(mismatch);
    expect(checkPresignedRequest(asRequest(url), { accessKeyId: 'local', secretAccessKey: 'other' })).toMatchObject(mismatch);
    expect(checkPresignedRequest(asRequest(url), { accessKeyId: 'someone', secretAccessKey: 'local' })).toMatchObject({ code: 'InvalidAccessKeyId' });
    expect(checkPresignedRequest(asRequest('http://localhost:3000/s3/b/incoming/a.dcm'), credentials)).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(checkPresignedRequest(asRequest(url.replace(/X-Amz-Date=[^&]+/, 'X-Amz-Date=yesterday')), credentials)).toMatchObject({ status: 400, code: 'AuthorizationQueryParametersError' });
  });

  it('refuse an expired URL, and accept it until then', async () => {
    const signingDate = new Date('2026-01-01T10:00:00Z');
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: 'b', Key: 'incoming/a.dcm' }), { expiresIn: 60, signingDate });
    expect(checkPresignedRequest(asRequest(url), credentials, signingDate.getTime() + 59_000)).toEqual({ ok: true });
    expect(checkPresignedRequest(asRequest(url), credentials, signingDate.getTime() + 61_000)).toMatchObject({ status: 403, code: 'AccessDenied', message: 'Request has expired' });
  });
});
