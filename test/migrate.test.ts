/**
 * migrateDatabase on a real PostgreSQL: plain SQL files in node-pg-migrate's
 * format, applied once, in order, safely from two callers at a time; an
 * out-of-order file is refused unless allowed (a developer's database).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultMigrationsDir, migrateDatabase } from '@medlake/functions/adapters/migrate';
import type { PostgresServer } from '@medlake/local/postgres';
import { startPostgres } from '@medlake/local/postgres';
import { freePort } from '@medlake/local/processes';

const dir = mkdtempSync(join(tmpdir(), 'medlake-migrate-'));
let server: PostgresServer;

beforeAll(async () => {
  server = await startPostgres({ dir: join(dir, 'pg'), port: await freePort() });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function database(name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return server.databaseUrl.replace(/\/postgres$/, `/${name}`);
}

async function tables(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
  await client.end();
  return rows.map((r) => r.tablename);
}

function migrationsDir(files: Record<string, string>): string {
  const path = mkdtempSync(join(dir, 'files-'));
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(path, name), sql);
  return path;
}

describe('migrateDatabase', () => {
  it("applies the project's migrations to an empty database, then nothing the second time", async () => {
    const url = await database('project');
    const first = await migrateDatabase(url);
    expect(first.applied[0]).toBe('0001_init');
    expect(first.applied).toEqual([...first.applied].sort());
    expect(await tables(url)).toEqual(expect.arrayContaining(['patients', 'studies', 'series', 'instances', 'audit_log', 'pgmigrations']));
    expect((await migrateDatabase(url)).applied).toEqual([]);
    expect(defaultMigrationsDir).toMatch(/functions\/migrations$/);
  });

  it('runs only .sql files, Up sections only, and two concurrent callers apply each file once', async () => {
    const url = await database('concurrent');
    const files = migrationsDir({
      '0001_a.sql': '-- Up Migration\nCREATE TABLE a (id int);\n-- Down Migration\nDROP TABLE a;\n',
      '0002_b.sql': '-- Up Migration\nCREATE TABLE b (id int);\nSELECT pg_sleep(0.2);\n-- Down Migration\nDROP TABLE b;\n',
      'README.md': 'not a migration',
      '.0003_hidden.sql': 'CREATE TABLE hidden (id int);',
    });
    const [one, two] = await Promise.all([migrateDatabase(url, { dir: files }), migrateDatabase(url, { dir: files })]);
    expect([...one.applied, ...two.applied].sort()).toEqual(['0001_a', '0002_b']);
    expect(await tables(url)).toEqual(['a', 'b', 'pgmigrations']);
  });

  it('refuses a file numbered before one already applied, unless out-of-order files are allowed', async () => {
    const url = await database('ordering');
    const files = migrationsDir({ '0010_late.sql': '-- Up Migration\nCREATE TABLE late (id int);\n' });
    await migrateDatabase(url, { dir: files });
    writeFileSync(join(files, '0002_early.sql'), '-- Up Migration\nCREATE TABLE early (id int);\n');
    await expect(migrateDatabase(url, { dir: files })).rejects.toThrow(/0002_early/);
    expect((await migrateDatabase(url, { dir: files, allowOutOfOrder: true })).applied).toEqual(['0002_early']);
  });

  it('a failing file leaves the database as it was (one transaction)', async () => {
    const url = await database('failing');
    const files = migrationsDir({ '0001_ok.sql': '-- Up Migration\nCREATE TABLE ok (id int);\n', '0002_broken.sql': '-- Up Migration\nCREATE TABLE broken (id nonsense_type);\n' });
    await expect(migrateDatabase(url, { dir: files })).rejects.toThrow(/nonsense_type/);
    expect(await tables(url)).toEqual(['pgmigrations']);
  });
});
