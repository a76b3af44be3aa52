/**
 * What the gateway tests need beside the local stack: synthetic DICOM
 * instances (explicit VR little endian, with PHI planted in the usual
 * places, written by the tests' DICOM writer), a zip writer, the `medlake` CLI run as a child process, and a
 * fault-injecting HTTP proxy. The proxy sits in front of the front door and
 * is also the stack's public base URL, so API calls and presigned S3 URLs
 * (served under <front door>/s3) both pass through it; a test decides per
 * request to pass, delay, answer an error or cut the connection.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';
import { buildPart10, el } from './fixtures/dicom/build-dicom';
import { ctImageStorage } from './fixtures/dicom/phi-instance';

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const cliEntry = fileURLToPath(new URL('../gateway/bin/medlake.js', import.meta.url));

// ---------------------------------------------------------------------------
// DICOM

export const explicitVrLittleEndian = '1.2.840.10008.1.2.1';

export interface InstanceSpec {
  patientName?: string;
  patientId?: string;
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  instanceNumber?: number;
  rows?: number;
  columns?: number;
  /** Filled with a pattern unless given. */
  pixelData?: Buffer;
}

/** A random UID under 2.25 (as a modality without its own root would make). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomBytes(15).toString('hex')}`).toString()}`;
}

/** A small CT image as a Part 10 file, PHI in patient name, ID, birth date, accession, institution. */
export function ctInstance(spec: InstanceSpec): Buffer {
  const rows = spec.rows ?? 16;
  const columns = spec.columns ?? 16;
  let pixels = spec.pixelData;
  if (!pixels) {
    pixels = Buffer.alloc(rows * columns * 2);
    for (let i = 0; i < rows * columns; i += 1) pixels.writeUInt16LE((i * 7 + (spec.instanceNumber ?? 1)) % 4096, i * 2);
  }
  return Buffer.from(buildPart10([
    el(0x00080005, 'CS', 'ISO_IR 100'),
    el(0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\AXIAL'),
    el(0x00080016, 'UI', ctImageStorage),
    el(0x00080018, 'UI', spec.sopUid),
    el(0x00080020, 'DA', '20240315'),
    el(0x00080030, 'TM', '101500'),
    el(0x00080050, 'SH', 'ACC0042'),
    el(0x00080060, 'CS', 'CT'),
    el(0x00080080, 'LO', 'Saint Example Hospital'),
    el(0x00081030, 'LO', 'CT CHEST'),
    el(0x0008103e, 'LO', 'AXIAL 5mm'),
    el(0x00100010, 'PN', spec.patientName ?? 'Doe^Jane'),
    el(0x00100020, 'LO', spec.patientId ?? 'PID-0001'),
    el(0x00100030, 'DA', '19700101'),
    el(0x00100040, 'CS', 'F'),
    el(0x00180015, 'CS', 'CHEST'),
    el(0x00180050, 'DS', '5'),
    el(0x0020000d, 'UI', spec.studyUid),
    el(0x0020000e, 'UI', spec.seriesUid),
    el(0x00200010, 'SH', '1'),
    el(0x00200011, 'IS', '1'),
    el(0x00200013, 'IS', String(spec.instanceNumber ?? 1)),
    el(0x00280002, 'US', [1]),
    el(0x00280004, 'CS', 'MONOCHROME2'),
    el(0x00280010, 'US', [rows]),
    el(0x00280011, 'US', [columns]),
    el(0x00280100, 'US', [16]),
    el(0x00280101, 'US', [12]),
    el(0x00280102, 'US', [11]),
    el(0x00280103, 'US', [0]),
    el(0x7fe00010, 'OW', Uint8Array.from(pixels)),
  ], { transferSyntax: explicitVrLittleEndian, sopClassUid: ctImageStorage, sopInstanceUid: spec.sopUid }));
}

/** A series of `count` CT instances of one (new) study. */
export function ctSeries(count: number, spec: Partial<InstanceSpec> = {}): Buffer[] {
  const studyUid = spec.studyUid ?? newUid();
  const seriesUid = spec.seriesUid ?? newUid();
  return Array.from({ length: count }, (_, i) => ctInstance({ ...spec, studyUid, seriesUid, sopUid: newUid(), instanceNumber: i + 1 }));
}

export async function writeZip(path: string, entries: { name: string; bytes: Buffer }[]): Promise<void> {
  const zip = new yazl.ZipFile();
  for (const entry of entries) zip.addBuffer(entry.bytes, entry.name);
  zip.end();
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    zip.outputStream.pipe(out).on('close', () => resolve()).on('error', reject);
  });
}

