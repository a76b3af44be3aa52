/**
 * `medlake upload <dir|zip|files…>`: collect, sign in, send, wait for the
 * server's verdicts, report. SIGINT/SIGTERM stop sending at once; the state
 * journal already knows every finished file, so the next run resumes.
 */
import { resolve } from 'node:path';
import { collectFiles } from './collect-files';
import type { ConnectionFlags } from './config';
import { assertSecureTransport, normalizeBaseUrl, resolveConnection } from './config';
import { GatewayError, describeError } from './errors';
import { createProgress } from './progress';
import { UploadApi } from './upload-api';
import type { RunReport } from './upload-report';
import { buildReport, exitCodes, renderReport } from './upload-report';
import type { FileOutcome } from './upload-run';
import { runUpload } from './upload-run';
import { UploadState, defaultStateFile, fileKey } from './upload-state';
import { sha256OfRange } from './storage-put';

export interface UploadCommandOptions extends ConnectionFlags {
  state?: string;
  concurrency: number;
  batchSize: number;
  waitTimeout: number;
  dryRun: boolean;
  json: boolean;
  hideNames: boolean;
  progress: boolean;
  verbose: boolean;
}

export interface CommandIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export async function uploadCommand(inputs: string[], options: UploadCommandOptions, io: CommandIo): Promise<number> {
  const startedAt = Date.now();
  if (inputs.length === 0) throw new GatewayError('no_input', 'Name at least one folder, zip or DICOM file to upload.', { exitCode: exitCodes.usage });
  const statePath = resolve(io.cwd, options.state ?? defaultStateFile);

  // The dry run needs no credentials, only a server name to look up the state.
  const connection = options.dryRun ? undefined : resolveConnection(options, io.env);
  const server = connection?.url ?? normalizeBaseUrl(options.url ?? io.env.MEDLAKE_URL ?? 'http://localhost');
  if (connection) assertSecureTransport(connection.url);

  const { files, skipped } = await collectFiles(inputs, { cwd: io.cwd, exclude: new Set([statePath, `${statePath}.lock`]) });
  const state = options.dryRun ? UploadState.peek(statePath) : UploadState.open(statePath);
  const controller = new AbortController();
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
    controller.abort(new GatewayError('interrupted', 'Interrupted.'));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  let bytesSent = 0;
  const progress = createProgress(io.stderr, options.progress && io.stderr.isTTY === true);
  try {
    let outcomes: FileOutcome[];
    if (options.dryRun) {
      outcomes = await dryRun(files, state, server);
    } else {
      const api = new UploadApi(connection!, {
        signal: controller.signal,
        onRetry: (what, error, attempt) => {
          if (options.verbose) io.stderr.write(`retrying ${what} after: ${describeError(error)} (attempt ${attempt + 1})\n`);
        },
      });
      // Fail fast on wrong credentials, before reading gigabytes.
      await api.authorization();
      outcomes = await runUpload(files, {
        api,
        state,
        concurrency: options.concurrency,
        batchFiles: options.batchSize,
        hideNames: options.hideNames,
        waitTimeoutMs: options.waitTimeout * 1000,
        signal: controller.signal,
        events: {
          ...progress,
          onBytes(delta) {
            bytesSent += delta;
            progress.onBytes?.(delta);
          },
          onRetry(what, error, attempt) {
            if (options.verbose) io.stderr.write(`retrying ${what} after: ${describeError(error)} (attempt ${attempt + 1})\n`);
          },
        },
      });
    }
    progress.stop();
    const report: RunReport = buildReport({ server, outcomes, skipped, startedAt, bytesSent, dryRun: options.dryRun, interrupted });
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderReport(report));
    return report.exitCode;
  } finally {
    progress.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    state.close();
  }
}

/** What a real run would do, from the state journal alone: nothing leaves the machine. */
async function dryRun(files: Awaited<ReturnType<typeof collectFiles>>['files'], state: UploadState, server: string): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  for (const file of files) {
    const sha256 = await sha256OfRange({ path: file.path, start: 0, length: file.sizeBytes });
    const entry = state.get(fileKey({ path: file.path, sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs, sha256 }), server);
    if (entry?.phase === 'final' && entry.result) outcomes.push({ file, sha256, transfer: 'resumed', uploadId: entry.uploadId, index: entry.index, ...entry.result, state: entry.result.state as FileOutcome['state'] });
    else if (entry?.phase === 'uploaded') outcomes.push({ file, sha256, transfer: 'resumed', state: 'pending', uploadId: entry.uploadId, index: entry.index });
    else outcomes.push({ file, sha256, transfer: 'none', state: 'not-sent' });
  }
  return outcomes;
}
