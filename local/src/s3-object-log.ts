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
 *
 * Multipart parts go to the segments too (a `parts` index row each, no
 * files), and the store keeps only their size and ETag in memory
 * (s3-multipart-log.ts). Completing an upload writes no byte: the object's
 * index row lists the parts' extents, in order, and a read assembles them.
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

/** fauxqs's multipart part (s3Types.d.ts); `size` is set where the body stays in the log only. */
export interface StoredPart {
  partNumber: number;
  body: Buffer;
  etag: string;
  lastModified: Date;
  checksumValue?: string;
  size?: number;
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
  upsertMultipartPart(uploadId: string, part: StoredPart): void;
  deleteMultipartUpload(uploadId: string): void;
  deleteAllMultipartUploads(): void;
  close(): void;
}

/** What the object log adds: multipart uploads completed from their logged parts, without copying a byte. */
/** Where an object's body lies in the segment files, in order (to stream it instead of reading it into memory). */
export interface BodyExtent {
  path: string;
  offset: number;
  length: number;
}

export interface LoggedBodies {
  /** The extents of a logged object's body; undefined when the object is not in the log (fauxqs's file layout). */
  extentsOf(bucket: string, key: string): BodyExtent[] | undefined;
}

export interface LoggedParts {
  /** A logged part's body (to complete an upload mixing both layouts the fauxqs way). */
  readPart(uploadId: string, partNumber: number): Buffer;
  /** Stores `obj` (its body left empty) as the concatenation of the upload's parts `partNumbers`, then forgets the upload. */
  completeFromParts(uploadId: string, bucket: string, obj: StoredObject, partNumbers: number[]): void;
}

interface RestoringMultipartStore {
  multipartUploads: Map<string, { parts: Map<number, StoredPart> }>;
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

interface IndexRow { segment: number; offset: number; length: number; meta: string; extents: string | null }

/** Where a piece of a body lies: segment, offset, length. */
type Extent = [number, number, number];

interface PartRow { upload_id: string; part_number: number; segment: number; offset: number; length: number; meta: string }

/** A part's metadata, as fauxqs's file layout writes it beside the body. */
function partMeta(part: StoredPart): string {
  return JSON.stringify({
    partNumber: part.partNumber,
    etag: part.etag,
    lastModified: part.lastModified.toISOString(),
    ...(part.checksumValue && { checksumValue: part.checksumValue }),
  });
}

type Base = new (dir: string) => FileS3PersistenceBase;

/** fauxqs's FileS3Persistence (loaded at run time) with object bodies in segments. */
export function objectLogPersistence(FileS3Persistence: Base, Database: typeof DatabaseSync): new (dir: string) => FileS3PersistenceBase {
  return class ObjectLog extends FileS3Persistence implements LoggedParts, LoggedBodies {
    private readonly db: DatabaseSync;
    private readonly segmentsDir: string;
    private readonly readers = new Map<number, number>();
    private writer: { id: number; fd: number; size: number };
    private readonly statements: Record<
      'find' | 'upsert' | 'remove' | 'removeBucket' | 'removeAll' | 'all' | 'rename' | 'findPart' | 'upsertPart' | 'removeParts' | 'removeAllParts' | 'allParts',
      StatementSync
    >;

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
      // Data directories of earlier versions have no extents column: objects were one extent each.
      const columns = (this.db.prepare('PRAGMA table_info(objects)').all() as { name: string }[]).map((column) => column.name);
      if (!columns.includes('extents')) this.db.exec('ALTER TABLE objects ADD COLUMN extents TEXT');
      this.db.exec(`CREATE TABLE IF NOT EXISTS parts (
        upload_id TEXT NOT NULL, part_number INTEGER NOT NULL, segment INTEGER NOT NULL, offset INTEGER NOT NULL, length INTEGER NOT NULL, meta TEXT NOT NULL,
        PRIMARY KEY (upload_id, part_number)) WITHOUT ROWID`);
      this.statements = {
        find: this.db.prepare('SELECT segment, offset, length, meta, extents FROM objects WHERE bucket = ? AND key = ?'),
        upsert: this.db.prepare('INSERT OR REPLACE INTO objects (bucket, key, segment, offset, length, meta, extents) VALUES (?, ?, ?, ?, ?, ?, ?)'),
        remove: this.db.prepare('DELETE FROM objects WHERE bucket = ? AND key = ?'),
        removeBucket: this.db.prepare('DELETE FROM objects WHERE bucket = ?'),
        removeAll: this.db.prepare('DELETE FROM objects'),
        all: this.db.prepare('SELECT bucket, meta FROM objects'),
        rename: this.db.prepare('UPDATE objects SET key = ?, meta = ? WHERE bucket = ? AND key = ?'),
        findPart: this.db.prepare('SELECT segment, offset, length FROM parts WHERE upload_id = ? AND part_number = ?'),
        upsertPart: this.db.prepare('INSERT OR REPLACE INTO parts (upload_id, part_number, segment, offset, length, meta) VALUES (?, ?, ?, ?, ?, ?)'),
        removeParts: this.db.prepare('DELETE FROM parts WHERE upload_id = ?'),
        removeAllParts: this.db.prepare('DELETE FROM parts'),
        allParts: this.db.prepare('SELECT upload_id, part_number, length, meta FROM parts'),
      };
      const last = Math.max(0, ...readdirSync(this.segmentsDir).map((name) => Number(/^(\d+)\.seg$/.exec(name)?.[1] ?? 0)));
      this.writer = this.openSegment(Math.max(last, 1));
    }

    private segmentPath(id: number): string {
      return join(this.segmentsDir, `${String(id).padStart(6, '0')}.seg`);
    }

    private openSegment(id: number): { id: number; fd: number; size: number } {
      const fd = openSync(this.segmentPath(id), 'a');
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
        fd = openSync(this.segmentPath(segment), 'r');
        this.readers.set(segment, fd);
      }
      return fd;
    }

