/**
 * `medlake gateway`: the DICOM receiver plus the background upload loop,
 * sharing one buffer folder. On start it resumes whatever an earlier run
 * left buffered; on SIGINT/SIGTERM it stops accepting associations, lets
 * open ones and the transfers under way finish, and exits. Nothing
 * acknowledged is lost at any point: it is on disk until the server has it.
 *
 * The receiver listens on DICOM TLS when a certificate is configured, on
 * plain TCP otherwise, or on both when a plain --port is asked for beside
 * TLS (for modalities that cannot do TLS).
 */
import { join, resolve } from 'node:path';
import { BufferForwarder } from './buffer-forwarder';
import type { ConnectionFlags } from './config';
import { assertSecureTransport, loadConfigFile, resolveConnection } from './config';
import { GatewayError, describeError } from './errors';
import type { GatewayLog } from './gateway-log';
import { createLog } from './gateway-log';
import { InstanceBuffer } from './instance-buffer';
import type { Listener } from './store-scp';
import { startReceiver } from './store-scp';
import type { DicomTlsSettings, TlsFlags } from './tls-settings';
import { daysLeft, isLoopback, resolveDicomTls } from './tls-settings';
import { UploadApi } from './upload-api';
import type { CommandIo } from './upload-command';
import { exitCodes } from './upload-report';
import { UploadState } from './upload-state';

/** The plain DICOM port when TLS is not configured. */
export const defaultPlainPort = 11112;

export interface GatewayCommandOptions extends ConnectionFlags, TlsFlags {
  /** Plain TCP port: 11112 by default without TLS; with TLS, plain listens only when this is given. */
  port?: number;
  host: string;
  aeTitle: string;
  allowAe?: string[];
  acceptAnyCalledAe: boolean;
  dir: string;
  concurrency: number;
  batchSize: number;
  flushSeconds: number;
  minFreeMb: number;
  upload: boolean;
}

