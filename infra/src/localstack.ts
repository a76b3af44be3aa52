/**
 * The LocalStack recipe's generated files, from shared/src/resources.ts (so a
 * bucket or queue is still named once): the `ready.d` init hook creating the
 * buckets, queues with their dead-letter queues and the S3 → SQS notifications,
 * and an env file pointing the handlers at them.
 * `npx tsx infra/bin/localstack-init-hooks.ts` writes them into localstack/;
 * a test fails when the committed files are stale.
 */
import { join } from 'node:path';
import type { BucketDefinition, NotificationDefinition, QueueDefinition } from '@medlake/shared/resources';
import { buckets, envNames, nameFor, notifications, queues } from '@medlake/shared/resources';
import { repoRoot } from './processing';
import { abortIncompleteMultipartDays } from './storage';

export const localstackDir = join(repoRoot, 'localstack');
export const initHookPath = join(localstackDir, 'init', 'ready.d', '10-medlake-resources.sh');
export const envFilePath = join(localstackDir, 'medlake.env');

/** LocalStack's fixed account and default region. */
export const localstackAccount = '000000000000';
export const localstackRegion = 'us-east-1';
export const localstackEndpoint = 'http://localhost.localstack.cloud:4566';

const q = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;

function bucketCommands(bucket: BucketDefinition): string[] {
  const name = `"$(resource_name ${q(bucket.name)})"`;
  const lines = [
    `echo "medlake: bucket ${bucket.name} (${bucket.purpose})"`,
    `awslocal s3api create-bucket --bucket ${name} >/dev/null 2>&1 || true`,
    `awslocal s3api put-public-access-block --bucket ${name} --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true`,
    `awslocal s3api put-bucket-encryption --bucket ${name} --server-side-encryption-configuration ${q(JSON.stringify({ Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] }))}`,
  ];
  if (bucket.versioned) lines.push(`awslocal s3api put-bucket-versioning --bucket ${name} --versioning-configuration Status=Enabled`);
  if (bucket.expireAfterDays) {
    const lifecycle = {
      Rules: [
        { ID: `expire-after-${bucket.expireAfterDays}-days`, Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: bucket.expireAfterDays }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: abortIncompleteMultipartDays[bucket.id] } },
      ],
    };
    lines.push(`awslocal s3api put-bucket-lifecycle-configuration --bucket ${name} --lifecycle-configuration ${q(JSON.stringify(lifecycle))}`);
  }
  if (bucket.browserUploads) {
    // The local front door (and a Vite dev server) upload with presigned PUTs; the ETag of each part completes a multipart upload.
    const cors = { CORSRules: [{ AllowedOrigins: ['http://localhost:3000', 'http://localhost:5173'], AllowedMethods: ['PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 3000 }] };
    lines.push(`awslocal s3api put-bucket-cors --bucket ${name} --cors-configuration ${q(JSON.stringify(cors))}`);
  }
  return lines;
}

function queueCommands(queue: QueueDefinition): string[] {
  const dlq = `"$(resource_name ${q(queue.deadLetterName)})"`;
  const main = `"$(resource_name ${q(queue.name)})"`;
  const variable = `${queue.id.toUpperCase()}_DLQ_ARN`;
  return [
    `echo "medlake: queue ${queue.name} (${queue.purpose}) with dead-letter queue ${queue.deadLetterName}"`,
    `awslocal sqs create-queue --queue-name ${dlq} --attributes MessageRetentionPeriod=1209600 >/dev/null`,
    `${variable}="$(queue_arn ${dlq})"`,
    // RedrivePolicy is JSON inside a JSON string: written to a file to keep the quoting sane.
    `cat > "$WORK/${queue.id}-attributes.json" <<JSON`,
    `{"VisibilityTimeout": "${queue.visibilityTimeoutSeconds}", "RedrivePolicy": "{\\"deadLetterTargetArn\\":\\"\${${variable}}\\",\\"maxReceiveCount\\":\\"${queue.maxReceiveCount}\\"}"}`,
    'JSON',
    `awslocal sqs create-queue --queue-name ${main} --attributes "file://$WORK/${queue.id}-attributes.json" >/dev/null`,
  ];
}

function notificationCommands(bucketId: string, entries: readonly NotificationDefinition[]): string[] {
  const bucket = buckets.find((b) => b.id === bucketId)!;
  const lines = [`echo "medlake: S3 → SQS notifications of bucket ${bucket.name}"`];
  const configs = entries.map((n, i) => {
    const queue = queues.find((x) => x.id === n.queue)!;
    lines.push(`NOTIFY_ARN_${i}="$(queue_arn "$(resource_name ${q(queue.name)})")"`);
    const rules = [{ Name: 'prefix', Value: n.prefix }, ...(n.suffix ? [{ Name: 'suffix', Value: n.suffix }] : [])];
    return `{"Id": "${bucket.name}-to-${queue.name}-${i}", "QueueArn": "\${NOTIFY_ARN_${i}}", "Events": ${JSON.stringify(n.events)}, "Filter": {"Key": {"FilterRules": ${JSON.stringify(rules)}}}}`;
  });
  lines.push(`cat > "$WORK/${bucket.id}-notifications.json" <<JSON`, `{"QueueConfigurations": [${configs.join(', ')}]}`, 'JSON');
  lines.push(`awslocal s3api put-bucket-notification-configuration --bucket "$(resource_name ${q(bucket.name)})" --notification-configuration "file://$WORK/${bucket.id}-notifications.json"`);
  return lines;
}

/** The `ready.d` hook: idempotent, so a restarted container with persistence comes up the same. */
export function renderInitHook(): string {
  const byBucket = new Map<string, NotificationDefinition[]>();
  for (const n of notifications) byBucket.set(n.bucket, [...(byBucket.get(n.bucket) ?? []), n]);
  return [
    '#!/usr/bin/env bash',
    '# Generated from shared/src/resources.ts by `npx tsx infra/bin/localstack-init-hooks.ts`: do not edit.',
    '# LocalStack runs it once its services are ready: medlake\'s buckets, queues (with dead-letter',
    '# queues) and S3 → SQS notifications, named as the local stack and AWS name them.',
    '# Set MEDLAKE_LOCALSTACK_MODE=cdk to skip it when the whole stack is deployed with cdklocal instead.',
    'set -euo pipefail',
    '',
    'if [ "${MEDLAKE_LOCALSTACK_MODE:-resources}" = "cdk" ]; then',
    '  echo "medlake: MEDLAKE_LOCALSTACK_MODE=cdk, resources come from cdklocal deploy"',
    '  exit 0',
    'fi',
    'STAGE="${MEDLAKE_STAGE:-dev}"',
    'WORK="$(mktemp -d)"',
    'trap \'rm -rf "$WORK"\' EXIT',
    '',
    '# nameFor() of shared/src/resources.ts',
    `resource_name() { printf 'medlake-%s-%s' "$STAGE" "$1"; }`,
    'queue_arn() {',
    '  awslocal sqs get-queue-attributes --queue-url "$(awslocal sqs get-queue-url --queue-name "$1" --query QueueUrl --output text)" \\',
    '    --attribute-names QueueArn --query Attributes.QueueArn --output text',
    '}',
    '',
    ...buckets.flatMap((b) => [...bucketCommands(b), '']),
    ...queues.flatMap((x) => [...queueCommands(x), '']),
    ...[...byBucket.entries()].flatMap(([bucketId, entries]) => [...notificationCommands(bucketId, entries), '']),
    'echo "medlake: LocalStack resources ready for stage $STAGE"',
    '',
  ].join('\n');
}

/** Environment for handlers (or `npm run dev`-style tools) talking to LocalStack, stage dev. */
export function renderEnvFile(stage = 'dev'): string {
  const lines = [
    '# Generated from shared/src/resources.ts by `npx tsx infra/bin/localstack-init-hooks.ts`: do not edit.',
    '# Handlers against LocalStack (stage dev): `set -a; . localstack/medlake.env; set +a`.',
    `${envNames.stage}=${stage}`,
    `AWS_REGION=${localstackRegion}`,
    'AWS_ACCESS_KEY_ID=test',
    'AWS_SECRET_ACCESS_KEY=test',
    `AWS_ENDPOINT_URL=${localstackEndpoint}`,
    `AWS_ENDPOINT_URL_S3=${localstackEndpoint}`,
    `AWS_ENDPOINT_URL_SQS=${localstackEndpoint}`,
    `${envNames.s3PublicEndpoint}=${localstackEndpoint}`,
    ...buckets.map((b) => `${envNames.bucket(b.id)}=${nameFor(stage, b.name)}`),
    ...queues.map((x) => `${envNames.queueUrl(x.id)}=${localstackEndpoint}/${localstackAccount}/${nameFor(stage, x.name)}`),
    '',
  ];
  return lines.join('\n');
}
