/**
 * The S3 emulator's object files, written off its event loop. fauxqs's own
 * FileS3Persistence writes every object (a data file and a metadata file)
 * with synchronous fs calls inside the request; creating a file costs
 * 0.3-1.5 ms of kernel time on this kind of machine, during which the
 * emulator's single event loop serves nobody. This subclass keeps fauxqs's
 * layout (so data directories load as before, through the inherited
 * loadS3) and writes through the libuv thread pool instead:
 * - a body stays readable from memory until its files are written;
 * - operations on one key (and on one multipart upload) keep their order,
 *   whole-bucket operations wait for everything before them;
 * - writes started by a request are awaited by the emulator before the
 *   request is answered (`writesOf` + `awaitRequestWrites`), so an object
 *   S3 acknowledged is in its files, as with the synchronous version.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';

/** fauxqs's stored object (s3Types.d.ts), as far as its files need it. */
export interface StoredObject {
  key: string;
  body: Buffer;
  contentType: string;
  contentLength: number;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  contentEncoding?: string;
  parts?: unknown;
  checksumAlgorithm?: string;
  checksumValue?: string;
  checksumType?: string;
  partChecksums?: unknown;
}

export interface StoredPart {
  partNumber: number;
  body: Buffer;
  etag: string;
  lastModified: Date;
  checksumValue?: string;
}

/** The methods of fauxqs's FileS3Persistence this class builds on. */
export interface FileS3PersistenceBase {
  baseDir: string;
  bucketsDir: string;
  multipartDir: string;
  upsertObject(bucket: string, obj: StoredObject): void;
  deleteObject(bucket: string, key: string): void;
  deleteObjectsByBucket(bucket: string): void;
  deleteAllObjects(): void;
  deleteBucket(name: string): void;
  renameObject(bucket: string, sourceKey: string, destKey: string): void;
  readBody(bucket: string, key: string): Buffer;
  upsertMultipartPart(uploadId: string, part: StoredPart): void;
  deleteMultipartUpload(uploadId: string): void;
  deleteAllMultipartUploads(): void;
  purgeAll?(): void;
  loadS3(store: unknown): void;
  close?(): void;
}

export interface BackgroundObjectFiles extends FileS3PersistenceBase {
  /** Settles once every write started so far is on disk (failures included). */
  flush(): Promise<void>;
  /** Runs `next` with a scope collecting the writes it starts (the emulator's onRequest hook). */
  collectWrites(next: () => void): void;
  /** The writes started in the current scope; awaited before the request is answered. */
  writesOfCurrentRequest(): Promise<void>[];
}

/**
 * A key as a relative file path, exactly as fauxqs encodes it
 * (fauxqs/dist/s3/fileS3Persistence.js, encodeKeyToPath, not exported):
 * unsafe characters percent-encoded, '/' as directory separators.
 */
