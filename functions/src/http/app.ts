/**
 * The HTTP Lambda pipeline shared by /api and /dicomweb: a middy chain of
 * Powertools logger context → error answers → routing, authentication,
 * authorization (the access matrix), CSRF, JSON body validation → the route.
 * No route can skip the access check: it is declared with the route.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { ZodError } from 'zod';
import { auditsRefusals, isPublic } from '@medlake/shared/access/matrix';
import { auditLogFromEnv } from '../adapters/audit-log';
import type { Principal } from '../auth/principal';
import { authenticateCurrent, authenticateCurrentIfPresent } from '../auth/authenticate';
import { authorize, checkCsrf } from '../auth/authorize';
import { HttpError, badRequest } from './errors';
import { json } from './response';
import type { HttpRequest, Route } from './router';
import { Router } from './router';
import { bodyBytes, cookies, correlationId, header, method, path, query, sourceIp } from './request';
import type { HttpEvent, HttpResult } from './types';

export interface HttpAppOptions {
  serviceName: string;
  routes: readonly Route[];
  logger?: Logger;
}

export type HttpHandler = (event: HttpEvent, context: Context) => Promise<HttpResult>;

export function createHttpHandler(options: HttpAppOptions): HttpHandler {
  const logger = options.logger ?? new Logger({ serviceName: options.serviceName });
  const router = new Router(options.routes);

  const dispatch = async (event: HttpEvent): Promise<HttpResult> => {
    const found = router.match(method(event), path(event));
    if (found.kind === 'not-found') throw new HttpError(404, 'not_found', `No such endpoint: ${method(event)} ${path(event)}.`);
    if (found.kind === 'method-not-allowed') {
      throw new HttpError(405, 'method_not_allowed', `${method(event)} is not supported here; use ${found.allowed.join(', ')}.`, undefined, { allow: found.allowed.join(', ') });
    }
    const { route, params } = found;
    const principal = isPublic(route.action) ? await authenticateCurrentIfPresent(event) : await authenticateCurrent(event);
    try {
      authorize(principal, route.action);
    } catch (error) {
      if (principal && auditsRefusals(route.action)) await auditRefusal(logger, event, principal, route, error);
      throw error;
    }
    if (!isPublic(route.action)) checkCsrf(event, principal);
    const rawBody = bodyBytes(event);
    const request: HttpRequest<unknown> = {
      event,
      method: method(event),
      path: path(event),
      params,
      query: query(event),
      header: (name) => header(event, name),
      cookies: cookies(event),
      body: route.body ? parseBody(route, rawBody, header(event, 'content-type')) : undefined,
      rawBody,
      principal,
      correlationId: correlationId(event),
      sourceIp: sourceIp(event),
      logger,
    };
    const result = await route.handle(request);
    if (method(event) === 'HEAD') return { ...result, body: undefined, isBase64Encoded: false };
    return result;
  };

  return middy<HttpEvent, HttpResult>({ timeoutEarlyInMillis: 0 })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(correlation(logger))
    .use(errorAnswers(logger))
    .handler(dispatch) as unknown as HttpHandler;
}

/** A signed-in caller refused a sensitive action: the attempt is audited (best effort: the refusal stands either way). */
async function auditRefusal(logger: Logger, event: HttpEvent, principal: Principal, route: Route, error: unknown): Promise<void> {
  try {
    await auditLogFromEnv().record({
      actorSub: principal.sub,
      actorName: principal.email ?? principal.username,
      // `phi:reidentify` → `phi.reidentify`: the name its allowed uses are audited under.
      action: route.action.replace(':', '.'),
      outcome: 'denied',
      details: { code: error instanceof HttpError ? error.code : 'forbidden', request: `${route.method} ${path(event)}` },
      sourceIp: sourceIp(event),
      correlationId: correlationId(event),
    });
  } catch (auditError) {
    logger.warn('could not audit a refused request', { action: route.action, error: { name: (auditError as Error).name, message: (auditError as Error).message } });
  }
}

/**
 * JSON bodies must say so: a cross-site HTML form can post text/plain that
 * happens to parse as JSON, but cannot send application/json without CORS.
 */
function parseBody(route: Route, raw: Buffer, contentType: string | undefined): unknown {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (raw.length > 0 && type !== 'application/json' && !type?.endsWith('+json')) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json".');
  }
  let value: unknown;
  try {
    value = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw badRequest('invalid_json', 'The request body is not valid JSON.');
  }
  const parsed = route.body?.safeParse(value);
  if (parsed && !parsed.success) throw validationError(parsed.error);
  return parsed?.data;
}

function validationError(error: ZodError): HttpError {
  const issues = error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message }));
  const first = issues[0];
  const sentence = first ? `Invalid request: ${first.path ? `${first.path}: ` : ''}${first.message}.` : 'Invalid request.';
  return badRequest('invalid_request', sentence, { issues });
}

/** Tags every log line with the correlation id and echoes it to the caller. */
function correlation(logger: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    before: (request) => {
      logger.appendKeys({ correlationId: correlationId(request.event) });
    },
    after: (request) => {
      if (request.response) request.response.headers = { ...request.response.headers, 'x-correlation-id': correlationId(request.event) };
    },
  };
}

/** Typed errors become their 4xx answer; anything else a logged 500 with the correlation id. */
function errorAnswers(logger: Logger): MiddlewareObj<HttpEvent, HttpResult> {
  return {
    onError: (request) => {
      const id = correlationId(request.event);
      const error = request.error;
      let answer: HttpError;
      if (error instanceof HttpError) answer = error;
      else if (error instanceof ZodError) answer = validationError(error);
      else {
        // name, message and stack only: never the event (tokens) or driver details (values).
        logger.error('unexpected error', { error: { name: error?.name, message: error?.message, stack: error?.stack }, method: request.event.requestContext.http.method, path: path(request.event) });
        answer = new HttpError(500, 'internal_error', `Something went wrong on our side. Quote ${id} when reporting it.`);
      }
      if (answer.status >= 500 && error instanceof HttpError) logger.error('server error answer', { code: answer.code });
      request.response = json(answer.status, { error: { code: answer.code, message: answer.message, correlationId: id, ...answer.details } }, { headers: { 'x-correlation-id': id, ...answer.headers } });
    },
  };
}
