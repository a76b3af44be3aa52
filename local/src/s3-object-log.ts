/**
 * Where the S3 emulator keeps object bodies: appended to segment files,
 * found through an index (bucket, key → segment, offset, length, metadata)
 * in SQLite. fauxqs's own FileS3Persistence creates two files per object (the
 * body and a metadata file); creating a file costs ~0.4-0.9 ms of kernel time
 * on this kind of machine, which made file creation the largest part of the
 * emulator's work per object. Appending to an open file and an index row cost
 * ~0.1 ms (measured with 0.5 MB objects).
 *
 * Buckets, multipart parts and objects written by fauxqs's file layout
 * before (data directories of earlier versions) stay in that layout and are
 * read as before; the index wins where both know a key. Bodies of deleted or
 * overwritten objects stay in their segment until the data directory is
 * reset (a local stand-in keeps no compaction); metadata is the same JSON
 * fauxqs writes. The index commits without an fsync per object (WAL,
 * synchronous=NORMAL): a crash loses nothing, a power cut the last writes.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/** fauxqs's stored object (s3Types.d.ts), as far as persistence sees it. */
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

/** The methods of fauxqs's FileS3Persistence this class overrides or calls. */
export interface FileS3PersistenceBase {
  upsertObject(bucket: string, obj: StoredObject): void;
  deleteObject(bucket: string, key: string): void;
  deleteObjectsByBucket(bucket: string): void;
  deleteAllObjects(): void;
  deleteBucket(name: string): void;
  renameObject(bucket: string, sourceKey: string, destKey: string): void;
  readBody(bucket: string, key: string): Buffer;
  purgeAll(): void;
  loadS3(store: unknown): void;
  close(): void;
}

interface RestoringStore {
  restoreObject(bucket: string, obj: StoredObject): void;
}

