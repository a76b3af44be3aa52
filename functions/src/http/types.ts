/**
 * The wire shapes of API Gateway HTTP API (payload format 2.0), which both the
 * cloud and the local front door deliver to our HTTP Lambdas.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Claims as the JWT authorizer hands them over: arrays arrive as strings like "[admin uploader]". */
export type AuthorizerClaims = Record<string, string | number | boolean | string[]>;

export type HttpEvent = APIGatewayProxyEventV2 & {
  requestContext: APIGatewayProxyEventV2['requestContext'] & {
    /** jwt: API Gateway's JWT authorizer; iam: a Function URL request whose SigV4 signature Lambda verified (CloudFront's). */
    authorizer?: { jwt?: { claims: AuthorizerClaims; scopes: string[] | null }; iam?: Record<string, unknown> };
  };
};

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS';
