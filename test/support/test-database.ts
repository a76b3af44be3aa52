/**
 * A real PostgreSQL with medlake's schema, for tests that run handlers
 * without the whole local stack (the HTTP pipeline checks every token's
 * account in `account_changes`): embedded PostgreSQL in a temporary
 * directory on a free port, migrated; `stop()` removes it.
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
  db: pg.Pool;
  stop(): Promise<void>;
}

export async function startTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-test-pg-'));
  try {
    const server = await startPostgres({ dir, port: await freePort() });
    try {
      await migrateDatabase(server.databaseUrl);
    } catch (error) {
      await server.stop();
      throw error;
    }
    const db = new pg.Pool({ connectionString: server.databaseUrl, max: 2 });
    return {
      databaseUrl: server.databaseUrl,
      db,
      async stop() {
        await db.end();
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
