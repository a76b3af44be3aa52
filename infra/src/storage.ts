/**
 * Keys and buckets. One customer-managed KMS key encrypts the data at rest
 * (buckets, queues, database, secrets, logs, alarm topic); a second one seals
 * the PHI vault, so that reading the archive never implies reading originals.
 * The three data buckets come from shared/src/resources.ts: SSE-KMS, public
 * access blocked, TLS-only, versioning and lifecycle as defined there.
 */
import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { BucketDefinition, BucketId } from '@medlake/shared/resources';
import { buckets as bucketDefinitions, nameFor } from '@medlake/shared/resources';
import { uploadSettings } from '@medlake/functions/ingest/upload-policy';
import type { StageConfig } from './config';
import { removalPolicy } from './config';

/**
 * S3 names are global: the stage name of resources.ts plus account and
 * region. A plain string (pseudo parameters, no reference to the bucket), so
 * CloudFront's CSP can name the upload host without a dependency cycle.
 */
export function bucketPhysicalName(stage: string, definition: BucketDefinition): string {
  return `${nameFor(stage, definition.name)}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
}

/**
 * Days after which S3 aborts a multipart upload never completed (S3 counts
 * whole days from initiation, rounded up to the next midnight UTC, so never
 * earlier than this).
 * - quarantine: the upload resume window (UPLOAD_RESUME_WINDOW_SECONDS, the
 *   value the api function gets): until then a browser or gateway may still
 *   ask for part URLs and complete the file.
 * - exports: an export's zip stays one open multipart upload over all its runs
 *   (15 minutes each); 1 TiB (EXPORT_MAX_BYTES) at a slow 20 MB/s is 15 hours.
 *   The worker aborts failed and cancelled ones itself: this catches the rest.
 * - archive: every write completes within one Lambda invocation.
 */
export const abortIncompleteMultipartDays: Record<BucketId, number> = {
  quarantine: Math.ceil(uploadSettings({}).resumeWindowSeconds / 86_400),
  exports: 2,
  archive: 1,
};

export interface StorageProps {
  config: StageConfig;
}

export class Storage extends Construct {
  readonly dataKey: kms.Key;
  readonly vaultKey: kms.Key;
  readonly buckets: Record<BucketId, s3.Bucket>;
  /** S3 server access logs, CloudFront logs and VPC flow logs. */
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const { config } = props;
    const retain = removalPolicy(config);

    this.dataKey = new kms.Key(this, 'DataKey', {
      alias: `alias/${nameFor(config.stage, 'data')}`,
      description: 'medlake data at rest: buckets, queues, database, secrets, logs',
      enableKeyRotation: true,
      removalPolicy: retain,
      pendingWindow: Duration.days(config.retainData ? 30 : 7),
    });
    // CloudWatch Logs encrypts every log group of the stack with this key.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:*` } },
      }),
    );
    // CloudWatch alarms publish to the encrypted alarm topic.
    this.dataKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    this.vaultKey = new kms.Key(this, 'VaultKey', {
      alias: `alias/${nameFor(config.stage, 'phi-vault')}`,
      description: 'medlake PHI vault: envelope encryption of original identifiers (re-identification only)',
      enableKeyRotation: true,
      // Losing this key makes the vault unreadable: never destroyed with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.logBucket = new s3.Bucket(this, 'Logs', {
      // Log delivery (S3 server access logs, CloudFront standard logs) cannot write SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // CloudFront standard logging writes with ACLs.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(Math.max(config.logRetentionDays, 90)) }],
      removalPolicy: retain,
      autoDeleteObjects: !config.retainData,
    });

    const bucket = (definition: BucketDefinition): s3.Bucket => {
      const lifecycleRules: s3.LifecycleRule[] = [{ id: 'abort-incomplete-multipart', abortIncompleteMultipartUploadAfter: Duration.days(abortIncompleteMultipartDays[definition.id]) }];
      // The archive has no expiry of any kind: its noncurrent versions are the history of every
      // object (annotation versions, re-ingested instances) and are kept until someone decides otherwise
      // (docs/deploy-aws.md, "Archive versions").
      if (definition.expireAfterDays) {
        lifecycleRules.push({ id: `expire-after-${definition.expireAfterDays}-days`, expiration: Duration.days(definition.expireAfterDays) });
        if (definition.versioned) lifecycleRules.push({ id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(definition.expireAfterDays) });
      }
      return new s3.Bucket(this, `${pascal(definition.id)}Bucket`, {
        bucketName: bucketPhysicalName(config.stage, definition),
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.dataKey,
        // One data key per bucket instead of one KMS call per object.
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        minimumTLSVersion: 1.2,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned: definition.versioned,
        lifecycleRules,
        serverAccessLogsBucket: this.logBucket,
        serverAccessLogsPrefix: `s3/${definition.name}/`,
        removalPolicy: retain,
        autoDeleteObjects: !config.retainData,
      });
    };
    this.buckets = Object.fromEntries(bucketDefinitions.map((definition) => [definition.id, bucket(definition)])) as Record<BucketId, s3.Bucket>;
  }

  /**
   * CORS for presigned browser uploads into the buckets that take them
   * (`browserUploads` in resources.ts). Added once the site's origin is known.
   */
  allowBrowserUploads(origins: string[]): void {
    for (const definition of bucketDefinitions.filter((d) => d.browserUploads)) {
      this.buckets[definition.id].addCorsRule({
        allowedOrigins: origins,
        allowedMethods: [s3.HttpMethods.PUT],
        allowedHeaders: ['*'],
        // Browsers must read each part's ETag to complete a multipart upload.
        exposedHeaders: ['ETag'],
        maxAge: 3000,
      });
    }
  }
}

export function pascal(id: string): string {
  return id.replace(/(^|[-_/])(\w)/g, (_m, _sep: string, c: string) => c.toUpperCase());
}
