/**
 * The export Lambda: messages of the `export` queue (`{ exportId, run }`),
 * one at a time (batch size 1), each driving one run of an export
 * (run-export.ts) with the invocation's deadline. Failures are reported per
 * message (partial batch response): a run that throws is retried from its
 * checkpoint when the message comes back; on its last receive before the
 * dead-letter queue the export is marked failed instead.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import pg from 'pg';
import { envNames, queueDefinition } from '@medlake/shared/resources';
import { AuditLog } from '../adapters/audit-log';
import { bucketName, presigningS3Client, queueUrl, s3Client, sqsClient } from '../adapters/aws-clients';
import { connectionConfig } from '../adapters/database-credentials';
import { NotifyQueueMailer } from '../notify/messages';
import { parseExportMessage } from './export-message';
import { ExportRecords } from './export-records';
import { exportSettings } from './export-settings';
import type { ExportWorker } from './run-export';
import { ExportBusy, fail, runExport } from './run-export';

const logger = new Logger({ serviceName: 'medlake-export' });
const processor = new BatchProcessor(EventType.SQS);

let pool: { url: string; db: pg.Pool } | undefined;

/** The container's own small pool: a run holds a transaction (freezing) while it reads and records on another connection. */
function exportPool(env: NodeJS.ProcessEnv): pg.Pool {
  const url = env[envNames.databaseUrl];
  if (!url) throw new Error(`${envNames.databaseUrl} is not set`);
  if (pool?.url !== url) {
    void pool?.db.end().catch(() => undefined);
    const db = new pg.Pool({ ...connectionConfig(url, env), max: 3, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 10_000 });
    db.on('error', () => undefined);
    pool = { url, db };
  }
  return pool.db;
}

/** What a run needs, from the environment Lambda (or the local stack) sets. */
export function exportWorkerFromEnv(env: NodeJS.ProcessEnv = process.env): ExportWorker {
  const db = exportPool(env);
  const records = new ExportRecords(db);
  const audit = new AuditLog(db);
  const log: ExportWorker['log'] = (level, message, details) => logger[level](message, details ?? {});
  return {
    db,
    records,
    s3: s3Client(env),
    sqs: sqsClient(env),
    archiveBucket: bucketName('archive', env),
    exportsBucket: bucketName('exports', env),
    exportQueueUrl: queueUrl('export', env),
    settings: exportSettings(env),
    audit,
    notice: {
      records,
      audit,
      // Emails go through the notify queue: the notify function holds the mail rights.
      mailer: new NotifyQueueMailer({ sqs: sqsClient(env), queueUrl: queueUrl('notify', env) }),
      presigner: presigningS3Client(env),
      exportsBucket: bucketName('exports', env),
      publicBaseUrl: env[envNames.publicBaseUrl],
      log: (message, details) => logger.warn(message, details ?? {}),
    },
    log,
  };
}

function isLastReceive(record: SQSRecord): boolean {
  return Number(record.attributes?.ApproximateReceiveCount ?? '1') >= queueDefinition('export').maxReceiveCount;
}

async function handleRecord(record: SQSRecord, context: Context): Promise<void> {
  const message = parseExportMessage(record.body);
  const worker = exportWorkerFromEnv();
  const started = Date.now();
  try {
    const outcome = await runExport(worker, {
      exportId: message.exportId,
      run: message.run,
      leaseOwner: `${context.awsRequestId}/${record.messageId}`,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
    logger.info('export message handled', { exportId: message.exportId, run: message.run, outcome, ms: Date.now() - started });
  } catch (error) {
    const e = error as Error;
    if (error instanceof ExportBusy) {
      logger.info('export is being run by another invocation; the message comes back later', { exportId: message.exportId });
      throw error;
    }
    logger.error('export run failed', { exportId: message.exportId, run: message.run, receiveCount: record.attributes?.ApproximateReceiveCount, error: { name: e.name, message: e.message, stack: e.stack } });
    if (!isLastReceive(record)) throw error;
    // The message goes to the dead-letter queue after this receive: the export ends, with a reason the user can read.
    const current = await worker.records.get(message.exportId);
    if (current) await fail(worker, current, { code: 'internal_error', message: 'The export failed repeatedly on our side and was stopped. Please try again; if it keeps failing, tell an administrator.' });
  }
}

async function exportBatch(event: SQSEvent, lambdaContext: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, (record: SQSRecord) => handleRecord(record, lambdaContext), processor, {
    context: lambdaContext,
    throwOnFullBatchFailure: false,
  });
}

export const handler = middy(exportBatch).use(injectLambdaContext(logger, { resetKeys: true }));
