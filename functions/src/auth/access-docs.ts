/**
 * docs/access-matrix.md: the role × action matrix plus every HTTP endpoint
 * with the action it checks, from the /api registry and, once it exists,
 * the /dicomweb one (functions/src/dicomweb/routes.ts exporting `routes`).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderAccessMatrix } from '@medlake/shared/access/matrix';
import { routes as apiRoutes } from '../api/routes';
import type { Route } from '../http/router';

export const accessDocsPath = fileURLToPath(new URL('../../../docs/access-matrix.md', import.meta.url));

/** Every route of every HTTP Lambda. */
export async function allRoutes(): Promise<Route[]> {
  const dicomweb = fileURLToPath(new URL('../dicomweb/routes.ts', import.meta.url));
  const more = existsSync(dicomweb) ? ((await import(pathToFileURL(dicomweb).href)) as { routes?: Route[] }).routes ?? [] : [];
  return [...apiRoutes, ...more];
}

export async function renderAccessDocs(): Promise<string> {
  return renderAccessMatrix((await allRoutes()).map(({ method, path, action }) => ({ method, path, action })));
}
