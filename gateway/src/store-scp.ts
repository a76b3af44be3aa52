/**
 * The DICOM C-STORE receiver (SCP) on dcmjs-dimse. Each association is one
 * StoreScp: it checks the AE titles, negotiates the storage SOP classes and
 * transfer syntaxes, answers C-ECHO, and streams each received data set to
 * disk behind a Part 10 header (bytes untouched, never transcoded, never
 * held whole in memory). The sender hears "success" only after the file is
 * fsynced and renamed into the buffer; if it cannot be stored, it hears
 * A700 (out of resources: disk full) or C000 (cannot process), and keeps the
 * instance to send again.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import dimse from 'dcmjs-dimse';
import type { GatewayLog } from './gateway-log';
import type { InstanceBuffer } from './instance-buffer';
import { part10Header } from './part10-header';
import { chooseTransferSyntax, cleanUid, isAcceptedAbstractSyntax } from './storage-sop-classes';

const { Scp, Dataset, Implementation, constants, responses, log: dimseLog } = dimse;
const { PresentationContextResult, RejectResult, RejectSource, RejectReason, Status } = constants;

type Association = InstanceType<typeof dimse.association.Association>;
type PresentationContext = InstanceType<typeof dimse.association.PresentationContext>;
type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;
type CStoreResponse = InstanceType<typeof dimse.responses.CStoreResponse>;
type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
type CEchoResponse = InstanceType<typeof dimse.responses.CEchoResponse>;
type DimseDataset = InstanceType<typeof dimse.Dataset>;

/** medlake gateway's Implementation Class UID (a UUID-derived 2.25 UID, fixed for this implementation). */
export const implementationClassUid = '2.25.23450104122412326070145176556321611937';
export const implementationVersionName = 'MEDLAKE_GW_1';

/** C-STORE failure statuses (PS3.4 B.2.3). */
export const storeStatus = { success: 0x0000, outOfResources: 0xa700, cannotUnderstand: 0xc000 } as const;

export interface ReceiverOptions {
  aeTitle: string;
  /** Calling AE titles allowed to send; undefined lets any in. */
  allowedCallingAeTitles?: ReadonlySet<string>;
  /** Accept associations whatever called AE title the sender uses. */
  acceptAnyCalledAe?: boolean;
  buffer: InstanceBuffer;
  /** Below this free space in the buffer, instances are refused with A700. */
  minFreeBytes: number;
  log: GatewayLog;
  /** A new instance is durable in the buffer. */
  onStored(path: string): void;
  /** Milliseconds without a PDU before an association is aborted. */
  pduTimeoutMs?: number;
}

export interface ReceiverCounters {
  associations: number;
  stored: number;
  failed: number;
  echoes: number;
}

export interface Receiver {
  port: number;
  counters: ReceiverCounters;
  /** Stops accepting, lets open associations finish (up to graceMs), then closes them. */
  close(graceMs?: number): Promise<void>;
}

/** The library logs association details and data set summaries (UIDs): silence it, we log counts ourselves. */
dimseLog.setLevel('silent');
Implementation.setImplementationClassUid(implementationClassUid);
Implementation.setImplementationVersion(implementationVersionName);

export async function startReceiver(port: number, host: string, options: ReceiverOptions): Promise<Receiver> {
  const counters: ReceiverCounters = { associations: 0, stored: 0, failed: 0, echoes: 0 };
  const connections = new Set<StoreScp>();
  const space = new FreeSpaceWatch(options);
  await space.refresh();
  const server: Server = createServer((socket: Socket) => {
    const scp = new StoreScp(socket, options, counters, space);
    connections.add(scp);
    scp.on('close', () => connections.delete(scp));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.log.error('listener error', { code: (error as NodeJS.ErrnoException).code }));
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  options.log.info('DICOM receiver listening', { host, port: boundPort, aeTitle: options.aeTitle });
  return {
    port: boundPort,
    counters,
    async close(graceMs = 30_000) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      const deadline = Date.now() + graceMs;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const scp of connections) scp.hangUp();
      space.stop();
      await closed;
    },
  };
}

