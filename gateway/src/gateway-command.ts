/**
 * `medlake gateway`: the DICOM receiver plus the background upload loop,
 * sharing one buffer folder. On start it resumes whatever an earlier run
 * left buffered; on SIGINT/SIGTERM it stops accepting associations, lets
 * open ones and the transfers under way finish, and exits. Nothing
 * acknowledged is lost at any point: it is on disk until the server has it.
 */
import { join, resolve } from 'node:path';
import { BufferForwarder } from './buffer-forwarder';
import type { ConnectionFlags } from './config';
import { assertSecureTransport, resolveConnection } from './config';
import { GatewayError, describeError } from './errors';
import { createLog } from './gateway-log';
import { InstanceBuffer } from './instance-buffer';
import { startReceiver } from './store-scp';
import { UploadApi } from './upload-api';
import type { CommandIo } from './upload-command';
import { exitCodes } from './upload-report';
import { UploadState } from './upload-state';

export interface GatewayCommandOptions extends ConnectionFlags {
  port: number;
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
  const connection = options.upload ? resolveConnection(options, io.env) : undefined;
  if (connection) assertSecureTransport(connection.url);

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

  let receiver;
  try {
    receiver = await startReceiver(options.port, options.host, {
      aeTitle: options.aeTitle,
      allowedCallingAeTitles: options.allowAe?.length ? new Set(options.allowAe) : undefined,
      acceptAnyCalledAe: options.acceptAnyCalledAe,
      buffer,
      minFreeBytes: options.minFreeMb * 1024 * 1024,
      log,
      onStored: () => forwarder?.notify(),
    });
  } catch (error) {
    state.close();
    throw new GatewayError('listen_failed', `Cannot listen on ${options.host}:${options.port}: ${describeError(error)}`, { exitCode: exitCodes.usage, cause: error });
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
    const onSigint = () => void shutdown(0, 'SIGINT');
    const onSigterm = () => void shutdown(0, 'SIGTERM');
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);

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
