/**
 * What the gateway tests need beside the local stack: synthetic DICOM
 * instances (explicit VR little endian, with PHI planted in the usual
 * places), a zip writer, the `medlake` CLI run as a child process, and a
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

export const repoRoot = fileURLToPath(new URL('../', import.meta.url));
export const cliEntry = fileURLToPath(new URL('../gateway/bin/medlake.js', import.meta.url));

// ---------------------------------------------------------------------------
// DICOM

export const ctImageStorage = '1.2.840.10008.5.1.4.1.1.2';
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

type Element = [group: number, element: number, vr: string, value: Buffer];

const longVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

function text(value: string, pad = ' '): Buffer {
  return Buffer.from(value.length % 2 ? value + pad : value, 'latin1');
}

function us(value: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(value, 0);
  return b;
}

function encode(elements: Element[]): Buffer {
  const sorted = [...elements].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return Buffer.concat(sorted.map(([group, element, vr, value]) => {
    const long = longVrs.has(vr);
    const header = Buffer.alloc(long ? 12 : 8);
    header.writeUInt16LE(group, 0);
    header.writeUInt16LE(element, 2);
    header.write(vr, 4, 'latin1');
    if (long) header.writeUInt32LE(value.length, 8);
    else header.writeUInt16LE(value.length, 6);
    return Buffer.concat([header, value]);
  }));
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
  const meta = encode([
    [0x0002, 0x0001, 'OB', Buffer.from([0, 1])],
    [0x0002, 0x0002, 'UI', text(ctImageStorage, '\0')],
    [0x0002, 0x0003, 'UI', text(spec.sopUid, '\0')],
    [0x0002, 0x0010, 'UI', text(explicitVrLittleEndian, '\0')],
    [0x0002, 0x0012, 'UI', text('1.2.3.4.5.6.7.8', '\0')],
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(meta.length, 0);
  const dataset = encode([
    [0x0008, 0x0005, 'CS', text('ISO_IR 100')],
    [0x0008, 0x0008, 'CS', text('ORIGINAL\\PRIMARY\\AXIAL')],
    [0x0008, 0x0016, 'UI', text(ctImageStorage, '\0')],
    [0x0008, 0x0018, 'UI', text(spec.sopUid, '\0')],
    [0x0008, 0x0020, 'DA', text('20240315')],
    [0x0008, 0x0030, 'TM', text('101500')],
    [0x0008, 0x0050, 'SH', text('ACC0042')],
    [0x0008, 0x0060, 'CS', text('CT')],
    [0x0008, 0x0080, 'LO', text('Saint Example Hospital')],
    [0x0008, 0x1030, 'LO', text('CT CHEST')],
    [0x0008, 0x103e, 'LO', text('AXIAL 5mm')],
    [0x0010, 0x0010, 'PN', text(spec.patientName ?? 'Doe^Jane')],
    [0x0010, 0x0020, 'LO', text(spec.patientId ?? 'PID-0001')],
    [0x0010, 0x0030, 'DA', text('19700101')],
    [0x0010, 0x0040, 'CS', text('F')],
    [0x0018, 0x0015, 'CS', text('CHEST')],
    [0x0018, 0x0050, 'DS', text('5')],
    [0x0020, 0x000d, 'UI', text(spec.studyUid, '\0')],
    [0x0020, 0x000e, 'UI', text(spec.seriesUid, '\0')],
    [0x0020, 0x0010, 'SH', text('1')],
    [0x0020, 0x0011, 'IS', text('1')],
    [0x0020, 0x0013, 'IS', text(String(spec.instanceNumber ?? 1))],
    [0x0028, 0x0002, 'US', us(1)],
    [0x0028, 0x0004, 'CS', text('MONOCHROME2')],
    [0x0028, 0x0010, 'US', us(rows)],
    [0x0028, 0x0011, 'US', us(columns)],
    [0x0028, 0x0100, 'US', us(16)],
    [0x0028, 0x0101, 'US', us(12)],
    [0x0028, 0x0102, 'US', us(11)],
    [0x0028, 0x0103, 'US', us(0)],
    [0x7fe0, 0x0010, 'OW', pixels],
  ]);
  const groupLengthElement = encode([[0x0002, 0x0000, 'UL', groupLength]]);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM', 'latin1'), groupLengthElement, meta, dataset]);
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