export async function gatewayCommand(options: GatewayCommandOptions, io: CommandIo): Promise<number> {
  const log = createLog(io.stderr);
  if (!/^[\x20-\x7e]{1,16}$/.test(options.aeTitle) || options.aeTitle.includes('\\')) {
    throw new GatewayError('ae_title_invalid', 'The AE title must be 1 to 16 printable characters without backslash.', { exitCode: exitCodes.usage });
  }
  const configFile = loadConfigFile(options, io.env);
  const connection = options.upload ? resolveConnection(options, io.env, configFile) : undefined;
  if (connection) assertSecureTransport(connection.url);
  const tls = resolveDicomTls(options, io.env, configFile.tls, io.cwd);
  const listeners = receiverListeners(options, tls);

  const dir = resolve(io.cwd, options.dir);
  const buffer = await InstanceBuffer.open(dir);
  const state = UploadState.open(join(dir, 'upload-state.jsonl'));
  const backlog = (await buffer.pending()).length;
  if (backlog > 0) log.info('resuming buffered instances from an earlier run', { count: backlog });

  let forwarder: BufferForwarder | undefined;
  let api: UploadApi | undefined;
  const controller = new AbortController();
  if (connection) {
    api = new UploadApi(connection, { signal: controller.signal });
    forwarder = new BufferForwarder({
      buffer, api, state, log,
      concurrency: options.concurrency,
      batchSize: options.batchSize,
      flushMs: options.flushSeconds * 1000,
    });
  } else log.warn('uploads are off (--no-upload): instances stay in the buffer');

  if (tls) logTlsSettings(log, tls);
  // Signals are caught from before the ports open: a SIGTERM right after start
  // (a service manager, a test) must still end in a clean shutdown.
  let stopRequested: string | undefined;
  let stop: ((why: string) => void) | undefined;
  const onSigint = () => (stop ? stop('SIGINT') : (stopRequested ??= 'SIGINT'));
  const onSigterm = () => (stop ? stop('SIGTERM') : (stopRequested ??= 'SIGTERM'));
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  let receiver;
  try {
    receiver = await startReceiver(listeners, {
      aeTitle: options.aeTitle,
      allowedCallingAeTitles: options.allowAe?.length ? new Set(options.allowAe) : undefined,
      acceptAnyCalledAe: options.acceptAnyCalledAe,
      buffer,
      minFreeBytes: options.minFreeMb * 1024 * 1024,
      log,
      onStored: () => forwarder?.notify(),
    });
  } catch (error) {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    state.close();
    const ports = listeners.map((listener) => `${listener.host}:${listener.port}${listener.tls ? ' (TLS)' : ''}`).join(' and ');
    throw new GatewayError('listen_failed', `Cannot listen on ${ports}: ${describeError(error)}`, { exitCode: exitCodes.usage, cause: error });
  }
  for (const listener of receiver.listeners) {
    if (!listener.tls && !isLoopback(listener.host)) {
      log.warn('DICOM receiver listening without TLS on a network address: images and patient data cross the network unencrypted; configure --tls-cert and --tls-key (DICOM TLS, port 2762)', { host: listener.host, port: listener.port });
    }
  }
  forwarder?.start();

  return new Promise<number>((resolveExit) => {
    let shuttingDown = false;
    const shutdown = async (exitCode: number, why: string) => {
      if (shuttingDown) return;
      shuttingDown = true;
      log.info('shutting down', { why });
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      await receiver.close(10_000);
      await forwarder?.stop(20_000);
      controller.abort();
      state.close();
      const left = (await buffer.pending()).length;
      log.info('stopped', { stored: receiver.counters.stored, failedStores: receiver.counters.failed, uploaded: forwarder?.counters.sent ?? 0, stillBuffered: left });
      resolveExit(exitCode);
    };
    stop = (why) => void shutdown(0, why);
    if (stopRequested) stop(stopRequested);

    // Check the credentials now, so a wrong password shows at start, not hours later;
    // an unreachable server is fine: instances are buffered meanwhile.
    api?.authorization().then(
      () => log.info('signed in to medlake', { server: new URL(api.baseUrl).host }),
      (error: unknown) => {
        if (error instanceof GatewayError && error.code === 'sign_in_failed') {
          log.error(describeError(error));
          void shutdown(exitCodes.usage, 'sign-in refused');
        } else log.warn('medlake is not reachable yet; instances are buffered meanwhile', { error: describeError(error) });
      },
    );
  });
}

function receiverListeners(options: GatewayCommandOptions, tls: DicomTlsSettings | undefined): Listener[] {
  if (!tls) return [{ port: options.port ?? defaultPlainPort, host: options.host }];
  const listeners: Listener[] = [{ port: tls.port, host: options.host, tls: { options: tls.serverOptions, requireClientCertificate: tls.clientCertificates === 'required' } }];
  if (options.port !== undefined) {
    if (options.port === tls.port && options.port !== 0) {
      throw new GatewayError('ports_clash', `The plain port and the TLS port are both ${options.port}: give them different ports (TLS is usually 2762, plain 11112).`, { exitCode: exitCodes.usage });
    }
    listeners.push({ port: options.port, host: options.host });
  }
  return listeners;
}

function logTlsSettings(log: GatewayLog, tls: DicomTlsSettings): void {
  const days = daysLeft(tls.certificate);
  log.info('DICOM TLS', {
    certificate: tls.certificate.subjectCn,
    issuer: tls.certificate.issuerCn,
    validTo: tls.certificate.validTo.toISOString().slice(0, 10),
    clientCertificates: tls.clientCertificates,
    minVersion: tls.minVersion,
  });
  if (days < 0) log.error('the TLS certificate has expired: modalities will refuse to connect over TLS', { validTo: tls.certificate.validTo.toISOString() });
  else if (days < 30) log.warn('the TLS certificate expires soon: renew it and restart the gateway', { daysLeft: days });
}
