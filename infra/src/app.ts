/**
 * Builds the medlake CDK app: cdk.json context (plus overrides), the stage
 * settings, the HTTP route registries of the functions, the stack. Used by
 * infra/bin/medlake.ts and by the infra tests, so both synthesize the same thing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { allRoutes } from '@medlake/functions/auth/access-docs';
import type { HttpRouteSpec } from './api';
import type { StageConfig } from './config';
import { stageConfig } from './config';
import { MedlakeStack } from './medlake-stack';
import { repoRoot } from './processing';

/** Every HTTP route of the api and dicomweb registries. */
export async function httpRoutes(): Promise<HttpRouteSpec[]> {
  return (await allRoutes()).map(({ method, path, action }) => ({ method, path, action }));
}

export function cdkJsonContext(): Record<string, unknown> {
  return (JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
}

export interface MedlakeApp {
  app: App;
  stack: MedlakeStack;
  config: StageConfig;
}

/**
 * `app` given: the CLI's App (which already read cdk.json and `-c`); otherwise
 * a new App from cdk.json plus `context` overrides (tests).
 */
export async function medlakeApp(options: { app?: App; context?: Record<string, unknown>; outdir?: string } = {}): Promise<MedlakeApp> {
  const app = options.app ?? new App({ context: { ...cdkJsonContext(), ...options.context }, outdir: options.outdir });
  const config = stageConfig((key) => app.node.tryGetContext(key));
  const stack = new MedlakeStack(app, `medlake-${config.stage}`, {
    config,
    httpRoutes: await httpRoutes(),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack, config };
}
