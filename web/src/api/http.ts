/**
 * The one way the web app calls the lake's API: same-origin JSON with the
 * session cookie, the CSRF double-submit header on state-changing calls, a
 * single silent session refresh on a 401 (the ID token expired, or an
 * administrator changed the account's roles: `token_stale`) and one retry,
 * and errors as `ApiError` values carrying the server's code and readable
 * sentence.
 */

export const csrfCookieName = 'medlake_csrf';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly correlationId?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A cookie readable by the page (the CSRF token is; the session tokens are HttpOnly). */
export function readCookie(name: string, cookies: string = typeof document === 'undefined' ? '' : document.cookie): string | undefined {
  for (const part of cookies.split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export type QueryValue = string | number | boolean | undefined | null | readonly (string | number)[];

/** `?a=1&m=CT&m=MR` from an object; empty values are left out, arrays repeat the key. */
export function queryString(query: Record<string, QueryValue> | URLSearchParams | undefined): string {
  if (!query) return '';
  const params = query instanceof URLSearchParams ? new URLSearchParams(query) : new URLSearchParams();
  if (!(query instanceof URLSearchParams)) {
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined || value === null || value === '') continue;
      if (Array.isArray(value)) for (const item of value as readonly (string | number)[]) params.append(key, String(item));
      else params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  body?: unknown;
  query?: Record<string, QueryValue> | URLSearchParams;
  signal?: AbortSignal;
  /** Do not try a session refresh on 401 (the session endpoints themselves). */
  noRefresh?: boolean;
}

/** Listeners told when the session is gone for good (refresh failed). */
const sessionEndedListeners = new Set<() => void>();
export function onSessionEnded(listener: () => void): () => void {
  sessionEndedListeners.add(listener);
  return () => sessionEndedListeners.delete(listener);
}

/** Listeners told the session's new identity after a refresh (roles may have changed: an administrator's change answers 401 `token_stale`). */
const sessionRefreshedListeners = new Set<(me: unknown) => void>();
export function onSessionRefreshed(listener: (me: unknown) => void): () => void {
  sessionRefreshedListeners.add(listener);
  return () => sessionRefreshedListeners.delete(listener);
}

let refreshing: Promise<boolean> | undefined;

/** One refresh at a time, shared by every request that saw a 401. */
export function refreshSession(): Promise<boolean> {
  refreshing ??= fetch('/api/session/refresh', { method: 'POST', credentials: 'same-origin', headers: csrfHeaders() })
    .then(async (response) => {
      if (!response.ok) return false;
      const me: unknown = await response.json().catch(() => undefined);
      if (me) for (const listener of sessionRefreshedListeners) listener(me);
      return true;
    })
    .catch(() => false)
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

function csrfHeaders(): Record<string, string> {
  const token = readCookie(csrfCookieName);
  return token ? { 'X-CSRF-Token': token } : {};
}

async function errorOf(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let message = response.statusText || `The server answered ${response.status}.`;
  let correlationId: string | undefined;
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string; correlationId?: string }; message?: string };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      correlationId = body.error.correlationId;
    } else if (body.message) {
      message = body.message;
    }
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 404 && code === 'not_deployed') message = 'This part of medlake is not available yet.';
  if (response.status >= 500 && !correlationId) message = 'The server had a problem. Try again in a moment.';
  return new ApiError(response.status, code, message, correlationId);
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const send = () => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (method !== 'GET') Object.assign(headers, csrfHeaders());
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    return fetch(`${path}${queryString(options.query)}`, { method, headers, body, credentials: 'same-origin', signal: options.signal });
  };
  let response: Response;
  try {
    response = await send();
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'The server cannot be reached. Check the network connection.');
  }
  if (response.status === 401 && !options.noRefresh) {
    if (await refreshSession()) response = await send();
    if (response.status === 401) for (const listener of sessionEndedListeners) listener();
  }
  if (!response.ok) throw await errorOf(response);
  if (response.status === 204) return undefined as T;
  const type = response.headers.get('content-type') ?? '';
  return (type.includes('json') ? await response.json() : await response.text()) as T;
}

/** A readable sentence for any error thrown by `api` (or anything else). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}
