/**
 * AWS SDK clients of a Lambda container, created once and reused. Endpoints
 * come from the SDK's standard configuration: in AWS nothing is set; locally
 * AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_SQS point at the emulator, which is
 * addressed path-style. S3_PUBLIC_ENDPOINT, when set, is the S3 endpoint as a
 * browser or gateway reaches it (presigned URLs are signed for that host).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { envNames } from '@medlake/shared/resources';
import type { BucketId, QueueId } from '@medlake/shared/resources';

export function awsRegion(env: NodeJS.ProcessEnv = process.env): string {
  return env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

function emulated(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL);
}

let s3: S3Client | undefined;
let publicS3: S3Client | undefined;
let sqs: SQSClient | undefined;
/** The endpoints the clients were made for: a local stack restarted in the same process gets new ones. */
let madeFor: string | undefined;

function forgetStaleClients(env: NodeJS.ProcessEnv): void {
  const now = [env.AWS_ENDPOINT_URL, env.AWS_ENDPOINT_URL_S3, env.AWS_ENDPOINT_URL_SQS, env.S3_PUBLIC_ENDPOINT, awsRegion(env)].join('|');
  if (now === madeFor) return;
  s3 = publicS3 = sqs = undefined;
  madeFor = now;
}

/** The S3 client handlers read and write with. */
export function s3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  forgetStaleClients(env);
  s3 ??= new S3Client({ region: awsRegion(env), forcePathStyle: emulated(env) });
  return s3;
}

/** The S3 client that signs URLs handed to browsers and gateways. */
export function presigningS3Client(env: NodeJS.ProcessEnv = process.env): S3Client {
  forgetStaleClients(env);
  const endpoint = env.S3_PUBLIC_ENDPOINT;
  // Checksums only when an operation requires them: by default the SDK signs a
  // CRC32 of the (empty) body into presigned PUT URLs, which S3 then enforces.
  publicS3 ??= endpoint
    ? new S3Client({ region: awsRegion(env), endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' })
    : new S3Client({ region: awsRegion(env), forcePathStyle: emulated(env), requestChecksumCalculation: 'WHEN_REQUIRED' });
  return publicS3;
}

export function sqsClient(env: NodeJS.ProcessEnv = process.env): SQSClient {
  forgetStaleClients(env);
  sqs ??= new SQSClient({ region: awsRegion(env) });
  return sqs;
}

/** Physical name of a bucket, from the environment the stack sets. */
export function bucketName(id: BucketId, env: NodeJS.ProcessEnv = process.env): string {
  return requiredEnv(envNames.bucket(id), env);
}

export function queueUrl(id: QueueId, env: NodeJS.ProcessEnv = process.env): string {
  return requiredEnv(envNames.queueUrl(id), env);
}

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw Object.assign(new Error(`${name} is not set`), { name: 'NotConfigured' });
  return value;
}
