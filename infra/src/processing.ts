/**
 * Queues and functions. The SQS queues (and their dead-letter queues) and the
 * S3 → SQS notifications come from shared/src/resources.ts; the functions from
 * the catalog in ./functions.ts, each bundled by esbuild on this machine
 * (no Docker), Node 22 on arm64, in the VPC, with IAM statements derived from
 * what the catalog says it may touch, and nothing else, the settings its
 * handler reads (./settings.ts), the WebAssembly codecs beside the bundle of
 * those that render frames, and, for streaming, a Function URL. Also the
 * scheduled subscription digest request on the notify queue.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Aws, Duration, Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { ICommandHooks } from 'aws-cdk-lib/aws-lambda-nodejs';
import { NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BucketId, QueueId } from '@medlake/shared/resources';
import { bucketDefinition, buckets as bucketDefinitions, envNames, nameFor, notifications, queues as queueDefinitions } from '@medlake/shared/resources';
import type { NotifyMessage } from '@medlake/functions/notify/messages';
import type { WasmCodecName } from '@medlake/functions/dicomweb/wasm-codecs';
import { wasmCodecDirectory, wasmCodecFiles } from '@medlake/functions/dicomweb/wasm-codecs';
import type { StageConfig } from './config';
import { logRetention, removalPolicy } from './config';
import type { FunctionDefinition, FunctionName } from './functions';
import { bucketGrants, functionCatalog, functionDefinition, functionOfHandler, userPoolAdminActions } from './functions';
import { settingsEnvironment } from './settings';
import { bucketPhysicalName, pascal } from './storage';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** functions/src/<entry>/handler.ts of a catalog entry (or of the entry of that name). */
export function handlerEntry(definition: FunctionName | Pick<FunctionDefinition, 'name' | 'entry'>): string {
  const { name, entry } = typeof definition === 'string' ? functionDefinition(definition) : definition;
  return join(repoRoot, 'functions', 'src', entry ?? name, 'handler.ts');
}

/** The catalog entries whose handler file exists. */
export function presentFunctions(catalog: readonly FunctionDefinition[] = functionCatalog): FunctionDefinition[] {
  return catalog.filter((definition) => existsSync(handlerEntry(definition)));
}

export interface QueuePair {
  queue: sqs.Queue;
  deadLetterQueue: sqs.Queue;
}

export interface ProcessingProps {
  config: StageConfig;
  dataKey: kms.IKey;
  vaultKey: kms.IKey;
  buckets: Record<BucketId, s3.IBucket>;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  databaseSecret: secretsmanager.ISecret;
  databaseUrl: string;
  directDatabaseUrl: string;
  deidKeySecret: secretsmanager.ISecret;
  userPoolArn: string;
  /** Environment of the identity settings (pool and client ids, issuer, JWKS). */
  authEnvironment: Record<string, string>;
  mailIdentityArn: string;
  publicBaseUrl: string;
  /** Defaults to the catalog entries whose handler exists. */
  functions?: readonly FunctionDefinition[];
}

export class Processing extends Construct {
  readonly queues: Record<QueueId, QueuePair>;
  readonly functions: Partial<Record<FunctionName, NodejsFunction>> = {};
  /** Function URLs of the catalog's `streamingUrl` functions (CloudFront's origins). */
  readonly functionUrls: Partial<Record<FunctionName, lambda.FunctionUrl>> = {};
  /** Catalog entries skipped because their handler file does not exist yet. */
  readonly missing: FunctionName[];
  /** Catalog entries deployed. */
  readonly definitions: FunctionDefinition[];
  /** The periodic subscription digest request (stage setting digestScheduleMinutes; none when 0). */
  readonly digestSchedule?: events.Rule;

