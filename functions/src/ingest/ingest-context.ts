/**
 * What the ingest core needs, wired once per Lambda container (or per local
 * process): the de-identification key and options, the PostgreSQL pool, the
 * buckets, the PHI vault, the group-committing index writer.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import pg from 'pg';
import type { DeidOptions } from '@medlake/shared/dicom/options';
import { parseDeidOptions } from '@medlake/shared/dicom/options';
import { envNames } from '@medlake/shared/resources';
import { archiveFromEnv } from '../adapters/archive';
import { connectionConfig } from '../adapters/database-credentials';
import { deidKey } from '../adapters/deid-key';
import { IndexWriter } from '../adapters/index-writer';
import { phiVaultFromEnv } from '../adapters/phi-vault';
import type { Quarantine } from '../adapters/quarantine';
import { quarantineFromEnv } from '../adapters/quarantine';
import { UploadRecords } from '../adapters/upload-records';
import { requestDigestAfterIngest } from '../notify/digest-requests';
import { linkWaitingReports } from '../reports/report-intake';
import { IndexBatcher } from './index-batcher';
import type { IngestSettings } from './ingest-settings';
import { ingestSettings } from './ingest-settings';

const hookLogger = new Logger({ serviceName: 'medlake-ingest' });

export interface IngestContext {
  key: Uint8Array;
  deidOptions: DeidOptions;
  settings: IngestSettings;
  db: pg.Pool;
  records: UploadRecords;
  quarantine: Quarantine;
  batcher: IndexBatcher;
}

let context: Promise<IngestContext> | undefined;
let contextUrl: string | undefined;

/**
 * The container's ingest context. Its own pool (not the API's two-connection
 * one): a batch writes several transactions at once while other files read.
 */
export function ingestContextFromEnv(env: NodeJS.ProcessEnv = process.env): Promise<IngestContext> {
  // A new database (a restarted local stack in the same process) needs a new context.
  if (contextUrl !== env[envNames.databaseUrl]) {
    void closeIngestContext();
    contextUrl = env[envNames.databaseUrl];
  }
  context ??= createIngestContext(env).catch((error: unknown) => {
    context = undefined;
    throw error;
  });
  return context;
}

/**
 * A new, independent context (own pool and index batcher): what a separate
 * Lambda container has. Handlers use `ingestContextFromEnv`.
 */
export async function createIngestContext(env: NodeJS.ProcessEnv = process.env): Promise<IngestContext> {
  const settings = ingestSettings(env);
  const url = env[envNames.databaseUrl];
  if (!url) throw new Error(`${envNames.databaseUrl} is not set`);
  const db = new pg.Pool({ ...connectionConfig(url, env), max: 4, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
  db.on('error', () => undefined);
  const [key, vault] = await Promise.all([deidKey(env), phiVaultFromEnv(env)]);
  const deidOptions = parseDeidOptions(env[envNames.deidOptions]);
  // Reports uploaded before their images wait for the study: linked once it is indexed.
  const writer = new IndexWriter(db, archiveFromEnv(env), vault, {
    studiesIndexed: async (uids) => {
      await linkWaitingReports({ db, key, deidOptions, vault }, uids);
      // New or changed studies may match a subscription: one digest run is requested per burst (never fails the batch).
      await requestDigestAfterIngest(db, hookLogger);
    },
  });
  return {
    key,
    deidOptions,
    settings,
    db,
    records: new UploadRecords(db),
    quarantine: quarantineFromEnv(env),
    batcher: new IndexBatcher((items) => writer.writeBatch(items), { maxBatch: settings.indexBatchSize, lingerMs: 15, maxInFlight: 3 }),
  };
}

/** Closes the container's pool (local processes and tests; Lambda never needs it). */
export async function closeIngestContext(): Promise<void> {
  const current = context;
  context = undefined;
  if (current) await (await current.catch(() => undefined))?.db.end();
}
