/**
 * The Lambda catalog: every function of medlake, its entry
 * (`functions/src/<name>/handler.ts`), its size, and what it may touch. The
 * processing construct turns each "may touch" into IAM statements scoped to
 * that one bucket prefix, queue, key or secret, so this table IS the
 * least-privilege policy; the infra tests read it back from the template.
 *
 * To add a function: one entry here. A function whose handler file does not
 * exist yet is skipped at synth (with a warning), so the stack always builds.
 */
import type { BucketId, QueueId } from '@medlake/shared/resources';

export type FunctionName = 'api' | 'dicomweb' | 'ingest' | 'export' | 'notify' | 'migrate';

/**
 * read: GetObject (byte ranges too) under the prefix; list: ListBucket (so a
 * missing key is a 404, not a 403; only where keys carry no PHI);
 * write: PutObject incl. multipart under the prefix; presign-upload: the
 * function signs PUT / multipart URLs that browsers and gateways use, which act
 * with the function's own rights; probe: HeadBucket for the health check.
 */
export type BucketAccess = 'read' | 'list' | 'write' | 'presign-upload' | 'probe';

export interface BucketGrant {
  access: readonly BucketAccess[];
  /** Key prefix the object actions are limited to; the whole bucket when absent. */
  prefix?: string;
}

export interface FunctionDefinition {
  name: FunctionName;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** /tmp size, for functions that spill uploads or zips to disk. */
  ephemeralStorageMb?: number;
  /** Served by API Gateway under this path prefix. */
  http?: '/api' | '/dicomweb';
  buckets?: Partial<Record<BucketId, BucketGrant>>;
  /** Queues it sends messages to. */
  sendsTo?: readonly QueueId[];
  /** Queues whose attributes it reads (health check). */
  probesQueues?: readonly QueueId[];
  /** Connects to PostgreSQL (runs in the VPC, reads the database secret). */
  database: boolean;
  /** Reads the de-identification key (pseudonyms, UID remapping, date shifts). */
  deidKey?: boolean;
  /** PHI vault key: `seal` = GenerateDataKey to encrypt originals, `open` = Decrypt to re-identify. */
  vault?: readonly ('seal' | 'open')[];
  /** Cognito admin API calls on the user pool (approve, groups, disable...). */
  userPoolAdmin?: boolean;
  /** Sends email through SES. */
  mail?: boolean;
  /** Repository folders copied next to the bundle, by the env var that tells the handler where they are. */
  includeDirs?: Record<string, string>;
}

/**
 * The uploads prefix of the quarantine bucket is the one S3 → SQS
 * notifications watch (shared/src/resources.ts); presigned URLs and ingest
 * reads are limited to it.
 */
export const uploadPrefix = 'incoming/';

export const functionCatalog: readonly FunctionDefinition[] = [
  {
    name: 'api',
    description: 'JSON API of the SPA and gateways: sessions, users, uploads, studies, exports, audit',
    memoryMb: 1024,
    // API Gateway gives up on an integration after 30 s.
    timeoutSeconds: 29,
    http: '/api',
    buckets: {
      // list: a multipart upload that S3 forgot must be a 404, not a 403 (keys hold no more than the objects the function may read).
      quarantine: { access: ['presign-upload', 'read', 'list'], prefix: uploadPrefix },
      archive: { access: ['probe'] },
      exports: { access: ['read'] },
    },
    sendsTo: ['export'],
    probesQueues: ['ingest'],
    database: true,
    // Reports submitted through the API are scrubbed with the patient's date shift; their originals go to the vault.
    // Re-identification (POST /api/studies/{uid}/reidentify, admin only, audited) opens it; unsubscribe links are checked with a key derived from the de-identification key.
    deidKey: true,
    vault: ['seal', 'open'],
    userPoolAdmin: true,
  },
  {
    name: 'dicomweb',
    description: 'QIDO-RS, WADO-RS (frames by byte range), STOW-RS for annotations',
    memoryMb: 1536,
    timeoutSeconds: 29,
    http: '/dicomweb',
    // STOW-RS stores through the same path as ingest: de-identified, into the archive (and asks for subscription digests).
    buckets: { archive: { access: ['read', 'list', 'write'] } },
    sendsTo: ['notify'],
    database: true,
    deidKey: true,
    vault: ['seal'],
  },
  {
    name: 'ingest',
    description: 'S3 ObjectCreated of uploads → de-identify → archive → index',
    memoryMb: 2048,
    timeoutSeconds: 600,
    ephemeralStorageMb: 4096,
    buckets: {
      quarantine: { access: ['read', 'list'], prefix: uploadPrefix },
      archive: { access: ['read', 'list', 'write'] },
    },
    // Newly indexed studies request one subscription digest run per burst (a delayed notify message).
    sendsTo: ['notify'],
    database: true,
    deidKey: true,
    vault: ['seal'],
  },
  {
    name: 'export',
    description: 'cohort export: archive → zip (multipart) in the exports bucket → link',
    memoryMb: 2048,
    timeoutSeconds: 900,
    buckets: {
      archive: { access: ['read', 'list'] },
      exports: { access: ['read', 'write'] },
    },
    // export: its own continuation before the Lambda deadline; notify: the link email (the notify function sends it).
    sendsTo: ['export', 'notify'],
    database: true,
  },
  {
    name: 'notify',
    description: 'emails: subscription matches and export links',
    memoryMb: 256,
    timeoutSeconds: 30,
    // A digest run waiting for a burst to settle asks for the next run itself.
    sendsTo: ['notify'],
    database: true,
    // Unsubscribe links are signed with a key derived from the de-identification key.
    deidKey: true,
    mail: true,
  },
  {
    name: 'migrate',
    description: 'applies database migrations on deploy (CloudFormation custom resource)',
    memoryMb: 512,
    timeoutSeconds: 300,
    database: true,
    includeDirs: { MIGRATIONS_DIR: 'functions/migrations' },
  },
];

export function functionDefinition(name: FunctionName): FunctionDefinition {
  const found = functionCatalog.find((f) => f.name === name);
  if (!found) throw new Error(`unknown function ${name}`);
  return found;
}

/** `ingest/handler` (resources.ts) → the function `ingest`. */
export function functionOfHandler(handler: string): FunctionName {
  const name = handler.split('/')[0];
  const found = functionCatalog.find((f) => f.name === name);
  if (!found) throw new Error(`queue handler ${handler} names no function of the catalog`);
  return found.name;
}

/**
 * Cognito admin actions of the api function: exactly the Admin*, List* and
 * Describe* commands functions/src/auth/user-pool.ts sends (a test compares
 * the two). Sign-in, sign-up, confirm and reset are public Cognito calls made
 * with the app client id and need no IAM.
 */
export const userPoolAdminActions: readonly string[] = [
  'cognito-idp:AdminAddUserToGroup',
  'cognito-idp:AdminDisableUser',
  'cognito-idp:AdminEnableUser',
  'cognito-idp:AdminGetUser',
  'cognito-idp:AdminListGroupsForUser',
  'cognito-idp:AdminRemoveUserFromGroup',
  'cognito-idp:AdminUpdateUserAttributes',
  'cognito-idp:AdminUserGlobalSignOut',
  'cognito-idp:DescribeUserPool',
  'cognito-idp:ListUsers',
  'cognito-idp:ListUsersInGroup',
];
