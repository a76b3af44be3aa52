/**
 * cognito-local for the local stack: a child process (its data lives in its
 * working directory's .cognito/, so `dir` keeps users across restarts) with
 * medlake's user pool, app clients and groups from shared/src/resources.ts,
 * and a first admin. cognito-local "delivers" verification and reset codes by
 * printing a box to stdout; those boxes are parsed into CodeDelivery values so
 * the stack can write them as emails into the mail outbox.
 *
 * The child exits with its parent even after a SIGKILL: it watches its stdin
 * pipe, which closes when the parent dies.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  AdminAddUserToGroupCommand, AdminCreateUserCommand, AdminGetUserCommand, AdminSetUserPasswordCommand, CognitoIdentityProviderClient,
  CreateGroupCommand, CreateUserPoolClientCommand, CreateUserPoolCommand, ListGroupsCommand, ListUserPoolClientsCommand, ListUserPoolsCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import { userPool } from '@medlake/shared/resources';
import { LocalStackError } from './errors';

/** A code cognito-local would have emailed. `operation` is the API call (SignUp, ForgotPassword, ...). */
export interface CodeDelivery {
  operation: string;
  username: string;
  destination: string;
  code: string;
}

export interface CognitoLocal {
  endpoint: string;
  port: number;
  pid: number;
  client: CognitoIdentityProviderClient;
  stop(): Promise<void>;
}

export interface CognitoLocalOptions {
  /** cognito-local's working directory (its data goes to <dir>/.cognito). */
  dir: string;
  port: number;
  /** Every code is this value (tests); random otherwise. */
  fixedCode?: string;
  /** File receiving cognito-local's own output. */
  logFile?: string;
  onCode?: (delivery: CodeDelivery) => void;
}

/** Exit when the parent's end of stdin closes (the parent died, however). */
const exitWithParent = 'data:text/javascript,process.stdin.on("end",()=>process.exit(0));process.stdin.on("error",()=>process.exit(0));process.stdin.resume();';

