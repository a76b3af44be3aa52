/**
 * The medlake upload API as a gateway speaks it: machine sign-in
 * (POST /api/auth/token), upload batches with presigned URLs
 * (POST /api/uploads), fresh multipart part URLs, multipart completion and
 * the ingest status (GET /api/uploads/{id}). Every call is retried on
 * network errors, 5xx and throttling; a 401 signs in again once.
 */
import type { Connection } from './config';
import { ApiError, GatewayError, isTransient } from './errors';
import type { RetryOptions } from './retry';
import { defaultRetry, withRetry } from './retry';

export interface UploadFileSpec {
  name: string;
  sizeBytes: number;
  sha256?: string;
}

export type PresignedFile =
  | { index: number; name: string; key: string; method: 'PUT'; url: string; headers?: Record<string, string> }
  | { index: number; name: string; key: string; method: 'multipart'; uploadId: string; partSizeBytes: number; parts: PartUrl[] };

export interface PartUrl {
  partNumber: number;
  url: string;
}

export interface CreatedUpload {
  uploadId: string;
  expiresAt: string;
  files: PresignedFile[];
}

export type FileState = 'waiting' | 'uploaded' | 'processing' | 'accepted' | 'duplicate' | 'rejected' | 'held' | 'failed' | (string & {});

export interface InstanceCounts {
  accepted?: number;
  duplicate?: number;
  rejected?: number;
  held?: number;
}

export interface UploadFileStatus {
  index: number;
  name: string;
  sizeBytes: number;
  state: FileState;
  reason?: string;
  instances?: InstanceCounts;
  studies?: string[];
}

export interface UploadStatus {
  uploadId: string;
  createdAt?: string;
  totals?: Record<string, unknown>;
  files: UploadFileStatus[];
}

/** States after which the server will not change a file any more. */
export const finalStates: ReadonlySet<string> = new Set(['accepted', 'duplicate', 'rejected', 'held', 'failed']);

export interface UploadApiOptions {
  retry?: Partial<Omit<RetryOptions, 'isRetryable'>>;
  /** Milliseconds before a single API call is abandoned (and retried). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  /** Told about each retry (no URLs with secrets, no bodies). */
  onRetry?(what: string, error: unknown, attempt: number): void;
}

interface Token {
  authorization: string;
  refreshAt: number;
}

const refreshMarginMs = 5 * 60_000;

export class UploadApi {
  private token: Token | undefined;
  private signingIn: Promise<Token> | undefined;
  /** Counts by call, for tests and the run summary. */
  readonly calls = { signIn: 0, createUpload: 0, refreshParts: 0, complete: 0, status: 0 };

  constructor(private readonly connection: Connection, private readonly options: UploadApiOptions = {}) {}

  get baseUrl(): string {
    return this.connection.url;
  }

  /** Signs in now (to fail early on bad credentials), or reuses a fresh token. */
  async authorization(): Promise<string> {
    if (this.token && this.token.refreshAt > Date.now()) return this.token.authorization;
    this.signingIn ??= this.signIn().finally(() => {
      this.signingIn = undefined;
    });
    this.token = await this.signingIn;
    return this.token.authorization;
  }

  async createUpload(files: UploadFileSpec[], signal?: AbortSignal): Promise<CreatedUpload> {
    this.calls.createUpload += 1;
    return this.call<CreatedUpload>('POST', '/api/uploads', { files }, 'create upload', signal);
  }

  async refreshPartUrls(uploadId: string, index: number, partNumbers: number[], signal?: AbortSignal): Promise<PartUrl[]> {
    this.calls.refreshParts += 1;
    const out = await this.call<{ parts: PartUrl[] }>('POST', `/api/uploads/${encodeURIComponent(uploadId)}/files/${index}/parts`, { partNumbers }, 'refresh part URLs', signal);
    return out.parts;
  }