/** Free space is checked every few seconds, not per instance (statfs per C-STORE is wasted work). */
class FreeSpaceWatch {
  low = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ReceiverOptions) {
    this.timer = setInterval(() => void this.refresh(), 5000);
    this.timer.unref();
  }

  async refresh(): Promise<void> {
    try {
      const free = await this.options.buffer.freeBytes();
      const low = free < this.options.minFreeBytes;
      if (low && !this.low) this.options.log.error('buffer disk almost full: refusing new instances (A700)', { freeMiB: Math.floor(free / 1048576) });
      if (!low && this.low) this.options.log.info('buffer disk has room again: accepting instances');
      this.low = low;
    } catch {
      // statfs unsupported: rely on write errors (ENOSPC → A700).
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

interface Reception {
  tempPath: string;
  status?: number;
  path?: string;
}

/**
 * A Writable that writes the header and then the received bytes to a new
 * file, fsyncs it when ended, and never emits 'error' (the library would
 * stall on it): a failure is recorded, later bytes are dropped, and the
 * C-STORE is answered with a failure status.
 */
class DurableFileSink extends Writable {
  error: NodeJS.ErrnoException | undefined;
  bytes = 0;
  private handle: FileHandle | undefined;

  constructor(private readonly path: string, private readonly header: Buffer | undefined) {
    super({ highWaterMark: 1 << 20 });
  }

  override _construct(callback: (error?: Error | null) => void): void {
    if (!this.header) {
      callback();
      return;
    }
    open(this.path, 'wx', 0o600)
      .then(async (handle) => {
        this.handle = handle;
        await handle.write(this.header as Buffer);
      })
      .then(() => callback(), (error: NodeJS.ErrnoException) => {
        this.error ??= error;
        callback();
      });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.bytes += chunk.length;
    if (this.error || !this.handle) {
      callback();
      return;
    }
    this.handle.write(chunk).then(() => callback(), (error: NodeJS.ErrnoException) => {
      this.error ??= error;
      callback();
    });
  }

  override _final(callback: (error?: Error | null) => void): void {
    const handle = this.handle;
    if (!handle) {
      callback();
      return;
    }
    (this.error ? Promise.resolve() : handle.sync())
      .catch((error: NodeJS.ErrnoException) => {
        this.error ??= error;
      })
      .finally(() => handle.close().catch(() => undefined))
      .then(() => callback());
  }
}

class StoreScp extends Scp {
  private associationInfo = { calling: '', called: '', peer: '' };
  private stored = 0;
  private failed = 0;
  private readonly receptions = new WeakMap<Writable, Reception>();
  private readonly results = new WeakMap<DimseDataset, Reception>();
  private closedByUs = false;

  constructor(socket: Socket, private readonly options: ReceiverOptions, private readonly counters: ReceiverCounters, private readonly space: FreeSpaceWatch) {
    super(socket, { associationTimeout: 60_000, pduTimeout: options.pduTimeoutMs ?? 120_000 });
    // The library's own Server sets these for accepted sockets (no 'connect' event fires on them).
    const network = this as unknown as { connected: boolean; connectedTime: number };
    network.connected = true;
    network.connectedTime = Date.now();
    this.associationInfo.peer = socket.remoteAddress ?? '';
    this.on('networkError', () => socket.end());
    this.on('close', () => {
      if (!this.associationInfo.calling) return;
      this.options.log.info('association closed', { calling: this.associationInfo.calling, peer: this.associationInfo.peer, stored: this.stored, failed: this.failed });
    });
  }

  hangUp(): void {
    this.closedByUs = true;
    (this as unknown as { socket: Socket }).socket.destroy();
  }

  override associationRequested(association: Association): void {
    (this as unknown as { association: Association }).association = association;
    const calling = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    this.associationInfo = { ...this.associationInfo, calling, called };
    const log = this.options.log;
    if (!this.options.acceptAnyCalledAe && called !== this.options.aeTitle) {
      log.warn('association rejected: wrong called AE title', { calling, called, expected: this.options.aeTitle, peer: this.associationInfo.peer });
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    if (this.options.allowedCallingAeTitles && !this.options.allowedCallingAeTitles.has(calling)) {
      log.warn('association rejected: calling AE title not allowed', { calling, peer: this.associationInfo.peer });
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CallingAeNotRecognized);
      return;
    }
    let accepted = 0;
    for (const { context } of association.getPresentationContexts()) {
      if (!isAcceptedAbstractSyntax(context.getAbstractSyntaxUid())) {
        context.setResult(PresentationContextResult.RejectAbstractSyntaxNotSupported);
        continue;
      }
      const transferSyntax = chooseTransferSyntax(context.getTransferSyntaxUids());
      if (transferSyntax) {
        context.setResult(PresentationContextResult.Accept, transferSyntax);
        accepted += 1;
      } else context.setResult(PresentationContextResult.RejectTransferSyntaxesNotSupported);
    }
    this.counters.associations += 1;
    log.info('association accepted', { calling, called, peer: this.associationInfo.peer, contexts: association.getPresentationContexts().length, accepted });
    this.sendAssociationAccept();
  }

  override associationReleaseRequested(): void {
    this.sendAssociationReleaseResponse();
  }

  override cEchoRequest(request: CEchoRequest, callback: (response: CEchoResponse) => void): void {
    this.counters.echoes += 1;
    const response = responses.CEchoResponse.fromRequest(request);
    response.setStatus(Status.Success);
    callback(response);
  }

  override createStoreWritableStream(context: PresentationContext, request: CStoreRequest): Writable {
    const buffer = this.options.buffer;
    const tempPath = buffer.tempPath(buffer.newName());
    const reception: Reception = { tempPath };
    let header: Buffer | undefined;
    if (this.space.low) reception.status = storeStatus.outOfResources;
    else {
      header = part10Header({
        sopClassUid: cleanUid(request.getAffectedSopClassUid() || context.getAbstractSyntaxUid()),
        sopInstanceUid: cleanUid(request.getAffectedSopInstanceUid()),
        transferSyntaxUid: cleanUid(context.getAcceptedTransferSyntaxUid() ?? ''),
        implementationClassUid,
        implementationVersionName,
        sourceAeTitle: this.associationInfo.calling,
      });
    }
    // Refused instances are still read off the wire (into nothing) so the association stays usable.
    const sink = new DurableFileSink(tempPath, header);
    this.receptions.set(sink, reception);
    return sink;
  }

  override createDatasetFromStoreWritableStream(writable: Writable, _context: PresentationContext, callback: (dataset: DimseDataset) => void): void {
    const reception = this.receptions.get(writable) ?? { tempPath: '', status: storeStatus.cannotUnderstand };
    const sink = writable as DurableFileSink;
    const finish = async () => {
      if (reception.status === undefined) {
        if (sink.error) {
          reception.status = isOutOfSpace(sink.error) ? storeStatus.outOfResources : storeStatus.cannotUnderstand;
          this.options.log.error('cannot write a received instance to the buffer', { code: sink.error.code, calling: this.associationInfo.calling });
        } else if (sink.bytes === 0) {
          reception.status = storeStatus.cannotUnderstand;
        } else {
          try {
            reception.path = await this.options.buffer.commit(reception.tempPath);
            reception.status = storeStatus.success;
          } catch (error) {
            reception.status = isOutOfSpace(error as NodeJS.ErrnoException) ? storeStatus.outOfResources : storeStatus.cannotUnderstand;
            this.options.log.error('cannot commit a received instance to the buffer', { code: (error as NodeJS.ErrnoException).code });
          }
        }
      }
      if (reception.status !== storeStatus.success && reception.tempPath) await this.options.buffer.discard(reception.tempPath).catch(() => undefined);
      const dataset = new Dataset();
      this.results.set(dataset, reception);
      callback(dataset);
    };
    const go = () => void finish();
    if (sink.writableFinished) go();
    else sink.once('finish', go);
  }

  override cStoreRequest(request: CStoreRequest, callback: (response: CStoreResponse) => void): void {
    const dataset = request.getDataset();
    const reception = dataset ? this.results.get(dataset) : undefined;
    const response = responses.CStoreResponse.fromRequest(request);
    if (reception?.status === storeStatus.success && reception.path) {
      response.setStatus(Status.Success);
      this.stored += 1;
      this.counters.stored += 1;
      this.options.onStored(reception.path);
    } else {
      const status = reception?.status ?? storeStatus.cannotUnderstand;
      response.setStatus(status);
      response.setErrorComment(status === storeStatus.outOfResources ? 'Gateway buffer is full' : 'Gateway could not store the instance');
      this.failed += 1;
      this.counters.failed += 1;
    }
    callback(response);
  }

  override abort(): void {
    if (!this.closedByUs) this.options.log.warn('association aborted by the sender', { calling: this.associationInfo.calling, peer: this.associationInfo.peer });
    // After an A-ABORT nothing more may come on this connection: close it now rather than at the PDU timeout.
    (this as unknown as { socket: Socket }).socket.destroy();
  }
}

function isOutOfSpace(error: NodeJS.ErrnoException | undefined): boolean {
  return error?.code === 'ENOSPC' || error?.code === 'EDQUOT' || error?.code === 'EMFILE' || error?.code === 'ENFILE';
}