// Colour codes of cognito-local's pretty logger (ESC [ … m).
// eslint-disable-next-line no-control-regex
const ansi = /\u001b\[[0-9;]*m/g;

/** Pulls complete code-delivery boxes out of cognito-local's output; returns them and the unparsed rest. */
export function parseCodeDeliveries(output: string): { deliveries: CodeDelivery[]; rest: string } {
  const text = output.replace(ansi, '');
  const deliveries: CodeDelivery[] = [];
  const box = /(\S+) ╭[^╭╰]*?Confirmation Code Delivery([^╭╰]*?)╰[─]*╯/g;
  let consumed = 0;
  for (let match = box.exec(text); match; match = box.exec(text)) {
    const fields = new Map<string, string>();
    for (const line of (match[2] ?? '').split('\n')) {
      const field = /│\s+([A-Za-z ]+):\s+(.*?)\s*│\s*$/.exec(line);
      if (field?.[1] && field[2] !== undefined) fields.set(field[1].trim(), field[2]);
    }
    const code = fields.get('Code');
    const destination = fields.get('Destination');
    if (code && destination) deliveries.push({ operation: match[1] ?? 'unknown', username: fields.get('Username') ?? '', destination, code });
    consumed = box.lastIndex;
  }
  // Output arrives in chunks: keep an unfinished box from the start of its line, or else the unfinished last line.
  const rest = text.slice(consumed);
  const open = rest.lastIndexOf('╭');
  const keepFrom = open >= 0 && rest.indexOf('╯', open) < 0 ? rest.lastIndexOf('\n', open) + 1 : rest.lastIndexOf('\n') + 1;
  return { deliveries, rest: rest.slice(keepFrom) };
}

export async function startCognitoLocal(options: CognitoLocalOptions): Promise<CognitoLocal> {
  mkdirSync(options.dir, { recursive: true });
  const endpoint = `http://127.0.0.1:${options.port}`;
  // cognito-local reads CODE (a fixed code for every message): only the tests' choice may set it.
  const { CODE: _inheritedCode, ...inherited } = process.env;
  const child: ChildProcess = spawn(process.execPath, ['--import', exitWithParent, fileURLToPath(import.meta.resolve('cognito-local/lib/bin/start.js'))], {
    cwd: options.dir,
    env: {
      ...inherited,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      ...(options.fixedCode ? { CODE: options.fixedCode } : {}),
      // Its AWS SDK v2 end-of-support notice is noise here.
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      NODE_NO_WARNINGS: '1',
      DEBUG: '',
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const log = options.logFile ? createWriteStream(options.logFile, { flags: 'a' }) : undefined;
  let pending = '';
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    output = (output + chunk.toString('utf8')).slice(-4000);
    const parsed = parseCodeDeliveries(pending + chunk.toString('utf8'));
    pending = parsed.rest;
    for (const delivery of parsed.deliveries) options.onCode?.(delivery);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    log?.write(chunk);
    output = (output + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const stop = async () => {
    if (running) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((resolve) => (log ? log.end(() => resolve()) : resolve()));
  };

  const client = new CognitoIdentityProviderClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await client.send(new ListUserPoolsCommand({ MaxResults: 1 }));
      break;
    } catch (error) {
      const inUse = /EADDRINUSE/.test(output);
      if (!running || inUse || Date.now() > deadline) {
        await stop();
        if (inUse) throw new LocalStackError('port_in_use', `cognito-local cannot listen on 127.0.0.1:${options.port}: the port is already in use.`);
        const last = output.replace(ansi, '').trim().split('\n').slice(-3).join(' ');
        throw new LocalStackError('cognito_failed', `cognito-local did not start${last ? `: ${last}` : `: ${error instanceof Error ? error.message : String(error)}`}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return { endpoint, port: options.port, pid: child.pid ?? 0, client, stop };
}

export interface ProvisionedPool {
  userPoolId: string;
  webClientId: string;
  gatewayClientId: string;
}

/** The pool, clients and groups of resources.ts: found by name when they exist (restart), created otherwise. */
export async function provisionUserPool(client: CognitoIdentityProviderClient): Promise<ProvisionedPool> {
  const pools = await client.send(new ListUserPoolsCommand({ MaxResults: 60 }));
  let userPoolId = pools.UserPools?.find((p) => p.Name === userPool.name)?.Id;
  if (!userPoolId) {
    const created = await client.send(new CreateUserPoolCommand({ PoolName: userPool.name, UsernameAttributes: ['email'], AutoVerifiedAttributes: ['email'] }));
    userPoolId = created.UserPool?.Id;
  }
  if (!userPoolId) throw new LocalStackError('cognito_failed', 'cognito-local did not create the user pool.');
  const clients = await client.send(new ListUserPoolClientsCommand({ UserPoolId: userPoolId, MaxResults: 60 }));
  const clientId = async (name: string) => {
    const found = clients.UserPoolClients?.find((c) => c.ClientName === name)?.ClientId;
    if (found) return found;
    const created = await client.send(new CreateUserPoolClientCommand({ UserPoolId: userPoolId, ClientName: name, ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'] }));
    const id = created.UserPoolClient?.ClientId;
    if (!id) throw new LocalStackError('cognito_failed', `cognito-local did not create the ${name} client.`);
    return id;
  };
  const webClientId = await clientId(userPool.webClientName);
  const gatewayClientId = await clientId(userPool.gatewayClientName);
  const groups = await client.send(new ListGroupsCommand({ UserPoolId: userPoolId, Limit: 60 }));
  const existing = new Set(groups.Groups?.map((g) => g.GroupName));
  for (const group of userPool.groups) {
    if (!existing.has(group.name)) await client.send(new CreateGroupCommand({ UserPoolId: userPoolId, GroupName: group.name, Description: group.description }));
  }
  return { userPoolId, webClientId, gatewayClientId };
}

/** Creates a confirmed user with a permanent password and groups; returns its username (the sub). Idempotent. */
export async function ensureUser(client: CognitoIdentityProviderClient, userPoolId: string, user: { email: string; password: string; groups: readonly string[] }): Promise<{ username: string; created: boolean }> {
  let username: string | undefined;
  let created = false;
  try {
    const found = await client.send(new AdminGetUserCommand({ UserPoolId: userPoolId, Username: user.email }));
    username = found.Username;
  } catch (error) {
    if ((error as { name?: string }).name !== 'UserNotFoundException') throw error;
  }
  if (!username) {
    const result = await client.send(
      new AdminCreateUserCommand({
        UserPoolId: userPoolId,
        Username: user.email,
        // email_verified must be set with the email attribute: cognito-local never sets it itself.
        UserAttributes: [{ Name: 'email', Value: user.email }, { Name: 'email_verified', Value: 'true' }],
        MessageAction: 'SUPPRESS',
      }),
    );
    username = result.User?.Username;
    if (!username) throw new LocalStackError('cognito_failed', `cognito-local did not create the user ${user.email}.`);
    await client.send(new AdminSetUserPasswordCommand({ UserPoolId: userPoolId, Username: username, Password: user.password, Permanent: true }));
    created = true;
  }
  for (const group of user.groups) await client.send(new AdminAddUserToGroupCommand({ UserPoolId: userPoolId, Username: username, GroupName: group }));
  return { username, created };
}
