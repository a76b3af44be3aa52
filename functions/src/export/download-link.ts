/**
 * The download link of a finished export: a presigned S3 GET of its zip,
 * signed by the presigning client (so locally it goes through the front
 * door's /s3 path), valid until the export expires (at most S3's 7 days).
 * In AWS a presigned URL also dies with the session of the role that signed
 * it, which is why the API signs a fresh one on every download request.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { maxPresignSeconds } from './export-settings';

export interface DownloadLink {
  url: string;
  urlExpiresAt: Date;
}

/** The file name users get: `medlake-export-<first 8 of the id>.zip`. */
export function exportFileName(exportId: string): string {
  return `medlake-export-${exportId.slice(0, 8)}.zip`;
}

export function exportObjectKey(exportId: string): string {
  return `${exportId}/${exportFileName(exportId)}`;
}

/** A presigned GET valid until `expiresAt` (undefined when that has passed). */
export async function presignDownload(client: S3Client, bucket: string, exportId: string, objectKey: string, expiresAt: Date, now: Date = new Date()): Promise<DownloadLink | undefined> {
  const seconds = Math.min(maxPresignSeconds, Math.floor((expiresAt.getTime() - now.getTime()) / 1000));
  if (seconds < 1) return undefined;
  const url = await getSignedUrl(
    client,
    new GetObjectCommand({
      Bucket: bucket,
      Key: objectKey,
      ResponseContentDisposition: `attachment; filename="${exportFileName(exportId)}"`,
      ResponseContentType: 'application/zip',
    }),
    { expiresIn: seconds, signingDate: now },
  );
  return { url, urlExpiresAt: new Date(now.getTime() + seconds * 1000) };
}
