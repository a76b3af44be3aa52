/**
 * A real PostgreSQL with medlake's schema, for tests (and the scrubber
 * benchmark) that need the database without the whole local stack — e.g.
 * handlers run directly, whose HTTP pipeline checks every token's account in
 * `account_changes`: embedded PostgreSQL in a temporary directory on a free
 * port, every migration applied, torn down by `stop()`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateDatabase } from '@medlake/functions/adapters/migrate';
import { startPostgres } from '@medlake/local/postgres';
import { freePort } from '@medlake/local/processes';

export interface TestDatabase {
  databaseUrl: string;
  /** A small pool on it (closed by stop()). */
  pool: pg.Pool;
  stop(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-test-db-'));
  const server = await startPostgres({ dir: join(dir, 'pg'), port: await freePort() });
  try {
    await migrateDatabase(server.databaseUrl, { allowOutOfOrder: true });
  } catch (error) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const pool = new pg.Pool({ connectionString: server.databaseUrl, max: 4 });
  pool.on('error', () => undefined);
  return {
    databaseUrl: server.databaseUrl,
    pool,
    async stop() {
      await pool.end().catch(() => undefined);
      await server.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
