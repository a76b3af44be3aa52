/**
 * The one definition of medlake's cloud resources: buckets, queues with their
 * dead-letter queues, S3 → SQS notification wiring, Cognito groups and clients.
 * The CDK stack (infra/) and the local stand-ins (local/) both read it, so a
 * name is written once. Physical names get a per-stage prefix (`nameFor`).
 */

export type BucketId = 'quarantine' | 'archive' | 'exports';
export type QueueId = 'ingest' | 'export' | 'notify';
export type Role = 'admin' | 'uploader' | 'annotator' | 'researcher';

export interface BucketDefinition {
  id: BucketId;
  /** Suffix of the physical bucket name. */
  name: string;
  purpose: string;
  versioned: boolean;
  /** Objects expire this many days after creation (lifecycle rule); undefined keeps them. */
  expireAfterDays?: number;
  /** Browsers PUT here directly with presigned URLs (needs CORS). */
  browserUploads: boolean;
}

export interface QueueDefinition {
  id: QueueId;
  name: string;
  purpose: string;
  visibilityTimeoutSeconds: number;
  /** Lambda event source batch size. */
  batchSize: number;
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: number;
  deadLetterName: string;
  /** Handler module under functions/src that consumes the queue. */
  handler: string;
}

export interface NotificationDefinition {
  bucket: BucketId;
  queue: QueueId;
  events: readonly ('s3:ObjectCreated:*')[];
  prefix: string;
  suffix?: string;
}

export const buckets: readonly BucketDefinition[] = [
  { id: 'quarantine', name: 'quarantine', purpose: 'raw uploads with PHI, before de-identification', versioned: false, expireAfterDays: 30, browserUploads: true },
  { id: 'archive', name: 'archive', purpose: 'de-identified DICOM, the lake itself', versioned: true, browserUploads: false },
  { id: 'exports', name: 'exports', purpose: 'zip exports behind expiring links', versioned: false, expireAfterDays: 7, browserUploads: false },
];

export const queues: readonly QueueDefinition[] = [
  { id: 'ingest', name: 'ingest', purpose: 'S3 ObjectCreated events of uploads', visibilityTimeoutSeconds: 900, batchSize: 10, maxReceiveCount: 3, deadLetterName: 'ingest-dlq', handler: 'ingest/handler' },
  { id: 'export', name: 'export', purpose: 'batch export jobs', visibilityTimeoutSeconds: 900, batchSize: 1, maxReceiveCount: 3, deadLetterName: 'export-dlq', handler: 'export/handler' },
  { id: 'notify', name: 'notify', purpose: 'emails: subscriptions and export links', visibilityTimeoutSeconds: 60, batchSize: 10, maxReceiveCount: 5, deadLetterName: 'notify-dlq', handler: 'notify/handler' },
];

export const notifications: readonly NotificationDefinition[] = [
  { bucket: 'quarantine', queue: 'ingest', events: ['s3:ObjectCreated:*'], prefix: 'incoming/' },
];

export const roles: readonly Role[] = ['admin', 'uploader', 'annotator', 'researcher'];

export const userPool = {
  name: 'users',
  /** The browser app (no secret; USER_PASSWORD_AUTH / refresh). */
  webClientName: 'web',
  /** Hospital gateways: a machine client limited to the uploader role. */
  gatewayClientName: 'gateway',
  groups: roles.map((role) => ({ name: role, description: `medlake ${role}` })),
} as const;

/** Physical name of a resource for a stage, e.g. `medlake-dev-archive`. */
export function nameFor(stage: string, name: string): string {
  return `medlake-${stage}-${name}`;
}

export function bucketDefinition(id: BucketId): BucketDefinition {
  const found = buckets.find((b) => b.id === id);
  if (!found) throw new Error(`unknown bucket ${id}`);
  return found;
}

export function queueDefinition(id: QueueId): QueueDefinition {
  const found = queues.find((q) => q.id === id);
  if (!found) throw new Error(`unknown queue ${id}`);
  return found;
}

/** Environment variable names by which handlers learn physical resource names. */
export const envNames = {
  stage: 'MEDLAKE_STAGE',
  bucket: (id: BucketId) => `BUCKET_${id.toUpperCase()}`,
  queueUrl: (id: QueueId) => `QUEUE_${id.toUpperCase()}_URL`,
  databaseUrl: 'DATABASE_URL',
  /** AWS: the Secrets Manager secret holding the database password (DATABASE_URL then carries none). */
  databaseSecretArn: 'DATABASE_SECRET_ARN',
  userPoolId: 'USER_POOL_ID',
  webClientId: 'WEB_CLIENT_ID',
  gatewayClientId: 'GATEWAY_CLIENT_ID',
  jwtIssuer: 'JWT_ISSUER',
  jwksUrl: 'JWKS_URL',
  /** S3 endpoint as browsers and gateways reach it (presigned URLs); unset in AWS. */
  s3PublicEndpoint: 'S3_PUBLIC_ENDPOINT',
  /** The URL users open (links in emails). */
  publicBaseUrl: 'PUBLIC_BASE_URL',
  /** De-identification key: a 32-byte file locally, a Secrets Manager secret in AWS. */
  deidKeyFile: 'DEID_KEY_FILE',
  deidKeySecretArn: 'DEID_KEY_SECRET_ARN',
  /** Optional JSON overriding the de-identification option set. */
  deidOptions: 'DEID_OPTIONS',
  /** PHI vault envelope key: a 32-byte master key file locally, a KMS key (GenerateDataKey) in AWS. */
  phiVaultMasterKeyFile: 'PHI_VAULT_MASTER_KEY_FILE',
  phiVaultKmsKeyId: 'PHI_VAULT_KMS_KEY_ID',
  /** Email: files in this directory locally, SES v2 from MAIL_FROM in AWS. */
  mailOutboxDir: 'MAIL_OUTBOX_DIR',
  mailFrom: 'MAIL_FROM',
} as const;
