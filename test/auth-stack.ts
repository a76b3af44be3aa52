/**
 * The identity stack of the auth integration tests, on the shared test
 * harness (test/support/local-stack.ts): real cognito-local with medlake's
 * pool, clients, groups and an admin, and PostgreSQL with the migrations (the
 * audit log), on random ports in a temporary directory.
 */
import type { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import type { TestStack } from './support/local-stack';
import { startTestStack, testConfirmationCode } from './support/local-stack';

export const confirmationCode = testConfirmationCode;

export interface AuthStack {
  env: Record<string, string>;
  cognito: CognitoIdentityProviderClient;
  admin: { email: string; password: string };
  databaseUrl: string;
  stack: TestStack;
  stop(): Promise<void>;
}

export async function startAuthStack(): Promise<AuthStack> {
  // No queue consumers: identity tests do not ingest.
  const stack = await startTestStack({ queueHandlers: { ingest: false, export: false, notify: false } });
  return {
    env: stack.env,
    cognito: stack.cognito,
    admin: { email: stack.admin.email, password: stack.admin.password },
    databaseUrl: stack.env.DATABASE_URL as string,
    stack,
    stop: () => stack.stop(),
  };
}
