/**
 * Routes: a method, a path pattern with `{params}` (and a greedy `{name+}`
 * tail), the action the access matrix knows it by, an optional zod schema for
 * the JSON body, and the function that answers.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { z } from 'zod';
import type { Action } from '@medlake/shared/access/matrix';
import type { Principal } from '../auth/principal';
import type { HttpEvent, HttpMethod, HttpResult } from './types';
import { HttpError } from './errors';

export interface HttpRequest<Body = undefined> {
  event: HttpEvent;
  method: string;
  path: string;
  params: Record<string, string>;
  /** Repeated keys kept (e.g. `includefield`). */
  query: URLSearchParams;
  header(name: string): string | undefined;
  cookies: Record<string, string>;
  /** The JSON body validated by the route's schema; undefined for routes without one. */
  body: Body;
  /** The raw body bytes (base64 already decoded), e.g. for multipart/related. */
  rawBody: Buffer;
  /** Who is calling; always set on routes whose action is not public. */
  principal: Principal | undefined;
  correlationId: string;
  sourceIp: string | undefined;
  logger: Logger;
}

export interface Route<Body = unknown> {
  method: HttpMethod;
  path: string;
  action: Action;
  body?: z.ZodType<Body>;
  handle(request: HttpRequest<Body>): Promise<HttpResult> | HttpResult;
}

/** Infers the body type from the schema; use it to declare a route. */
export function route<Schema extends z.ZodType = z.ZodType<undefined>>(definition: {
  method: HttpMethod;
  path: string;
  action: Action;
  body?: Schema;
  handle(request: HttpRequest<z.output<Schema>>): Promise<HttpResult> | HttpResult;
}): Route {
  return definition as unknown as Route;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
  /** Literal segments count more than params: `/users/pending` beats `/users/{username}`. */
  literalSegments: number;
}

export type RouteMatch =
  | { kind: 'found'; route: Route; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allowed: string[] }
  | { kind: 'not-found' };

export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly Route[]) {
    this.compiled = routes.map(compile);
    const seen = new Set<string>();
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`route declared twice: ${key}`);
      seen.add(key);
    }
  }

  match(method: string, path: string): RouteMatch {
    const candidates = this.compiled
      .map((c) => ({ c, m: c.pattern.exec(path) }))
      .filter((x): x is { c: CompiledRoute; m: RegExpExecArray } => x.m !== null)
      .sort((a, b) => b.c.literalSegments - a.c.literalSegments);
    if (candidates.length === 0) return { kind: 'not-found' };
    const wanted = method.toUpperCase();
    const hit = candidates.find((x) => x.c.route.method === wanted) ?? (wanted === 'HEAD' ? candidates.find((x) => x.c.route.method === 'GET') : undefined);
    if (!hit) return { kind: 'method-not-allowed', allowed: [...new Set(candidates.map((x) => x.c.route.method))] };
    const params: Record<string, string> = {};
    hit.c.names.forEach((name, i) => {
      const raw = hit.m[i + 1] ?? '';
      params[name] = safeDecode(raw);
    });
    return { kind: 'found', route: hit.c.route, params };
  }
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  let literalSegments = 0;
  const source = route.path
    .split('/')
    .map((segment) => {
      const param = /^\{([A-Za-z_][A-Za-z0-9_]*)(\+)?\}$/.exec(segment);
      if (!param) {
        if (segment) literalSegments++;
        return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      }
      names.push(param[1] as string);
      return param[2] ? '(.+)' : '([^/]+)';
    })
    .join('/');
  return { route, names, literalSegments, pattern: new RegExp(`^${source}/?$`) };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/**
 * The caller of a route whose action is not public (the pipeline has already
 * authenticated them); throws 401 if called on a public route without one.
 */
export function requirePrincipal(request: HttpRequest<unknown>): Principal {
  if (!request.principal) throw new HttpError(401, 'unauthenticated', 'Sign in to continue.');
  return request.principal;
}
