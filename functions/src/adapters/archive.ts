/**
 * The archive bucket: de-identified DICOM Part 10 files, the lake itself.
 * Keys: `studies/{Study}/series/{Series}/instances/{SOP}.dcm` for the first
 * version of an instance, `…/{SOP}.v{n}.dcm` for later ones (older versions
 * stay readable under their own keys; the bucket is also versioned in AWS),
 * `held/{SOP}/{sha256 prefix}.dcm` for instances held for review.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bucketName, s3Client } from './aws-clients';
import { signPayloadAs } from './payload-hash';

/** Above this, files go up in parts (single PUTs are slower for big objects, and the local emulator caps them at ~11 MiB). */
const multipartAboveBytes = 8 * 1024 * 1024;

export function archiveKey(uids: { study: string; series: string; sop: string }, version: number): string {
  const base = `studies/${uids.study}/series/${uids.series}/instances/${uids.sop}`;
  return version <= 1 ? `${base}.dcm` : `${base}.v${version}.dcm`;
}

/** Held files are named by content: the same held file stored twice lands on the same key. */
export function heldKey(sop: string, sha256Hex: string): string {
  return `held/${sop}/${sha256Hex.slice(0, 16)}.dcm`;
}

export class Archive {
  constructor(readonly bucket: string, private readonly s3: S3Client) {}

  /** Stores a file with its SHA-256 as metadata and as S3 checksum (S3 verifies what it received). */
  async put(key: string, bytes: Uint8Array, sha256Hex: string): Promise<void> {
    if (bytes.length > multipartAboveBytes) {
      const upload = new Upload({
        client: this.s3,
        params: { Bucket: this.bucket, Key: key, Body: bytes, ContentType: 'application/dicom', Metadata: { sha256: sha256Hex } },
        partSize: multipartAboveBytes,
        queueSize: 4,
      });
      await upload.done();
      return;
    }
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: bytes,
      ContentType: 'application/dicom',
      ContentLength: bytes.length,
      ChecksumSHA256: Buffer.from(sha256Hex, 'hex').toString('base64'),
      Metadata: { sha256: sha256Hex },
    });
    // The signer hashes the payload unless told its hash: we know it already (one pass over the file less).
    await this.s3.send(signPayloadAs(command, sha256Hex));
  }
}

export function archiveFromEnv(env: NodeJS.ProcessEnv = process.env): Archive {
  return new Archive(bucketName('archive', env), s3Client(env));
}
