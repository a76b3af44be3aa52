/**
 * The Lambda catalog: every function of medlake, its entry
 * (`functions/src/<entry>/handler.ts`), its size, its settings and what it
 * may touch. The processing construct turns each "may touch" into IAM
 * statements scoped to that one bucket prefix, queue, key or secret, so this
 * table IS the least-privilege policy; the infra tests read it back from the
 * template and compare it with a table written from what the handlers call.
 *
 * To add a function: one entry here. A function whose handler file does not
 * exist yet is skipped at synth (with a warning), so the stack always builds.
 */
import type { VaultKind } from '@medlake/functions/adapters/phi-vault';
import type { BucketId, QueueId } from '@medlake/shared/resources';
import type { SettingGroup } from './settings';

export type FunctionName = 'api' | 'dicomweb' | 'dicomweb-stream' | 'ingest' | 'export' | 'notify' | 'migrate';

/**
 * read: GetObject (byte ranges too) under the prefix; list: ListBucket (so a
 * missing key is a 404, not a 403; only where keys carry no PHI);
 * write: PutObject incl. multipart under the prefix; put: PutObject only
 * (small objects written whole); presign-upload: the
 * function signs PUT / multipart URLs that browsers and gateways use, which act
 * with the function's own rights; probe: HeadBucket for the health check.
 */
export type BucketAccess = 'read' | 'list' | 'write' | 'put' | 'presign-upload' | 'probe';

export interface BucketGrant {
  access: readonly BucketAccess[];
  /** Key prefix the object actions are limited to; the whole bucket when absent. */
  prefix?: string;
}

export interface FunctionDefinition {
  name: FunctionName;
  /** Folder under functions/src whose handler.ts is bundled (default: the name). */
  entry?: string;
  /** Export of handler.ts Lambda calls (default `handler`). */
  handlerExport?: string;
  description: string;
  memoryMb: number;
  timeoutSeconds: number;
  /** /tmp size, for functions that spill uploads or zips to disk. */
  ephemeralStorageMb?: number;
  /** Served by API Gateway under this path prefix. */
  http?: '/api' | '/dicomweb';
  /**
   * A Function URL in response-streaming mode (InvokeMode RESPONSE_STREAM,
   * AuthType AWS_IAM) that only CloudFront may invoke (Origin Access Control).
   */
  streamingUrl?: boolean;
  /** Builds links to the site (emails, download links, DICOMweb URLs): gets PUBLIC_BASE_URL. */
  linksToSite?: boolean;
  /** Tuning the handler reads (infra/src/settings.ts sets each group's variables). */
  settings?: readonly SettingGroup[];
  /** Groups the bundle mentions but this function never reads, and why (the infra tests compare bundles and settings). */
  unusedSettings?: Partial<Record<SettingGroup, string>>;
  /** Several grants on one bucket when object actions differ by prefix. */
  buckets?: Partial<Record<BucketId, BucketGrant | readonly BucketGrant[]>>;
  /** Queues it sends messages to. */
  sendsTo?: readonly QueueId[];
  /** Queues whose attributes it reads (health check). */
  probesQueues?: readonly QueueId[];
  /** Connects to PostgreSQL (runs in the VPC, reads the database secret). */
  database: boolean;
  /** Reads the de-identification key (pseudonyms, UID remapping, date shifts). */
  deidKey?: boolean;
  /**
   * PHI vault key: `seal` = GenerateDataKey to encrypt originals; `open` =
   * Decrypt of the records of these kinds only (the kind is part of each
   * record's KMS encryption context, so IAM can tell them apart).
   */
  vault?: { seal?: boolean; open?: readonly VaultKind[] };
  /** Cognito admin API calls on the user pool (approve, groups, disable...). */
  userPoolAdmin?: boolean;
  /** Sends email through SES. */
  mail?: boolean;
  /** Repository folders copied next to the bundle, by the env var that tells the handler where they are. */
  includeDirs?: Record<string, string>;
  /**
   * Renders stored frames (functions/src/dicomweb/rendered.ts): the WebAssembly codecs for JPEG-LS, JPEG 2000
   * and HTJ2K are left out of the bundle and their files copied under node_modules/ beside it, where their glue
   * code finds its .wasm (functions/src/dicomweb/wasm-codecs.ts).
   */
  rendersFrames?: boolean;
}

/** The grants of a catalog entry on one bucket, as a list. */
export function bucketGrants(grant: BucketGrant | readonly BucketGrant[] | undefined): readonly BucketGrant[] {
  if (!grant) return [];
  return 'access' in grant ? [grant as BucketGrant] : (grant as readonly BucketGrant[]);
}

/**
 * The uploads prefix of the quarantine bucket is the one S3 → SQS
 * notifications watch (shared/src/resources.ts); presigned URLs and ingest
 * reads are limited to it.
 */
export const uploadPrefix = 'incoming/';

/** Rendered images and thumbnails the dicomweb functions keep in the archive after a first render. */
export const derivedPrefix = 'derived/';

/**
 * Report linking scrubs a report with the identifiers of its patient and
 * study, and reads the report's own sealed original (functions/src/reports/report-intake.ts).
 */
const reportLinking: readonly VaultKind[] = ['patient', 'study', 'report'];

