/**
 * The migration Lambda: a CloudFormation custom resource (through the CDK
 * provider framework) that applies functions/migrations on every deploy whose
 * migrations changed, before the new code takes traffic. It connects straight
 * to the cluster (DATABASE_URL, password from DATABASE_SECRET_ARN) and calls
 * the same migrateDatabase the local stack runs on start.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { databaseUrlWithPassword } from '../adapters/database-credentials';
import { migrateDatabase } from '../adapters/migrate';

const logger = new Logger({ serviceName: 'medlake-migrate' });

export const physicalResourceId = 'medlake-database-migrations';

export interface MigrationResponse {
  PhysicalResourceId: string;
  Data?: { Applied: string };
}

export async function handler(event: CloudFormationCustomResourceEvent): Promise<MigrationResponse> {
  // Removing the stack (or this resource) leaves the schema alone: the data outlives it.
  if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
  const result = await migrateDatabase(await databaseUrlWithPassword(), { log: (line) => logger.info(line) });
  logger.info('migrations up to date', { applied: result.applied });
  // CloudFormation caps response data at 4 KB; migration names are short, but a fresh database applies them all.
  const applied = result.applied.join(',');
  return { PhysicalResourceId: physicalResourceId, Data: { Applied: applied.length > 3000 ? `${result.applied.length} migrations` : applied } };
}
