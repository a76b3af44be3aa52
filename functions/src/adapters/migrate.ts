/**
 * Applies the schema migrations (plain SQL files in functions/migrations/,
 * node-pg-migrate's `-- Up Migration` / `-- Down Migration` format) to a
 * database. The local stack calls it on every start and the CDK migration
 * Lambda on every deploy: already-applied files are skipped (table
 * `pgmigrations`), pending ones run in one transaction, and concurrent
 * callers wait on node-pg-migrate's advisory lock instead of failing.
 * Then data steps that need the domain code run (backfillReportNegation).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { backfillReportNegation } from '../reports/negation-backfill';

export interface MigrateOptions {
  /** Directory of the SQL files; defaults to functions/migrations next to this module. */
  dir?: string;
  /**
   * Apply a pending file even when a later-numbered one already ran. Migration
   * numbers are reserved per feature, so on a developer's long-lived database
   * a feature's 0002 can land after another's 0010: locally that is fine; in
   * AWS the order is checked.
   */
  allowOutOfOrder?: boolean;
  /** Progress lines ("applied 0002_uploads"); silent when absent. */
  log?: (line: string) => void;
}

export interface MigrationResult {
  /** Names of the files applied by this call, in order (empty when up to date). */
  applied: string[];
}

export const defaultMigrationsDir = fileURLToPath(new URL('../../migrations', import.meta.url));

export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<MigrationResult> {
  const dir = options.dir ?? process.env.MIGRATIONS_DIR ?? defaultMigrationsDir;
  if (!existsSync(dir)) throw new Error(`migrations directory ${dir} does not exist`);
  const quiet = () => undefined;
  // Our own connection, ended before returning: node-pg-migrate ends the ones it opens without waiting, so a
  // server stopping right after (tests, a restart) could still reach that connection and fail the process.
  const client = new pg.Client({ connectionString: databaseUrl });
  client.on('error', (error) => options.log?.(`migrations: connection: ${error.message}`));
  await client.connect();
  try {
    const ran = await runner({
      dbClient: client,
      dir,
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Infinity,
      singleTransaction: true,
      checkOrder: !options.allowOutOfOrder,
      advisoryLockMode: 'wait',
      // Only .sql files are migrations; editors' and OS droppings are not.
      ignorePattern: '(\\..*)|(.*\\.(?!sql$)[^.]+$)',
      logger: { debug: quiet, info: quiet, warn: (m: string) => options.log?.(`migrations: ${m}`), error: (m: string) => options.log?.(`migrations: ${m}`) },
    });
    for (const migration of ran) options.log?.(`applied migration ${migration.name}`);
    // What SQL cannot compute (it needs the domain code): the negation-aware search texts of reports stored before 0054.
    const backfill = await backfillReportNegation(client);
    if (backfill.updated || backfill.remaining) options.log?.(`negation-aware search texts: ${backfill.updated} reports done, ${backfill.remaining} left for the next run`);
    return { applied: ran.map((m) => m.name) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
