import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { failedMessageIds, sqsRecord } from './queue-poller';

const batch = ['m1', 'm2', 'm3'].map((messageId) => ({ messageId }) as SQSRecord);

describe("Lambda's partial batch response rules", () => {
  it.each([
    ['void', undefined, [], false],
    ['null', null, [], false],
    ['an object without batchItemFailures', { ok: true }, [], false],
    ['an empty list', { batchItemFailures: [] }, [], false],
    ['one failure', { batchItemFailures: [{ itemIdentifier: 'm2' }] }, ['m2'], false],
    ['an unknown id', { batchItemFailures: [{ itemIdentifier: 'nope' }] }, ['m1', 'm2', 'm3'], true],
    ['an empty id', { batchItemFailures: [{ itemIdentifier: '' }] }, ['m1', 'm2', 'm3'], true],
    ['a missing id', { batchItemFailures: [{}] }, ['m1', 'm2', 'm3'], true],
    ['not a list', { batchItemFailures: 'm1' }, ['m1', 'm2', 'm3'], true],
  ])('%s', (_name, result, failed, invalid) => {
    const outcome = failedMessageIds(batch, result);
    expect([...outcome.failed].sort()).toEqual(failed);
    expect(outcome.invalid).toBe(invalid);
  });
});

describe('SQS messages as Lambda records', () => {
  it('maps system and message attributes to the Lambda shape', () => {
    const record = sqsRecord(
      {
        MessageId: 'id-1',
        ReceiptHandle: 'rh',
        Body: 'hello',
        MD5OfBody: 'md5',
        MD5OfMessageAttributes: 'md5a',
        Attributes: { ApproximateReceiveCount: '2', SentTimestamp: '10', SenderId: 'S', ApproximateFirstReceiveTimestamp: '11' },
        MessageAttributes: { kind: { DataType: 'String', StringValue: 'upload' }, blob: { DataType: 'Binary', BinaryValue: new Uint8Array([1, 2, 3]) } },
      },
      'arn:aws:sqs:us-east-1:000000000000:q',
      'us-east-1',
    );
    expect(record).toEqual({
      messageId: 'id-1',
      receiptHandle: 'rh',
      body: 'hello',
      attributes: { ApproximateReceiveCount: '2', SentTimestamp: '10', SenderId: 'S', ApproximateFirstReceiveTimestamp: '11' },
      messageAttributes: {
        kind: { stringValue: 'upload', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5',
      md5OfMessageAttributes: 'md5a',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:q',
      awsRegion: 'us-east-1',
    });
  });
});
