/**
 * Answers too big to build in memory (a study retrieve) carry their body as
 * a stream of chunks. The streaming entry point (Lambda response streaming
 * behind a Function URL) pipes it out as it comes; the buffered entry point
 * (API Gateway payload 2.0, the local front door) collects it, within
 * Lambda's 6 MB payload limit when it runs in Lambda.
 */
import type { HttpResult } from '../http/types';

export const streamBody = Symbol('streamBody');

export interface StreamBody {
  /** Total size, known before the first byte (for Content-Length and the buffered limit). */
  bytes: number;
  chunks(): AsyncIterable<Uint8Array>;
}

export type StreamingResult = HttpResult & { [streamBody]?: StreamBody };

export function streamed(statusCode: number, contentType: string, body: StreamBody, headers: Record<string, string> = {}): StreamingResult {
  return { statusCode, headers: { 'content-type': contentType, 'content-length': String(body.bytes), ...headers }, [streamBody]: body };
}

/**
 * A buffered Lambda answer is JSON with the body base64-encoded inside, all
 * within 6 MB (6,291,456 bytes): about 4.5 MB of binary body.
 */
export const maxBufferedBodyBytes = 4_600_000;