export const functionCatalog: readonly FunctionDefinition[] = [
  {
    name: 'api',
    description: 'JSON API of the SPA and gateways: sessions, users, uploads, studies, reports, annotations, exports, audit',
    memoryMb: 1024,
    // API Gateway gives up on an integration after 30 s.
    timeoutSeconds: 29,
    http: '/api',
    linksToSite: true,
    // Annotation versions and labels are stored through the ingest path (storeInstance); exports are requested and linked here;
    // previews of held instances read their frame through the DICOMweb frame reader (and its cache).
    settings: ['uploads', 'ingest', 'digests', 'exports', 'reidentify', 'frame-cache'],
    buckets: {
      // list: a multipart upload that S3 forgot must be a 404, not a 403 (keys hold no more than the objects the function may read).
      quarantine: { access: ['presign-upload', 'read', 'list'], prefix: uploadPrefix },
      // Annotation history reads stored SRs; a new annotation version is a new SR written through storeInstance (list: a missing object is a 404).
      archive: { access: ['read', 'list', 'write'] },
      exports: { access: ['read'] },
    },
    // export: new export runs; notify: the index writer asks for a subscription digest after storing an annotation version.
    sendsTo: ['export', 'notify'],
    probesQueues: ['ingest'],
    database: true,
    // Reports submitted through the API are scrubbed with the patient's date shift and the sealed identifiers of the
    // study; their originals go to the vault. Re-identification (POST /api/studies/{uid}/reidentify, admin only,
    // audited) opens patient, study and series records.
    deidKey: true,
    vault: { seal: true, open: ['patient', 'study', 'series', 'report'] },
    userPoolAdmin: true,
    // Previews of held images.
    rendersFrames: true,
  },
  {
    name: 'dicomweb',
    description: 'DICOMweb through API Gateway: STOW-RS (annotations) and buffered reads within 6 MB',
    memoryMb: 1536,
    timeoutSeconds: 29,
    http: '/dicomweb',
    linksToSite: true,
    settings: ['ingest', 'digests', 'frame-cache'],
    // STOW-RS stores through the same path as ingest: de-identified, into the archive (and asks for subscription digests).
    buckets: { archive: { access: ['read', 'list', 'write'] } },
    sendsTo: ['notify'],
    database: true,
    deidKey: true,
    // The index writer links reports that waited for a stored study.
    vault: { seal: true, open: reportLinking },
    // WADO-RS rendered images and thumbnails.
    rendersFrames: true,
  },
  {
    name: 'dicomweb-stream',
    entry: 'dicomweb',
    handlerExport: 'streamingHandler',
    description: 'DICOMweb reads of any size (QIDO-RS, WADO-RS): Lambda response streaming behind a Function URL only CloudFront may invoke',
    memoryMb: 2048,
    // 200 MB (Lambda's streamed-answer cap) at the 2 MB/s Lambda streams beyond the first 6 MB: about 100 s.
    timeoutSeconds: 180,
    streamingUrl: true,
    // No PUBLIC_BASE_URL: links are built from X-Forwarded-Host, which CloudFront's viewer-request function always sets
    // (and the distribution's domain would make a dependency cycle: the distribution names this function's URL).
    settings: ['frame-cache'],
    unusedSettings: {
      ingest: 'same bundle as dicomweb, but CloudFront sends STOW-RS to API Gateway: nothing is stored here',
      digests: 'digests are requested when something is stored, which never happens here',
    },
    // Reads only; CloudFront sends STOW-RS to API Gateway. Writes: the rendered images kept after a first render.
    buckets: { archive: [{ access: ['read', 'list'] }, { access: ['put'], prefix: derivedPrefix }] },
    database: true,
    rendersFrames: true,
  },
  {
    name: 'ingest',
    description: 'S3 ObjectCreated of uploads → de-identify → archive → index',
    // INGEST_MEMORY_BUDGET_BYTES (1 GiB of objects at once) + zip entries in flight (INGEST_MEMORY_LIMIT_BYTES) + their
    // de-identified copies + Node itself; also ~1.7 vCPU for INGEST_CONCURRENCY files at once.
    memoryMb: 3072,
    timeoutSeconds: 600,
    // Objects above INGEST_MEMORY_LIMIT_BYTES are streamed to /tmp, several at a time.
    ephemeralStorageMb: 10240,
    linksToSite: true,
    settings: ['ingest', 'digests'],
    buckets: {
      quarantine: { access: ['read', 'list'], prefix: uploadPrefix },
      archive: { access: ['read', 'list', 'write'] },
    },
    // Newly indexed studies request one subscription digest run per burst (a delayed notify message).
    sendsTo: ['notify'],
    database: true,
    deidKey: true,
    // Report uploads (text, CSV, DICOM SR/PDF) are linked and scrubbed here, and so are reports that waited for a study.
    vault: { seal: true, open: reportLinking },
  },
  {
    name: 'export',
    description: 'cohort export: archive → zip (multipart) in the exports bucket → link',
    // Read-ahead (EXPORT_READ_AHEAD_BYTES) + parts in flight and being filled (EXPORT_PART_SIZE_BYTES): ~300 MB measured;
    // the rest buys CPU for checksums and S3 requests.
    memoryMb: 2048,
    // Lambda's longest: a run stops before the deadline and continues through its own queue.
    timeoutSeconds: 900,
    linksToSite: true,
    settings: ['exports'],
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
    description: 'emails: subscription digests and export links',
    // A digest run over many subscriptions is CPU-bound SQL and templating: 512 MB buys a third of a vCPU.
    memoryMb: 512,
    // Within the notify queue's 60 s visibility timeout; a long run continues in a new message before its deadline.
    timeoutSeconds: 50,
    linksToSite: true,
    settings: ['digests'],
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
