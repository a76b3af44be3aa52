/**
 * The engine's ports in a browser: XMLHttpRequest for PUTs (fetch cannot
 * report upload progress), `navigator.onLine` and the `online` event,
 * WebCrypto for sha256 (resumable multipart state: resume-store.ts).
 */
import type { Connectivity, PutRequest, Transport } from './engine';
import { TransferError } from './retry';

/** S3's error code from an XML error body (`<Code>AccessDenied</Code>`). */
export function s3ErrorCode(body: string): string | undefined {
  return /<Code>([^<]{1,64})<\/Code>/.exec(body)?.[1];
}

export const xhrTransport: Transport = {
  put(request: PutRequest) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', request.url, true);
      for (const [name, value] of Object.entries(request.headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => request.onProgress(event.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve({ etag: xhr.getResponseHeader('ETag') ?? undefined });
          return;
        }
        const code = s3ErrorCode(typeof xhr.responseText === 'string' ? xhr.responseText : '');
        reject(new TransferError(xhr.status, `Storage answered ${xhr.status}${code ? ` (${code})` : ''}.`, code));
      };
      xhr.onerror = () => reject(new TransferError(0, 'The connection to storage failed.'));
      xhr.ontimeout = () => reject(new TransferError(0, 'The connection to storage timed out.'));
      const abort = () => xhr.abort();
      xhr.onabort = () => reject(request.signal.reason instanceof Error ? request.signal.reason : new DOMException('Aborted', 'AbortError'));
      if (request.signal.aborted) {
        reject(request.signal.reason instanceof Error ? request.signal.reason : new DOMException('Aborted', 'AbortError'));
        return;
      }
      request.signal.addEventListener('abort', abort, { once: true });
      xhr.onloadend = () => request.signal.removeEventListener('abort', abort);
      xhr.send(request.body);
    });
  },
};

export const browserConnectivity: Connectivity = {
  online: () => navigator.onLine,
  waitUntilOnline: (signal) =>
    new Promise((resolve, reject) => {
      if (navigator.onLine) {
        resolve();
        return;
      }
      const done = () => {
        window.removeEventListener('online', done);
        signal.removeEventListener('abort', stop);
        resolve();
      };
      const stop = () => {
        window.removeEventListener('online', done);
        reject(signal.reason as Error);
      };
      window.addEventListener('online', done);
      signal.addEventListener('abort', stop, { once: true });
    }),
};

export async function sha256Hex(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
