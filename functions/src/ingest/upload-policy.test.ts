import { describe, expect, it } from 'vitest';
import { planParts, quarantineKey, unregisteredUploadId, uploadSettings } from './upload-policy';

const MiB = 1024 * 1024;

describe('upload policy', () => {
  it('builds quarantine keys without any part of the file name', () => {
    const id = '0b7a3c52-6a0e-4c5f-9d0c-4d8f0e2d1a11';
    expect(quarantineKey(id, 7)).toBe(`incoming/${id}/7`);
  });

  it('plans parts of at least the minimum size and never more than 10,000', () => {
    expect(planParts(20 * MiB, 8 * MiB)).toEqual({ partSizeBytes: 8 * MiB, partCount: 3 });
    expect(planParts(8 * MiB, 8 * MiB)).toEqual({ partSizeBytes: 8 * MiB, partCount: 1 });
    const huge = planParts(200 * 1024 * MiB, 8 * MiB);
    expect(huge.partCount).toBeLessThanOrEqual(10_000);
    expect(huge.partSizeBytes % MiB).toBe(0);
    expect(huge.partSizeBytes * huge.partCount).toBeGreaterThanOrEqual(200 * 1024 * MiB);
  });

  it('derives a stable RFC 4122 id for unannounced objects', () => {
    const a = unregisteredUploadId('bucket', 'incoming/x.dcm');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(unregisteredUploadId('bucket', 'incoming/x.dcm')).toBe(a);
    expect(unregisteredUploadId('bucket', 'incoming/y.dcm')).not.toBe(a);
  });

  it('reads limits from the environment and refuses nonsense', () => {
    expect(uploadSettings({}).urlExpiresSeconds).toBe(900);
    expect(uploadSettings({ UPLOAD_URL_EXPIRES_SECONDS: '60' }).urlExpiresSeconds).toBe(60);
    expect(() => uploadSettings({ UPLOAD_PART_SIZE_BYTES: '1024' })).toThrow(/UPLOAD_PART_SIZE_BYTES/);
  });
});
