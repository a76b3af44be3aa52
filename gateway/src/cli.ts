/**
 * `medlake`: the hospital gateway's command line.
 *   medlake upload <dir|zip|files…>   send files through the upload API
 *   medlake gateway --port 11112 …     receive DICOM C-STORE and forward it
 *   medlake gateway --tls-cert … --tls-key …   the same over DICOM TLS (port 2762)
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { GatewayError, describeError } from './errors';
import { exitCodes } from './upload-report';
import { uploadCommand } from './upload-command';

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a whole number ≥ 1.`);
    return n;
  };
}

function port(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`${name} must be 0 to 65535 (0: any free port).`);
    return n;
  };
}

function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0.`);
    return n;
  };
}

function list(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',').map((v) => v.trim()).filter(Boolean)];
}

export function buildProgram(): Command {
  const program = new Command('medlake')
    .description('medlake hospital gateway: upload DICOM to a medlake data lake, or receive it from a PACS (DICOM C-STORE) and forward it.')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('upload')
    .description('Upload folders, zips or DICOM files. Non-DICOM files are skipped; an interrupted run resumes where it stopped.')
    .argument('<paths...>', 'folders, zip files or DICOM files')
    .option('--url <url>', 'medlake base URL (env MEDLAKE_URL)')
    .option('--config <file>', 'JSON config file with url, username, password (mode 600; env MEDLAKE_CONFIG; default ~/.config/medlake/gateway.json)')
    .option('--state <file>', 'resume journal (default ./.medlake-upload-state.jsonl)')
    .addOption(new Option('--concurrency <n>', 'files sent in parallel').argParser(positiveInt('--concurrency')).default(4))
    .addOption(new Option('--batch-size <n>', 'files per upload batch').argParser(positiveInt('--batch-size')).default(100))
    .addOption(new Option('--wait-timeout <seconds>', 'how long to wait for the server\'s results (0: do not wait)').argParser(nonNegative('--wait-timeout')).default(600))
    .option('--dry-run', 'list what would be sent; send nothing', false)
    .option('--json', 'machine-readable summary on stdout (progress stays on stderr)', false)
    .option('--hide-names', 'send neutral file names (file-000001.dcm) instead of the local ones', false)
    .option('--no-progress', 'no progress bars even on a terminal')
    .option('--verbose', 'report retries on stderr', false)
    .action(async (paths: string[], options) => {
      process.exitCode = await uploadCommand(paths, options, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
    });

  program
    .command('gateway')
    .description('Run a DICOM C-STORE receiver (SCP) that buffers instances durably and uploads them in the background.')
    // No commander default for --port: with TLS configured, plain DICOM listens only when asked for.
    .addOption(new Option('--port <port>', 'plain (unencrypted) DICOM port; default 11112 without TLS, none with TLS unless given').argParser(port('--port')))
    .option('--host <address>', 'address to listen on', '0.0.0.0')
    .option('--ae-title <aet>', 'this receiver\'s AE title (the called AE title PACS must use)', 'MEDLAKE')
    .option('--allow-ae <aets>', 'calling AE titles allowed to send (comma-separated or repeated; default: any)', list)
    .option('--accept-any-called-ae', 'accept associations whatever called AE title they use', false)
    .option('--dir <folder>', 'buffer folder for received instances (holds PHI: protect it)', 'medlake-buffer')
    .option('--url <url>', 'medlake base URL (env MEDLAKE_URL)')
    .option('--config <file>', 'JSON config file with url, username, password and an optional "tls" object (mode 600)')
    .addOption(new Option('--concurrency <n>', 'files uploaded in parallel').argParser(positiveInt('--concurrency')).default(4))
    .addOption(new Option('--batch-size <n>', 'most instances per upload batch').argParser(positiveInt('--batch-size')).default(200))
    .addOption(new Option('--flush-seconds <s>', 'wait this long for more instances before uploading a batch').argParser(nonNegative('--flush-seconds')).default(2))
    .addOption(new Option('--min-free-mb <mb>', 'refuse new instances (status A700) below this free space in the buffer').argParser(nonNegative('--min-free-mb')).default(512))
    .option('--no-upload', 'only receive and buffer (upload later with the upload loop enabled)')
    .option('--tls-cert <file>', 'DICOM TLS: the receiver\'s certificate (PEM, may be followed by its chain; env MEDLAKE_GATEWAY_TLS_CERT)')
    .option('--tls-key <file>', 'DICOM TLS: its private key (PEM, unencrypted, not readable by others; env MEDLAKE_GATEWAY_TLS_KEY)')
    .addOption(new Option('--tls-port <port>', 'DICOM TLS port (env MEDLAKE_GATEWAY_TLS_PORT; default 2762)').argParser(port('--tls-port')))
    .option('--tls-ca <file>', 'CA certificate(s) (PEM) that issue the modalities\' client certificates: asked for and verified (env MEDLAKE_GATEWAY_TLS_CA)')
    .option('--tls-require-client-cert', 'mutual TLS: refuse peers without a client certificate from --tls-ca (env MEDLAKE_GATEWAY_TLS_REQUIRE_CLIENT_CERT)')
    .addOption(new Option('--tls-min-version <version>', 'oldest TLS version accepted (env MEDLAKE_GATEWAY_TLS_MIN_VERSION; default TLSv1.2)').choices(['TLSv1.2', 'TLSv1.3']))
    .option('--tls-ciphers <list>', 'OpenSSL cipher list for TLS 1.2 (env MEDLAKE_GATEWAY_TLS_CIPHERS; default: node\'s)')
    .action(async (options) => {
      const { gatewayCommand } = await import('./gateway-command');
      process.exitCode = await gatewayCommand(options, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() });
    });

  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (typeof code === 'string' && code.startsWith('commander.')) {
      // Help and version are not errors; commander already printed the usage problem.
      process.exitCode = code === 'commander.helpDisplayed' || code === 'commander.version' || code === 'commander.help' ? 0 : exitCodes.usage;
      return;
    }
    process.stderr.write(`medlake: ${describeError(error)}\n`);
    process.exitCode = error instanceof GatewayError ? (error.options.exitCode ?? exitCodes.rejectedOrFailed) : exitCodes.rejectedOrFailed;
  }
}

await main(process.argv);
