/**
 * Database migrations on deploy: a custom resource whose provider is the
 * migrate function (functions/src/migrate/handler.ts → migrateDatabase). Its
 * properties carry a hash of functions/migrations, so CloudFormation calls it
 * on the first deploy and again whenever a migration file is added or changed.
 * The API functions depend on it: new code never runs against an old schema.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CustomResource } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { StageConfig } from './config';
import { logRetention, removalPolicy } from './config';
import { repoRoot } from './processing';

export const migrationsDir = join(repoRoot, 'functions', 'migrations');

/** Names and contents of the SQL migrations, hashed: what the custom resource reacts to. */
export function migrationsHash(dir: string = migrationsDir): string {
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.sql')).sort()) {
    hash.update(name).update('\0').update(readFileSync(join(dir, name))).update('\0');
  }
  return hash.digest('hex');
}

export interface MigrationProps {
  config: StageConfig;
  dataKey: kms.IKey;
  migrateFunction: lambda.IFunction;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
}

export class Migration extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationProps) {
    super(scope, id);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: props.migrateFunction,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [props.securityGroup],
      logGroup: new logs.LogGroup(this, 'ProviderLogs', {
        retention: logRetention(props.config),
        encryptionKey: props.dataKey,
        removalPolicy: removalPolicy(props.config),
      }),
    });
    this.resource = new CustomResource(this, 'Migrations', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::DatabaseMigrations',
      properties: { migrationsHash: migrationsHash() },
    });
  }
}
