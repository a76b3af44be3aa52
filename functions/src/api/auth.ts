/**
 * Self sign-up through Cognito: sign up, confirm the emailed code, resend it,
 * forgotten password. A confirmed user is "pending" until an admin approves.
 * Answers never reveal whether an email has an account, except sign-up's
 * "already exists" (Cognito's own behaviour).
 */
import { z } from 'zod';
import { auditLogFromEnv } from '../adapters/audit-log';
import { envNames } from '@medlake/shared/resources';
import { userPoolFromEnv, usernameOf } from '../auth/user-pool';
import { HttpError, forbidden } from '../http/errors';
import { json } from '../http/response';
import type { Route } from '../http/router';
import { route } from '../http/router';

const email = z.string().trim().toLowerCase().email().max(254);
const code = z.string().trim().min(1).max(32);
const password = z.string().min(8).max(256);

export const authRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/auth/sign-up',
    action: 'account:sign-up',
    body: z.object({ email, password }),
    async handle(request) {
      const out = await userPoolFromEnv().signUp(request.body.email, request.body.password);
      await auditLogFromEnv().record({ actorName: request.body.email, action: 'account.sign-up', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return json(201, { state: out.confirmed ? 'pending' : 'unconfirmed', codeSentTo: out.codeSentTo, next: out.confirmed ? 'Wait for an administrator to approve your account.' : 'Enter the code we emailed you.' });
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/confirm',
    action: 'account:sign-up',
    body: z.object({ email, code }),
    async handle(request) {
      await userPoolFromEnv().confirmSignUp(request.body.email, request.body.code);
      await auditLogFromEnv().record({ actorName: request.body.email, action: 'account.confirm', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return json(200, { state: 'pending', next: 'Your email is confirmed. An administrator will approve your account; you can sign in meanwhile.' });
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/resend-code',
    action: 'account:sign-up',
    body: z.object({ email }),
    async handle(request) {
      const out = await userPoolFromEnv().resendCode(request.body.email);
      return json(202, { codeSentTo: out.codeSentTo });
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/forgot-password',
    action: 'account:sign-up',
    body: z.object({ email }),
    async handle(request) {
      const out = await userPoolFromEnv().forgotPassword(request.body.email);
      return json(202, { codeSentTo: out.codeSentTo, next: 'If this email has an account, a reset code is on its way.' });
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/reset-password',
    action: 'account:sign-up',
    body: z.object({ email, code, password }),
    async handle(request) {
      await userPoolFromEnv().resetPassword(request.body.email, request.body.code, request.body.password);
      await auditLogFromEnv().record({ actorName: request.body.email, action: 'account.reset-password', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return json(200, { next: 'Your password is changed. Sign in with the new one.' });
    },
  }),
];

/** The gateway app client's secret, when the pool gave it one (Secrets Manager → env in AWS). */
export const gatewayClientSecretEnv = 'GATEWAY_CLIENT_SECRET';

/**
 * Machine sign-in for hospital gateways: the gateway user's credentials
 * against the gateway app client, tokens answered as JSON (no cookies). The
 * tokens act as uploader only (the access matrix), and expire: sign in again
 * rather than refresh.
 */
export const machineTokenRoutes: Route[] = [
  route({
    method: 'POST',
    path: '/api/auth/token',
    action: 'session:manage',
    body: z.object({ username: z.string().trim().min(1).max(254), password: z.string().min(1).max(256) }),
    async handle(request) {
      const clientId = process.env[envNames.gatewayClientId];
      if (!clientId) throw new HttpError(501, 'gateway_client_missing', 'This deployment has no gateway app client.');
      const pool = userPoolFromEnv();
      const audit = auditLogFromEnv();
      let tokens;
      try {
        tokens = await pool.signIn(request.body.username, request.body.password, { id: clientId, secret: process.env[gatewayClientSecretEnv] });
      } catch (error) {
        if (error instanceof HttpError) await audit.record({ actorName: request.body.username, action: 'session.machine-sign-in', outcome: 'denied', details: { reason: error.code }, sourceIp: request.sourceIp, correlationId: request.correlationId });
        throw error;
      }
      const user = await pool.getUser(usernameOf(tokens));
      if (user && !user.enabled) {
        if (tokens.refreshToken) await pool.revoke(tokens.refreshToken);
        await audit.record({ actorSub: user.sub, actorName: request.body.username, action: 'session.machine-sign-in', outcome: 'denied', details: { reason: 'account_disabled' }, sourceIp: request.sourceIp, correlationId: request.correlationId });
        throw forbidden('account_disabled', 'This gateway account is disabled. Ask an administrator.');
      }
      await audit.record({ actorSub: user?.sub, actorName: request.body.username, action: 'session.machine-sign-in', sourceIp: request.sourceIp, correlationId: request.correlationId });
      return json(200, { tokenType: 'Bearer', accessToken: tokens.accessToken, idToken: tokens.idToken, expiresInSeconds: tokens.expiresInSeconds ?? 3600 });
    },
  }),
];
