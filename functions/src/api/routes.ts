/**
 * Every /api route. To add endpoints: export a `Route[]` from your module
 * (declare each with `route({ method, path, action, body?, handle })`, the
 * action being a key of shared/src/access/matrix.ts) and add it below.
 * The access check, CSRF rule, body validation and error answers come with it.
 */
import type { Route } from '../http/router';
import { annotationRoutes } from './annotations';
import { auditRoutes } from './audit';
import { authRoutes, machineTokenRoutes } from './auth';
import { exportRoutes } from './exports';
import { healthRoutes } from './health';
import { heldRoutes } from './held';
import { labelRoutes } from './labels';
import { meRoutes } from './me';
import { reidentifyRoutes } from './reidentify';
import { reportRoutes } from './reports';
import { sessionRoutes } from './session';
import { studyRoutes } from './studies';
import { subscriptionRoutes } from './subscriptions';
import { uploadRoutes } from './uploads';
import { userRoutes } from './users';

export const routes: Route[] = [
  ...healthRoutes,
  ...sessionRoutes,
  ...authRoutes,
  ...machineTokenRoutes,
  ...meRoutes,
  ...userRoutes,
  ...auditRoutes,
  ...uploadRoutes,
  ...heldRoutes,
  ...studyRoutes,
  ...reportRoutes,
  ...annotationRoutes,
  ...labelRoutes,
  ...exportRoutes,
  ...subscriptionRoutes,
  ...reidentifyRoutes,
];
