/**
 * The one origin users open: CloudFront serving the SPA (web/dist) and the
 * OHIF viewer (web/dist/viewer) from a private S3 bucket through Origin Access
 * Control, passing /api/* to the HTTP API and /dicomweb/* to the streaming
 * Function URL of dicomweb-stream (reads) or the HTTP API (STOW-RS), uncached
 * (all methods, cookies, headers and query strings). Same origin for the SPA,
 * the viewer iframe and the API is what lets the session cookie work without CORS.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { Aws, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { bucketDefinition } from '@medlake/shared/resources';
import type { StageConfig } from './config';
import { logRetention } from './config';
import { dicomwebRoutingSource, sessionBearerSource, spaRoutingSource } from './edge-functions';
import { repoRoot } from './processing';
import { bucketPhysicalName } from './storage';

export const apiPathPattern = '/api/*';
export const dicomwebPathPattern = '/dicomweb/*';
/** The HTTP API's origin id, by which the DICOMweb routing function selects it for STOW-RS. */
export const apiOriginId = 'medlake-http-api';

export interface WebProps {
  config: StageConfig;
  logBucket: s3.IBucket;
  dataKey: kms.IKey;
  /** Where the deployment Lambda runs (it copies the build into the site bucket). */
  vpc: ec2.IVpc;
}

