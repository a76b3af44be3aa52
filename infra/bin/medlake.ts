/**
 * The CDK app (cdk.json: `npx tsx infra/bin/medlake.ts`). `-c stage=prod`
 * picks the stage; settings come from cdk.json `medlake:stages` and `-c`
 * overrides (infra/src/config.ts). The HTTP route registries of the functions
 * are read here, so the public API Gateway routes follow the code.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { allRoutes } from '@medlake/functions/auth/access-docs';
import { stageConfig } from '../src/config';
import { MedlakeStack } from '../src/medlake-stack';

const app = new App();
const config = stageConfig((key) => app.node.tryGetContext(key));
const httpRoutes = (await allRoutes()).map(({ method, path, action }) => ({ method, path, action }));

new MedlakeStack(app, `medlake-${config.stage}`, {
  config,
  httpRoutes,
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

if (app.node.tryGetContext('nag') !== 'false' && app.node.tryGetContext('nag') !== false) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
}
