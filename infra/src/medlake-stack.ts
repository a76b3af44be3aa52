/**
 * The whole product in one stack: storage, data, auth, the HTTP API, the
 * processing functions and queues, the web front and monitoring. Built in the
 * order CloudFormation references allow: the API's host name exists before any
 * function, so CloudFront can point at it and the functions can learn the
 * public URL (PUBLIC_BASE_URL) without a dependency cycle.
 */
import { Annotations, CfnOutput, Stack } from 'aws-cdk-lib';
import type { StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { envNames } from '@medlake/shared/resources';
import type { BucketId } from '@medlake/shared/resources';
import type { HttpRouteSpec } from './api';
import { Api } from './api';
import { Auth } from './auth';
import type { StageConfig } from './config';
import { Data } from './data';
import type { FunctionDefinition } from './functions';
import { Migration } from './migration';
import { Monitoring } from './monitoring';
import { acknowledgeNagFindings } from './nag';
import { Processing } from './processing';
import { Storage } from './storage';
import { Web } from './web';

export interface MedlakeStackProps extends StackProps {
  config: StageConfig;
  /** Every HTTP route of the functions (public ones get routes without authorizer). */
  httpRoutes: readonly HttpRouteSpec[];
  /** Defaults to the catalog entries whose handler file exists. */
  functions?: readonly FunctionDefinition[];
}

export class MedlakeStack extends Stack {
  readonly config: StageConfig;
  readonly storage: Storage;
  readonly data: Data;
  readonly auth: Auth;
  readonly api: Api;
  readonly web: Web;
  readonly processing: Processing;
  readonly monitoring: Monitoring;
  readonly migration?: Migration;

  constructor(scope: Construct, id: string, props: MedlakeStackProps) {
    super(scope, id, { description: `medlake ${props.config.stage}: serverless medical-imaging data lake`, ...props });
    const { config } = props;
    this.config = config;

    this.storage = new Storage(this, 'Storage', { config });
    this.data = new Data(this, 'Data', { config, dataKey: this.storage.dataKey, logBucket: this.storage.logBucket });
    this.auth = new Auth(this, 'Auth', { config });
    this.api = new Api(this, 'Api', {
      config,
      dataKey: this.storage.dataKey,
      userPool: this.auth.userPool,
      userPoolClients: [this.auth.webClient, this.auth.gatewayClient],
    });
    this.web = new Web(this, 'Web', { config, logBucket: this.storage.logBucket, dataKey: this.storage.dataKey, vpc: this.data.vpc, apiDomainName: this.api.domainName });
    if (!this.web.siteDeployed) {
      Annotations.of(this.web).addWarningV2('medlake:web-not-built', `${config.webDist}/index.html not found: the stack deploys without the web app. Run \`npm run build -w web\` first.`);
    }
    this.storage.allowBrowserUploads([this.web.publicBaseUrl, ...config.extraUploadOrigins]);

    this.processing = new Processing(this, 'Processing', {
      config,
      dataKey: this.storage.dataKey,
      vaultKey: this.storage.vaultKey,
      buckets: this.storage.buckets as Record<BucketId, typeof this.storage.buckets.archive>,
      vpc: this.data.vpc,
      securityGroup: this.data.functionSecurityGroup,
      databaseSecret: this.data.databaseSecret,
      databaseUrl: this.data.databaseUrl,
      directDatabaseUrl: this.data.directDatabaseUrl,
      deidKeySecret: this.data.deidKeySecret,
      userPoolArn: this.auth.userPool.userPoolArn,
      authEnvironment: {
        [envNames.userPoolId]: this.auth.userPool.userPoolId,
        [envNames.webClientId]: this.auth.webClient.userPoolClientId,
        [envNames.gatewayClientId]: this.auth.gatewayClient.userPoolClientId,
        [envNames.jwtIssuer]: this.auth.issuer,
        [envNames.jwksUrl]: `${this.auth.issuer}/.well-known/jwks.json`,
      },
      mailIdentityArn: this.auth.mailIdentity.emailIdentityArn,
      publicBaseUrl: this.web.publicBaseUrl,
      functions: props.functions,
    });
    for (const missing of this.processing.missing) {
      Annotations.of(this.processing).addWarningV2(`medlake:missing-function-${missing}`, `functions/src/${missing}/handler.ts does not exist: the ${missing} function is not deployed.`);
    }
    const fns = this.processing.functions;
    this.api.addRoutes({ api: fns.api, dicomweb: fns.dicomweb }, props.httpRoutes);
    this.web.routeDicomweb(this.processing.functionUrls['dicomweb-stream']);

    if (fns.migrate) {
      this.migration = new Migration(this, 'Migration', { config, dataKey: this.storage.dataKey, migrateFunction: fns.migrate, vpc: this.data.vpc, securityGroup: this.data.functionSecurityGroup });
      // New code never runs against an old schema.
      for (const [name, fn] of Object.entries(fns)) if (name !== 'migrate' && fn) fn.node.addDependency(this.migration.resource);
    }
    this.monitoring = new Monitoring(this, 'Monitoring', {
      config,
      dataKey: this.storage.dataKey,
      queues: this.processing.queues,
      functions: fns,
      schedules: this.processing.digestSchedule ? [this.processing.digestSchedule] : [],
    });

    new CfnOutput(this, 'Url', { value: this.web.publicBaseUrl, description: 'medlake: open this in a browser' });
    new CfnOutput(this, 'UserPoolId', { value: this.auth.userPool.userPoolId });
    new CfnOutput(this, 'WebClientId', { value: this.auth.webClient.userPoolClientId });
    new CfnOutput(this, 'GatewayClientId', { value: this.auth.gatewayClient.userPoolClientId });
    new CfnOutput(this, 'SiteBucket', { value: this.web.bucket.bucketName });
    new CfnOutput(this, 'AlarmTopic', { value: this.monitoring.topic.topicArn });
    for (const [bucketId, bucket] of Object.entries(this.storage.buckets)) new CfnOutput(this, `${bucketId}Bucket`, { value: bucket.bucketName });

    acknowledgeNagFindings(this);
  }
}