export class Web extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  /** https://<domain> users open; also PUBLIC_BASE_URL and the upload CORS origin. */
  readonly publicBaseUrl: string;
  /** False when web/dist was not built: the stack deploys without a site (warned at synth). */
  readonly siteDeployed: boolean;
  private readonly config: StageConfig;
  private readonly apiBehaviorOptions: cloudfront.AddBehaviorOptions;
  private readonly apiOrigin: cloudfront.IOrigin;

  constructor(scope: Construct, id: string, props: WebProps & { apiDomainName: string }) {
    super(scope, id);
    const { config } = props;

    // Static build output only, no PHI: S3-managed encryption (KMS would need
    // CloudFront in the key policy and a KMS call per cache miss).
    this.bucket = new s3.Bucket(this, 'Site', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logBucket,
      serverAccessLogsPrefix: 's3/site/',
      removalPolicy: RemovalPolicy.DESTROY,
      autoDeleteObjects: true,
    });

    const securityHeaders = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'medlake: HSTS, CSP, no sniffing, same-origin framing (the viewer iframe)',
      securityHeadersBehavior: {
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.SAMEORIGIN, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
        xssProtection: { protection: true, modeBlock: true, override: true },
        contentSecurityPolicy: { contentSecurityPolicy: contentSecurityPolicy(config.stage), override: true },
      },
      removeHeaders: ['x-powered-by'],
    });

    const spaRouting = new cloudfront.Function(this, 'SpaRouting', {
      comment: 'SPA and OHIF client routes → their index.html',
      code: cloudfront.FunctionCode.fromInline(spaRoutingSource),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const sessionBearer = new cloudfront.Function(this, 'SessionBearer', {
      comment: 'session cookie → Authorization for the JWT authorizer (CSRF-checked)',
      code: cloudfront.FunctionCode.fromInline(sessionBearerSource),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });

    const certificate = config.certificateArn ? acm.Certificate.fromCertificateArn(this, 'Certificate', config.certificateArn) : undefined;
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: `medlake ${config.stage}`,
      defaultRootObject: 'index.html',
      domainNames: config.domainName ? [config.domainName] : undefined,
      certificate,
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: config.webAclArn,
      enableLogging: true,
      logBucket: props.logBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        compress: true,
        functionAssociations: [{ function: spaRouting, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
    });

    // Uncached: with caching off, AllViewerExceptHostHeader forwards every
    // header including Authorization, all cookies and the query string; the
    // Host header stays the API's own (API Gateway rejects a foreign one).
    this.apiBehaviorOptions = {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
      allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
      cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
      originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
      responseHeadersPolicy: securityHeaders,
      compress: true,
      functionAssociations: [{ function: sessionBearer, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
    };
    this.apiOrigin = new origins.HttpOrigin(props.apiDomainName, {
      originId: apiOriginId,
      protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      readTimeout: Duration.seconds(30),
    });
    this.distribution.addBehavior(apiPathPattern, this.apiOrigin, this.apiBehaviorOptions);

    this.publicBaseUrl = `https://${config.domainName ?? this.distribution.distributionDomainName}`;
    this.config = config;

    const webDist = isAbsolute(config.webDist) ? config.webDist : join(repoRoot, config.webDist);
    this.siteDeployed = existsSync(join(webDist, 'index.html'));
    if (this.siteDeployed) {
      new s3deploy.BucketDeployment(this, 'Deploy', {
        destinationBucket: this.bucket,
        sources: [s3deploy.Source.asset(webDist)],
        distribution: this.distribution,
        distributionPaths: ['/*'],
        // The OHIF build is ~50 MB of files.
        memoryLimit: 1024,
        prune: true,
        retainOnDelete: false,
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        logGroup: new logs.LogGroup(this, 'DeployLogs', {
          retention: logRetention(config),
          encryptionKey: props.dataKey,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    }
  }

  /**
   * /dicomweb/*: with a streaming Function URL (dicomweb-stream), reads go
   * there through Origin Access Control (SigV4, always: the URL's AuthType is
   * AWS_IAM, so nothing but this distribution can invoke it) and the routing
   * function sends STOW-RS to the HTTP API (edge-functions.ts says why);
   * without one, everything goes to the HTTP API like /api/*.
   */
  routeDicomweb(streamingUrl: lambda.IFunctionUrl | undefined): void {
    if (!streamingUrl) {
      this.distribution.addBehavior(dicomwebPathPattern, this.apiOrigin, this.apiBehaviorOptions);
      return;
    }
    const routing = new cloudfront.Function(this, 'DicomwebRouting', {
      comment: 'DICOMweb: session cookie → token; reads → streaming Function URL, STOW-RS → HTTP API',
      code: cloudfront.FunctionCode.fromInline(dicomwebRoutingSource(apiOriginId)),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
    });
    const signing = new cloudfront.FunctionUrlOriginAccessControl(this, 'DicomwebStreamAccess', {
      originAccessControlName: `medlake-${this.config.stage}-dicomweb-stream-${Aws.REGION}`,
      description: 'medlake: CloudFront signs its requests to the dicomweb-stream Function URL',
      signing: cloudfront.Signing.SIGV4_ALWAYS,
    });
    const streamOrigin = origins.FunctionUrlOrigin.withOriginAccessControl(streamingUrl, {
      originId: 'medlake-dicomweb-stream',
      originAccessControl: signing,
      // CloudFront's wait for the first byte and between bytes; a streamed answer keeps them coming.
      readTimeout: Duration.seconds(30),
    });
    this.distribution.addBehavior(dicomwebPathPattern, streamOrigin, {
      ...this.apiBehaviorOptions,
      functionAssociations: [{ function: routing, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
    });
  }
}

/**
 * OHIF's index.html carries inline scripts and its codecs compile WebAssembly,
 * hence 'unsafe-inline' and the eval allowances; what CSP still buys is that
 * nothing loads from, or talks to, any other origin than this one and the
 * quarantine bucket (presigned browser uploads).
 */
export function contentSecurityPolicy(stage: string): string {
  const uploads = bucketPhysicalName(stage, bucketDefinition('quarantine'));
  const uploadHosts = [`https://${uploads}.s3.${Aws.REGION}.${Aws.URL_SUFFIX}`, `https://${uploads}.s3.${Aws.URL_SUFFIX}`];
  return Fn.join('; ', [
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline' 'unsafe-eval' 'wasm-unsafe-eval'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    "worker-src 'self' blob:",
    Fn.join(' ', ["connect-src 'self' blob: data:", ...uploadHosts]),
    "frame-src 'self' blob:",
    "frame-ancestors 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ]);
}
