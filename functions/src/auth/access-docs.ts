/**
 * docs/access-matrix.md: the role × action matrix plus every HTTP endpoint
 * with the action it checks, from the /api and /dicomweb route registries.
 */
import { fileURLToPath } from 'node:url';
import { renderAccessMatrix } from '@medlake/shared/access/matrix';
import { routes as apiRoutes } from '../api/routes';
import { routes as dicomwebRoutes } from '../dicomweb/routes';
import type { Route } from '../http/router';

export const accessDocsPath = fileURLToPath(new URL('../../../docs/access-matrix.md', import.meta.url));

/** Every route of every HTTP Lambda. */
export async function allRoutes(): Promise<Route[]> {
  return [...apiRoutes, ...dicomwebRoutes];
}

export async function renderAccessDocs(): Promise<string> {
  return renderAccessMatrix((await allRoutes()).map(({ method, path, action }) => ({ method, path, action })));
}