    /** Reads `length` bytes at `offset` of `segment` into `into` from `at`. */
    private readExtent([segment, offset, length]: Extent, into: Buffer, at: number): void {
      const fd = this.reader(segment);
      for (let read = 0; read < length;) {
        const n = readSync(fd, into, at + read, length - read, offset + read);
        if (n === 0) throw new Error(`object body cut short in segment ${segment}`);
        read += n;
      }
    }

    override upsertObject(bucket: string, obj: StoredObject): void {
      const { segment, offset } = this.append(obj.body);
      this.statements.upsert.run(bucket, obj.key, segment, offset, obj.body.length, objectMeta(obj), null);
    }

    private extentRows(bucket: string, key: string): Extent[] | undefined {
      const row = this.statements.find.get(bucket, key) as IndexRow | undefined;
      if (!row) return undefined;
      return row.extents ? (JSON.parse(row.extents) as Extent[]) : [[row.segment, row.offset, row.length]];
    }

    extentsOf(bucket: string, key: string): BodyExtent[] | undefined {
      return this.extentRows(bucket, key)?.map(([segment, offset, length]) => ({ path: this.segmentPath(segment), offset, length }));
    }

    override readBody(bucket: string, key: string): Buffer {
      const extents = this.extentRows(bucket, key);
      if (!extents) return super.readBody(bucket, key);
      const body = Buffer.allocUnsafe(extents.reduce((sum, extent) => sum + extent[2], 0));
      let at = 0;
      for (const extent of extents) {
        this.readExtent(extent, body, at);
        at += extent[2];
      }
      return body;
    }

    override upsertMultipartPart(uploadId: string, part: StoredPart): void {
      const { segment, offset } = this.append(part.body);
      this.statements.upsertPart.run(uploadId, part.partNumber, segment, offset, part.body.length, partMeta(part));
    }

    readPart(uploadId: string, partNumber: number): Buffer {
      const row = this.statements.findPart.get(uploadId, partNumber) as PartRow | undefined;
      if (!row) throw new Error(`part ${partNumber} of upload ${uploadId} is not in the log`);
      const body = Buffer.allocUnsafe(row.length);
      this.readExtent([row.segment, row.offset, row.length], body, 0);
      return body;
    }

    completeFromParts(uploadId: string, bucket: string, obj: StoredObject, partNumbers: number[]): void {
      const extents = partNumbers.map((partNumber): Extent => {
        const row = this.statements.findPart.get(uploadId, partNumber) as PartRow | undefined;
        if (!row) throw new Error(`part ${partNumber} of upload ${uploadId} is not in the log`);
        return [row.segment, row.offset, row.length];
      });
      const [first = [this.writer.id, 0, 0]] = extents;
      this.db.exec('BEGIN');
      try {
        this.statements.upsert.run(bucket, obj.key, first[0], first[1], obj.contentLength, objectMeta(obj), JSON.stringify(extents));
        this.statements.removeParts.run(uploadId);
        this.db.exec('COMMIT');
      } catch (error) {
        this.db.exec('ROLLBACK');
        throw error;
      }
      super.deleteMultipartUpload(uploadId);
    }

    override deleteMultipartUpload(uploadId: string): void {
      this.statements.removeParts.run(uploadId);
      super.deleteMultipartUpload(uploadId);
    }

    override deleteAllMultipartUploads(): void {
      this.statements.removeAllParts.run();
      super.deleteAllMultipartUploads();
    }

    override deleteObject(bucket: string, key: string): void {
      this.statements.remove.run(bucket, key);
      // Its files, when it was written in fauxqs's layout.
      super.deleteObject(bucket, key);
    }

    override renameObject(bucket: string, sourceKey: string, destKey: string): void {
      const row = this.statements.find.get(bucket, sourceKey) as IndexRow | undefined;
      // Whatever held the destination before goes (the index wins over files when both know a key).
      this.statements.remove.run(bucket, destKey);
      if (!row) return super.renameObject(bucket, sourceKey, destKey);
      this.statements.rename.run(destKey, JSON.stringify({ ...(JSON.parse(row.meta) as object), key: destKey }), bucket, sourceKey);
      // Files of the source in the earlier layout would otherwise come back under its old key after a restart.
      super.deleteObject(bucket, sourceKey);
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
      // fauxqs's purgeAll calls deleteAllMultipartUploads (above), which drops the parts.
      super.purgeAll();
    }

    /**
     * Buckets, multipart uploads and objects of fauxqs's layout first, then the index (newer where both know a key),
     * then the logged parts of unfinished uploads: size and ETag only, bodies stay in the log.
     */
    override loadS3(store: unknown): void {
      super.loadS3(store);
      for (const row of this.statements.all.all() as { bucket: string; meta: string }[]) (store as RestoringStore).restoreObject(row.bucket, objectFromMeta(row.meta));
      const uploads = (store as RestoringMultipartStore).multipartUploads;
      for (const row of this.statements.allParts.all() as unknown as PartRow[]) {
        const upload = uploads.get(row.upload_id);
        if (!upload) continue;
        const meta = JSON.parse(row.meta) as { etag: string; lastModified: string; checksumValue?: string };
        upload.parts.set(row.part_number, {
          partNumber: row.part_number,
          body: Buffer.alloc(0),
          size: row.length,
          etag: meta.etag,
          lastModified: new Date(meta.lastModified),
          ...(meta.checksumValue && { checksumValue: meta.checksumValue }),
        });
      }
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