  constructor(scope: Construct, id: string, private readonly props: ProcessingProps) {
    super(scope, id);
    const { config } = props;

    this.queues = Object.fromEntries(
      queueDefinitions.map((definition) => {
        const deadLetterQueue = new sqs.Queue(this, `${pascal(definition.id)}DeadLetterQueue`, {
          queueName: nameFor(config.stage, definition.deadLetterName),
          encryption: sqs.QueueEncryption.KMS,
          encryptionMasterKey: props.dataKey,
          dataKeyReuse: Duration.minutes(15),
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        });
        const queue = new sqs.Queue(this, `${pascal(definition.id)}Queue`, {
          queueName: nameFor(config.stage, definition.name),
          visibilityTimeout: Duration.seconds(definition.visibilityTimeoutSeconds),
          encryption: sqs.QueueEncryption.KMS,
          encryptionMasterKey: props.dataKey,
          dataKeyReuse: Duration.minutes(15),
          enforceSSL: true,
          retentionPeriod: Duration.days(4),
          deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: definition.maxReceiveCount },
        });
        return [definition.id, { queue, deadLetterQueue }];
      }),
    ) as Record<QueueId, QueuePair>;

    this.wireNotifications();

    const wanted = props.functions ?? functionCatalog;
    const present = presentFunctions(wanted);
    this.definitions = present;
    this.missing = wanted.filter((d) => !present.includes(d)).map((d) => d.name);
    for (const definition of present) this.functions[definition.name] = this.createFunction(definition);

    for (const definition of queueDefinitions) {
      const consumer = this.functions[functionOfHandler(definition.handler)];
      if (!consumer) continue;
      if (consumer.timeout && consumer.timeout.toSeconds() > definition.visibilityTimeoutSeconds) {
        throw new Error(`${definition.handler} may run longer than the ${definition.id} queue's visibility timeout: messages would be delivered twice.`);
      }
      consumer.addEventSource(new SqsEventSource(this.queues[definition.id].queue, { batchSize: definition.batchSize, reportBatchItemFailures: true }));
    }

