/**
 * A stand-in token issuer for tests: an RSA key served as a JWKS over http,
 * signing Cognito-shaped ID and access tokens, plus the knobs the matrix
 * tests need (expired, tampered, wrong audience, foreign key).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Role } from '@medlake/shared/resources';
import { envNames } from '@medlake/shared/resources';

export const testClients = { web: 'web-client-test', gateway: 'gateway-client-test' } as const;

export interface TokenOptions {
  sub?: string;
  username?: string;
  email?: string;
  groups?: Role[];
  tokenUse?: 'access' | 'id';
  clientId?: string;
  expiresInSeconds?: number;
  issuer?: string;
}

export interface TestIssuer {
  issuer: string;
  jwksUrl: string;
  /** The variables handlers read to verify tokens. */
  env: Record<string, string>;
  sign(options?: TokenOptions): Promise<string>;
  /** Signed by a key the JWKS does not publish under the same kid. */
  signWithForeignKey(options?: TokenOptions): Promise<string>;
  close(): Promise<void>;
}

export function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
  claims['cognito:groups'] = ['admin', 'uploader', 'annotator', 'researcher'];
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
}

export async function startTestIssuer(): Promise<TestIssuer> {
  const kid = 'test-key';
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const foreign = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  const server = createServer((req, res) => {
    if (req.url?.endsWith('/.well-known/jwks.json')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${base}/local_testpool`;
  const jwksUrl = `${issuer}/.well-known/jwks.json`;

  const build = (options: TokenOptions) => {
    const tokenUse = options.tokenUse ?? 'id';
    const clientId = options.clientId ?? testClients.web;
    const sub = options.sub ?? 'sub-0000';
    const claims: Record<string, unknown> = { sub, token_use: tokenUse, auth_time: Math.floor(Date.now() / 1000) };
    if (options.groups?.length) claims['cognito:groups'] = options.groups;
    if (tokenUse === 'id') {
      claims['cognito:username'] = options.username ?? sub;
      claims.email = options.email ?? `${sub}@example.org`;
    } else {
      claims.client_id = clientId;
      claims.username = options.username ?? sub;
    }
    let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setIssuer(options.issuer ?? issuer).setIssuedAt();
    if (tokenUse === 'id') jwt = jwt.setAudience(clientId);
    const exp = Math.floor(Date.now() / 1000) + (options.expiresInSeconds ?? 3600);
    return jwt.setExpirationTime(exp);
  };

  return {
    issuer,
    jwksUrl,
    env: { [envNames.jwtIssuer]: issuer, [envNames.jwksUrl]: jwksUrl, [envNames.webClientId]: testClients.web, [envNames.gatewayClientId]: testClients.gateway },
    sign: (options = {}) => build(options).sign(privateKey),
    signWithForeignKey: (options = {}) => build(options).sign(foreign.privateKey),
    close: () => new Promise((done) => server.close(() => done())),
  };
}
