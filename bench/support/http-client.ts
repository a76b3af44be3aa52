/**
 * The benchmark's HTTP client, the same for every system measured: node:http
 * with keep-alive connections (one per concurrent worker, like the baseline's
 * Python client), no body decoding, no added headers beyond the ones given.
 * fetch would add Accept-Encoding and decode gzip on its own, which is not
 * what the baseline measured.
 */
import http from 'node:http';

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  /** `base` may carry a path (`http://127.0.0.1:8042/dicom-web`): it prefixes every request path. */
  constructor(base: string, private readonly defaults: Record<string, string> = {}, maxSockets = 16) {
    this.url = new URL(base);
    this.agent = new http.Agent({ keepAlive: true, maxSockets });
  }

  /** Changes a default header (a renewed token). */
  setHeader(name: string, value: string): void {
    this.defaults[name] = value;
  }

  request(method: string, path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const req = this.send(method, path, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  /** Reads the answer without keeping it: its size and first bytes (large downloads). */
  drain(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; bytes: number; head: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = this.send(method, path, options, (res) => {
        let bytes = 0;
        let head = Buffer.alloc(0);
        res.on('data', (chunk: Buffer) => {
          if (head.length < 64) head = Buffer.concat([head, chunk.subarray(0, 64 - head.length)]);
          bytes += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, head }));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  }

  close(): void {
    this.agent.destroy();
  }

  private send(method: string, path: string, options: RequestOptions, onResponse: (res: http.IncomingMessage) => void): http.ClientRequest {
    const headers: Record<string, string | number> = { ...this.defaults, ...options.headers };
    if (options.body !== undefined) headers['content-length'] = Buffer.byteLength(options.body);
    const prefix = this.url.pathname.replace(/\/$/, '');
    const req = http.request({ host: this.url.hostname, port: this.url.port || 80, method, path: prefix + path, headers, agent: this.agent }, onResponse);
    req.setTimeout(900_000, () => req.destroy(new Error(`${method} ${path}: no answer in 900 s`)));
    req.end(options.body);
    return req;
  }
}

/** Runs `work` over `items` with `concurrency` workers until all are done or `deadline` (performance.now()) passes. */
export async function runParallel<T, R>(items: readonly T[], concurrency: number, work: (item: T) => Promise<R>, deadline = Number.POSITIVE_INFINITY): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length && performance.now() < deadline) {
      const item = items[next++] as T;
      results.push(await work(item));
    }
  }));
  return results;
}