    if (config.digestScheduleMinutes > 0 && this.functions.notify) this.digestSchedule = this.scheduleDigests(config.digestScheduleMinutes);
  }

  /**
   * The safety net of subscription digests (docs/identity.md): ingest asks
   * for a digest run per burst with one delayed message, and a waiting run
   * asks for the next; if such a message ends in the dead-letter queue,
   * nothing would ask again until the next upload. This rule puts a digest
   * request on the notify queue every few minutes; a run with nothing due
   * sends nothing.
   */
  private scheduleDigests(minutes: number): events.Rule {
    const { config, dataKey } = this.props;
    const { queue } = this.queues.notify;
    const ruleName = nameFor(config.stage, 'subscription-digests');
    const rule = new events.Rule(this, 'DigestSchedule', {
      ruleName,
      description: 'medlake: a subscription digest run on the notify queue, in case a requested run was lost',
      schedule: events.Schedule.rate(Duration.minutes(minutes)),
    });
    const message: NotifyMessage = { kind: 'subscription-digest' };
    rule.addTarget({ bind: () => ({ arn: queue.queueArn, input: events.RuleTargetInput.fromObject(message) }) });
    // Written here rather than by the SqsQueue target, whose grant on a
    // KMS-encrypted queue lets any rule of the account send to it. The rule's
    // ARN is spelled out (not a reference), so the rule can wait for the policy.
    const ruleArn = `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:rule/${ruleName}`;
    const eventBridge = new iam.ServicePrincipal('events.amazonaws.com');
    const granted = queue.addToResourcePolicy(
      new iam.PolicyStatement({ sid: 'DigestSchedule', principals: [eventBridge], actions: ['sqs:SendMessage'], resources: [queue.queueArn], conditions: { ArnEquals: { 'aws:SourceArn': ruleArn } } }),
    );
    if (granted.policyDependable) rule.node.addDependency(granted.policyDependable);
    dataKey.addToResourcePolicy(
      new iam.PolicyStatement({ principals: [eventBridge], actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: ['*'], conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID }, ArnEquals: { 'aws:SourceArn': ruleArn } } }),
    );
    return rule;
  }

  /**
   * S3 → SQS notifications of resources.ts, written on the bucket itself.
   * Not through addEventNotification: its grant puts the bucket's ARN into the
   * data key's policy while the bucket is encrypted with that key, a cycle.
   * Here every policy names the bucket by its physical name (a plain string),
   * so nothing refers back to the bucket, and no custom resource is needed.
   */
  private wireNotifications(): void {
    const { props } = this;
    const { config } = props;
    for (const bucketId of new Set(notifications.map((n) => n.bucket))) {
      const bucketArn = `arn:${Aws.PARTITION}:s3:::${bucketPhysicalName(config.stage, bucketDefinition(bucketId))}`;
      const fromThisBucket = { ArnLike: { 'aws:SourceArn': bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
      const ofBucket = notifications.filter((n) => n.bucket === bucketId);
      const cfnBucket = props.buckets[bucketId].node.defaultChild as s3.CfnBucket;
      const queueConfigurations: s3.CfnBucket.QueueConfigurationProperty[] = [];
      for (const notification of ofBucket) {
        const { queue } = this.queues[notification.queue];
        const granted = queue.addToResourcePolicy(
          new iam.PolicyStatement({ sid: `S3Notifications${pascal(bucketId)}`, principals: [new iam.ServicePrincipal('s3.amazonaws.com')], actions: ['sqs:SendMessage'], resources: [queue.queueArn], conditions: fromThisBucket }),
        );
        props.dataKey.addToResourcePolicy(
          new iam.PolicyStatement({ principals: [new iam.ServicePrincipal('s3.amazonaws.com')], actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: ['*'], conditions: fromThisBucket }),
        );
        // S3 checks that it may send before it accepts the configuration.
        if (granted.policyDependable) cfnBucket.node.addDependency(granted.policyDependable);
        const rules = [{ name: 'prefix', value: notification.prefix }, ...(notification.suffix ? [{ name: 'suffix', value: notification.suffix }] : [])];
        for (const event of notification.events) queueConfigurations.push({ event, queue: queue.queueArn, filter: { s3Key: { rules } } });
      }
      cfnBucket.notificationConfiguration = { queueConfigurations };
    }
  }

  private createFunction(definition: FunctionDefinition): NodejsFunction {
    const { config } = this.props;
    const id = pascal(definition.name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      logGroupName: `/aws/lambda/${nameFor(config.stage, definition.name)}`,
      retention: logRetention(config),
      encryptionKey: this.props.dataKey,
      removalPolicy: removalPolicy(config),
    });
    const fn = new NodejsFunction(this, `${id}Function`, {
      functionName: nameFor(config.stage, definition.name),
      description: definition.description,
      entry: handlerEntry(definition),
      handler: definition.handlerExport ?? 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: definition.memoryMb,
      timeout: Duration.seconds(definition.timeoutSeconds),
      ephemeralStorageSize: definition.ephemeralStorageMb ? Size.mebibytes(definition.ephemeralStorageMb) : undefined,
      environment: this.environmentOf(definition),
      bundling: bundlingOf(definition),
      vpc: this.props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [this.props.securityGroup],
      logGroup,
    });
    for (const statement of this.statementsOf(definition)) fn.addToRolePolicy(statement);
    if (definition.streamingUrl) {
      // AWS_IAM: only a caller allowed by the function's resource policy (CloudFront's
      // Origin Access Control, web.ts) can invoke it; the handler still checks the user's token.
      this.functionUrls[definition.name] = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM, invokeMode: lambda.InvokeMode.RESPONSE_STREAM });
    }
    return fn;
  }

  private environmentOf(definition: FunctionDefinition): Record<string, string> {
    const { props } = this;
    const { config } = props;
    const env: Record<string, string> = {
      [envNames.stage]: config.stage,
      POWERTOOLS_SERVICE_NAME: `medlake-${definition.name}`,
      POWERTOOLS_LOG_LEVEL: config.logLevel,
      // Stack traces point into the TypeScript sources.
      NODE_OPTIONS: '--enable-source-maps',
      // The runtime's bundle with the RDS certificate authorities, for sslmode=verify-full.
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      ...props.authEnvironment,
      ...settingsEnvironment(definition.settings ?? [], definition.memoryMb),
    };
    if (definition.linksToSite) env[envNames.publicBaseUrl] = props.publicBaseUrl;
    for (const bucket of bucketDefinitions) env[envNames.bucket(bucket.id)] = bucketPhysicalName(config.stage, bucket);
    for (const queue of queueDefinitions) env[envNames.queueUrl(queue.id)] = this.queues[queue.id].queue.queueUrl;
    if (definition.database) {
      env[envNames.databaseUrl] = definition.name === 'migrate' ? props.directDatabaseUrl : props.databaseUrl;
      env[envNames.databaseSecretArn] = props.databaseSecret.secretArn;
    }
    if (definition.deidKey) env[envNames.deidKeySecretArn] = props.deidKeySecret.secretArn;
    if (definition.vault?.seal || definition.vault?.open?.length) env[envNames.phiVaultKmsKeyId] = props.vaultKey.keyArn;
    if (definition.mail) env[envNames.mailFrom] = config.mailFrom;
    for (const [name, dir] of Object.entries(definition.includeDirs ?? {})) env[name] = `/var/task/${basename(dir)}`;
    return env;
  }

  /** The catalog's "may touch", as IAM statements (see FunctionDefinition). */
  statementsOf(definition: FunctionDefinition): iam.PolicyStatement[] {
    const { props } = this;
    const statements: iam.PolicyStatement[] = [];
    const dataKeyActions = new Set<string>();
    for (const [id, grant] of Object.entries(definition.buckets ?? {}) as [BucketId, NonNullable<FunctionDefinition['buckets']>[BucketId]][]) {
      const bucket = props.buckets[id];
      const grants = bucketGrants(grant);
      // Grants of one bucket under several prefixes name their prefix in the statement id.
      const sid = (action: string, g: (typeof grants)[number]) => `${action}${pascal(id)}${grants.length > 1 && g.prefix ? pascal(g.prefix.replace(/\/$/, '')) : ''}`;
      let listed = false;
      for (const g of grants) {
        const objects = bucket.arnForObjects(`${g.prefix ?? ''}*`);
        const access = new Set(g.access);
        if (access.has('read')) {
          statements.push(new iam.PolicyStatement({ sid: sid('Read', g), actions: ['s3:GetObject'], resources: [objects] }));
          dataKeyActions.add('kms:Decrypt');
        }
        if (access.has('write') || access.has('presign-upload')) {
          statements.push(new iam.PolicyStatement({ sid: sid('Write', g), actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'], resources: [objects] }));
          // SSE-KMS: a new object needs a data key; multipart completion decrypts it again.
          dataKeyActions.add('kms:GenerateDataKey').add('kms:Decrypt');
        } else if (access.has('put')) {
          statements.push(new iam.PolicyStatement({ sid: sid('Put', g), actions: ['s3:PutObject'], resources: [objects] }));
          dataKeyActions.add('kms:GenerateDataKey');
        }
        if ((access.has('list') || access.has('probe')) && !listed) {
          statements.push(new iam.PolicyStatement({ sid: `List${pascal(id)}`, actions: ['s3:ListBucket'], resources: [bucket.bucketArn] }));
          listed = true;
        }
      }
    }
    for (const queueId of definition.sendsTo ?? []) {
      statements.push(new iam.PolicyStatement({ sid: `Send${pascal(queueId)}`, actions: ['sqs:SendMessage'], resources: [this.queues[queueId].queue.queueArn] }));
      dataKeyActions.add('kms:GenerateDataKey').add('kms:Decrypt');
    }
    for (const queueId of definition.probesQueues ?? []) {
      statements.push(new iam.PolicyStatement({ sid: `Probe${pascal(queueId)}`, actions: ['sqs:GetQueueAttributes'], resources: [this.queues[queueId].queue.queueArn] }));
    }
    if (definition.database) {
      statements.push(new iam.PolicyStatement({ sid: 'DatabaseSecret', actions: ['secretsmanager:GetSecretValue'], resources: [props.databaseSecret.secretArn] }));
      dataKeyActions.add('kms:Decrypt');
    }
    if (definition.deidKey) {
      statements.push(new iam.PolicyStatement({ sid: 'DeidKeySecret', actions: ['secretsmanager:GetSecretValue'], resources: [props.deidKeySecret.secretArn] }));
      dataKeyActions.add('kms:Decrypt');
    }
    // Every vault record is sealed under the encryption context {purpose, kind, pseudonym}
    // (functions/src/adapters/phi-vault.ts): the key serves nothing else, and Decrypt is
    // limited to the kinds of record the function has a reason to open.
    const vaultContext = { 'kms:EncryptionContext:purpose': vaultPurpose };
    if (definition.vault?.seal) {
      statements.push(new iam.PolicyStatement({ sid: 'SealVault', actions: ['kms:GenerateDataKey'], resources: [props.vaultKey.keyArn], conditions: { StringEquals: vaultContext } }));
    }
    if (definition.vault?.open?.length) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'OpenVault',
          actions: ['kms:Decrypt'],
          resources: [props.vaultKey.keyArn],
          conditions: { StringEquals: { ...vaultContext, 'kms:EncryptionContext:kind': [...definition.vault.open].sort() } },
        }),
      );
    }
    if (definition.userPoolAdmin) {
      statements.push(new iam.PolicyStatement({ sid: 'UserPoolAdmin', actions: [...userPoolAdminActions], resources: [props.userPoolArn] }));
    }
    if (definition.mail) {
      // SES v2 SendEmail with simple content (functions/src/adapters/mailer.ts), from the stage's sender only.
      statements.push(new iam.PolicyStatement({ sid: 'SendMail', actions: ['ses:SendEmail'], resources: [props.mailIdentityArn], conditions: { StringEquals: { 'ses:FromAddress': props.config.mailFrom } } }));
    }
    if (dataKeyActions.size > 0) {
      statements.push(new iam.PolicyStatement({ sid: 'DataKey', actions: [...dataKeyActions].sort(), resources: [props.dataKey.keyArn] }));
    }
    return statements;
  }
}

