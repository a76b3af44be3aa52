/**
 * A Lambda container of the export function in its own process, for the
 * tests that kill one mid-way: receives one message of the export queue (as
 * the event source mapping would), invokes the real handler with an SQS
 * event and a context whose deadline is the queue's visibility timeout, and
 * exits. The environment is the test stack's (inherited).
 *
 *   node --import tsx test/export-worker-process.ts <visibilityTimeoutSeconds> <queueArn>
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { sqsRecord } from '@medlake/local/queue-poller';
import { handler } from '../functions/src/export/handler';

const [visibilityText, queueArn] = process.argv.slice(2);
const visibilitySeconds = Number(visibilityText);
const region = process.env.AWS_REGION ?? 'us-east-1';
const queueUrl = process.env.QUEUE_EXPORT_URL as string;
const sqs = new SQSClient({ region, endpoint: process.env.AWS_ENDPOINT_URL_SQS, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });

// A long poll the emulator still holds for a client that went away can take the message first: keep asking until it is visible again.
let message;
for (let attempt = 0; attempt < 8 && !message; attempt++) {
  const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 10, MessageSystemAttributeNames: ['All'], VisibilityTimeout: visibilitySeconds }));
  message = received.Messages?.[0];
}
if (!message) {
  process.stdout.write('no message\n');
  process.exit(2);
}
process.stdout.write('received\n');
const deadline = Date.now() + visibilitySeconds * 1000;
const context = {
  callbackWaitsForEmptyEventLoop: false,
  functionName: 'medlake-test-export',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:medlake-test-export',
  memoryLimitInMB: '2048',
  awsRequestId: randomUUID(),
  logGroupName: '/aws/lambda/medlake-test-export',
  logStreamName: 'test',
  getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} as Context;
const result = await handler({ Records: [sqsRecord(message, queueArn as string, region)] }, context);
process.stdout.write(`handled ${JSON.stringify(result)}\n`);
process.exit(0);
