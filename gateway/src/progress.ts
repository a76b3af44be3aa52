/**
 * Progress bars on stderr (stdout stays clean for --json): files sent, and
 * bytes with rate and ETA. Nothing is drawn when stderr is not a terminal
 * (cron, systemd, CI logs).
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '@medlake/shared/byte-size';
import type { UploadEvents } from './upload-run';

export interface ProgressView extends UploadEvents {
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): ProgressView {
  if (!enabled) return { stop() {} };
  const multibar = new cliProgress.MultiBar({
    stream,
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
    fps: 5,
    format: '{label} |{bar}| {percentage}% | {shown} | {rate} | ETA {eta_formatted}',
  }, cliProgress.Presets.shades_classic);
  let filesBar: cliProgress.SingleBar | undefined;
  let bytesBar: cliProgress.SingleBar | undefined;
  let filesTotal = 0;
  let filesDone = 0;
  let bytesTotal = 0;
  let bytesDone = 0;
  const startedAt = Date.now();
  const rate = () => `${formatBytes(bytesDone / Math.max(0.001, (Date.now() - startedAt) / 1000))}/s`;

  return {
    onPlan(plan) {
      filesTotal = plan.files;
      bytesTotal = plan.bytes;
      filesBar = multibar.create(Math.max(1, filesTotal), 0, { label: 'files', shown: `0/${filesTotal}`, rate: '' });
      bytesBar = multibar.create(Math.max(1, bytesTotal), 0, { label: 'bytes', shown: `0 B/${formatBytes(bytesTotal)}`, rate: '' });
    },
    onBytes(delta) {
      bytesDone += delta;
      bytesBar?.update(bytesDone, { shown: `${formatBytes(bytesDone)}/${formatBytes(bytesTotal)}`, rate: rate() });
    },
    onFileSent() {
      filesDone += 1;
      const perSecond = filesDone / Math.max(0.001, (Date.now() - startedAt) / 1000);
      filesBar?.update(filesDone, { shown: `${filesDone}/${filesTotal}`, rate: `${perSecond.toFixed(1)} files/s` });
    },
    onPhase(phase) {
      if (phase === 'waiting') multibar.log('Waiting for the server to process the files…\n');
    },
    onRetry(what, _error, attempt) {
      multibar.log(`retrying ${what} (attempt ${attempt + 1})\n`);
    },
    stop() {
      multibar.stop();
    },
  };
}