/** The `purpose` of every PHI vault record's KMS encryption context (functions/src/adapters/phi-vault.ts). */
export const vaultPurpose = 'medlake-phi-vault';

/**
 * Local esbuild (the root devDependency), never Docker; ESM so handlers may use
 * import.meta and top-level await; CommonJS dependencies (pg, the AWS SDK's
 * internals) get a real `require` through createRequire. The AWS SDK is
 * bundled: the versions in package-lock.json are the versions that run.
 */
export const functionBundling = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  bundleAwsSDK: true,
  // pg's optional native binding is never installed.
  externalModules: ['pg-native'],
  banner: "import { createRequire as __medlakeCreateRequire } from 'node:module'; const require = __medlakeCreateRequire(import.meta.url);",
  tsconfig: join(repoRoot, 'tsconfig.json'),
};

/**
 * The WebAssembly codecs a function that renders frames loads at run time:
 * external to esbuild, each package's used files copied to
 * node_modules/<package>/ in the bundle, from where this machine resolves them.
 */
export function wasmCodecCopies(): { packageName: string; from: string; files: string[] }[] {
  return (Object.keys(wasmCodecFiles) as WasmCodecName[]).map((name) => ({ ...wasmCodecFiles[name], from: wasmCodecDirectory(name) }));
}

/** How a catalog entry is bundled: functionBundling, plus the folders and packages it carries beside index.mjs. */
export function bundlingOf(definition: FunctionDefinition): typeof functionBundling & { commandHooks?: ICommandHooks } {
  const dirs = Object.values(definition.includeDirs ?? {});
  const codecs = definition.rendersFrames ? wasmCodecCopies() : [];
  if (dirs.length === 0 && codecs.length === 0) return functionBundling;
  return {
    ...functionBundling,
    externalModules: [...functionBundling.externalModules, ...codecs.map((codec) => codec.packageName)],
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (_inputDir: string, outputDir: string) => [
        ...dirs.map((dir) => `cp -R "${join(repoRoot, dir)}" "${join(outputDir, basename(dir))}"`),
        ...codecs.flatMap(({ packageName, from, files }) =>
          files.map((file) => {
            const target = join(outputDir, 'node_modules', packageName, file);
            return `mkdir -p "${dirname(target)}" && cp "${join(from, file)}" "${target}"`;
          }),
        ),
      ],
    },
  };
}
