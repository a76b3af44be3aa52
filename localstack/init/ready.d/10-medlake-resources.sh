#!/usr/bin/env bash
# Generated from shared/src/resources.ts by `npx tsx infra/bin/localstack-init-hooks.ts`: do not edit.
# LocalStack runs it once its services are ready: medlake's buckets, queues (with dead-letter
# queues) and S3 → SQS notifications, named as the local stack and AWS name them.
# Set MEDLAKE_LOCALSTACK_MODE=cdk to skip it when the whole stack is deployed with cdklocal instead.
set -euo pipefail

if [ "${MEDLAKE_LOCALSTACK_MODE:-resources}" = "cdk" ]; then
  echo "medlake: MEDLAKE_LOCALSTACK_MODE=cdk, resources come from cdklocal deploy"
  exit 0
fi
STAGE="${MEDLAKE_STAGE:-dev}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# nameFor() of shared/src/resources.ts
resource_name() { printf 'medlake-%s-%s' "$STAGE" "$1"; }
queue_arn() {
  awslocal sqs get-queue-attributes --queue-url "$(awslocal sqs get-queue-url --queue-name "$1" --query QueueUrl --output text)" \
    --attribute-names QueueArn --query Attributes.QueueArn --output text
}

echo "medlake: bucket quarantine (raw uploads with PHI, before de-identification)"
awslocal s3api create-bucket --bucket "$(resource_name 'quarantine')" >/dev/null 2>&1 || true
awslocal s3api put-public-access-block --bucket "$(resource_name 'quarantine')" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
awslocal s3api put-bucket-encryption --bucket "$(resource_name 'quarantine')" --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
awslocal s3api put-bucket-lifecycle-configuration --bucket "$(resource_name 'quarantine')" --lifecycle-configuration '{"Rules":[{"ID":"expire-after-30-days","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":30},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":1}}]}'
awslocal s3api put-bucket-cors --bucket "$(resource_name 'quarantine')" --cors-configuration '{"CORSRules":[{"AllowedOrigins":["http://localhost:3000","http://localhost:5173"],"AllowedMethods":["PUT"],"AllowedHeaders":["*"],"ExposeHeaders":["ETag"],"MaxAgeSeconds":3000}]}'

echo "medlake: bucket archive (de-identified DICOM, the lake itself)"
awslocal s3api create-bucket --bucket "$(resource_name 'archive')" >/dev/null 2>&1 || true
awslocal s3api put-public-access-block --bucket "$(resource_name 'archive')" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
awslocal s3api put-bucket-encryption --bucket "$(resource_name 'archive')" --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
awslocal s3api put-bucket-versioning --bucket "$(resource_name 'archive')" --versioning-configuration Status=Enabled

echo "medlake: bucket exports (zip exports behind expiring links)"
awslocal s3api create-bucket --bucket "$(resource_name 'exports')" >/dev/null 2>&1 || true
awslocal s3api put-public-access-block --bucket "$(resource_name 'exports')" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
awslocal s3api put-bucket-encryption --bucket "$(resource_name 'exports')" --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
awslocal s3api put-bucket-lifecycle-configuration --bucket "$(resource_name 'exports')" --lifecycle-configuration '{"Rules":[{"ID":"expire-after-7-days","Status":"Enabled","Filter":{"Prefix":""},"Expiration":{"Days":7},"AbortIncompleteMultipartUpload":{"DaysAfterInitiation":2}}]}'

echo "medlake: queue ingest (S3 ObjectCreated events of uploads) with dead-letter queue ingest-dlq"
awslocal sqs create-queue --queue-name "$(resource_name 'ingest-dlq')" --attributes MessageRetentionPeriod=1209600 >/dev/null
INGEST_DLQ_ARN="$(queue_arn "$(resource_name 'ingest-dlq')")"
cat > "$WORK/ingest-attributes.json" <<JSON
{"VisibilityTimeout": "900", "RedrivePolicy": "{\"deadLetterTargetArn\":\"${INGEST_DLQ_ARN}\",\"maxReceiveCount\":\"3\"}"}
JSON
awslocal sqs create-queue --queue-name "$(resource_name 'ingest')" --attributes "file://$WORK/ingest-attributes.json" >/dev/null

echo "medlake: queue export (batch export jobs) with dead-letter queue export-dlq"
awslocal sqs create-queue --queue-name "$(resource_name 'export-dlq')" --attributes MessageRetentionPeriod=1209600 >/dev/null
EXPORT_DLQ_ARN="$(queue_arn "$(resource_name 'export-dlq')")"
cat > "$WORK/export-attributes.json" <<JSON
{"VisibilityTimeout": "900", "RedrivePolicy": "{\"deadLetterTargetArn\":\"${EXPORT_DLQ_ARN}\",\"maxReceiveCount\":\"3\"}"}
JSON
awslocal sqs create-queue --queue-name "$(resource_name 'export')" --attributes "file://$WORK/export-attributes.json" >/dev/null

echo "medlake: queue notify (emails: subscriptions and export links) with dead-letter queue notify-dlq"
awslocal sqs create-queue --queue-name "$(resource_name 'notify-dlq')" --attributes MessageRetentionPeriod=1209600 >/dev/null
NOTIFY_DLQ_ARN="$(queue_arn "$(resource_name 'notify-dlq')")"
cat > "$WORK/notify-attributes.json" <<JSON
{"VisibilityTimeout": "60", "RedrivePolicy": "{\"deadLetterTargetArn\":\"${NOTIFY_DLQ_ARN}\",\"maxReceiveCount\":\"5\"}"}
JSON
awslocal sqs create-queue --queue-name "$(resource_name 'notify')" --attributes "file://$WORK/notify-attributes.json" >/dev/null

echo "medlake: S3 → SQS notifications of bucket quarantine"
NOTIFY_ARN_0="$(queue_arn "$(resource_name 'ingest')")"
cat > "$WORK/quarantine-notifications.json" <<JSON
{"QueueConfigurations": [{"Id": "quarantine-to-ingest-0", "QueueArn": "${NOTIFY_ARN_0}", "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name":"prefix","Value":"incoming/"}]}}}]}
JSON
awslocal s3api put-bucket-notification-configuration --bucket "$(resource_name 'quarantine')" --notification-configuration "file://$WORK/quarantine-notifications.json"

echo "medlake: LocalStack resources ready for stage $STAGE"
