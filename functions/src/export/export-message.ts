/**
 * The `export` queue's message: which export to work on, and which run of it
 * this is (0 from the API, n + 1 from the worker continuing before its
 * deadline). A message older than the export's last continuation is stale.
 */
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { SQSClient } from '@aws-sdk/client-sqs';

export interface ExportMessage {
  exportId: string;
  run: number;
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function parseExportMessage(body: string): ExportMessage {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new Error('the export message is not JSON');
  }
  const { exportId, run } = (value ?? {}) as { exportId?: unknown; run?: unknown };
  if (typeof exportId !== 'string' || !uuid.test(exportId)) throw new Error('the export message names no export');
  if (run !== undefined && (typeof run !== 'number' || !Number.isInteger(run) || run < 0)) throw new Error('the export message has an invalid run number');
  return { exportId, run: (run as number | undefined) ?? 0 };
}

export async function sendExportMessage(sqs: SQSClient, queueUrl: string, message: ExportMessage): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(message) }));
}
