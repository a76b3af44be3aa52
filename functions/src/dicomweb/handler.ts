/**
 * The /dicomweb/* Lambda. Two entry points over the same routes:
 * - `handler`: API Gateway HTTP API payload 2.0 (and the local front door);
 *   streamed answers are collected, within Lambda's 6 MB payload limit when
 *   running in Lambda (413 `use_streaming_endpoint` beyond it);
 * - `streamingHandler`: Lambda response streaming behind a Function URL
 *   (InvokeMode RESPONSE_STREAM), for study and series retrieves of any
 *   size; the handler verifies the JWT or session cookie itself.
 */
import type { Context } from 'aws-lambda';
import { createHttpHandler } from '../http/app';
import { json } from '../http/response';
import type { HttpEvent, HttpResult } from '../http/types';
import { routes } from './routes';
import type { StreamingResult } from './streaming';
import { maxBufferedBodyBytes, streamBody } from './streaming';

const core = createHttpHandler({ serviceName: 'medlake-dicomweb', routes }) as (event: HttpEvent, context: Context) => Promise<StreamingResult>;

export async function handler(event: HttpEvent, context: Context): Promise<HttpResult> {
  const result = await core(event, context);
  const stream = result[streamBody];
  if (!stream) return result;
  const { [streamBody]: _stream, ...rest } = result;
  if (event.requestContext.http.method.toUpperCase() === 'HEAD') return { ...rest, body: undefined };
  if (process.env.AWS_LAMBDA_FUNCTION_NAME && stream.bytes > maxBufferedBodyBytes) {
    return json(413, {
      error: {
        code: 'use_streaming_endpoint',
        message: `This answer is ${Math.ceil(stream.bytes / 1_048_576)} MB, more than an API Gateway answer can carry; retrieve it through the streaming DICOMweb endpoint, or series by series.`,
        correlationId: rest.headers?.['x-correlation-id'],
      },
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stream.chunks()) chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return { ...rest, body: Buffer.concat(chunks).toString('base64'), isBase64Encoded: true };
}

/** What the Lambda runtime provides to streaming functions (the `awslambda` global). */
export interface ResponseStream {
  write(chunk: Uint8Array | string): boolean;
  end(): void;
  once(event: 'drain', listener: () => void): unknown;
}
interface LambdaStreamingRuntime {
  streamifyResponse(fn: (event: HttpEvent, stream: ResponseStream, context: Context) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: ResponseStream, metadata: { statusCode: number; headers: Record<string, string>; cookies?: string[] }): ResponseStream };
}

/** Writes one answer to a Lambda response stream, body chunks as they come (with backpressure). */
export async function writeToResponseStream(runtime: LambdaStreamingRuntime, event: HttpEvent, responseStream: ResponseStream, context: Context): Promise<void> {
  const result = await core(event, context);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) headers[name] = String(value);
  const out = runtime.HttpResponseStream.from(responseStream, { statusCode: result.statusCode, headers, ...(result.cookies ? { cookies: result.cookies } : {}) });
  const stream = result[streamBody];
  const head = event.requestContext.http.method.toUpperCase() === 'HEAD';
  if (stream && !head) {
    for await (const chunk of stream.chunks()) {
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', resolve));
    }
  } else if (result.body !== undefined && !head) {
    out.write(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body, 'utf8'));
  }
  out.end();
}

const runtime = (globalThis as { awslambda?: LambdaStreamingRuntime }).awslambda;
/** Defined only inside the Lambda runtime (which provides `awslambda`). */
export const streamingHandler = typeof runtime?.streamifyResponse === 'function' ? runtime.streamifyResponse((event, stream, context) => writeToResponseStream(runtime, event, stream, context)) : undefined;