// ---------------------------------------------------------------------------
// The CLI as a child process

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRun {
  child: ChildProcess;
  done: Promise<CliResult>;
  /** Resolves when stderr has printed a line matching `pattern`. */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

export function startCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): CliRun {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  // Nothing from the developer's shell may decide where the tests send data.
  for (const name of ['MEDLAKE_URL', 'MEDLAKE_GATEWAY_USER', 'MEDLAKE_GATEWAY_PASSWORD', 'MEDLAKE_CONFIG']) if (!options.env || !(name in options.env)) delete env[name];
  // Nor how the receiver listens (MEDLAKE_GATEWAY_TLS_CERT, _KEY, _PORT...).
  for (const name of Object.keys(env)) if (name.startsWith('MEDLAKE_GATEWAY_TLS_') && !(options.env && name in options.env)) delete env[name];
  env.XDG_CONFIG_HOME = options.env?.XDG_CONFIG_HOME ?? `${options.cwd}/.no-config`;
  const child = spawn(process.execPath, [cliEntry, ...args], { cwd: options.cwd, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    for (const watcher of [...watchers]) {
      const match = stderr.match(watcher.pattern);
      if (match) {
        watchers.splice(watchers.indexOf(watcher), 1);
        watcher.resolve(match);
      }
    }
  });
  const done = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    done,
    waitForStderr(pattern, timeoutMs = 30_000) {
      const match = stderr.match(pattern);
      if (match) return Promise.resolve(match);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
        watchers.push({ pattern, resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        } });
      });
    },
  };
}

export function runCli(args: string[], options: { cwd: string; env?: Record<string, string | undefined> }): Promise<CliResult> {
  return startCli(args, options).done;
}

// ---------------------------------------------------------------------------
// Fault-injecting proxy

export interface ProxiedRequest {
  method: string;
  /** Path without the query string (presigned URLs carry credentials there). */
  path: string;
  /** How many requests with this method and path kind came before (0-based), see `kindOf`. */
  seq: number;
  kind: RequestKind;
}

export type RequestKind = 'sign-in' | 'create-upload' | 'upload-status' | 'parts' | 'complete' | 's3-put' | 's3-part' | 'other';

export type Fault =
  | { type: 'pass' }
  | { type: 'status'; status: number; body?: string; contentType?: string }
  /** Drop the connection without an answer. */
  | { type: 'reset' }
  /** Forward, after a pause. */
  | { type: 'delay'; ms: number };

export interface ProxyRecord extends ProxiedRequest {
  status: number | 'reset';
  injected: boolean;
}

export interface FaultProxy {
  url: string;
  setTarget(url: string): void;
  /** Decides each request's fate; default: pass. */
  setFaults(decide: ((request: ProxiedRequest) => Fault) | undefined): void;
  records: ProxyRecord[];
  count(kind: RequestKind, filter?: (record: ProxyRecord) => boolean): number;
  close(): Promise<void>;
}

export function kindOf(method: string, path: string, query: URLSearchParams): RequestKind {
  if (path === '/api/auth/token') return 'sign-in';
  if (method === 'POST' && path === '/api/uploads') return 'create-upload';
  if (method === 'GET' && /^\/api\/uploads\/[^/]+$/.test(path)) return 'upload-status';
  if (/\/parts$/.test(path)) return 'parts';
  if (/\/complete$/.test(path)) return 'complete';
  if (method === 'PUT' && path.startsWith('/s3/')) return query.has('partNumber') ? 's3-part' : 's3-put';
  return 'other';
}

export async function startFaultProxy(): Promise<FaultProxy> {
  let target: URL | undefined;
  let decide: ((request: ProxiedRequest) => Fault) | undefined;
  const records: ProxyRecord[] = [];
  const seqs = new Map<RequestKind, number>();

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const method = req.method ?? 'GET';
    const kind = kindOf(method, url.pathname, url.searchParams);
    const seq = seqs.get(kind) ?? 0;
    seqs.set(kind, seq + 1);
    const request: ProxiedRequest = { method, path: url.pathname, seq, kind };
    const fault = decide?.(request) ?? { type: 'pass' };
    const record: ProxyRecord = { ...request, status: 0, injected: fault.type === 'status' || fault.type === 'reset' };
    records.push(record);
    if (fault.type === 'reset') {
      record.status = 'reset';
      req.resume();
      req.socket.destroy();
      return;
    }
    if (fault.type === 'status') {
      record.status = fault.status;
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json', connection: 'close' });
        res.end(fault.body ?? '');
      });
      return;
    }
    const forward = () => {
      if (!target) {
        res.writeHead(502).end();
        return;
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, method, path: req.url, headers: req.headers }, (answer) => {
        record.status = answer.statusCode ?? 0;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => {
        record.status = 502;
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
      req.pipe(upstream);
    };
    if (fault.type === 'delay') setTimeout(forward, fault.ms);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget(url) {
      target = new URL(url);
    },
    setFaults(fn) {
      decide = fn;
      seqs.clear();
    },
    records,
    count(kind, filter) {
      return records.filter((r) => r.kind === kind && (!filter || filter(r))).length;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** S3's answer to a presigned URL used after its expiry. */
export const expiredUrlBody = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>';
