/**
 * The synthesized AWS stack, offline (no credentials, no Docker): esbuild runs
 * locally. Dev and prod are built once each in this file (the CDK bundling
 * cache makes the second stage reuse the first's bundles) and every test reads
 * the templates.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublic } from '@medlake/shared/access/matrix';
import { buckets, nameFor, notifications, queues, roles } from '@medlake/shared/resources';
import { apiRoutes } from './api';
import { dicomwebRoutingSource, sessionBearerSource } from './edge-functions';
import { apiOriginId } from './web';
import { httpRoutes, medlakeApp } from './app';
import type { MedlakeApp } from './app';
import { PhiVault } from '@medlake/functions/adapters/phi-vault';
import { exportSettings } from '@medlake/functions/export/export-settings';
import { frameCacheBudgetBytes } from '@medlake/functions/dicomweb/frame-cache';
import { wasmCodecFiles } from '@medlake/functions/dicomweb/wasm-codecs';
import { ingestSettings } from '@medlake/functions/ingest/ingest-settings';
import { uploadSettings } from '@medlake/functions/ingest/upload-policy';
import { parseNotifyMessage } from '@medlake/functions/notify/messages';
import { digestSettings } from '@medlake/functions/notify/notify-settings';
import { functionCatalog, userPoolAdminActions } from './functions';
import type { SettingGroup } from './settings';
import { settingGroupVariables, settingsEnvironment, settingsLeftUnset } from './settings';
import { presentFunctions, repoRoot, vaultPurpose } from './processing';

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[]; Condition?: string };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Sid?: string; Condition?: Record<string, Record<string, unknown>> };

const managed = {
  cachingDisabled: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
  allViewerExceptHostHeader: 'b689b0a8-53d0-40ab-baf2-68738e2966ac',
};

let workDir: string;
let dev: MedlakeApp & { template: Template; assemblyDir: string; ms: number };
let prod: MedlakeApp & { template: Template; ms: number };

function resources(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.findResources(type)) as [string, Resource][];
}

/** The logical id of the (first) resource of a type whose properties contain `fragment`. */
function logicalId(template: Template, type: string, predicate: (r: Resource) => boolean): string {
  const found = resources(template, type).find(([, r]) => predicate(r));
  if (!found) throw new Error(`no ${type} matches`);
  return found[0];
}

