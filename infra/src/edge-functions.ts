/**
 * The CloudFront Functions (viewer request, cloudfront-js-2.0) of the
 * distribution, as source text. Kept as plain ES5-style JavaScript because
 * that is what the CloudFront runtime runs; the infra tests evaluate exactly
 * these strings against sample requests.
 */
import { forwardedAuthorizationHeader } from '@medlake/functions/auth/authenticate';
import { csrfCookie, csrfHeader, sessionCookie } from '@medlake/functions/auth/session-cookies';

/**
 * Browser sessions live in an HttpOnly cookie, but API Gateway's JWT authorizer
 * only reads the Authorization header. For /api/* and /dicomweb/*, a request
 * without Authorization that carries the session cookie gets the cookie's
 * token as `Authorization: Bearer`, so the authorizer checks it like any other.
 *
 * CSRF: the handler enforces the double-submit rule only on requests it sees
 * authenticated *by the cookie*; once the token travels as a Bearer header it
 * no longer knows. So the rule moves here: a state-changing request is given
 * the header only when X-CSRF-Token equals the CSRF cookie. Otherwise it goes
 * on as a cookie request: protected routes answer 401 at the authorizer, and
 * public routes reach the handler, which applies its own cookie rules.
 *
 * X-Forwarded-Host: API Gateway sees its own host name (the Host header is
 * not forwarded), so the host the viewer used is passed on here, replacing
 * any value the viewer sent: DICOMweb builds RetrieveURL and BulkDataURI
 * links from it, and they must point back at this site.
 */
const sessionBearerCore = `
var sessionCookie = ${JSON.stringify(sessionCookie)};
var csrfCookie = ${JSON.stringify(csrfCookie)};
var csrfHeader = ${JSON.stringify(csrfHeader)};
var safeMethods = { GET: true, HEAD: true, OPTIONS: true };

function withSessionBearer(request) {
  if (request.headers.host) request.headers['x-forwarded-host'] = { value: request.headers.host.value };
  if (request.headers.authorization) return request;
  var session = request.cookies[sessionCookie];
  if (!session || !session.value) return request;
  if (!safeMethods[request.method]) {
    var expected = request.cookies[csrfCookie];
    var sent = request.headers[csrfHeader];
    if (!expected || !expected.value || !sent || sent.value !== expected.value) return request;
  }
  request.headers.authorization = { value: 'Bearer ' + session.value };
  return request;
}
`;

/** /api/*: the session cookie as Bearer token (above). */
export const sessionBearerSource = `${sessionBearerCore}
function handler(event) {
  return withSessionBearer(event.request);
}
`;

/** The first line of a CloudFront Function that changes the request's origin. */
export const cloudfrontModuleImport = "import cf from 'cloudfront';";

/**
 * /dicomweb/*: the session cookie as Bearer token as for /api/*, then one of
 * two origins (CloudFront routes by path only, so the method is looked at here):
 *
 * - GET, HEAD, OPTIONS stay with the behaviour's origin, the streaming
 *   Function URL of `dicomweb-stream` (answers of any size). CloudFront signs
 *   those requests with SigV4 (Origin Access Control), which overwrites the
 *   Authorization header; so the caller's `Authorization` moves to
 *   `X-Medlake-Authorization`, which the handler reads on requests Lambda
 *   verified as signed (functions/src/auth/authenticate.ts).
 * - Everything else (STOW-RS POSTs) goes to API Gateway (`apiOriginId`, its
 *   JWT authorizer in front): OAC can sign a request body for a Function URL
 *   only if the client sends the body's SHA-256 in x-amz-content-sha256,
 *   which OHIF and DICOMweb clients do not.
 *
 * An X-Medlake-Authorization sent by the viewer is dropped either way.
 */
export function dicomwebRoutingSource(apiOriginId: string): string {
  return `${cloudfrontModuleImport}
${sessionBearerCore}
var apiOriginId = ${JSON.stringify(apiOriginId)};
var forwardedAuthorization = ${JSON.stringify(forwardedAuthorizationHeader)};

function handler(event) {
  var request = withSessionBearer(event.request);
  delete request.headers[forwardedAuthorization];
  if (!safeMethods[request.method]) {
    cf.selectRequestOriginById(apiOriginId);
    return request;
  }
  if (request.headers.authorization) {
    request.headers[forwardedAuthorization] = { value: request.headers.authorization.value };
    delete request.headers.authorization;
  }
  return request;
}
`;
}

/**
 * Client-side routes of the SPA (/studies/2.25.123..., /admin/users) and of
 * OHIF (/viewer/viewer?StudyInstanceUIDs=...) are answered with their
 * index.html; files keep their path. A "file" ends in an extension starting
 * with a letter, so DICOM UIDs in paths (all digits and dots) stay routes.
 * Done here, not with CloudFront error responses, which would also rewrite
 * the API's own 403/404 answers into HTML.
 */
export const spaRoutingSource = `
var viewerPrefix = '/viewer';

function handler(event) {
  var request = event.request;
  var uri = request.uri;
  var last = uri.substring(uri.lastIndexOf('/') + 1);
  if (/\\.[A-Za-z][A-Za-z0-9]*$/.test(last)) return request;
  if (uri === viewerPrefix || uri.indexOf(viewerPrefix + '/') === 0) {
    request.uri = viewerPrefix + '/index.html';
  } else {
    request.uri = '/index.html';
  }
  return request;
}
`;
