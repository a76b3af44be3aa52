/**
 * The DICOMweb workloads of the Orthanc baseline, written once for any server:
 * QIDO-RS /studies filters (PatientID, 30-day StudyDate, ModalitiesInStudy=CT,
 * 1-year StudyDate + CT, PatientName prefix; limit 50), WADO-RS series
 * metadata, and every frame of a series with 1 or N clients. The target is an
 * HttpClient on the server's DICOMweb root (Orthanc `/dicom-web`, medlake
 * `/dicomweb` with a Bearer token); values the server replaced on arrival
 * (medlake's pseudonymous PatientIDs, remapped UIDs) are given by the caller.
 */
import type { HttpClient } from './http-client';
import { runParallel } from './http-client';

const dicomJson = { accept: 'application/dicom+json' };
/** The baseline's frame request: uncompressed frames as they are stored. */
export const frameAccept = { accept: 'multipart/related; type="application/octet-stream"' };

/** Deterministic PRNG (mulberry32): every system gets the same sequence of parameters. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface QidoCase {
  name: string;
  /** The next query string (after `/studies?`) and, when known, the exact number of matches. */
  next(random: () => number): { query: string; expect?: number };
}

export interface QidoInput {
  /** Loaded patients as the server stores their ID, with how many of their studies are loaded. */
  patients: readonly { id: string; studies: number }[];
  /** PatientName prefixes to pick from (Orthanc: the generator's last names; medlake: pseudonym prefixes). */
  namePrefixes: readonly string[];
}

const pick = <T>(items: readonly T[], random: () => number): T => items[Math.floor(random() * items.length)] as T;

