import { describe, expect, it } from 'vitest';
import { encodeS3EventKey, nextSequencer, routeMatches, s3EventRecord } from './s3-event-bridge';

describe('object keys in S3 event records', () => {
  it.each([
    ['incoming/plain.dcm', 'incoming/plain.dcm'],
    ['incoming/with space.dcm', 'incoming/with+space.dcm'],
    ['incoming/a+b.dcm', 'incoming/a%2Bb.dcm'],
    ['incoming/(1)!~\'.dcm', 'incoming/%281%29%21%7E%27.dcm'],
    ['incoming/x=1&y=2:3.dcm', 'incoming/x%3D1%26y%3D2%3A3.dcm'],
    ['incoming/Übung-ü.dcm', 'incoming/%C3%9Cbung-%C3%BC.dcm'],
    ['incoming/star*dash-under_dot.dcm', 'incoming/star*dash-under_dot.dcm'],
  ])('%s is written as %s (and decodes back)', (key, encoded) => {
    expect(encodeS3EventKey(key)).toBe(encoded);
    expect(decodeURIComponent(encoded.replace(/\+/g, ' '))).toBe(key);
  });
});

describe('notification filters', () => {
  const route = { bucket: 'b', queueName: 'q', prefix: 'incoming/', suffix: '.zip', configurationId: 'c' };
  it.each([
    ['b', 'incoming/x.zip', true],
    ['b', 'incoming/x.dcm', false],
    ['b', 'other/x.zip', false],
    ['other', 'incoming/x.zip', false],
  ])('bucket %s key %s → %s', (bucket, key, expected) => {
    expect(routeMatches(route, bucket, key)).toBe(expected);
  });
  it('an empty prefix and no suffix match every key of the bucket', () => {
    expect(routeMatches({ ...route, prefix: '', suffix: undefined }, 'b', 'anything')).toBe(true);
  });
});

describe('records', () => {
  it('sequencers grow, also within one millisecond', () => {
    const now = Date.now();
    const a = nextSequencer(now);
    const b = nextSequencer(now);
    const c = nextSequencer(now + 1);
    expect(a < b && b < c).toBe(true);
    expect(a).toMatch(/^[0-9A-F]{18}$/);
  });

  it('the ETag loses its quotes and the bucket gets its ARN', () => {
    const record = s3EventRecord({ eventName: 'ObjectCreated:Put', region: 'eu-west-1', bucket: 'bk', key: 'k 1', size: 3, eTag: '"abc"', sourceIp: '10.0.0.1', requestId: 'R', configurationId: 'cfg' });
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      requestParameters: { sourceIPAddress: '10.0.0.1' },
      responseElements: { 'x-amz-request-id': 'R' },
      s3: { configurationId: 'cfg', bucket: { name: 'bk', arn: 'arn:aws:s3:::bk' }, object: { key: 'k+1', size: 3, eTag: 'abc' } },
    });
  });
});
