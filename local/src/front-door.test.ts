import { describe, expect, it } from 'vitest';
import { loggedPath } from './front-door';

describe('the request log line of the front door', () => {
  it('never shows a query string, nor an S3 object key (keys of uploads may name a patient)', () => {
    expect(loggedPath('/api/studies?q=DOE', '/s3')).toBe('/api/studies');
    expect(loggedPath('/s3/quarantine/incoming/DOE_JOHN.dcm?X-Amz-Signature=abc', '/s3')).toBe('/s3/quarantine/…');
    expect(loggedPath('/s3', '/s3')).toBe('/s3');
    expect(loggedPath('/s3-not-a-bucket/x', '/s3')).toBe('/s3-not-a-bucket/x');
  });

  it('reads the path as routing does: a dot-segment path to S3 is logged as an S3 request', () => {
    expect(loggedPath('/api/../s3/quarantine/DOE_JOHN.dcm', '/s3')).toBe('/s3/quarantine/…');
    expect(loggedPath('/s3/./quarantine/DOE_JOHN.dcm', '/s3')).toBe('/s3/quarantine/…');
  });
});
