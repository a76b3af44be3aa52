/** Checks a caller against the role × action matrix and the session's CSRF rule. */
import type { Action } from '@medlake/shared/access/matrix';
import { accessMatrix, accountState, isAllowed, machineRoles } from '@medlake/shared/access/matrix';
import type { HttpEvent } from '../http/types';
import { cookies, header } from '../http/request';
import { forbidden, unauthorized } from '../http/errors';
import type { Principal } from './principal';
import { csrfCookie, csrfHeader, csrfMatches, isStateChanging } from './session-cookies';

/** Throws 401 for nobody on a non-public action, 403 for a caller whose roles do not allow it. */
export function authorize(principal: Principal | undefined, action: Action): void {
  if (isAllowed(principal, action)) return;
  if (!principal) throw unauthorized('unauthenticated', 'Sign in to continue.');
  if (accountState(principal) === 'pending') {
    if (principal.isMachine) throw forbidden('machine_client_not_allowed', `This gateway account needs the ${machineRoles.join(', ')} group.`);
    throw forbidden('pending_approval', 'Your account is waiting for an administrator to approve it.');
  }
  if (principal.isMachine && isAllowed({ groups: principal.groups, isMachine: false }, action)) {
    throw forbidden('machine_client_not_allowed', 'Gateway clients may only upload.');
  }
  throw forbidden('forbidden', `Your role does not allow this (${accessMatrix[action].description}).`);
}

/** Cookie-authenticated state-changing requests must echo the CSRF cookie in X-CSRF-Token. */
export function checkCsrf(event: HttpEvent, principal: Principal | undefined): void {
  if (!principal || principal.via !== 'cookie') return;
  if (!isStateChanging(event.requestContext.http.method)) return;
  if (!csrfMatches(cookies(event)[csrfCookie], header(event, csrfHeader))) {
    throw forbidden('csrf_failed', 'The request lacks the X-CSRF-Token header matching this session. Reload the page and try again.');
  }
}
