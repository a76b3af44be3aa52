/**
 * The DICOM C-STORE receiver (SCP) on dcmjs-dimse. Each association is one
 * StoreScp: it checks the AE titles, negotiates the storage SOP classes and
 * transfer syntaxes, answers C-ECHO, and streams each received data set to
 * disk behind a Part 10 header (bytes untouched, never transcoded, never
 * held whole in memory). The sender hears "success" only after the file is
 * fsynced and renamed into the buffer; if it cannot be stored, it hears
 * A700 (out of resources: disk full) or C000 (cannot process), and keeps the
 * instance to send again.
 *
 * It listens on plain TCP, DICOM TLS, or both (each a Listener): over TLS
 * the association starts only after the handshake, so with required client
 * certificates a peer without one from the hospital CA never reaches the
 * DICOM layer.
 */
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { TLSSocket, TlsOptions } from 'node:tls';
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

export interface Listener {
  port: number;
  host: string;
  /** DICOM TLS; plain TCP without it. */
  tls?: ListenerTls;
}

export interface ListenerTls {
  /** tls.createServer options (key, cert, ca, requestCert, minVersion...). */
  options: TlsOptions;
  /** Refuse a peer unless it shows a certificate that verifies against options.ca. */
  requireClientCertificate: boolean;
}

export interface ReceiverCounters {
  associations: number;
  stored: number;
  failed: number;
  echoes: number;
}

export interface BoundListener {
  host: string;
  port: number;
  tls: boolean;
}

export interface Receiver {
  /** Bound ports, in the order of the listeners given (port 0 becomes the one the system chose). */
  listeners: BoundListener[];
  counters: ReceiverCounters;
  /** Stops accepting, lets open associations finish (up to graceMs), then closes them. */
  close(graceMs?: number): Promise<void>;
}

/** The library logs association details and data set summaries (UIDs): silence it, we log counts ourselves. */
dimseLog.setLevel('silent');
Implementation.setImplementationClassUid(implementationClassUid);
Implementation.setImplementationVersion(implementationVersionName);

/** A TLS handshake that does not complete within this time is dropped (node's default is two minutes). */
const tlsHandshakeTimeoutMs = 30_000;

export async function startReceiver(listeners: readonly Listener[], options: ReceiverOptions): Promise<Receiver> {
  const counters: ReceiverCounters = { associations: 0, stored: 0, failed: 0, echoes: 0 };
  const connections = new Set<StoreScp>();
  // Sockets still in their TLS handshake are no StoreScp yet, but must not keep close() waiting.
  const sockets = new Set<Socket>();
  const space = new FreeSpaceWatch(options);
  await space.refresh();
  const accept = (socket: Socket) => {
    const scp = new StoreScp(socket, options, counters, space);
    connections.add(scp);
    scp.on('close', () => connections.delete(scp));
  };
  /**
   * The client certificate is checked here rather than by node's
   * rejectUnauthorized, which drops the peer without saying why: the log
   * tells "no certificate" from "a certificate of another CA".
   */
  const acceptTls = (tls: ListenerTls) => (socket: TLSSocket) => {
    if (tls.requireClientCertificate && !socket.authorized) {
      const certificate = socket.getPeerCertificate();
      const shown = Boolean(certificate?.subject);
      options.log.warn('TLS connection refused', {
        peer: socket.remoteAddress,
        reason: shown ? 'client certificate not accepted' : 'no client certificate',
        error: shown ? String(socket.authorizationError) : undefined,
        // Chosen by the peer (the certificate was not verified): shortened, so it cannot flood the log.
        claimedCn: shown ? firstValue(certificate.subject.CN)?.slice(0, 64) : undefined,
      });
      socket.destroy();
      return;
    }
    accept(socket);
  };
  const servers: Server[] = [];
  const bound: BoundListener[] = [];
  try {
    for (const listener of listeners) {
      const server: Server = listener.tls
        ? createTlsServer({ ...listener.tls.options, rejectUnauthorized: false, handshakeTimeout: tlsHandshakeTimeoutMs }, acceptTls(listener.tls))
        : createServer(accept);
      server.on('connection', (socket: Socket) => {
        sockets.add(socket);
        socket.once('close', () => sockets.delete(socket));
      });
      if (listener.tls) {
        server.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
          options.log.warn('TLS connection refused', { peer: socket.remoteAddress, reason: tlsRefusalReason(error) });
        });
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(listener.port, listener.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      server.on('error', (error) => options.log.error('listener error', { code: (error as NodeJS.ErrnoException).code }));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : listener.port;
      bound.push({ host: listener.host, port, tls: Boolean(listener.tls) });
      options.log.info('DICOM receiver listening', { host: listener.host, port, aeTitle: options.aeTitle, tls: Boolean(listener.tls) });
    }
  } catch (error) {
    // One port taken: release the ones already bound.
    space.stop();
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    throw error;
  }
  return {
    listeners: bound,
    counters,
    async close(graceMs = 30_000) {
      const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      const deadline = Date.now() + graceMs;
      while (connections.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      for (const scp of connections) scp.hangUp();
      for (const socket of sockets) socket.destroy();
      space.stop();
      await closed;
    },
  };
}

/** OpenSSL's reason in a few words (no certificate, unknown CA, not TLS at all...): about the peer, never about patients. */
function tlsRefusalReason(error: NodeJS.ErrnoException): string {
  const reason = (error as { reason?: unknown }).reason;
  if (typeof reason === 'string' && reason) return reason;
  return error.code ?? error.message;
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
  /** How the peer reached us: logged with each association (the CN names a device, not a patient). */
  private readonly transport: TransportInfo;
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
    this.transport = describeTransport(socket);
    this.on('networkError', () => socket.end());
    this.on('close', () => {
      if (!this.associationInfo.calling) return;
      this.options.log.info('association closed', { calling: this.associationInfo.calling, peer: this.associationInfo.peer, tls: this.transport.tls, stored: this.stored, failed: this.failed });
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
      log.warn('association rejected: wrong called AE title', { calling, called, expected: this.options.aeTitle, peer: this.associationInfo.peer, ...this.transport });
      this.sendAssociationReject(RejectResult.Permanent, RejectSource.ServiceUser, RejectReason.CalledAeNotRecognized);
      return;
    }
    if (this.options.allowedCallingAeTitles && !this.options.allowedCallingAeTitles.has(calling)) {
      log.warn('association rejected: calling AE title not allowed', { calling, peer: this.associationInfo.peer, ...this.transport });
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
    log.info('association accepted', { calling, called, peer: this.associationInfo.peer, ...this.transport, contexts: association.getPresentationContexts().length, accepted });
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

interface TransportInfo {
  tls: boolean;
  tlsVersion?: string;
  /** The verified client certificate's subject CN (mutual TLS). */
  clientCn?: string;
  clientCertificate?: 'unverified';
}

function describeTransport(socket: Socket): TransportInfo {
  const secure = socket as TLSSocket;
  if (!secure.encrypted) return { tls: false };
  const transport: TransportInfo = { tls: true, tlsVersion: secure.getProtocol() ?? undefined };
  const certificate = secure.getPeerCertificate();
  if (!certificate || !certificate.subject) return transport;
  // Only a verified certificate names the device; an unverified one is just a claim (client certificates optional).
  if (secure.authorized) transport.clientCn = firstValue(certificate.subject.CN);
  else transport.clientCertificate = 'unverified';
  return transport;
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isOutOfSpace(error: NodeJS.ErrnoException | undefined): boolean {
  return error?.code === 'ENOSPC' || error?.code === 'EDQUOT' || error?.code === 'EMFILE' || error?.code === 'ENFILE';
}

