/**
 * The LocalStack init hook, executed by bash for real with a recording
 * `awslocal` on PATH (LocalStack itself needs Docker, which this machine does
 * not have): every AWS CLI call it makes, with the JSON documents it passes,
 * checked against shared/src/resources.ts.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buckets, nameFor, notifications, queues } from '@medlake/shared/resources';
import { envFilePath, initHookPath, renderEnvFile, renderInitHook } from './localstack';

const recorder = `#!/usr/bin/env bash
# Records one call per line: arguments separated by \\x1f, file:// arguments replaced by their content.
args=()
for a in "$@"; do
  case "$a" in file://*) args+=("$(cat "\${a#file://}")");; *) args+=("$a");; esac
done
( IFS=$'\\x1f'; printf '%s\\n' "\${args[*]}" ) >> "$CALLS"
case "$1 $2" in
  "sqs get-queue-url") echo "http://localhost.localstack.cloud:4566/000000000000/$4" ;;
  "sqs get-queue-attributes") echo "arn:aws:sqs:us-east-1:000000000000:\${4##*/}" ;;
esac
`;

let dir: string;

function run(env: Record<string, string>): string[][] {
  const calls = join(dir, `calls-${Math.random().toString(36).slice(2)}`);
  writeFileSync(calls, '');
  execFileSync('bash', [initHookPath], { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, CALLS: calls, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return readFileSync(calls, 'utf8').split('\n').filter(Boolean).map((line) => line.split('\x1f'));
}

function argAfter(call: string[], flag: string): string {
  const i = call.indexOf(flag);
  if (i < 0) throw new Error(`${flag} not in ${call.join(' ')}`);
  return call[i + 1]!;
}

describe('LocalStack init hook', () => {
  let calls: string[][];
  const stage = 'test';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'medlake-localstack-'));
    writeFileSync(join(dir, 'awslocal'), recorder);
    chmodSync(join(dir, 'awslocal'), 0o755);
    calls = run({ MEDLAKE_STAGE: stage });
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const s3 = (op: string, bucket: string) => calls.filter((c) => c[0] === 's3api' && c[1] === op && argAfter(c, '--bucket') === bucket);

  it('the committed hook and env file are what resources.ts generates (run `npx tsx infra/bin/localstack-init-hooks.ts`)', () => {
    expect(readFileSync(initHookPath, 'utf8')).toBe(renderInitHook());
    expect(readFileSync(envFilePath, 'utf8')).toBe(renderEnvFile());
  });

  it('creates every bucket of resources.ts private and encrypted, with its versioning, lifecycle and CORS', () => {
    for (const bucket of buckets) {
      const name = nameFor(stage, bucket.name);
      expect(s3('create-bucket', name), name).toHaveLength(1);
      expect(s3('put-public-access-block', name)).toHaveLength(1);
      expect(s3('put-bucket-encryption', name)).toHaveLength(1);
      expect(s3('put-bucket-versioning', name)).toHaveLength(bucket.versioned ? 1 : 0);
      const lifecycle = s3('put-bucket-lifecycle-configuration', name)[0];
      if (bucket.expireAfterDays) {
        const rules = (JSON.parse(argAfter(lifecycle!, '--lifecycle-configuration')) as { Rules: { Expiration: { Days: number } }[] }).Rules;
        expect(rules[0]!.Expiration.Days).toBe(bucket.expireAfterDays);
      } else {
        expect(lifecycle).toBeUndefined();
      }
      const cors = s3('put-bucket-cors', name)[0];
      expect(cors !== undefined).toBe(bucket.browserUploads);
      if (cors) {
        const rule = (JSON.parse(argAfter(cors, '--cors-configuration')) as { CORSRules: { AllowedMethods: string[]; ExposeHeaders: string[] }[] }).CORSRules[0]!;
        expect(rule.AllowedMethods).toEqual(['PUT']);
        expect(rule.ExposeHeaders).toEqual(['ETag']);
      }
    }
  });

  it('creates every queue after its dead-letter queue, with the redrive policy and visibility timeout of resources.ts', () => {
    const created = calls.filter((c) => c[0] === 'sqs' && c[1] === 'create-queue');
    for (const queue of queues) {
      const dlqAt = created.findIndex((c) => argAfter(c, '--queue-name') === nameFor(stage, queue.deadLetterName));
      const mainAt = created.findIndex((c) => argAfter(c, '--queue-name') === nameFor(stage, queue.name));
      expect(dlqAt, queue.deadLetterName).toBeGreaterThanOrEqual(0);
      expect(mainAt).toBeGreaterThan(dlqAt);
      const attributes = JSON.parse(argAfter(created[mainAt]!, '--attributes')) as { VisibilityTimeout: string; RedrivePolicy: string };
      expect(attributes.VisibilityTimeout).toBe(String(queue.visibilityTimeoutSeconds));
      expect(JSON.parse(attributes.RedrivePolicy)).toEqual({ deadLetterTargetArn: `arn:aws:sqs:us-east-1:000000000000:${nameFor(stage, queue.deadLetterName)}`, maxReceiveCount: String(queue.maxReceiveCount) });
    }
  });

  it('wires the S3 → SQS notifications of resources.ts', () => {
    for (const notification of notifications) {
      const call = s3('put-bucket-notification-configuration', nameFor(stage, notification.bucket))[0]!;
      const config = JSON.parse(argAfter(call, '--notification-configuration')) as { QueueConfigurations: { QueueArn: string; Events: string[]; Filter: { Key: { FilterRules: { Name: string; Value: string }[] } } }[] };
      expect(config.QueueConfigurations).toContainEqual(
        expect.objectContaining({
          QueueArn: `arn:aws:sqs:us-east-1:000000000000:${nameFor(stage, notification.queue)}`,
          Events: [...notification.events],
          Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: notification.prefix }] } },
        }),
      );
    }
  });

  it('does nothing when the stack is deployed with cdklocal instead', () => {
    expect(run({ MEDLAKE_LOCALSTACK_MODE: 'cdk' })).toEqual([]);
  });

  it('the env file names the same resources for the handlers', () => {
    const env = Object.fromEntries(renderEnvFile('dev').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('=') as [string, string]));
    for (const bucket of buckets) expect(env[`BUCKET_${bucket.id.toUpperCase()}`]).toBe(nameFor('dev', bucket.name));
    for (const queue of queues) expect(env[`QUEUE_${queue.id.toUpperCase()}_URL`]?.endsWith(`/000000000000/${nameFor('dev', queue.name)}`)).toBe(true);
  });
});
