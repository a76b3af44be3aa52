/**
 * Checks presigned S3 URLs (SigV4 query authentication) the way S3 does,
 * for the front door's /s3 path: the emulator accepts any signature, but a
 * public path into the buckets must not. A request passes when it carries a
 * presigned URL made with the stack's credentials for exactly this method,
 * path, query and signed headers, and has not expired.
 * (Signature Version 4, "Authenticating Requests: Using Query Parameters".)
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type PresignCheck =
  | { ok: true }
  | { ok: false; status: 400 | 403; code: 'AccessDenied' | 'AuthorizationQueryParametersError' | 'InvalidAccessKeyId' | 'SignatureDoesNotMatch'; message: string };

/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** A raw query string as decoded pairs (a literal '+' stays a '+', as S3 reads it). */
function queryPairs(rawQuery: string): [string, string][] {
  if (!rawQuery) return [];
  return rawQuery.split('&').filter(Boolean).map((part) => {
    const eq = part.indexOf('=');
    const key = eq >= 0 ? part.slice(0, eq) : part;
    const value = eq >= 0 ? part.slice(eq + 1) : '';
    return [decodeURIComponent(key), decodeURIComponent(value)];
  });
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
}

const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/**
 * `path` and `rawQuery` exactly as the client sent them (still percent-encoded);
 * `headers` lower-cased, including host.
 */
export function checkPresignedRequest(
  request: { method: string; path: string; rawQuery: string; headers: Record<string, string | string[] | undefined> },
  credentials: SigningCredentials,
  now = Date.now(),
): PresignCheck {
  const pairs = queryPairs(request.rawQuery);
  const param = (name: string) => pairs.find(([k]) => k === name)?.[1];
  const signature = param('X-Amz-Signature');
  if (!signature) return { ok: false, status: 403, code: 'AccessDenied', message: 'The /s3 path of the front door accepts presigned URLs only.' };
  const algorithm = param('X-Amz-Algorithm');
  const credential = param('X-Amz-Credential');
  const date = param('X-Amz-Date');
  const expires = Number(param('X-Amz-Expires'));
  const signedHeaders = param('X-Amz-SignedHeaders');
  const signedAt = date ? parseAmzDate(date) : undefined;
  if (algorithm !== 'AWS4-HMAC-SHA256' || !credential || signedAt === undefined || !Number.isInteger(expires) || expires < 1 || expires > 604_800 || !signedHeaders) {
    return { ok: false, status: 400, code: 'AuthorizationQueryParametersError', message: 'The presigned URL is missing or has malformed X-Amz-* parameters.' };
  }
  const [accessKeyId, scopeDate, region, service, terminator] = credential.split('/');
  if (accessKeyId !== credentials.accessKeyId) return { ok: false, status: 403, code: 'InvalidAccessKeyId', message: 'The access key of the presigned URL is not known here.' };
  if (!scopeDate || !region || service !== 's3' || terminator !== 'aws4_request' || date?.slice(0, 8) !== scopeDate) {
    return { ok: false, status: 400, code: 'AuthorizationQueryParametersError', message: 'The credential scope of the presigned URL is malformed.' };
  }
  if (now > signedAt + expires * 1000) return { ok: false, status: 403, code: 'AccessDenied', message: 'Request has expired' };

  const canonicalQuery = pairs
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [uriEncode(k), uriEncode(v)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headerNames = signedHeaders.split(';');
  const canonicalHeaders = headerNames
    .map((name) => {
      const value = request.headers[name];
      const joined = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${joined.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
  const payloadHash = param('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [request.method.toUpperCase(), request.path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/s3/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', date, scope, createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')].join('\n');
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, scopeDate), region), 's3'), 'aws4_request');
  const expected = hmac(signingKey, stringToSign);
  const given = Buffer.from(signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, status: 403, code: 'SignatureDoesNotMatch', message: 'The request signature we calculated does not match the signature you provided.' };
  }
  return { ok: true };
}
