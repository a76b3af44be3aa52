/**
 * The CDK app (cdk.json: `npx tsx infra/bin/medlake.ts`). `-c stage=prod`
 * picks the stage; settings come from cdk.json `medlake:stages` and `-c`
 * overrides (infra/src/config.ts). The HTTP route registries of the functions
 * are read at synth, so the public API Gateway routes follow the code.
 * cdk-nag (AwsSolutions, HIPAA Security) checks every synth; `-c nag=false`
 * skips it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, HIPAASecurityChecks } from 'cdk-nag';
import { medlakeApp } from '../src/app';

const { app } = await medlakeApp({ app: new App() });

const nag: unknown = app.node.tryGetContext('nag');
if (nag !== false && nag !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new HIPAASecurityChecks(app));
}
