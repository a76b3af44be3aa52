/**
 * The public URL of the DICOMweb service as the caller reached it, for
 * RetrieveURL and BulkDataURI values: the forwarded host (CloudFront), else
 * PUBLIC_BASE_URL, else the Host header.
 */
import type { HttpRequest } from '../http/router';

export function dicomwebBaseUrl(request: HttpRequest<unknown>): string {
  const forwardedHost = request.header('x-forwarded-host');
  const proto = (request.header('x-forwarded-proto') ?? 'https').split(',')[0]?.trim() || 'https';
  if (forwardedHost) return `${proto}://${forwardedHost.split(',')[0]?.trim()}/dicomweb`;
  const configured = process.env.PUBLIC_BASE_URL;
  if (configured) return `${configured.replace(/\/+$/, '')}/dicomweb`;
  const host = request.header('host') ?? request.event.requestContext.domainName;
  return `${proto}://${host}/dicomweb`;
}