export function keyPath(key: string): string {
  // eslint-disable-next-line no-control-regex
  const encoded = key.replace(/[<>:"|?*\\%\x00-\x1f]/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return encoded.split('/').join(sep);
}

/** The metadata file's content, field for field as fauxqs writes it. */
export function objectMeta(obj: StoredObject): string {
  return JSON.stringify({
    key: obj.key,
    contentType: obj.contentType,
    contentLength: obj.contentLength,
    etag: obj.etag,
    lastModified: obj.lastModified.toISOString(),
    metadata: obj.metadata,
    ...(obj.contentLanguage && { contentLanguage: obj.contentLanguage }),
    ...(obj.contentDisposition && { contentDisposition: obj.contentDisposition }),
    ...(obj.cacheControl && { cacheControl: obj.cacheControl }),
    ...(obj.contentEncoding && { contentEncoding: obj.contentEncoding }),
    ...(obj.parts ? { parts: obj.parts } : {}),
    ...(obj.checksumAlgorithm && { checksumAlgorithm: obj.checksumAlgorithm }),
    ...(obj.checksumValue && { checksumValue: obj.checksumValue }),
    ...(obj.checksumType && { checksumType: obj.checksumType }),
    ...(obj.partChecksums ? { partChecksums: obj.partChecksums } : {}),
  });
}

type Base = new (dir: string) => FileS3PersistenceBase;

/** fauxqs's FileS3Persistence class (loaded at run time) extended to write in the background. */
export function backgroundObjectFiles(FileS3Persistence: Base, onError: (error: unknown) => void): new (dir: string) => BackgroundObjectFiles {
  return class extends FileS3Persistence implements BackgroundObjectFiles {
    /** The last operation queued per key ("o\0bucket\0key", "m\0uploadId"). */
    private readonly tails = new Map<string, Promise<void>>();
    /** Bodies not yet in their files. */
    private readonly unwritten = new Map<string, Buffer>();
    private readonly running = new Set<Promise<void>>();
    /** Whole-bucket operations: everything queued after one waits for it. */
    private barrier: Promise<void> = Promise.resolve();
    private readonly knownDirs = new Set<string>();
    private readonly scope = new AsyncLocalStorage<Promise<void>[]>();

    collectWrites(next: () => void): void {
      this.scope.run([], next);
    }

    writesOfCurrentRequest(): Promise<void>[] {
      return this.scope.getStore() ?? [];
    }

    async flush(): Promise<void> {
      while (this.running.size > 0) await Promise.allSettled([...this.running]);
      await this.barrier;
    }

    /** Queues `work` after earlier operations on the same ids; the returned promise is the work's outcome. */
    private enqueue(ids: readonly string[], work: () => Promise<void> | void): Promise<void> {
      const before = [this.barrier, ...ids.map((id) => this.tails.get(id))];
      const done = Promise.all(before).then(work);
      const settled = done.then(() => undefined, () => undefined);
      for (const id of ids) this.tails.set(id, settled);
      this.running.add(settled);
      void settled.then(() => {
        this.running.delete(settled);
        for (const id of ids) if (this.tails.get(id) === settled) this.tails.delete(id);
      });
      const request = this.scope.getStore();
      if (request) request.push(done);
      // Outside a request nobody awaits it: report failures here.
      else done.catch(onError);
      return done;
    }

    /** Queues `work` after everything queued so far; later operations wait for it. */
    private enqueueBarrier(work: () => void): void {
      const everything = Promise.allSettled([this.barrier, ...this.running]);
      this.barrier = everything.then(() => {
        this.knownDirs.clear();
        try {
          work();
        } catch (error) {
          onError(error);
        }
      });
    }

    private async ensureDir(dir: string): Promise<void> {
      if (this.knownDirs.has(dir)) return;
      await mkdir(dir, { recursive: true });
      this.knownDirs.add(dir);
    }

    override upsertObject(bucket: string, obj: StoredObject): void {
      const id = `o\0${bucket}\0${obj.key}`;
      const body = obj.body;
      this.unwritten.set(id, body);
      const base = join(this.bucketsDir, bucket, 'objects', keyPath(obj.key));
      const meta = objectMeta(obj);
      void this.enqueue([id], async () => {
        try {
          await this.ensureDir(dirname(base));
          await Promise.all([writeFile(`${base}.data`, body), writeFile(`${base}.meta.json`, meta)]);
        } finally {
          if (this.unwritten.get(id) === body) this.unwritten.delete(id);
        }
      }).catch(() => undefined);
    }

    override readBody(bucket: string, key: string): Buffer {
      return this.unwritten.get(`o\0${bucket}\0${key}`) ?? super.readBody(bucket, key);
    }

    override deleteObject(bucket: string, key: string): void {
      const id = `o\0${bucket}\0${key}`;
      this.unwritten.delete(id);
      void this.enqueue([id], () => {
        // It may remove now-empty directories: forget them.
        this.knownDirs.clear();
        super.deleteObject(bucket, key);
      }).catch(() => undefined);
    }

    override renameObject(bucket: string, sourceKey: string, destKey: string): void {
      const source = `o\0${bucket}\0${sourceKey}`;
      const dest = `o\0${bucket}\0${destKey}`;
      const body = this.unwritten.get(source);
      if (body) {
        this.unwritten.delete(source);
        this.unwritten.set(dest, body);
      }
      void this.enqueue([source, dest], () => {
        this.knownDirs.clear();
        super.renameObject(bucket, sourceKey, destKey);
        if (body && this.unwritten.get(dest) === body) this.unwritten.delete(dest);
      }).catch(() => undefined);
    }

    override upsertMultipartPart(uploadId: string, part: StoredPart): void {
      const dir = join(this.multipartDir, uploadId, 'parts');
      const meta = JSON.stringify({
        partNumber: part.partNumber,
        etag: part.etag,
        lastModified: part.lastModified.toISOString(),
        ...(part.checksumValue && { checksumValue: part.checksumValue }),
      });
      void this.enqueue([`m\0${uploadId}`], async () => {
        await this.ensureDir(dir);
        await Promise.all([writeFile(join(dir, `${part.partNumber}.data`), part.body), writeFile(join(dir, `${part.partNumber}.meta.json`), meta)]);
      }).catch(() => undefined);
    }

    override deleteMultipartUpload(uploadId: string): void {
      void this.enqueue([`m\0${uploadId}`], () => {
        this.knownDirs.clear();
        super.deleteMultipartUpload(uploadId);
      }).catch(() => undefined);
    }

    override deleteObjectsByBucket(bucket: string): void {
      for (const id of this.unwritten.keys()) if (id.startsWith(`o\0${bucket}\0`)) this.unwritten.delete(id);
      this.enqueueBarrier(() => super.deleteObjectsByBucket(bucket));
    }

    override deleteAllObjects(): void {
      this.unwritten.clear();
      this.enqueueBarrier(() => super.deleteAllObjects());
    }

    override deleteBucket(name: string): void {
      for (const id of this.unwritten.keys()) if (id.startsWith(`o\0${name}\0`)) this.unwritten.delete(id);
      this.enqueueBarrier(() => super.deleteBucket(name));
    }

    override deleteAllMultipartUploads(): void {
      this.enqueueBarrier(() => super.deleteAllMultipartUploads());
    }

    override purgeAll(): void {
      this.unwritten.clear();
      this.enqueueBarrier(() => super.purgeAll?.());
    }
  };
}