  async completeMultipart(uploadId: string, index: number, parts: { partNumber: number; etag: string }[], signal?: AbortSignal): Promise<void> {
    this.calls.complete += 1;
    await this.call<unknown>('POST', `/api/uploads/${encodeURIComponent(uploadId)}/files/${index}/complete`, { parts }, 'complete multipart upload', signal);
  }

  async uploadStatus(uploadId: string, signal?: AbortSignal): Promise<UploadStatus> {
    this.calls.status += 1;
    return this.call<UploadStatus>('GET', `/api/uploads/${encodeURIComponent(uploadId)}`, undefined, 'upload status', signal);
  }

  private async signIn(): Promise<Token> {
    this.calls.signIn += 1;
    const startedAt = Date.now();
    let out: { accessToken?: string; tokenType?: string; expiresInSeconds?: number };
    try {
      out = await this.retrying('sign in', () => this.send<typeof out>('POST', '/api/auth/token', {
        username: this.connection.username,
        password: this.connection.password,
      }));
    } catch (error) {
      // Wrong password, disabled account, no gateway client: no retry helps, the operator must act.
      if (error instanceof ApiError && !error.transient) throw new GatewayError('sign_in_failed', `Gateway sign-in refused: ${error.message}`, { exitCode: 2, cause: error });
      throw error;
    }
    if (!out.accessToken) throw new ApiError(502, 'sign_in_malformed', 'The server answered the sign-in without a token.');
    const lifetimeMs = Math.max(60, out.expiresInSeconds ?? 3600) * 1000;
    // Sign in again a while before expiry (a quarter of short lifetimes), so no call carries a dying token.
    const refreshAt = startedAt + lifetimeMs - Math.min(refreshMarginMs, lifetimeMs / 4);
    return { authorization: `${out.tokenType ?? 'Bearer'} ${out.accessToken}`, refreshAt };
  }

  private async call<T>(method: string, path: string, body: unknown, what: string, callSignal?: AbortSignal): Promise<T> {
    let reauthenticated = false;
    const signal = combine(this.options.signal, callSignal);
    return this.retrying(what, async () => {
      const authorization = await this.authorization();
      try {
        return await this.send<T>(method, path, body, authorization, signal);
      } catch (error) {
        if (error instanceof ApiError && error.status === 401 && !reauthenticated) {
          // The token expired early or was revoked: one fresh sign-in, then the call again.
          reauthenticated = true;
          this.token = undefined;
          return this.send<T>(method, path, body, await this.authorization(), signal);
        }
        throw error;
      }
    }, signal);
  }

  private retrying<T>(what: string, run: () => Promise<T>, signal = this.options.signal): Promise<T> {
    return withRetry(run, {
      ...defaultRetry,
      ...this.options.retry,
      signal,
      isRetryable: isTransient,
      onRetry: (error, attempt) => this.options.onRetry?.(what, error, attempt),
    });
  }

  private async send<T>(method: string, path: string, body: unknown, authorization?: string, outer = this.options.signal): Promise<T> {
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorization) headers.authorization = authorization;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.connection.url}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    if (!response.ok) throw apiErrorFrom(response.status, text);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status >= 500 ? response.status : 502, 'invalid_response', `The server answered ${method} ${path} with something that is not JSON.`);
    }
  }
}

function combine(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a && b) return AbortSignal.any([a, b]);
  return a ?? b;
}

/** medlake errors are {error:{code,message}}; API Gateway's own are {message}. */
function apiErrorFrom(status: number, text: string): ApiError {
  let code = `http_${status}`;
  let message = `The server answered ${status}.`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: string; message?: string }; message?: string };
    if (parsed.error?.code) code = parsed.error.code;
    if (parsed.error?.message) message = parsed.error.message;
    else if (parsed.message) message = `${parsed.message} (${status}).`;
  } catch {
    // Not JSON (a proxy's error page): keep the status line.
  }
  return new ApiError(status, code, message);
}
