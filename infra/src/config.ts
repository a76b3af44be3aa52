/**
 * Per-stage settings of the AWS stack, read from CDK context (cdk.json holds
 * the defaults under `medlake:stages`; `-c stage=prod` picks a stage and
 * `-c key=value` overrides one setting, e.g. `-c mailFrom=imaging@hospital.org`).
 * Everything that differs between a throw-away dev stack and production lives
 * here, so the constructs read one typed object.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

export interface StageConfig {
  stage: string;
  /** Data that outlives the stack (buckets, database, keys): retained in prod, destroyed in dev. */
  retainData: boolean;
  deletionProtection: boolean;
  /** Aurora Serverless v2 capacity in ACUs; 0 lets a dev database pause when idle. */
  minAcu: number;
  maxAcu: number;
  /** Idle time before an Aurora cluster with minAcu 0 pauses. */
  autoPauseMinutes: number;
  /** A second (reader) instance in another AZ, for failover. */
  readerInstance: boolean;
  /** RDS Proxy between the functions and Aurora (connection pooling for Lambda bursts). */
  databaseProxy: boolean;
  backupRetentionDays: number;
  logRetentionDays: number;
  natGateways: number;
  /** SQS, Secrets Manager and KMS interface endpoints: AWS API calls stay inside the VPC. */
  interfaceEndpoints: boolean;
  /** Cognito threat protection (compromised credentials, adaptive auth): the Plus plan, billed per active user. */
  threatProtection: boolean;
  /**
   * Minutes between the scheduled subscription digest requests (the safety
   * net for a lost request); 0: none. Each run reads the database, so with a
   * pausing Aurora (minAcu 0) a schedule keeps it awake.
   */
  digestScheduleMinutes: number;
  /** POWERTOOLS_LOG_LEVEL of every function. */
  logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  /** SES identity the emails come from (also Cognito's sender). */
  mailFrom: string;
  /** Optional address subscribed to the alarm topic. */
  alarmEmail?: string;
  /** Optional custom domain of the CloudFront distribution, with its ACM certificate (us-east-1). */
  domainName?: string;
  certificateArn?: string;
  /** Optional AWS WAF web ACL (scope CLOUDFRONT, us-east-1) in front of the distribution. */
  webAclArn?: string;
  /** Extra origins allowed to PUT into the quarantine bucket (e.g. a dev server). */
  extraUploadOrigins: string[];
  /** The built SPA (with the OHIF viewer under viewer/), relative to the repository root. */
  webDist: string;
}

/** Reads a context value; CDK hands `-c` values over as strings. */
export type ContextReader = (key: string) => unknown;

const logRetentionValues = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function stageConfig(context: ContextReader): StageConfig {
  const stage = String(context('stage') ?? 'dev');
  if (!/^[a-z][a-z0-9-]{0,15}$/.test(stage)) throw new ConfigError(`stage "${stage}" must be lowercase letters, digits and dashes (it is part of every resource name).`);
  const stages = (context('medlake:stages') ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const defaults = stages[stage];
  if (!defaults) throw new ConfigError(`No settings for stage "${stage}" under "medlake:stages" in cdk.json (known: ${Object.keys(stages).join(', ') || 'none'}).`);
  const value = (key: keyof StageConfig): unknown => context(key) ?? defaults[key];

  const config: StageConfig = {
    stage,
    retainData: bool(value('retainData'), 'retainData'),
    deletionProtection: bool(value('deletionProtection'), 'deletionProtection'),
    minAcu: num(value('minAcu'), 'minAcu', 0, 256),
    maxAcu: num(value('maxAcu'), 'maxAcu', 1, 256),
    autoPauseMinutes: num(value('autoPauseMinutes') ?? 60, 'autoPauseMinutes', 5, 1440),
    readerInstance: bool(value('readerInstance'), 'readerInstance'),
    databaseProxy: bool(value('databaseProxy'), 'databaseProxy'),
    backupRetentionDays: num(value('backupRetentionDays'), 'backupRetentionDays', 1, 35),
    logRetentionDays: num(value('logRetentionDays'), 'logRetentionDays', 1, 3653),
    natGateways: num(value('natGateways'), 'natGateways', 1, 3),
    interfaceEndpoints: bool(value('interfaceEndpoints'), 'interfaceEndpoints'),
    threatProtection: bool(value('threatProtection'), 'threatProtection'),
    digestScheduleMinutes: num(value('digestScheduleMinutes') ?? 15, 'digestScheduleMinutes', 0, 1440),
    logLevel: oneOf(value('logLevel') ?? 'INFO', 'logLevel', ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const),
    mailFrom: str(value('mailFrom'), 'mailFrom'),
    alarmEmail: optionalStr(value('alarmEmail')),
    domainName: optionalStr(value('domainName')),
    certificateArn: optionalStr(value('certificateArn')),
    webAclArn: optionalStr(value('webAclArn')),
    extraUploadOrigins: list(value('extraUploadOrigins')),
    webDist: str(value('webDist') ?? 'web/dist', 'webDist'),
  };
  if (config.minAcu > config.maxAcu) throw new ConfigError(`minAcu (${config.minAcu}) must not exceed maxAcu (${config.maxAcu}).`);
  if (!Number.isInteger(config.minAcu * 2) || !Number.isInteger(config.maxAcu * 2)) throw new ConfigError('Aurora capacities come in steps of 0.5 ACU.');
  if (config.minAcu === 0 && config.databaseProxy) throw new ConfigError('An Aurora cluster that pauses (minAcu 0) cannot sit behind RDS Proxy, which keeps connections open: set minAcu ≥ 0.5 or databaseProxy false.');
  if (!Number.isInteger(config.digestScheduleMinutes)) throw new ConfigError('digestScheduleMinutes is a whole number of minutes (0: no schedule).');
  if (!logRetentionValues.has(config.logRetentionDays)) throw new ConfigError(`logRetentionDays ${config.logRetentionDays} is not a CloudWatch retention (e.g. 7, 30, 90, 365, 3653).`);
  if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(config.mailFrom)) throw new ConfigError(`mailFrom "${config.mailFrom}" is not an email address.`);
  if (Boolean(config.domainName) !== Boolean(config.certificateArn)) throw new ConfigError('domainName and certificateArn go together (the certificate must be in us-east-1 for CloudFront).');
  return config;
}

export function removalPolicy(config: StageConfig): RemovalPolicy {
  return config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
}

export function logRetention(config: StageConfig): RetentionDays {
  return config.logRetentionDays as RetentionDays;
}

function bool(v: unknown, key: string): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new ConfigError(`${key} must be true or false (got ${JSON.stringify(v)}).`);
}

function num(v: unknown, key: string, min: number, max: number): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${key} must be a number from ${min} to ${max} (got ${JSON.stringify(v)}).`);
  return n;
}

function str(v: unknown, key: string): string {
  if (typeof v !== 'string' || v.trim() === '') throw new ConfigError(`${key} must be set (cdk.json context or -c ${key}=...).`);
  return v.trim();
}

function optionalStr(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

function list(v: unknown): string[] {
  if (v === undefined || v === null || v === '') return [];
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v.split(',').map((s) => s.trim()).filter(Boolean);
  throw new ConfigError(`expected a list or a comma-separated string (got ${JSON.stringify(v)}).`);
}

function oneOf<T extends string>(v: unknown, key: string, values: readonly T[]): T {
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`${key} must be one of ${values.join(', ')} (got ${JSON.stringify(v)}).`);
}
