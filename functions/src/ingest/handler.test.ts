import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { objectsOf } from './handler';

function record(body: unknown): SQSRecord {
  return { messageId: 'm', receiptHandle: 'r', body: typeof body === 'string' ? body : JSON.stringify(body), attributes: { ApproximateReceiveCount: '1' } } as unknown as SQSRecord;
}

describe('S3 event records of an SQS message', () => {
  it('decodes form-encoded keys and keeps size and bucket', () => {
    const objects = objectsOf(record({
      Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:CompleteMultipartUpload', s3: { bucket: { name: 'q' }, object: { key: 'incoming/u/0/scan+1%C3%A9.dcm', size: 12 } } }],
    }));
    expect(objects).toEqual([{ bucket: 'q', key: 'incoming/u/0/scan 1é.dcm', sizeBytes: 12 }]);
  });

  it('ignores the test event S3 sends on configuration and other event kinds', () => {
    expect(objectsOf(record({ Service: 'Amazon S3', Event: 's3:TestEvent', Bucket: 'q' }))).toEqual([]);
    expect(objectsOf(record({ Records: [{ eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'q' }, object: { key: 'k' } } }] }))).toEqual([]);
  });

  it('fails a message that is not JSON (retried, then the dead-letter queue)', () => {
    expect(() => objectsOf(record('not json'))).toThrow(/not JSON/);
  });
});
