/**
 * The PostgreSQL pool of a Lambda container: created on first use from
 * DATABASE_URL and reused by every invocation (small: one Lambda serves one
 * request at a time).
 */
import pg from 'pg';
import { envNames } from '@medlake/shared/resources';
import { connectionConfig } from './database-credentials';

/** What adapters need from a pool or a client. */
export interface Queryable {
  query<Row extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<Row>>;
}

let pool: pg.Pool | undefined;
let poolUrl: string | undefined;

export function databasePool(env: NodeJS.ProcessEnv = process.env): pg.Pool {
  const url = env[envNames.databaseUrl];
  if (!url) throw new Error(`${envNames.databaseUrl} is not set`);
  if (!pool || poolUrl !== url) {
    void pool?.end().catch(() => undefined);
    pool = new pg.Pool({ ...connectionConfig(url, env), max: 2, idleTimeoutMillis: 30_000, connectionTimeoutMillis: 5_000 });
    // An idle client losing its server must not crash the container.
    pool.on('error', () => undefined);
    poolUrl = url;
  }
  return pool;
}

/** Handed to the work of `inTransaction`. */
export interface Transaction {
  /**
   * Ends the transaction with ROLLBACK instead of COMMIT once the work
   * returns: for work that finds it has nothing to do, or must undo what it
   * wrote (a refused request). Answers `value`, to return it in one line.
   */
  rollback<T>(value: T): T;
}

/**
 * Runs `work` in one transaction on a client of the pool: committed when it
 * resolves (rolled back if it asked to), rolled back when it throws (the
 * error goes on), the client released either way.
 */
export async function inTransaction<T>(db: pg.Pool, work: (client: pg.PoolClient, transaction: Transaction) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let rollback = false;
  const transaction: Transaction = {
    rollback: (value) => {
      rollback = true;
      return value;
    },
  };
  try {
    await client.query('BEGIN');
    const result = await work(client, transaction);
    await client.query(rollback ? 'ROLLBACK' : 'COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** A DATE column as ISO `YYYY-MM-DD` (pg hands dates over as local midnight, so local fields are the date). */
export function isoDateOf(value: Date | null): string | null {
  if (!value) return null;
  return `${value.getFullYear()}-${String(value.getMonth() + 1).padStart(2, '0')}-${String(value.getDate()).padStart(2, '0')}`;
}