/** YYYYMMDD of 2015-01-01 + `days`. */
function day(days: number): string {
  return new Date(Date.UTC(2015, 0, 1) + days * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
}

/** The baseline's five filters; study dates of the query set span 2015-2024. */
export function baselineQidoCases(input: QidoInput): QidoCase[] {
  return [
    {
      name: 'PatientID=<id>',
      next: (random) => {
        const patient = pick(input.patients, random);
        return { query: `PatientID=${encodeURIComponent(patient.id)}`, expect: patient.studies };
      },
    },
    {
      name: 'StudyDate=<30 days>&limit=50',
      next: (random) => {
        const start = Math.floor(random() * 3622);
        return { query: `StudyDate=${day(start)}-${day(start + 29)}&limit=50` };
      },
    },
    { name: 'ModalitiesInStudy=CT&limit=50', next: () => ({ query: 'ModalitiesInStudy=CT&limit=50' }) },
    {
      name: 'StudyDate=<1 year>&ModalitiesInStudy=CT&limit=50',
      next: (random) => {
        const year = 2015 + Math.floor(random() * 10);
        return { query: `StudyDate=${year}0101-${year}1231&ModalitiesInStudy=CT&limit=50` };
      },
    },
    {
      name: 'PatientName=<prefix>*&limit=50',
      next: (random) => ({ query: `PatientName=${encodeURIComponent(`${pick(input.namePrefixes, random)}*`)}&limit=50` }),
    },
  ];
}

export interface QidoResult {
  latenciesMs: number[];
  /** Matches per answer. */
  counts: number[];
  /** Answers with a wrong status, a wrong match count (PatientID) or more than 50 matches. */
  wrong: number;
  firstWrong?: string;
}

function countMatches(status: number, body: Buffer): number {
  if (status === 204 || body.length === 0) return 0;
  return (JSON.parse(body.toString('utf8')) as unknown[]).length;
}

/** Sequential requests of one filter until `n` or `maxSeconds`. */
export async function measureQido(client: HttpClient, qidoCase: QidoCase, options: { n: number; maxSeconds: number; random: () => number }): Promise<QidoResult> {
  const result: QidoResult = { latenciesMs: [], counts: [], wrong: 0 };
  const deadline = performance.now() + options.maxSeconds * 1000;
  while (result.latenciesMs.length < options.n && performance.now() < deadline) {
    const { query, expect } = qidoCase.next(options.random);
    const t0 = performance.now();
    const answer = await client.request('GET', `/studies?${query}`, { headers: dicomJson });
    result.latenciesMs.push(performance.now() - t0);
    const ok = answer.status === 200 || answer.status === 204;
    const n = ok ? countMatches(answer.status, answer.body) : 0;
    result.counts.push(n);
    if (!ok || (expect !== undefined && n !== expect) || n > 50) {
      result.wrong++;
      result.firstWrong ??= `${query}: HTTP ${answer.status}, ${n} matches${expect !== undefined ? ` (expected ${expect})` : ''}`;
    }
  }
  return result;
}

/** QIDO NumberOfStudyRelatedInstances of each study must equal what was loaded; returns the mismatches. */
export async function verifyStudies(client: HttpClient, studies: readonly { uid: string; instances: number }[]): Promise<string[]> {
  const bad: string[] = [];
  for (const study of studies) {
    const answer = await client.request('GET', `/studies?StudyInstanceUID=${study.uid}&includefield=00201208`, { headers: dicomJson });
    let got: unknown;
    if (answer.status === 200 && answer.body.length > 0) {
      const items = JSON.parse(answer.body.toString('utf8')) as { '00201208'?: { Value?: unknown[] } }[];
      got = items[0]?.['00201208']?.Value?.[0];
    }
    if (Number(got) !== study.instances) bad.push(`study #${bad.length + 1}: expected ${study.instances} instances, got ${String(got)} (HTTP ${answer.status})`);
  }
  return bad;
}

export interface MetadataResult {
  latenciesMs: number[];
  instances: number;
  bytes: number;
  contentEncoding: string;
}

/** `n` sequential GETs of a series' metadata; the first call (cold) is latenciesMs[0]. */
export async function measureMetadata(client: HttpClient, path: string, options: { n: number; maxSeconds: number; gzip: boolean }): Promise<MetadataResult> {
  const headers: Record<string, string> = { ...dicomJson, ...(options.gzip ? { 'accept-encoding': 'gzip' } : {}) };
  const result: MetadataResult = { latenciesMs: [], instances: 0, bytes: 0, contentEncoding: 'identity' };
  const deadline = performance.now() + options.maxSeconds * 1000;
  while (result.latenciesMs.length < options.n && performance.now() < deadline) {
    const t0 = performance.now();
    const answer = await client.request('GET', path, { headers });
    result.latenciesMs.push(performance.now() - t0);
    if (answer.status !== 200) throw new Error(`GET ${path}: HTTP ${answer.status}: ${answer.body.toString('utf8').slice(0, 200)}`);
    result.bytes = answer.body.length;
    result.contentEncoding = String(answer.headers['content-encoding'] ?? 'identity');
    if (result.latenciesMs.length === 1) {
      const { gunzipSync } = await import('node:zlib');
      const text = (result.contentEncoding === 'gzip' ? gunzipSync(answer.body) : answer.body).toString('utf8');
      result.instances = (JSON.parse(text) as unknown[]).length;
    }
  }
  return result;
}

export interface FramePass {
  frames: number;
  bytes: number;
  seconds: number;
}

/** Passes over every frame path with `concurrency` clients; each answer must hold at least `minBytes`. */
export async function measureFrames(client: HttpClient, paths: readonly string[], options: { concurrency: number; reps: number; maxSeconds: number; minBytes: number }): Promise<FramePass[]> {
  const passes: FramePass[] = [];
  const deadline = performance.now() + options.maxSeconds * 1000;
  while (passes.length < options.reps && performance.now() < deadline) {
    const t0 = performance.now();
    const sizes = await runParallel(paths, options.concurrency, async (path) => {
      const answer = await client.request('GET', path, { headers: frameAccept });
      if (answer.status !== 200 || answer.body.length < options.minBytes) throw new Error(`GET ${path}: HTTP ${answer.status}, ${answer.body.length} bytes`);
      return answer.body.length;
    }, deadline);
    passes.push({ frames: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0), seconds: (performance.now() - t0) / 1000 });
  }
  return passes;
}

/** The median pass by rate. */
export function medianPass(passes: readonly FramePass[]): FramePass {
  const sorted = [...passes].sort((a, b) => a.frames / a.seconds - b.frames / b.seconds);
  return sorted[Math.floor(sorted.length / 2)] as FramePass;
}
