/**
 * The ingest Lambda: SQS messages carrying S3 ObjectCreated records of the
 * quarantine bucket. Records of a batch are processed concurrently (bounded),
 * their instances share index transactions (group commit), and failures are
 * reported per message (partial batch response) so only those come back.
 * When a message is received for the last time before the dead-letter queue,
 * its file is marked rejected ("could not be processed") before failing.
 * Logs carry the upload id and file index, never the object's name.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import pLimit from 'p-limit';
import { queueDefinition } from '@medlake/shared/resources';
import { ByteBudget } from './byte-budget';
import type { IngestContext } from './ingest-context';
import { ingestContextFromEnv } from './ingest-context';
import type { FileRef, QuarantineObjectRef } from './ingest-object';
import { ingestObject, resolveUploadFile, unprocessableReason } from './ingest-object';

const logger = new Logger({ serviceName: 'medlake-ingest' });
const processor = new BatchProcessor(EventType.SQS);

/** The S3 objects named by one SQS message (an S3 event; the s3:TestEvent S3 sends on configuration has none). */
export function objectsOf(record: SQSRecord): QuarantineObjectRef[] {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    throw new Error('the message body is not JSON');
  }
  const records = (body as { Records?: unknown }).Records;
  if (!Array.isArray(records)) return [];
  return records.flatMap((r: { eventSource?: string; eventName?: string; s3?: { bucket?: { name?: string }; object?: { key?: string; size?: number } } }) => {
    if (r.eventSource !== 'aws:s3' || !r.eventName?.startsWith('ObjectCreated:')) return [];
    const bucket = r.s3?.bucket?.name;
    const key = r.s3?.object?.key;
    if (!bucket || !key) return [];
    // Keys in S3 events are form-encoded: '+' is a space.
    return [{ bucket, key: decodeURIComponent(key.replace(/\+/g, ' ')), sizeBytes: r.s3?.object?.size }];
  });
}

function isLastReceive(record: SQSRecord): boolean {
  const count = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  return count >= queueDefinition('ingest').maxReceiveCount;
}

let budget: ByteBudget | undefined;

/** Objects in memory at once stay within the budget (large ones go to /tmp and count for their memory share only). */
function memoryBudget(context: IngestContext): ByteBudget {
  if (budget?.totalBytes !== context.settings.memoryBudgetBytes) budget = new ByteBudget(context.settings.memoryBudgetBytes);
  return budget;
}

async function handleRecord(record: SQSRecord, context: IngestContext): Promise<void> {
  for (const object of objectsOf(record)) {
    let file: FileRef | undefined;
    const started = Date.now();
    const release = await memoryBudget(context).acquire(Math.min(object.sizeBytes ?? 0, context.settings.memoryLimitBytes));
    try {
      const report = await ingestObject(object, context, (ref) => {
        file = ref;
      });
      logger.info('file ingested', {
        uploadId: report.uploadId, fileIndex: report.fileIndex, state: report.state, instances: report.instances, studies: report.studies.length, ms: Date.now() - started,
      });
    } catch (error) {
      const e = error as Error;
      logger.error('file failed', { uploadId: file?.uploadId, fileIndex: file?.fileIndex, receiveCount: record.attributes?.ApproximateReceiveCount, error: { name: e.name, message: e.message, stack: e.stack } });
      if (isLastReceive(record)) await giveUp(object, file, context);
      throw error;
    } finally {
      release();
    }
  }
}

/** The message goes to the dead-letter queue after this receive: say so in the file's status. */
async function giveUp(object: QuarantineObjectRef, file: FileRef | undefined, context: IngestContext): Promise<void> {
  try {
    const target = file ?? (await resolveUploadFile(object, context));
    await context.records.rejectIfUnfinished(target.uploadId, 'fileIndex' in target ? target.fileIndex : target.index, unprocessableReason);
    logger.warn('file given up: message goes to the dead-letter queue', { uploadId: target.uploadId });
  } catch (error) {
    logger.error('could not mark the file as unprocessable', { error: { name: (error as Error).name, message: (error as Error).message } });
  }
}

async function ingestBatch(event: SQSEvent, lambdaContext: Context): Promise<SQSBatchResponse> {
  const context = await ingestContextFromEnv();
  const limit = pLimit(context.settings.concurrency);
  return processPartialResponse(event, (record: SQSRecord) => limit(() => handleRecord(record, context)), processor, {
    context: lambdaContext,
    // A batch where every message failed is reported like any other, not thrown: same effect, clearer logs.
    throwOnFullBatchFailure: false,
  });
}

export const handler = middy(ingestBatch).use(injectLambdaContext(logger, { resetKeys: true }));
