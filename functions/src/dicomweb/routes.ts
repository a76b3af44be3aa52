/**
 * Every /dicomweb route (QIDO-RS, WADO-RS, STOW-RS). Reads need
 * studies:read, STOW-RS needs annotations:write; the pipeline checks them
 * (JWT or session cookie) before a route runs. See docs/dicomweb.md.
 */
import type { Route } from '../http/router';
import { route } from '../http/router';
import { answerBulk } from './bulk';
import { answerFrames } from './frames';
import { answerInstanceMetadata, answerSeriesMetadata, answerStudyMetadata } from './metadata';
import { answerInstanceRendered, answerSeriesRendered } from './rendered';
import { answerRetrieve } from './retrieve';
import { answerSearch } from './search';

const base = '/dicomweb';
const study = `${base}/studies/{study}`;
const series = `${study}/series/{series}`;
const instance = `${series}/instances/{instance}`;

export const routes: Route[] = [
  // QIDO-RS
  route({ method: 'GET', path: `${base}/studies`, action: 'studies:read', handle: (r) => answerSearch(r, 'study', {}) }),
  route({ method: 'GET', path: `${base}/series`, action: 'studies:read', handle: (r) => answerSearch(r, 'series', {}) }),
  route({ method: 'GET', path: `${base}/instances`, action: 'studies:read', handle: (r) => answerSearch(r, 'instance', {}) }),
  route({ method: 'GET', path: `${study}/series`, action: 'studies:read', handle: (r) => answerSearch(r, 'series', { studyUid: r.params.study as string }) }),
  route({ method: 'GET', path: `${study}/instances`, action: 'studies:read', handle: (r) => answerSearch(r, 'instance', { studyUid: r.params.study as string }) }),
  route({ method: 'GET', path: `${series}/instances`, action: 'studies:read', handle: (r) => answerSearch(r, 'instance', { studyUid: r.params.study as string, seriesUid: r.params.series as string }) }),
  // WADO-RS
  route({ method: 'GET', path: study, action: 'studies:read', handle: (r) => answerRetrieve(r) }),
  route({ method: 'GET', path: series, action: 'studies:read', handle: (r) => answerRetrieve(r) }),
  route({ method: 'GET', path: instance, action: 'studies:read', handle: (r) => answerRetrieve(r) }),
  route({ method: 'GET', path: `${study}/metadata`, action: 'studies:read', handle: (r) => answerStudyMetadata(r) }),
  route({ method: 'GET', path: `${series}/metadata`, action: 'studies:read', handle: (r) => answerSeriesMetadata(r) }),
  route({ method: 'GET', path: `${instance}/metadata`, action: 'studies:read', handle: (r) => answerInstanceMetadata(r) }),
  route({ method: 'GET', path: `${instance}/frames/{frames}`, action: 'studies:read', handle: (r) => answerFrames(r) }),
  route({ method: 'GET', path: `${instance}/bulk/{tag}`, action: 'studies:read', handle: (r) => answerBulk(r) }),
  route({ method: 'GET', path: `${instance}/rendered`, action: 'studies:read', handle: (r) => answerInstanceRendered(r, 'rendered') }),
  route({ method: 'GET', path: `${instance}/thumbnail`, action: 'studies:read', handle: (r) => answerInstanceRendered(r, 'thumbnail') }),
  route({ method: 'GET', path: `${instance}/frames/{frames}/rendered`, action: 'studies:read', handle: (r) => answerInstanceRendered(r, 'rendered') }),
  route({ method: 'GET', path: `${instance}/frames/{frames}/thumbnail`, action: 'studies:read', handle: (r) => answerInstanceRendered(r, 'thumbnail') }),
  route({ method: 'GET', path: `${series}/rendered`, action: 'studies:read', handle: (r) => answerSeriesRendered(r, 'rendered') }),
  route({ method: 'GET', path: `${series}/thumbnail`, action: 'studies:read', handle: (r) => answerSeriesRendered(r, 'thumbnail') }),
  route({ method: 'GET', path: `${study}/thumbnail`, action: 'studies:read', handle: (r) => answerSeriesRendered(r, 'thumbnail') }),
  // STOW-RS: loaded on first use, so searches and retrieves do not start up the ingest path (de-identification, reports).
  route({ method: 'POST', path: `${base}/studies`, action: 'annotations:write', handle: async (r) => (await import('./stow')).answerStow(r) }),
  route({ method: 'POST', path: study, action: 'annotations:write', handle: async (r) => (await import('./stow')).answerStow(r) }),
];
