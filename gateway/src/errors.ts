/**
 * Errors the gateway tells its operator about: each has a machine code and a
 * sentence without PHI. Transient ones (network, 5xx, throttling, expired
 * presigned URLs) are retried; the rest stop the file or the run.
 */

export class GatewayError extends Error {
  override name = 'GatewayError';
  constructor(readonly code: string, message: string, readonly options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
  }
}

/** A configuration or usage problem: nothing was sent. */
export class ConfigError extends GatewayError {
  override name = 'ConfigError';
  constructor(code: string, message: string) {
    super(code, message, { exitCode: 2 });
  }
}

/** An answer of the medlake API that is not a success. */
export class ApiError extends GatewayError {
  override name = 'ApiError';
  constructor(readonly status: number, code: string, message: string) {
    super(code, message);
  }

  get transient(): boolean {
    return status5xxOrThrottled(this.status);
  }
}

/** A presigned URL the storage refused because it expired: ask the API for a fresh one. */
export class UrlExpiredError extends GatewayError {
  override name = 'UrlExpiredError';
  constructor() {
    super('url_expired', 'The presigned upload URL expired before the upload finished.');
  }
}

/** A storage (S3) answer that is worth another try with the same URL. */
export class StorageTransientError extends GatewayError {
  override name = 'StorageTransientError';
  constructor(readonly status: number, code: string) {
    super('storage_unavailable', `The storage answered ${status}${code ? ` (${code})` : ''}; trying again.`);
  }
}

function status5xxOrThrottled(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

const networkCodes = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** A failure below HTTP: the connection broke, timed out or never opened. */
export function isNetworkError(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && networkCodes.has(code)) return true;
    if (current instanceof TypeError && current.message === 'fetch failed') return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function isTransient(error: unknown): boolean {
  if (error instanceof ApiError) return error.transient;
  if (error instanceof StorageTransientError || error instanceof UrlExpiredError) return true;
  return isNetworkError(error);
}

/** A sentence for the operator; never the stack, never a token. */
export function describeError(error: unknown): string {
  if (error instanceof GatewayError) return error.message;
  if (isNetworkError(error)) {
    const code = findCode(error);
    return `Network error${code ? ` (${code})` : ''}: the server could not be reached.`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function findCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
