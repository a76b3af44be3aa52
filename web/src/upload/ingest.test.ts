import { describe, expect, it } from 'vitest';
import type { UploadFileStatus, UploadStatus } from '../api/uploads';
import type { FileProgress } from './engine';
import { joinIngest, summarizeIngest, uploadsToWatch } from './ingest';

const file = (id: string, changes: Partial<FileProgress>): FileProgress => ({ id, name: id, path: id, sizeBytes: 10, loadedBytes: 10, state: 'uploaded', multipart: false, resumed: false, retries: 0, ...changes });
const status = (uploadId: string, files: Partial<UploadFileStatus>[]): UploadStatus => ({
  uploadId,
  createdAt: '',
  expiresAt: '',
  owner: 'me',
  client: 'web',
  totals: { files: files.length, waiting: 0, processing: 0, accepted: 0, duplicate: 0, rejected: 0, held: 0, instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 } },
  files: files.map((f, index) => ({ index, name: `f${index}`, sizeBytes: 10, state: 'waiting', instances: { accepted: 0, duplicate: 0, rejected: 0, held: 0 }, studies: [], ...f })),
});

describe('ingest status of the files sent', () => {
  it('joins each file to its ingest status by upload and file number', () => {
    const rows = joinIngest([file('a', { uploadId: 'u1', index: 0 }), file('b', { uploadId: 'u1', index: 1 }), file('c', { state: 'queued', loadedBytes: 0 })], new Map([['u1', status('u1', [{ state: 'accepted' }, { state: 'rejected', reason: 'Not a DICOM file.' }])]]));
    expect(rows.map((r) => [r.id, r.ingest?.state, r.ingest?.reason])).toEqual([['a', 'accepted', undefined], ['b', 'rejected', 'Not a DICOM file.'], ['c', undefined, undefined]]);
  });

  it('keeps watching an upload until every file sent is settled', () => {
    const files = [file('a', { uploadId: 'u1', index: 0 }), file('b', { uploadId: 'u1', index: 1 }), file('c', { uploadId: 'u2', index: 0, state: 'failed' })];
    expect(uploadsToWatch(files, new Map())).toEqual(['u1']);
    expect(uploadsToWatch(files, new Map([['u1', status('u1', [{ state: 'accepted' }, { state: 'processing' }])]]))).toEqual(['u1']);
    expect(uploadsToWatch(files, new Map([['u1', status('u1', [{ state: 'accepted' }, { state: 'held', reason: 'burned-in annotation' }])]]))).toEqual([]);
  });

  it('sums files and images by outcome, and the studies they landed in', () => {
    const rows = joinIngest(
      [file('a', { uploadId: 'u1', index: 0 }), file('b', { uploadId: 'u1', index: 1 }), file('c', { uploadId: 'u1', index: 2 }), file('d', { uploadId: 'u1', index: 3 })],
      new Map([['u1', status('u1', [
        { state: 'accepted', instances: { accepted: 3, duplicate: 0, rejected: 0, held: 0 }, studies: ['s1'] },
        { state: 'duplicate', studies: ['s1'] },
        { state: 'accepted', instances: { accepted: 1, duplicate: 0, rejected: 0, held: 0 }, studies: ['s2'] },
        { state: 'processing' },
      ])]]),
    );
    expect(summarizeIngest(rows)).toEqual({ accepted: 2, duplicate: 1, rejected: 0, held: 0, pending: 1, instancesAccepted: 4, studies: ['s1', 's2'] });
  });
});