/** The metadata of an object, field for field as fauxqs's FileS3Persistence writes it. */
export function objectMeta(obj: Omit<StoredObject, 'body'>): string {
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

/** An object from its metadata, body left empty (fauxqs reads bodies on demand through readBody), as fauxqs's loader builds it. */
export function objectFromMeta(json: string): StoredObject {
  const meta = JSON.parse(json) as Omit<StoredObject, 'body' | 'lastModified'> & { lastModified: string };
  return { ...meta, body: Buffer.alloc(0), lastModified: new Date(meta.lastModified), metadata: meta.metadata ?? {} };
}

/** A new segment once the current one holds this much. */
const segmentBytes = 1024 * 1024 * 1024;

interface IndexRow { segment: number; offset: number; length: number; meta: string }

type Base = new (dir: string) => FileS3PersistenceBase;

/** fauxqs's FileS3Persistence (loaded at run time) with object bodies in segments. */
export function objectLogPersistence(FileS3Persistence: Base, Database: typeof DatabaseSync): new (dir: string) => FileS3PersistenceBase {
  return class ObjectLog extends FileS3Persistence {
    private readonly db: DatabaseSync;
    private readonly segmentsDir: string;
    private readonly readers = new Map<number, number>();
    private writer: { id: number; fd: number; size: number };
    private readonly statements: Record<'find' | 'upsert' | 'remove' | 'removeBucket' | 'removeAll' | 'all' | 'rename', StatementSync>;

    constructor(dir: string) {
      super(dir);
      this.segmentsDir = join(dir, 'segments');
      mkdirSync(this.segmentsDir, { recursive: true });
      this.db = new Database(join(dir, 'objects.db'));
      this.db.exec('PRAGMA journal_mode = WAL');
      this.db.exec('PRAGMA synchronous = NORMAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS objects (
        bucket TEXT NOT NULL, key TEXT NOT NULL, segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, meta TEXT NOT NULL,
        PRIMARY KEY (bucket, key)) WITHOUT ROWID`);
      this.statements = {
        find: this.db.prepare('SELECT segment, offset, length, meta FROM objects WHERE bucket = ? AND key = ?'),
        upsert: this.db.prepare('INSERT OR REPLACE INTO objects (bucket, key, segment, offset, length, meta) VALUES (?, ?, ?, ?, ?, ?)'),
        remove: this.db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
        removeBucket: this.db.prepare('DELETE FROM objects WHERE bucket = ?'),
        removeAll: this.db.prepare('DELETE FROM objects'),
        all: this.db.prepare('SELECT bucket, meta FROM objects'),
        rename: this.db.prepare('UPDATE objects SET key = ?, meta = ? WHERE bucket = ? AND key = ?'),
      };
      const last = Math.max(0, ...readdirSync(this.segmentsDir).map((name) => Number(/^(\d+)\.seg$/.exec(name)?.[1] ?? 0)));
      this.writer = this.openSegment(Math.max(last, 1));
    }

    private openSegment(id: number): { id: number; fd: number; size: number } {
      const fd = openSync(join(this.segmentsDir, `${String(id).padStart(6, '0')}.seg`), 'a');
      return { id, fd, size: fstatSync(fd).size };
    }

    private append(body: Buffer): { segment: number; offset: number } {
      if (this.writer.size > 0 && this.writer.size + body.length > segmentBytes) {
        closeSync(this.writer.fd);
        this.writer = this.openSegment(this.writer.id + 1);
      }
      const { id, fd } = this.writer;
      const offset = this.writer.size;
      for (let written = 0; written < body.length;) written += writeSync(fd, body, written, body.length - written);
      this.writer.size += body.length;
      return { segment: id, offset };
    }

    private reader(segment: number): number {
      let fd = this.readers.get(segment);
      if (fd === undefined) {
        fd = openSync(join(this.segmentsDir, `${String(segment).padStart(6, '0')}.seg`), 'r');
        this.readers.set(segment, fd);
      }
      return fd;
    }

    override upsertObject(bucket: string, obj: StoredObject): void {
      const { segment, offset } = this.append(obj.body);
      this.statements.upsert.run(bucket, obj.key, segment, offset, obj.body.length, objectMeta(obj));
    }

    override readBody(bucket: string, key: string): Buffer {
      const row = this.statements.find.get(bucket, key) as IndexRow | undefined;
      if (!row) return super.readBody(bucket, key);
      const body = Buffer.allocUnsafe(row.length);
      const fd = this.reader(row.segment);
      for (let read = 0; read < row.length;) {
        const n = readSync(fd, body, read, row.length - read, row.offset + read);
        if (n === 0) throw new Error(`object body cut short in segment ${row.segment}`);
        read += n;
      }
      return body;
    }

    override deleteObject(bucket: string, key: string): void {
      this.statements.remove.run(bucket, key);
      // Its files, when it was written in fauxqs's layout.
      super.deleteObject(bucket, key);
    }

    override renameObject(bucket: string, sourceKey: string, destKey: string): void {
      const row = this.statements.find.get(bucket, sourceKey) as IndexRow | undefined;
      if (!row) return super.renameObject(bucket, sourceKey, destKey);
      this.statements.remove.run(bucket, destKey);
      this.statements.rename.run(destKey, JSON.stringify({ ...(JSON.parse(row.meta) as object), key: destKey }), bucket, sourceKey);
    }

    override deleteObjectsByBucket(bucket: string): void {
      this.statements.removeBucket.run(bucket);
      super.deleteObjectsByBucket(bucket);
    }

    override deleteAllObjects(): void {
      this.statements.removeAll.run();
      super.deleteAllObjects();
    }

    override deleteBucket(name: string): void {
      this.statements.removeBucket.run(name);
      super.deleteBucket(name);
    }

    override purgeAll(): void {
      this.statements.removeAll.run();
      super.purgeAll();
    }

    /** Buckets, multipart uploads and objects of fauxqs's layout first, then the index (newer where both know a key). */
    override loadS3(store: unknown): void {
      super.loadS3(store);
      for (const row of this.statements.all.all() as { bucket: string; meta: string }[]) (store as RestoringStore).restoreObject(row.bucket, objectFromMeta(row.meta));
    }

    override close(): void {
      for (const fd of this.readers.values()) closeSync(fd);
      this.readers.clear();
      closeSync(this.writer.fd);
      this.db.close();
      super.close();
    }
  };
}