async function synth(stage: string, context: Record<string, unknown>, outdir: string) {
  const started = performance.now();
  const built = await medlakeApp({ context: { stage, ...context }, outdir });
  const assembly = built.app.synth();
  const template = Template.fromStack(built.stack);
  return { ...built, template, assemblyDir: assembly.directory, ms: Math.round(performance.now() - started) };
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'medlake-infra-'));
  const webDist = join(workDir, 'web-dist');
  mkdirSync(join(webDist, 'viewer'), { recursive: true });
  writeFileSync(join(webDist, 'index.html'), '<!doctype html><title>medlake</title>');
  writeFileSync(join(webDist, 'viewer', 'index.html'), '<!doctype html><title>viewer</title>');
  const context = { webDist, mailFrom: 'imaging@hospital.example', alarmEmail: 'oncall@hospital.example' };
  dev = await synth('dev', context, join(workDir, 'dev.out'));
  prod = await synth('prod', { ...context, domainName: 'imaging.hospital.example', certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc' }, join(workDir, 'prod.out'));
  console.log(`synth: dev ${dev.ms} ms, prod ${prod.ms} ms (${presentFunctions().length} functions bundled)`);
}, 300_000);

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('cdk-nag', () => {
  for (const stage of ['dev', 'prod'] as const) {
    it(`${stage}: AwsSolutions and HIPAA Security checks pass (every accepted finding is acknowledged with a reason in infra/src/nag.ts)`, () => {
      const { stack } = stage === 'dev' ? dev : prod;
      for (const pack of [new AwsSolutionsChecks(), new HIPAASecurityChecks()]) {
        const findings = pack.validateScope(stack).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath ?? r.resourceLogicalId}`));
        expect(findings).toEqual([]);
      }
    });
  }
});

describe('encryption everywhere', () => {
  it('keys rotate; the vault has its own key, never destroyed', () => {
    const keys = resources(dev.template, 'AWS::KMS::Key');
    expect(keys.length).toBe(2);
    for (const [, key] of keys) expect(key.Properties.EnableKeyRotation).toBe(true);
    dev.template.hasResource('AWS::KMS::Key', { Properties: { Description: Match_stringLike('PHI vault') }, DeletionPolicy: 'Retain' });
  });

  it('data buckets use SSE-KMS with the data key; the rest SSE-S3; every bucket encrypted', () => {
    const dataKey = logicalId(dev.template, 'AWS::KMS::Key', (r) => String(r.Properties.Description).startsWith('medlake data'));
    const all = resources(dev.template, 'AWS::S3::Bucket');
    expect(all.length).toBe(buckets.length + 2);
    for (const [, bucket] of all) expect(bucket.Properties.BucketEncryption).toBeDefined();
    for (const definition of buckets) {
      const bucket = all.find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('dev', definition.name)));
      expect(bucket, definition.id).toBeDefined();
      const rule = (bucket![1].Properties.BucketEncryption as { ServerSideEncryptionConfiguration: { ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID: unknown } }[] }).ServerSideEncryptionConfiguration[0]!.ServerSideEncryptionByDefault;
      expect(rule.SSEAlgorithm).toBe('aws:kms');
      expect(JSON.stringify(rule.KMSMasterKeyID)).toContain(dataKey);
    }
  });

  it('queues, log groups, secrets, the database and the alarm topic are encrypted with a customer key', () => {
    for (const [, queue] of resources(dev.template, 'AWS::SQS::Queue')) expect(queue.Properties.KmsMasterKeyId).toBeDefined();
    for (const [id, group] of resources(dev.template, 'AWS::Logs::LogGroup')) expect(group.Properties.KmsKeyId, id).toBeDefined();
    for (const [, secret] of resources(dev.template, 'AWS::SecretsManager::Secret')) expect(secret.Properties.KmsKeyId).toBeDefined();
    for (const [, topic] of resources(dev.template, 'AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    dev.template.hasResourceProperties('AWS::RDS::DBCluster', { StorageEncrypted: true, KmsKeyId: Match_anyValue() });
  });
});

describe('buckets', () => {
  it('block all public access and deny requests without TLS', () => {
    const all = resources(dev.template, 'AWS::S3::Bucket');
    for (const [, bucket] of all) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
    const policies = resources(dev.template, 'AWS::S3::BucketPolicy');
    for (const [id] of all) {
      const policy = policies.find(([, p]) => JSON.stringify(p.Properties.Bucket).includes(id));
      expect(policy, `policy of ${id}`).toBeDefined();
      const statements = (policy![1].Properties.PolicyDocument as { Statement: (Statement & { Condition?: Record<string, Record<string, unknown>> })[] }).Statement;
      expect(statements.some((s) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false'), id).toBe(true);
    }
  });

  it('versioning and lifecycle as resources.ts defines them; multipart leftovers are cleaned up', () => {
    for (const definition of buckets) {
      const [, bucket] = resources(dev.template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('dev', definition.name)))!;
      expect(bucket.Properties.VersioningConfiguration === undefined ? false : (bucket.Properties.VersioningConfiguration as { Status: string }).Status === 'Enabled').toBe(definition.versioned);
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: { ExpirationInDays?: number; AbortIncompleteMultipartUpload?: unknown }[] }).Rules;
      expect(rules.find((r) => r.ExpirationInDays)?.ExpirationInDays).toBe(definition.expireAfterDays);
      expect(rules.some((r) => r.AbortIncompleteMultipartUpload)).toBe(true);
    }
  });

  it('incomplete multipart uploads are aborted after the upload resume window (quarantine), after the longest export (exports), after a day (archive)', () => {
    const rulesOf = (id: string) => {
      const [, bucket] = resources(dev.template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('dev', id)))!;
      return (bucket.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    };
    const abortDays = (id: string) => (rulesOf(id).find((r) => r.AbortIncompleteMultipartUpload)!.AbortIncompleteMultipartUpload as { DaysAfterInitiation: number }).DaysAfterInitiation;
    // The window the api function hands out part URLs for, as set in its environment.
    const api = resources(dev.template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === nameFor('dev', 'api'))!;
    const resumeWindowSeconds = Number((api[1].Properties.Environment as { Variables: Record<string, string> }).Variables.UPLOAD_RESUME_WINDOW_SECONDS);
    expect(resumeWindowSeconds).toBe(uploadSettings({}).resumeWindowSeconds);
    expect(abortDays('quarantine') * 86_400).toBeGreaterThanOrEqual(resumeWindowSeconds);
    expect((abortDays('quarantine') - 1) * 86_400).toBeLessThan(resumeWindowSeconds);
    expect(abortDays('exports')).toBe(2);
    expect(abortDays('archive')).toBe(1);
  });

  it('the archive keeps every version: no expiry, no noncurrent-version expiry, no transition', () => {
    for (const { template } of [dev, prod]) {
      const [, archive] = resources(template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes('-archive-'))!;
      expect(archive.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      for (const rule of (archive.Properties.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules) {
        expect(Object.keys(rule).sort()).toEqual(['AbortIncompleteMultipartUpload', 'Id', 'Status']);
      }
    }
  });

  it('the quarantine bucket takes browser PUTs from the site only and exposes ETag for multipart', () => {
    const [, quarantine] = resources(prod.template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('prod', 'quarantine')))!;
    const cors = (quarantine.Properties.CorsConfiguration as { CorsRules: { AllowedMethods: string[]; AllowedOrigins: string[]; ExposedHeaders: string[] }[] }).CorsRules;
    expect(cors).toHaveLength(1);
    expect(cors[0]!.AllowedMethods).toEqual(['PUT']);
    expect(cors[0]!.AllowedOrigins).toEqual(['https://imaging.hospital.example']);
    expect(cors[0]!.ExposedHeaders).toEqual(['ETag']);
    for (const definition of buckets.filter((b) => !b.browserUploads)) {
      const [, other] = resources(prod.template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('prod', definition.name)))!;
      expect(other.Properties.CorsConfiguration).toBeUndefined();
    }
  });

  it('S3 → SQS notifications of resources.ts are on the bucket, and S3 may send to the queue', () => {
    for (const notification of notifications) {
      const [, bucket] = resources(dev.template, 'AWS::S3::Bucket').find(([, r]) => JSON.stringify(r.Properties.BucketName ?? '').includes(nameFor('dev', notification.bucket)))!;
      const queueId = logicalId(dev.template, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === nameFor('dev', notification.queue));
      const configs = (bucket.Properties.NotificationConfiguration as { QueueConfigurations: { Event: string; Queue: unknown; Filter: unknown }[] }).QueueConfigurations;
      expect(configs).toContainEqual({ Event: notification.events[0], Queue: { 'Fn::GetAtt': [queueId, 'Arn'] }, Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: notification.prefix }] } } });
      const queuePolicy = resources(dev.template, 'AWS::SQS::QueuePolicy').find(([, p]) => JSON.stringify(p.Properties.Queues).includes(queueId));
      expect(JSON.stringify(queuePolicy?.[1].Properties.PolicyDocument)).toContain('s3.amazonaws.com');
    }
  });
});

describe('queues', () => {
  it('every queue of resources.ts has its dead-letter queue, receive count and visibility timeout; every DLQ has an alarm', () => {
    const all = resources(dev.template, 'AWS::SQS::Queue');
    expect(all).toHaveLength(queues.length * 2);
    for (const definition of queues) {
      const [, queue] = all.find(([, r]) => r.Properties.QueueName === nameFor('dev', definition.name))!;
      const dlqId = logicalId(dev.template, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === nameFor('dev', definition.deadLetterName));
      expect(queue.Properties.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: definition.maxReceiveCount });
      expect(queue.Properties.VisibilityTimeout).toBe(definition.visibilityTimeoutSeconds);
      dev.template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateNumberOfMessagesVisible', Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }], Threshold: 1 });
    }
  });

  it('consumers read with the batch size of resources.ts, report partial failures, and finish within the visibility timeout', () => {
    const functions = resources(dev.template, 'AWS::Lambda::Function');
    for (const definition of queues) {
      const consumer = functions.find(([, f]) => f.Properties.FunctionName === nameFor('dev', definition.handler.split('/')[0]!));
      if (!consumer) continue;
      const queueId = logicalId(dev.template, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === nameFor('dev', definition.name));
      dev.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: consumer[0] },
        BatchSize: definition.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(consumer[1].Properties.Timeout as number).toBeLessThanOrEqual(definition.visibilityTimeoutSeconds);
    }
  });
});

describe('functions', () => {
  const catalogFunctions = () => resources(dev.template, 'AWS::Lambda::Function').filter(([, f]) => functionCatalog.some((d) => f.Properties.FunctionName === nameFor('dev', d.name)));

  it('every catalog function whose handler exists is deployed: Node 22 on arm64, in the VPC, with Powertools and source maps', () => {
    const deployed = catalogFunctions();
    expect(deployed.map(([, f]) => f.Properties.FunctionName).sort()).toEqual(presentFunctions().map((d) => nameFor('dev', d.name)).sort());
    for (const [, fn] of deployed) {
      expect(fn.Properties.Runtime).toBe('nodejs22.x');
      expect(fn.Properties.Architectures).toEqual(['arm64']);
      // dicomweb-stream: the same bundle as dicomweb, entered through Lambda response streaming.
      expect(fn.Properties.Handler).toBe(fn.Properties.FunctionName === nameFor('dev', 'dicomweb-stream') ? 'index.streamingHandler' : 'index.handler');
      expect(fn.Properties.VpcConfig).toBeDefined();
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.POWERTOOLS_SERVICE_NAME).toBe(`medlake-${String(fn.Properties.FunctionName).replace('medlake-dev-', '')}`);
      expect(env.POWERTOOLS_LOG_LEVEL).toBe('DEBUG');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      expect(env.MEDLAKE_STAGE).toBe('dev');
      for (const b of buckets) expect(JSON.stringify(env[`BUCKET_${b.id.toUpperCase()}`])).toContain(nameFor('dev', b.name));
      for (const q of queues) expect(env[`QUEUE_${q.id.toUpperCase()}_URL`]).toBeDefined();
      expect(JSON.stringify(env.DATABASE_URL)).toContain('sslmode=verify-full');
      expect(JSON.stringify(env.DATABASE_URL)).not.toMatch(/medlake_admin:[^@]/);
      expect(env.DATABASE_SECRET_ARN).toBeDefined();
    }
  });

  it('functions that de-identify get the key secret; the vault key by role; mail only where it is sent', () => {
    for (const [, fn] of catalogFunctions()) {
      const name = String(fn.Properties.FunctionName).replace('medlake-dev-', '');
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      // notify: unsubscribe links are signed with a key derived from it.
      expect(env.DEID_KEY_SECRET_ARN !== undefined, name).toBe(['ingest', 'dicomweb', 'api', 'notify'].includes(name));
      expect(env.PHI_VAULT_KMS_KEY_ID !== undefined, name).toBe(['ingest', 'dicomweb', 'api'].includes(name));
      expect(env.MAIL_FROM !== undefined, name).toBe(name === 'notify');
    }
  });

  it('bundles are built by the local esbuild: ESM with a source map; the migrate bundle carries the SQL migrations, those that render frames the WebAssembly codecs', () => {
    for (const [, fn] of catalogFunctions()) {
      const key = JSON.stringify((fn.Properties.Code as { S3Key: unknown }).S3Key);
      const hash = /([0-9a-f]{64})\.zip/.exec(key)?.[1];
      const dir = join(dev.assemblyDir, `asset.${hash}`);
      expect(existsSync(join(dir, 'index.mjs')), String(fn.Properties.FunctionName)).toBe(true);
      // The codecs' glue finds its .wasm beside itself: node_modules/<package>/ in the asset (codec-bundling.test.ts runs such a bundle).
      const definition = functionCatalog.find((f) => nameFor('dev', f.name) === fn.Properties.FunctionName);
      for (const codec of Object.values(wasmCodecFiles)) {
        for (const file of codec.files) expect(existsSync(join(dir, 'node_modules', codec.packageName, file)), `${String(fn.Properties.FunctionName)} ${file}`).toBe(definition?.rendersFrames === true);
      }
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(/^import\{createRequire as __medlakeCreateRequire\}|^import \{ createRequire as __medlakeCreateRequire \}/);
      if (fn.Properties.FunctionName === nameFor('dev', 'migrate')) {
        const sql = readdirSync(join(repoRoot, 'functions', 'migrations')).filter((n) => n.endsWith('.sql'));
        expect(readdirSync(join(dir, 'migrations')).sort()).toEqual(sql.sort());
        expect((fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables.MIGRATIONS_DIR).toBe('/var/task/migrations');
      }
    }
  });

  it('migrations run as a custom resource before the other functions change', () => {
    if (!dev.stack.processing.functions.migrate) return;
    const [migrationId, migration] = resources(dev.template, 'Custom::DatabaseMigrations')[0]!;
    expect(migration.Properties.migrationsHash).toMatch(/^[0-9a-f]{64}$/);
    for (const [, fn] of catalogFunctions().filter(([, f]) => f.Properties.FunctionName !== nameFor('dev', 'migrate'))) {
      const [, full] = Object.entries(dev.template.toJSON().Resources as Record<string, Resource>).find(([, r]) => r === fn || r.Properties?.FunctionName === fn.Properties.FunctionName)!;
      expect(full.DependsOn ?? [], String(fn.Properties.FunctionName)).toContain(migrationId);
    }
  });
});

describe('least privilege', () => {
  /** Statements of a function's own role policy, with references rendered to the resource they name. */
  function statementsOf(name: string): { actions: string[]; resources: string[] }[] {
    const template = dev.template.toJSON() as { Resources: Record<string, Resource> };
    const fnId = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::Lambda::Function' && r.Properties.FunctionName === nameFor('dev', name))?.[0];
    if (!fnId) return [];
    const roleRef = JSON.stringify((template.Resources[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    const policies = Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles).includes(roleRef));
    const names = (value: unknown): string => {
      const text = JSON.stringify(value);
      const bucket = buckets.find((b) => text.includes(`Storage${b.id[0]!.toUpperCase()}${b.id.slice(1)}Bucket`));
      const queue = queues.find((q) => text.includes(`Processing${q.id[0]!.toUpperCase()}${q.id.slice(1)}Queue`));
      const suffix = /"\/([^"]*)"\]/.exec(text)?.[1];
      if (bucket) return `bucket:${bucket.id}${suffix !== undefined ? `/${suffix}` : ''}`;
      if (queue) return `queue:${queue.id}`;
      if (text.includes('StorageDataKey')) return 'key:data';
      if (text.includes('StorageVaultKey')) return 'key:vault';
      if (text.includes('DataClusterSecret')) return 'secret:database';
      if (text.includes('DataDeidKey')) return 'secret:deid';
      if (text.includes('AuthUsers')) return 'userpool';
      if (text.includes('identity/')) return 'ses-identity';
      return text;
    };
    // Conditions become part of the name: `key:vault{kind=patient|study,purpose=…}`.
    const conditioned = (resource: string, condition: Statement['Condition']): string => {
      const entries = Object.values(condition ?? {}).flatMap((byKey) => Object.entries(byKey)).map(([key, value]) => `${key.split(':').pop()}=${[value].flat().map(String).sort().join('|')}`);
      return entries.length ? `${resource}{${entries.sort().join(',')}}` : resource;
    };
    return policies.flatMap((p) =>
      (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.map((s) => ({
        actions: [s.Action].flat().sort(),
        resources: [s.Resource].flat().map((r) => conditioned(names(r), s.Condition)).sort(),
      })),
    );
  }

  /** action → resources, for one function. */
  function grants(name: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const s of statementsOf(name)) for (const a of s.actions) out[a] = [...new Set([...(out[a] ?? []), ...s.resources])].sort();
    return out;
  }

  it('no function has a wildcard action or a resource outside the stack', () => {
    for (const definition of presentFunctions()) {
      for (const s of statementsOf(definition.name)) {
        for (const a of s.actions) expect(a, definition.name).not.toMatch(/\*/);
        for (const r of s.resources) expect(r, definition.name).not.toBe('"*"');
      }
    }
  });

  // Written out by hand from what each handler calls (its adapters' S3, SQS, KMS, Secrets
  // Manager, SES and Cognito commands), not derived from the catalog.
  const sqsConsumer = (queue: string) => Object.fromEntries(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'].map((a) => [a, [`queue:${queue}`]]));
  const vault = (kinds?: string[]) => `key:vault{${kinds ? `kind=${kinds.sort().join('|')},` : ''}purpose=medlake-phi-vault}`;
  const expected: Record<string, Record<string, string[]>> = {
    api: {
      // Presigned browser uploads into incoming/ (single PUT and multipart), HeadObject/GetObject to check them.
      's3:PutObject': ['bucket:archive/*', 'bucket:quarantine/incoming/*'],
      's3:AbortMultipartUpload': ['bucket:archive/*', 'bucket:quarantine/incoming/*'],
      's3:ListMultipartUploadParts': ['bucket:archive/*', 'bucket:quarantine/incoming/*'],
      // archive: annotation history reads stored SRs and annotation versions are stored through storeInstance; exports: download links.
      's3:GetObject': ['bucket:archive/*', 'bucket:exports/*', 'bucket:quarantine/incoming/*'],
      's3:ListBucket': ['bucket:archive', 'bucket:quarantine'],
      'sqs:SendMessage': ['queue:export', 'queue:notify'],
      'sqs:GetQueueAttributes': ['queue:ingest'],
      'secretsmanager:GetSecretValue': ['secret:database', 'secret:deid'],
      // Re-identification (patient, study, series) and report scrubbing (patient, study, report).
      'kms:Decrypt': ['key:data', vault(['patient', 'report', 'series', 'study'])],
      'kms:GenerateDataKey': ['key:data', vault()],
      ...Object.fromEntries(userPoolAdminActions.map((a) => [a, ['userpool']])),
    },
    dicomweb: {
      's3:GetObject': ['bucket:archive/*'],
      's3:PutObject': ['bucket:archive/*'],
      's3:AbortMultipartUpload': ['bucket:archive/*'],
      's3:ListMultipartUploadParts': ['bucket:archive/*'],
      's3:ListBucket': ['bucket:archive'],
      'sqs:SendMessage': ['queue:notify'],
      'secretsmanager:GetSecretValue': ['secret:database', 'secret:deid'],
      // STOW-RS through the index writer, which links waiting reports.
      'kms:Decrypt': ['key:data', vault(['patient', 'report', 'study'])],
      'kms:GenerateDataKey': ['key:data', vault()],
    },
    'dicomweb-stream': {
      // Reads anywhere in the archive; writes only the rendered images it keeps under derived/.
      's3:GetObject': ['bucket:archive/*'],
      's3:ListBucket': ['bucket:archive'],
      's3:PutObject': ['bucket:archive/derived/*'],
      'secretsmanager:GetSecretValue': ['secret:database'],
      'kms:Decrypt': ['key:data'],
      'kms:GenerateDataKey': ['key:data'],
    },
    ingest: {
      's3:GetObject': ['bucket:archive/*', 'bucket:quarantine/incoming/*'],
      's3:PutObject': ['bucket:archive/*'],
      's3:AbortMultipartUpload': ['bucket:archive/*'],
      's3:ListMultipartUploadParts': ['bucket:archive/*'],
      's3:ListBucket': ['bucket:archive', 'bucket:quarantine'],
      'sqs:SendMessage': ['queue:notify'],
      'secretsmanager:GetSecretValue': ['secret:database', 'secret:deid'],
      // Report uploads and reports waiting for a study are linked and scrubbed here.
      'kms:Decrypt': ['key:data', vault(['patient', 'report', 'study'])],
      'kms:GenerateDataKey': ['key:data', vault()],
      // The SQS event source's own grant.
      ...sqsConsumer('ingest'),
    },
    export: {
      's3:GetObject': ['bucket:archive/*', 'bucket:exports/*'],
      's3:PutObject': ['bucket:exports/*'],
      's3:AbortMultipartUpload': ['bucket:exports/*'],
      's3:ListMultipartUploadParts': ['bucket:exports/*'],
      's3:ListBucket': ['bucket:archive'],
      'sqs:SendMessage': ['queue:export', 'queue:notify'],
      'secretsmanager:GetSecretValue': ['secret:database'],
      'kms:Decrypt': ['key:data'],
      'kms:GenerateDataKey': ['key:data'],
      ...sqsConsumer('export'),
    },
    notify: {
      // SES v2 SendEmail with simple content, from the stage's sender only.
      'ses:SendEmail': ['ses-identity{FromAddress=imaging@hospital.example}'],
      'sqs:SendMessage': ['queue:notify'],
      'secretsmanager:GetSecretValue': ['secret:database', 'secret:deid'],
      'kms:Decrypt': ['key:data'],
      'kms:GenerateDataKey': ['key:data'],
      ...sqsConsumer('notify'),
    },
    migrate: {
      'secretsmanager:GetSecretValue': ['secret:database'],
      'kms:Decrypt': ['key:data'],
    },
  };

  for (const definition of functionCatalog) {
    it(`${definition.name} may touch exactly its own buckets, prefixes, queues, keys and secrets`, () => {
      if (!presentFunctions().some((d) => d.name === definition.name)) return;
      expect(grants(definition.name)).toEqual(expected[definition.name]);
    });
  }

  it('the vault conditions name the encryption context the PHI vault really seals and opens with', async () => {
    const contexts: Record<string, string>[] = [];
    const vault = new PhiVault({
      generate: (context) => { contexts.push(context); return Promise.resolve({ plaintext: Buffer.alloc(32, 7), wrapped: Buffer.from('wrapped'), keyId: 'key' }); },
      unwrap: (_wrapped, _keyId, context) => { contexts.push(context); return Promise.resolve(Buffer.alloc(32, 7)); },
    });
    expect(await vault.open(await vault.seal('series', 'pseudonym-1', { SeriesInstanceUID: '1.2.3' }))).toEqual({ SeriesInstanceUID: '1.2.3' });
    expect(contexts).toEqual([{ purpose: vaultPurpose, kind: 'series', pseudonym: 'pseudonym-1' }, { purpose: vaultPurpose, kind: 'series', pseudonym: 'pseudonym-1' }]);
  });

  it('the Cognito admin actions of the api function are exactly the admin commands user-pool.ts sends', () => {
    const source = readFileSync(join(repoRoot, 'functions', 'src', 'auth', 'user-pool.ts'), 'utf8');
    const sent = [...new Set([...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!))];
    const needingIam = sent.filter((c) => /^(Admin|List|Describe)/.test(c)).map((c) => `cognito-idp:${c}`).sort();
    expect([...userPoolAdminActions].sort()).toEqual(needingIam);
  });
});

describe('HTTP API', () => {
  it('the authorizer guards every route except the public endpoints of the access matrix', async () => {
    const registry = await httpRoutes();
    const publicKeys = new Set(
      registry.filter((r) => isPublic(r.action) && r.path.startsWith('/api/')).flatMap((r) => (r.method === 'GET' ? [`GET ${r.path}`, `HEAD ${r.path}`] : [`${r.method} ${r.path}`])),
    );
    expect(publicKeys.size).toBeGreaterThan(5);
    const routes = resources(dev.template, 'AWS::ApiGatewayV2::Route');
    const byKey = new Map(routes.map(([, r]) => [String(r.Properties.RouteKey), r]));
    for (const key of publicKeys) expect(byKey.get(key)?.Properties.AuthorizationType, key).toBe('NONE');
    for (const [key, route] of byKey) {
      if (publicKeys.has(key)) continue;
      expect(route.Properties.AuthorizationType, key).toBe('JWT');
      expect(route.Properties.AuthorizerId, key).toBeDefined();
    }
    expect(byKey.get('ANY /api/{proxy+}')?.Properties.AuthorizationType).toBe('JWT');
    if (dev.stack.processing.functions.dicomweb) expect(byKey.get('ANY /dicomweb/{proxy+}')?.Properties.AuthorizationType).toBe('JWT');
    // Nothing public beyond what the matrix says.
    expect(routes.filter(([, r]) => r.Properties.AuthorizationType === 'NONE').length).toBe(publicKeys.size);
  });

  it('the JWT authorizer trusts the pool and both app clients', () => {
    const [, authorizer] = resources(dev.template, 'AWS::ApiGatewayV2::Authorizer')[0]!;
    expect(authorizer.Properties.AuthorizerType).toBe('JWT');
    expect(authorizer.Properties.IdentitySource).toEqual(['$request.header.Authorization']);
    const config = authorizer.Properties.JwtConfiguration as { Audience: unknown[]; Issuer: unknown };
    expect(config.Audience).toHaveLength(2);
    expect(JSON.stringify(config.Issuer)).toContain('cognito-idp');
  });

  it('route derivation: public routes go to their function, unknown prefixes are skipped', () => {
    const derived = apiRoutes(
      [
        { method: 'GET', path: '/api/health', action: 'health:read' },
        { method: 'GET', path: '/api/me', action: 'me:read' },
        { method: 'GET', path: '/dicomweb/studies', action: 'studies:read' },
        { method: 'POST', path: '/other/thing', action: 'health:read' },
      ],
      ['api', 'dicomweb'],
    );
    expect(derived).toEqual([
      { routeKey: 'ANY /api/{proxy+}', function: 'api', authorized: true },
      { routeKey: 'ANY /dicomweb/{proxy+}', function: 'dicomweb', authorized: true },
      { routeKey: 'GET /api/health', function: 'api', authorized: false },
      { routeKey: 'HEAD /api/health', function: 'api', authorized: false },
    ]);
  });

  it('access logs go to an encrypted log group', () => {
    const [, stage] = resources(dev.template, 'AWS::ApiGatewayV2::Stage')[0]!;
    expect((stage.Properties.AccessLogSettings as { DestinationArn: unknown }).DestinationArn).toBeDefined();
  });
});

describe('CloudFront', () => {
  function distribution(template: Template) {
    return resources(template, 'AWS::CloudFront::Distribution')[0]![1].Properties.DistributionConfig as {
      DefaultCacheBehavior: Record<string, unknown>;
      CacheBehaviors: Record<string, unknown>[];
      Origins: { Id: string; DomainName: unknown; S3OriginConfig?: unknown; OriginAccessControlId?: unknown; CustomOriginConfig?: { OriginProtocolPolicy: string } }[];
      Aliases?: string[];
    };
  }

  function behavior(template: Template, pattern: string) {
    const config = distribution(template);
    const found = config.CacheBehaviors.find((b) => b.PathPattern === pattern);
    if (!found) throw new Error(`no behaviour for ${pattern}`);
    return { behavior: found, origin: config.Origins.find((o) => o.Id === found.TargetOriginId)! };
  }

  function expectUncachedPassThrough(b: Record<string, unknown>, pattern: string) {
    expect(b.AllowedMethods, pattern).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    expect(b.CachePolicyId).toBe(managed.cachingDisabled);
    expect(b.OriginRequestPolicyId).toBe(managed.allViewerExceptHostHeader);
    expect(b.ViewerProtocolPolicy).toBe('https-only');
  }

  it('routes /api/* to the HTTP API uncached, all methods, all viewer headers, cookies and query strings, with the session-cookie function', () => {
    const apiId = logicalId(dev.template, 'AWS::ApiGatewayV2::Api', () => true);
    const { behavior: api, origin } = behavior(dev.template, '/api/*');
    expectUncachedPassThrough(api, '/api/*');
    expect(JSON.stringify(origin.DomainName)).toContain(apiId);
    expect(origin.Id).toBe(apiOriginId);
    expect(origin.CustomOriginConfig?.OriginProtocolPolicy).toBe('https-only');
    const [fnId] = (api.FunctionAssociations as { EventType: string; FunctionARN: { 'Fn::GetAtt': string[] } }[]).map((a) => { expect(a.EventType).toBe('viewer-request'); return a.FunctionARN['Fn::GetAtt'][0]; });
    expect((dev.template.toJSON().Resources[fnId!] as Resource).Properties.FunctionCode).toBe(sessionBearerSource);
  });

  it('routes /dicomweb/* to the streaming Function URL of dicomweb-stream, signed by Origin Access Control, and STOW-RS to the HTTP API', () => {
    for (const built of [dev, prod]) {
      const { template } = built;
      const { behavior: dicomweb, origin } = behavior(template, '/dicomweb/*');
      expectUncachedPassThrough(dicomweb, '/dicomweb/*');
      // The origin is the Function URL's host name.
      const urlId = logicalId(template, 'AWS::Lambda::Url', () => true);
      expect(origin.DomainName).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [urlId, 'FunctionUrl'] }] }] });
      expect(origin.CustomOriginConfig?.OriginProtocolPolicy).toBe('https-only');
      const oacId = (origin.OriginAccessControlId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      expect((template.toJSON().Resources[oacId] as Resource).Properties.OriginAccessControlConfig).toMatchObject({ OriginAccessControlOriginType: 'lambda', SigningBehavior: 'always', SigningProtocol: 'sigv4' });
      // Its viewer-request function is the DICOMweb routing source, pointing at the HTTP API origin of this distribution.
      const association = (dicomweb.FunctionAssociations as { EventType: string; FunctionARN: { 'Fn::GetAtt': string[] } }[])[0]!;
      expect(association.EventType).toBe('viewer-request');
      const routing = template.toJSON().Resources[association.FunctionARN['Fn::GetAtt'][0]!] as Resource;
      expect(routing.Properties.FunctionCode).toBe(dicomwebRoutingSource(apiOriginId));
      expect((routing.Properties.FunctionConfig as { Runtime: string }).Runtime).toBe('cloudfront-js-2.0');
      expect(distribution(template).Origins.map((o) => o.Id)).toContain(apiOriginId);
    }
  });

  it('the Function URL streams, requires SigV4, and only this distribution may invoke it', () => {
    const streamId = logicalId(dev.template, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === nameFor('dev', 'dicomweb-stream'));
    const distributionId = logicalId(dev.template, 'AWS::CloudFront::Distribution', () => true);
    const urls = resources(dev.template, 'AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(urls[0]![1].Properties).toMatchObject({ AuthType: 'AWS_IAM', InvokeMode: 'RESPONSE_STREAM', TargetFunctionArn: { 'Fn::GetAtt': [streamId, 'Arn'] } });
    expect(urls[0]![1].Properties.Cors).toBeUndefined();
    const urlId = urls[0]![0];
    const ofStream = (p: Resource) => [streamId, urlId].some((id) => JSON.stringify(p.Properties.FunctionName).includes(`"${id}"`));
    const permissions = resources(dev.template, 'AWS::Lambda::Permission').filter(([, p]) => ofStream(p));
    expect(permissions.map(([, p]) => p.Properties.Action).sort()).toEqual(['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
    for (const [, permission] of permissions) {
      expect(permission.Properties.Principal).toBe('cloudfront.amazonaws.com');
      expect(JSON.stringify(permission.Properties.SourceArn)).toMatch(new RegExp(`:distribution/",\\{"Ref":"${distributionId}"\\}`));
    }
    expect(permissions.find(([, p]) => p.Properties.Action === 'lambda:InvokeFunction')![1].Properties.InvokedViaFunctionUrl).toBe(true);
  });

  it('the HTTP API keeps /dicomweb/{proxy+} on the buffered dicomweb function (STOW-RS from CloudFront, and machine clients calling it directly)', () => {
    const bufferedId = logicalId(dev.template, 'AWS::Lambda::Function', (r) => r.Properties.FunctionName === nameFor('dev', 'dicomweb'));
    const [, route] = resources(dev.template, 'AWS::ApiGatewayV2::Route').find(([, r]) => r.Properties.RouteKey === 'ANY /dicomweb/{proxy+}')!;
    const integration = resources(dev.template, 'AWS::ApiGatewayV2::Integration').find(([id]) => JSON.stringify(route.Properties.Target).includes(id))?.[1];
    expect(integration).toBeDefined();
    expect(JSON.stringify(integration!.Properties.IntegrationUri)).toContain(bufferedId);
  });

  it('serves the site from a private bucket through Origin Access Control, with SPA routing and security headers', () => {
    const config = distribution(dev.template);
    const origin = config.Origins.find((o) => o.Id === config.DefaultCacheBehavior.TargetOriginId)!;
    expect(origin.OriginAccessControlId).toBeDefined();
    expect((config.DefaultCacheBehavior.FunctionAssociations as { EventType: string }[])[0]?.EventType).toBe('viewer-request');
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toBeDefined();
    const [, policy] = resources(dev.template, 'AWS::CloudFront::ResponseHeadersPolicy')[0]!;
    const headers = (policy.Properties.ResponseHeadersPolicyConfig as { SecurityHeadersConfig: Record<string, { Override: boolean }> }).SecurityHeadersConfig;
    for (const header of ['StrictTransportSecurity', 'ContentTypeOptions', 'FrameOptions', 'ContentSecurityPolicy', 'ReferrerPolicy']) expect(headers[header]?.Override, header).toBe(true);
    dev.template.resourceCountIs('Custom::CDKBucketDeployment', 1);
  });

  it('prod: the custom domain with its certificate is the public base URL', () => {
    expect(distribution(prod.template).Aliases).toEqual(['imaging.hospital.example']);
    const api = resources(prod.template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === nameFor('prod', 'api'))!;
    expect((api[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables.PUBLIC_BASE_URL).toBe('https://imaging.hospital.example');
  });
});

describe('identity', () => {
  it('self sign-up with email verification, the groups of resources.ts, and two clients without secrets', () => {
    dev.template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: false },
      AutoVerifiedAttributes: ['email'],
      Policies: { PasswordPolicy: { MinimumLength: 12, RequireLowercase: true, RequireUppercase: true, RequireNumbers: true, RequireSymbols: true } },
    });
    expect(resources(dev.template, 'AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties.GroupName).sort()).toEqual([...roles].sort());
    const clients = resources(dev.template, 'AWS::Cognito::UserPoolClient');
    expect(clients.map(([, c]) => c.Properties.ClientName).sort()).toEqual(['gateway', 'web']);
    for (const [, client] of clients) {
      expect(client.Properties.GenerateSecret).toBe(false);
      expect(client.Properties.ExplicitAuthFlows).toEqual(['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']);
      expect(client.Properties.EnableTokenRevocation).toBe(true);
    }
  });
});

describe('settings the handlers read', () => {
  const deployed = () =>
    presentFunctions().map((definition) => {
      const [id, fn] = resources(dev.template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === nameFor('dev', definition.name))!;
      const key = JSON.stringify((fn.Properties.Code as { S3Key: unknown }).S3Key);
      const bundle = readFileSync(join(dev.assemblyDir, `asset.${/([0-9a-f]{64})\.zip/.exec(key)![1]}`, 'index.mjs'), 'utf8');
      return { definition, id, env: (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables, bundle };
    });
  const mentions = (bundle: string, name: string) => new RegExp(`\\b${name}\\b`).test(bundle);

  it('every function gets exactly the setting groups its bundle reads (or the catalog says why not), each variable with its value', () => {
    for (const { definition, env, bundle } of deployed()) {
      const read = (Object.keys(settingGroupVariables) as SettingGroup[]).filter((group) => settingGroupVariables[group].some((name) => mentions(bundle, name)));
      const declared = [...(definition.settings ?? []), ...Object.keys(definition.unusedSettings ?? {})].sort();
      expect(declared, definition.name).toEqual(read.sort());
      const expected = settingsEnvironment(definition.settings ?? [], definition.memoryMb);
      for (const group of definition.settings ?? []) for (const name of settingGroupVariables[group]) expect(env[name], `${definition.name} ${name}`).toBe(expected[name]);
      for (const group of Object.keys(definition.unusedSettings ?? {}) as SettingGroup[]) {
        expect(definition.settings ?? [], definition.name).not.toContain(group);
        for (const name of settingGroupVariables[group]) expect(env[name], `${definition.name} ${name}`).toBeUndefined();
      }
      for (const name of Object.keys(settingsLeftUnset)) expect(env[name], `${definition.name} ${name}`).toBeUndefined();
    }
  });

  it('the handlers\' own parsers accept every value; the AWS values: 64 MiB export parts, a quarter of memory for frames, a third at most for ingest objects', () => {
    for (const { definition, env } of deployed()) {
      const literal = Object.fromEntries(Object.entries(env).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
      expect(() => uploadSettings(literal), definition.name).not.toThrow();
      expect(() => ingestSettings(literal), definition.name).not.toThrow();
      expect(() => exportSettings(literal), definition.name).not.toThrow();
      expect(() => digestSettings(literal), definition.name).not.toThrow();
      if (definition.settings?.includes('exports')) expect(exportSettings(literal).partSizeBytes).toBe(64 * 1024 * 1024);
      if (definition.settings?.includes('frame-cache')) expect(frameCacheBudgetBytes(literal)).toBe(Math.floor(definition.memoryMb / 4) * 1024 * 1024);
      if (definition.settings?.includes('ingest')) expect(ingestSettings(literal).memoryBudgetBytes).toBeLessThanOrEqual((definition.memoryMb / 3) * 1024 * 1024);
    }
    const ingest = deployed().find((d) => d.definition.name === 'ingest')!;
    expect(ingestSettings(ingest.env as Record<string, string>).memoryBudgetBytes).toBe(1024 * 1024 * 1024);
  });

  it('what a handler cannot run without is set: PUBLIC_BASE_URL where links are built, MAIL_FROM for notify', () => {
    const publicBaseUrl = dev.stack.resolve(dev.stack.web.publicBaseUrl) as unknown;
    for (const { definition, env } of deployed()) {
      expect(env.PUBLIC_BASE_URL, definition.name).toEqual(definition.linksToSite ? publicBaseUrl : undefined);
    }
    expect(deployed().filter((d) => d.definition.linksToSite).map((d) => d.definition.name).sort()).toEqual(['api', 'dicomweb', 'export', 'ingest', 'notify']);
    expect(deployed().find((d) => d.definition.name === 'notify')!.env.MAIL_FROM).toBe('imaging@hospital.example');
  });

  it('each function\'s environment fits Lambda\'s 4 KB (a reference counted at 100 characters, a region at 14)', () => {
    const pseudo: Record<string, string> = { 'AWS::Region': 'ap-southeast-2', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::Partition': 'aws-us-gov' };
    const render = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const v = value as { 'Fn::Join'?: [string, unknown[]]; Ref?: string };
      if (v['Fn::Join']) return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
      if (v.Ref && pseudo[v.Ref]) return pseudo[v.Ref]!;
      // ARNs, queue URLs, host names, ids: none of medlake's is longer.
      return 'x'.repeat(100);
    };
    for (const { definition, env } of deployed()) {
      const bytes = Object.entries(env).reduce((sum, [name, value]) => sum + name.length + render(value).length, 0);
      expect(bytes, definition.name).toBeLessThan(4096);
    }
  });

  it('README.md\'s configuration table lists every variable the stack sets, and those it leaves unset on purpose', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const table = readme.split('\n').filter((line) => line.startsWith('| `'));
    const documented = new Set(table.flatMap((line) => [...(line.split('|')[1] ?? '').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)));
    // Lambda runtime plumbing, not medlake settings.
    const runtime = new Set(['NODE_OPTIONS', 'NODE_EXTRA_CA_CERTS', 'POWERTOOLS_SERVICE_NAME']);
    const set = new Set(deployed().flatMap(({ env }) => Object.keys(env)).filter((name) => !runtime.has(name)));
    const missing = [...set, ...Object.keys(settingsLeftUnset)].filter((name) => !documented.has(name));
    expect(missing.sort()).toEqual([]);
  });
});

describe('subscription digest schedule', () => {
  it('prod: every 15 minutes EventBridge puts the digest request the notify handler understands on the notify queue', () => {
    const rules = resources(prod.template, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [ruleId, rule] = rules[0]!;
    expect(rule.Properties).toMatchObject({ Name: nameFor('prod', 'subscription-digests'), ScheduleExpression: 'rate(15 minutes)', State: 'ENABLED' });
    const notifyQueue = logicalId(prod.template, 'AWS::SQS::Queue', (r) => r.Properties.QueueName === nameFor('prod', 'notify'));
    const [target] = rule.Properties.Targets as { Arn: unknown; Input: string }[];
    expect(target!.Arn).toEqual({ 'Fn::GetAtt': [notifyQueue, 'Arn'] });
    expect(parseNotifyMessage(target!.Input)).toEqual({ kind: 'subscription-digest' });
    // Only this rule may send (the queue policy names it), and EventBridge may use the queue's key.
    const policy = resources(prod.template, 'AWS::SQS::QueuePolicy').find(([, p]) => JSON.stringify(p.Properties.Queues).includes(notifyQueue))![1];
    const statement = (policy.Properties.PolicyDocument as { Statement: (Statement & { Principal: unknown })[] }).Statement.find((st) => st.Sid === 'DigestSchedule')!;
    expect(statement.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(statement.Action).toBe('sqs:SendMessage');
    expect(JSON.stringify(statement.Condition?.ArnEquals?.['aws:SourceArn'])).toContain(`:rule/${nameFor('prod', 'subscription-digests')}`);
    expect(JSON.stringify(resources(prod.template, 'AWS::KMS::Key').map(([, k]) => k.Properties.KeyPolicy))).toContain('events.amazonaws.com');
    // Failed deliveries page someone.
    prod.template.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/Events', MetricName: 'FailedInvocations', Dimensions: [{ Name: 'RuleName', Value: { Ref: ruleId } }] });
  });

  it('dev: none, so that a paused Aurora stays paused', () => {
    dev.template.resourceCountIs('AWS::Events::Rule', 0);
  });
});

describe('database and stages', () => {
  it('Aurora PostgreSQL 17 Serverless v2, IAM auth on, TLS forced, logs exported', () => {
    dev.template.hasResourceProperties('AWS::RDS::DBCluster', { Engine: 'aurora-postgresql', EngineVersion: Match_stringLike('17.'), EnableIAMDatabaseAuthentication: true, EnableCloudwatchLogsExports: ['postgresql'] });
    dev.template.hasResourceProperties('AWS::RDS::DBClusterParameterGroup', { Parameters: { 'rds.force_ssl': '1' } });
  });

  it('dev pauses when idle and is disposable; prod is protected, multi-AZ and behind RDS Proxy', () => {
    dev.template.hasResourceProperties('AWS::RDS::DBCluster', { ServerlessV2ScalingConfiguration: { MinCapacity: 0, MaxCapacity: 4, SecondsUntilAutoPause: 3600 }, DeletionProtection: false });
    dev.template.resourceCountIs('AWS::RDS::DBProxy', 0);
    dev.template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Delete' });
    prod.template.hasResourceProperties('AWS::RDS::DBCluster', { ServerlessV2ScalingConfiguration: { MinCapacity: 0.5, MaxCapacity: 16 }, DeletionProtection: true, BackupRetentionPeriod: 35 });
    prod.template.hasResource('AWS::RDS::DBCluster', { DeletionPolicy: 'Snapshot' });
    prod.template.resourceCountIs('AWS::RDS::DBInstance', 2);
    prod.template.hasResourceProperties('AWS::RDS::DBProxy', { RequireTLS: true });
    const api = resources(prod.template, 'AWS::Lambda::Function').find(([, f]) => f.Properties.FunctionName === nameFor('prod', 'api'))!;
    expect(JSON.stringify((api[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables.DATABASE_URL)).toContain('DataClusterProxy');
    // Every data bucket of prod (quarantine, archive, exports and the rest named after the stage) outlives the stack.
    const named = resources(prod.template, 'AWS::S3::Bucket').filter(([, b]) => JSON.stringify(b.Properties.BucketName ?? '').includes('medlake-prod'));
    expect(named.length).toBeGreaterThanOrEqual(3);
    for (const [id, bucket] of named) expect((bucket as Resource & { DeletionPolicy?: string }).DeletionPolicy, id).toBe('Retain');
    expect(resources(prod.template, 'AWS::EC2::VPCEndpoint').length).toBe(4);
  });
});

// Small local matchers, so each assertion reads as the property it checks.
import { Match } from 'aws-cdk-lib/assertions';
function Match_stringLike(text: string) {
  return Match.stringLikeRegexp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
}
function Match_anyValue() {
  return Match.anyValue();
}
