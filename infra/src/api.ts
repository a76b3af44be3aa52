/**
 * The HTTP API in front of the api and dicomweb functions.
 *
 * Authorization design (why the routes look like this):
 * - `ANY /api/{proxy+}` and `ANY /dicomweb/{proxy+}` carry the Cognito JWT
 *   authorizer (ID or access tokens of the web and gateway clients). A caller
 *   without a valid token never reaches a Lambda: no cost, no attack surface.
 * - The public endpoints (access matrix `isPublic(action)`: health, session,
 *   sign-up/confirm/reset, machine token, later unsubscribe) get explicit
 *   routes without authorizer, generated from the HTTP route registries. An
 *   explicit route is more specific than the proxy, so API Gateway picks it.
 *   Nothing is hand-listed: a new public route in the registry becomes a
 *   public API Gateway route on the next deploy.
 * - Browser sessions use an HttpOnly cookie, which a JWT authorizer cannot
 *   read; CloudFront copies it into the Authorization header, CSRF-checked
 *   (see edge-functions.ts), so the SPA and the OHIF iframe pass the
 *   authorizer too.
 * - The handlers still authenticate and authorize every route themselves (the
 *   access matrix): the authorizer is a first gate, never the only one. So a
 *   public route whose pattern also matches a protected path is not a hole.
 */
import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { Action } from '@medlake/shared/access/matrix';
import { isPublic } from '@medlake/shared/access/matrix';
import { nameFor } from '@medlake/shared/resources';
import type { StageConfig } from './config';
import { logRetention, removalPolicy } from './config';

/** What the infra needs of a route in the registries (functions/src/auth/access-docs.ts `allRoutes`). */
export interface HttpRouteSpec {
  method: string;
  path: string;
  action: Action;
}

export interface ApiRoute {
  /** API Gateway route key, e.g. `POST /api/session` or `ANY /api/{proxy+}`. */
  routeKey: string;
  function: 'api' | 'dicomweb';
  authorized: boolean;
}

/** The HTTP API's routes for the given registries: public routes explicit, everything else behind the authorizer. */
export function apiRoutes(registry: readonly HttpRouteSpec[], functions: readonly ('api' | 'dicomweb')[]): ApiRoute[] {
  const routes = new Map<string, ApiRoute>();
  for (const fn of functions) {
    routes.set(`ANY /${fn}/{proxy+}`, { routeKey: `ANY /${fn}/{proxy+}`, function: fn, authorized: true });
  }
  for (const route of registry) {
    if (!isPublic(route.action)) continue;
    const fn = functions.find((f) => route.path === `/${f}` || route.path.startsWith(`/${f}/`));
    if (!fn) continue;
    const method = route.method.toUpperCase();
    // The router answers HEAD for GET routes.
    for (const m of method === 'GET' ? ['GET', 'HEAD'] : [method]) {
      const routeKey = `${m} ${route.path}`;
      routes.set(routeKey, { routeKey, function: fn, authorized: false });
    }
  }
  return [...routes.values()];
}

export interface ApiProps {
  config: StageConfig;
  dataKey: kms.IKey;
  userPool: cognito.IUserPool;
  userPoolClients: cognito.IUserPoolClient[];
}

export class Api extends Construct {
  readonly httpApi: apigw.HttpApi;
  readonly routes: ApiRoute[] = [];
  /** The route constructs by route key. */
  readonly routeConstructs = new Map<string, apigw.HttpRoute>();
  /** Host name of the API (CloudFront's origin): known before any route or function exists. */
  readonly domainName: string;
  private readonly authorizer: HttpUserPoolAuthorizer;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const { config } = props;
    this.httpApi = new apigw.HttpApi(this, 'Http', {
      apiName: nameFor(config.stage, 'http'),
      description: 'medlake /api and /dicomweb (behind CloudFront)',
      createDefaultStage: false,
    });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: 500, burstLimit: 1000 },
    });
    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      logGroupName: `/medlake/${config.stage}/http-api`,
      retention: logRetention(config),
      encryptionKey: props.dataKey,
      removalPolicy: removalPolicy(config),
    });
    // No L2 property for HTTP API access logs yet.
    (stage.node.defaultChild as apigw.CfnStage).accessLogSettings = {
      destinationArn: accessLogs.logGroupArn,
      // Paths only, never query strings: search terms may name things.
      format: JSON.stringify({
        requestId: '$context.requestId',
        time: '$context.requestTime',
        method: '$context.httpMethod',
        path: '$context.path',
        routeKey: '$context.routeKey',
        status: '$context.status',
        latencyMs: '$context.responseLatency',
        integrationStatus: '$context.integrationStatus',
        authorizerError: '$context.authorizer.error',
        sourceIp: '$context.identity.sourceIp',
      }),
    };
    this.authorizer = new HttpUserPoolAuthorizer('Cognito', props.userPool, {
      userPoolClients: props.userPoolClients,
      identitySource: ['$request.header.Authorization'],
    });
    this.domainName = `${this.httpApi.apiId}.execute-api.${this.httpApi.stack.region}.${this.httpApi.stack.urlSuffix}`;
  }

  /** Routes to the functions that exist, for the endpoints of the registries. */
  addRoutes(functions: Partial<Record<'api' | 'dicomweb', lambda.IFunction>>, registry: readonly HttpRouteSpec[]): void {
    const present = (['api', 'dicomweb'] as const).filter((f) => functions[f]);
    const integrations = Object.fromEntries(
      present.map((f) => [f, new HttpLambdaIntegration(`${f}-integration`, functions[f] as lambda.IFunction, { timeout: Duration.seconds(29) })]),
    ) as Record<'api' | 'dicomweb', HttpLambdaIntegration>;
    for (const route of apiRoutes(registry, present)) {
      const [method, path] = route.routeKey.split(' ') as [string, string];
      const construct = new apigw.HttpRoute(this, `Route ${route.routeKey}`, {
        httpApi: this.httpApi,
        routeKey: apigw.HttpRouteKey.with(path, method as apigw.HttpMethod),
        integration: integrations[route.function],
        ...(route.authorized ? { authorizer: this.authorizer } : {}),
      });
      this.routes.push(route);
      this.routeConstructs.set(route.routeKey, construct);
    }
  }
}
