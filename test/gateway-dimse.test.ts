/**
 * `medlake gateway` end to end: dcmtk's echoscu and storescu (a PACS stand-in)
 * push to the receiver, which buffers durably and forwards to the real local
 * stack; the instances end up ingested and searchable through /api/studies.
 * Also: the calling-AE allow-list, the failure status when the buffer disk is
 * short, and a restart with instances buffered while medlake was unreachable.
 * DICOM TLS: storescu with certificates of a throwaway CA (openssl) sends
 * over TLS; peers without a certificate of that CA, or without TLS, are refused.
 * Requires dcmtk and openssl (installed by .ci/run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '@medlake/local/processes';
import type { TestStack, TestUser } from './support/local-stack';
import { startTestStack } from './support/local-stack';
import type { CliRun } from './gateway-harness';
import { ctSeries, startCli } from './gateway-harness';
import type { TestAuthority, TestIdentity } from './support/test-pki';
import { createAuthority, issueCertificate } from './support/test-pki';

let stack: TestStack;
let gatewayUser: TestUser;
let admin: TestUser;
let work: string;
const running: CliRun[] = [];

beforeAll(async () => {
  stack = await startTestStack();
  gatewayUser = await stack.createUser({ groups: ['uploader'] });
  admin = await stack.createUser({ groups: ['admin'] });
  work = mkdtempSync(join(tmpdir(), 'medlake-gateway-dimse-'));
});

afterEach(async () => {
  // A gateway left running by a failed test must not outlive it.
  for (const run of running.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      run.child.kill('SIGKILL');
      await run.done;
    }
  }
});

afterAll(async () => {
  await stack?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface Gateway {
  run: CliRun;
  /** The plain DICOM port (0: none, a TLS-only gateway). */
  port: number;
  /** The DICOM TLS port, when started with --tls-cert. */
  tlsPort: number;
  dir: string;
  stop(): Promise<{ code: number | null; stderr: string }>;
}

async function startGateway(name: string, args: string[] = [], url = stack.url, { plain = true } = {}): Promise<Gateway> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const run = startCli(['gateway', ...(plain ? ['--port', '0'] : []), '--host', '127.0.0.1', '--ae-title', 'MEDLAKE', '--dir', join(dir, 'buffer'), '--flush-seconds', '0.2', ...args], {
    cwd: dir,
    env: { MEDLAKE_URL: url, MEDLAKE_GATEWAY_USER: gatewayUser.email, MEDLAKE_GATEWAY_PASSWORD: gatewayUser.password },
  });
  running.push(run);
  const plainMatch = plain ? await run.waitForStderr(/DICOM receiver listening .*port=(\d+) aeTitle=\S+ tls=false/) : undefined;
  const tlsMatch = args.includes('--tls-cert') ? await run.waitForStderr(/DICOM receiver listening .*port=(\d+) aeTitle=\S+ tls=true/) : undefined;
  return {
    run,
    port: Number(plainMatch?.[1] ?? 0),
    tlsPort: Number(tlsMatch?.[1] ?? 0),
    dir: join(dir, 'buffer'),
    async stop() {
      run.child.kill('SIGTERM');
      const result = await run.done;
      return { code: result.code, stderr: result.stderr };
    },
  };
}

function dcmtk(tool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function storescu(port: number, files: string[], options: { callingAe?: string; calledAe?: string; syntax?: string[] } = {}) {
  return dcmtk('storescu', ['-v', ...(options.syntax ?? []), '-aet', options.callingAe ?? 'PACS1', '-aec', options.calledAe ?? 'MEDLAKE', '127.0.0.1', String(port), ...files]);
}

function buffered(dir: string): string[] {
  const incoming = join(dir, 'incoming');
  return existsSync(incoming) ? readdirSync(incoming).filter((n) => n.endsWith('.dcm')) : [];
}

async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface StudyList {
  total: number;
  items: { studyInstanceUID: string; numInstances: number; modalities: string[] }[];
}

async function studies(): Promise<StudyList> {
  const answer = await stack.request('/api/studies?limit=100', { token: admin.idToken });
  expect(answer.status).toBe(200);
  return answer.body as StudyList;
}

/** A study on disk in several transfer syntaxes (dcmtk's converters), with PHI planted by ctSeries. */
function writeStudy(dir: string, count: number, patientName: string, patientId: string): { files: string[]; uids: string[] } {
  mkdirSync(dir, { recursive: true });
  const series = ctSeries(count, { patientName, patientId });
  const files = series.map((bytes, i) => {
    const path = join(dir, `IM${i + 1}.dcm`);
    writeFileSync(path, bytes);
    return path;
  });
  const uids = series.flatMap((bytes) => [...bytes.toString('latin1').matchAll(/2\.25\.\d{20,}/g)].map((m) => m[0]));
  return { files, uids };
}

describe('medlake gateway (DICOM C-STORE receiver)', () => {
  it('answers C-ECHO, stores pushed instances in every common transfer syntax, forwards them, and they become searchable', async () => {
    const { files, uids } = writeStudy(join(work, 'study-a'), 7, 'Gateway^Patient^A', 'GW-PID-A');
    // Re-encode some instances the way PACS hold them: compressed, implicit, big endian, deflated.
    const encoded: { file: string; syntax: string[] }[] = [
      { file: files[0] as string, syntax: [] },
      { file: files[1] as string, syntax: ['-xi'] },
    ];
    const conversions: [string, string[], string[]][] = [
      ['dcmcjpeg', [], ['-xs']],
      ['dcmcjpls', [], ['-xt']],
      ['dcmcrle', [], ['-xr']],
      ['dcmconv', ['+td'], ['-xd']],
      ['dcmconv', ['+tb'], ['-xb']],
    ];
    conversions.forEach(([tool, toolArgs, syntax], i) => {
      const source = files[i + 2] as string;
      const target = source.replace(/\.dcm$/, `-${tool}${toolArgs.join('')}.dcm`);
      const converted = dcmtk(tool, [...toolArgs, source, target]);
      expect(converted.status, converted.output).toBe(0);
      encoded.push({ file: target, syntax: ['-R', ...syntax] });
    });

    const gateway = await startGateway('main', ['--allow-ae', 'PACS1,MODALITY2']);
    const echo = dcmtk('echoscu', ['-aet', 'PACS1', '-aec', 'MEDLAKE', '127.0.0.1', String(gateway.port)]);
    expect(echo.status, echo.output).toBe(0);
    for (const { file, syntax } of encoded) {
      const pushed = storescu(gateway.port, [file], { syntax });
      expect(pushed.status, `${file}: ${pushed.output}`).toBe(0);
    }

    // Buffer drained: every instance was accepted and deleted locally.
    await waitFor('the buffer to drain', () => (buffered(gateway.dir).length === 0 ? true : undefined));
    const list = await waitFor('the study to be searchable', async () => {
      const found = await studies();
      return found.items.find((s) => s.numInstances === 7) ? found : undefined;
    });
    expect(list.items.find((s) => s.numInstances === 7)?.modalities).toEqual(['CT']);
    const uploads = await stack.request('/api/uploads', { token: gatewayUser.accessToken });
    expect(uploads.status).toBe(200);
    const totals = (uploads.body as { items: { totals: { accepted: number; rejected: number } }[] }).items.reduce((sum, u) => sum + u.totals.accepted, 0);
    expect(totals).toBe(7);

    const { code, stderr } = await gateway.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/association accepted calling=PACS1 called=MEDLAKE/);
    expect(stderr).toMatch(/stopped stored=7 failedStores=0 uploaded=7 stillBuffered=0/);
    // No PHI in the log: not the patient, not one original UID.
    for (const secret of ['Gateway^Patient^A', 'GW-PID-A', ...uids]) expect(stderr).not.toContain(secret);
  });

  it('moves an instance the server rejects to rejected/ with the reason (the sender had its success)', async () => {
    const { files } = writeStudy(join(work, 'study-e'), 2, 'Gateway^Patient^E', 'GW-PID-E');
    // Without a Study Instance UID the ingest must refuse the instance.
    const erased = dcmtk('dcmodify', ['-nb', '-e', '(0020,000d)', files[1] as string]);
    expect(erased.status, erased.output).toBe(0);
    const gateway = await startGateway('rejects');
    const pushed = storescu(gateway.port, files);
    expect(pushed.status, pushed.output).toBe(0);
    await waitFor('the buffer to drain', () => (buffered(gateway.dir).length === 0 ? true : undefined));
    const rejected = readdirSync(join(gateway.dir, 'rejected')).sort();
    expect(rejected).toHaveLength(2);
    const reasonFile = rejected.find((n) => n.endsWith('.reason.json')) as string;
    expect(rejected).toContain(reasonFile.replace(/\.reason\.json$/, ''));
    const reason = JSON.parse(readFileSync(join(gateway.dir, 'rejected', reasonFile), 'utf8')) as { reason: string; uploadId: string };
    expect(reason.reason).toMatch(/Study Instance UID/);
    const { stderr } = await gateway.stop();
    expect(stderr).toMatch(/instance rejected by the server; kept in rejected\//);
    expect(stderr).toMatch(/uploaded=2 stillBuffered=0/);
  });

  it('refuses callers outside the allow-list and the wrong called AE title', async () => {
    const { files } = writeStudy(join(work, 'study-b'), 1, 'Gateway^Patient^B', 'GW-PID-B');
    const gateway = await startGateway('allow-list', ['--allow-ae', 'PACS1', '--no-upload']);
    const stranger = storescu(gateway.port, files, { callingAe: 'STRANGER' });
    expect(stranger.status).not.toBe(0);
    expect(stranger.output).toMatch(/Calling AE Title Not Recognized/i);
    const wrongCalled = storescu(gateway.port, files, { calledAe: 'OTHER' });
    expect(wrongCalled.status).not.toBe(0);
    expect(wrongCalled.output).toMatch(/Called AE Title Not Recognized/i);
    expect(buffered(gateway.dir)).toHaveLength(0);
    await gateway.stop();
  });

  it('answers A700 and keeps nothing when the buffer disk is short of space', async () => {
    const { files } = writeStudy(join(work, 'study-c'), 1, 'Gateway^Patient^C', 'GW-PID-C');
    // No disk here has a petabyte free: every instance is refused for want of space.
    const gateway = await startGateway('full-disk', ['--min-free-mb', String(1024 ** 3), '--no-upload']);
    const pushed = storescu(gateway.port, files);
    expect(pushed.status).not.toBe(0);
    expect(pushed.output).toMatch(/Refused: OutOfResources/);
    expect(buffered(gateway.dir)).toHaveLength(0);
    expect(readdirSync(join(gateway.dir, 'tmp'))).toHaveLength(0);
    const { stderr } = await gateway.stop();
    expect(stderr).toMatch(/refusing new instances/);
  });

  it('keeps acknowledged instances across a restart while medlake is unreachable, and uploads them after', async () => {
    const { files } = writeStudy(join(work, 'study-d'), 3, 'Gateway^Patient^D', 'GW-PID-D');
    const before = (await studies()).items.length;
    // A port nothing listens on: the server is "down".
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    const first = await startGateway('restart', [], deadUrl);
    const pushed = storescu(first.port, files);
    expect(pushed.status, pushed.output).toBe(0);
    expect(buffered(first.dir)).toHaveLength(3);
    await first.run.waitForStderr(/upload cycle failed|could not be uploaded|not reachable/);
    const stopped = await first.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/stillBuffered=3/);
    expect(buffered(first.dir)).toHaveLength(3);

    const second = await startGateway('restart', [], stack.url);
    await second.run.waitForStderr(/resuming buffered instances from an earlier run count=3/);
    await waitFor('the buffer to drain after restart', () => (buffered(second.dir).length === 0 ? true : undefined));
    const after = await waitFor('the new study', async () => {
      const found = await studies();
      return found.items.length > before ? found : undefined;
    });
    expect(after.items.some((s) => s.numInstances === 3)).toBe(true);
    const { stderr } = await second.stop();
    expect(stderr).toMatch(/uploaded=3 stillBuffered=0/);
  });
});

describe('medlake gateway over DICOM TLS', () => {
  let pki: string;
  let hospitalCa: TestAuthority;
  let gatewayCertificate: TestIdentity;
  let scanner: TestIdentity;
  let rogue: TestIdentity;

  beforeAll(() => {
    pki = join(work, 'pki');
    mkdirSync(pki, { recursive: true });
    hospitalCa = createAuthority(pki, 'Hospital CA');
    gatewayCertificate = issueCertificate(pki, hospitalCa, 'gateway.hospital.example', 'server');
    scanner = issueCertificate(pki, hospitalCa, 'CT_SCANNER_2', 'client');
    // Same name, but from a CA the gateway does not trust.
    rogue = issueCertificate(pki, createAuthority(pki, 'Other CA'), 'CT_SCANNER_2-rogue', 'client');
  });

  function tlsArgs(...more: string[]): string[] {
    return ['--tls-port', '0', '--tls-cert', gatewayCertificate.certPath, '--tls-key', gatewayCertificate.keyPath, ...more];
  }

  /** storescu over TLS, checking the gateway's certificate against the hospital CA; `identity` undefined: no client certificate. */
  function storescuTls(port: number, files: string[], identity: TestIdentity | undefined) {
    const tls = identity ? ['+tls', identity.keyPath, identity.certPath] : ['+tla'];
    return dcmtk('storescu', ['-v', ...tls, '+cf', hospitalCa.certPath, '-aet', 'PACS1', '-aec', 'MEDLAKE', '127.0.0.1', String(port), ...files]);
  }

  it('with mutual TLS, instances from a modality with a hospital certificate reach medlake as plain C-STORE ones do, and the log names the device', async () => {
    const { files, uids } = writeStudy(join(work, 'study-tls'), 4, 'Gateway^Patient^T', 'GW-PID-T');
    const gateway = await startGateway('tls', tlsArgs('--tls-ca', hospitalCa.certPath, '--tls-require-client-cert'));
    expect(gateway.tlsPort).toBeGreaterThan(0);
    const overTls = storescuTls(gateway.tlsPort, files.slice(0, 3), scanner);
    expect(overTls.status, overTls.output).toBe(0);
    // The plain port beside it, for modalities that cannot do TLS.
    const plain = storescu(gateway.port, files.slice(3));
    expect(plain.status, plain.output).toBe(0);

    await waitFor('the buffer to drain', () => (buffered(gateway.dir).length === 0 ? true : undefined));
    const list = await waitFor('the study to be searchable', async () => {
      const found = await studies();
      return found.items.find((s) => s.numInstances === 4) ? found : undefined;
    });
    expect(list.items.find((s) => s.numInstances === 4)?.modalities).toEqual(['CT']);

    const { code, stderr } = await gateway.stop();
    expect(code).toBe(0);
    expect(stderr).toMatch(/DICOM TLS certificate=gateway.hospital.example issuer="Hospital CA" validTo=\S+ clientCertificates=required minVersion=TLSv1.2/);
    expect(stderr).toMatch(/association accepted calling=PACS1 called=MEDLAKE peer=127.0.0.1 tls=true tlsVersion=TLSv1\.[23] clientCn=CT_SCANNER_2 /);
    expect(stderr).toMatch(/association accepted calling=PACS1 called=MEDLAKE peer=127.0.0.1 tls=false contexts=/);
    expect(stderr).toMatch(/stopped stored=4 failedStores=0 uploaded=4 stillBuffered=0/);
    // A plain listener on loopback only: nothing crosses a network, no warning.
    expect(stderr).not.toMatch(/without TLS/);
    for (const secret of ['Gateway^Patient^T', 'GW-PID-T', ...uids]) expect(stderr).not.toContain(secret);
  });

  it('with client certificates required, refuses a peer without one and one from another CA; nothing is stored or uploaded', async () => {
    const { files } = writeStudy(join(work, 'study-tls-refused'), 1, 'Gateway^Patient^R', 'GW-PID-R');
    const gateway = await startGateway('tls-refused', tlsArgs('--tls-ca', hospitalCa.certPath, '--tls-require-client-cert'), stack.url, { plain: false });
    const anonymous = storescuTls(gateway.tlsPort, files, undefined);
    expect(anonymous.status, anonymous.output).not.toBe(0);
    const stranger = storescuTls(gateway.tlsPort, files, rogue);
    expect(stranger.status, stranger.output).not.toBe(0);
    expect(buffered(gateway.dir)).toHaveLength(0);

    const { stderr } = await gateway.stop();
    expect(stderr).toMatch(/TLS connection refused peer=127.0.0.1 reason="no client certificate"/);
    expect(stderr).toMatch(/TLS connection refused peer=127.0.0.1 reason="client certificate not accepted" error=UNABLE_TO_VERIFY_LEAF_SIGNATURE claimedCn=CT_SCANNER_2-rogue/);
    expect(stderr).not.toMatch(/association accepted/);
    expect(stderr).toMatch(/stopped stored=0 failedStores=0 uploaded=0 stillBuffered=0/);
  });

  it('refuses a plain TCP association on the TLS port', async () => {
    const { files } = writeStudy(join(work, 'study-tls-plain'), 1, 'Gateway^Patient^P', 'GW-PID-P');
    const gateway = await startGateway('tls-plain', [...tlsArgs(), '--no-upload'], stack.url, { plain: false });
    const echo = dcmtk('echoscu', ['-aet', 'PACS1', '-aec', 'MEDLAKE', '127.0.0.1', String(gateway.tlsPort)]);
    expect(echo.status, echo.output).not.toBe(0);
    const pushed = storescu(gateway.tlsPort, files);
    expect(pushed.status, pushed.output).not.toBe(0);
    expect(buffered(gateway.dir)).toHaveLength(0);
    const { stderr } = await gateway.stop();
    expect(stderr).toMatch(/TLS connection refused peer=127.0.0.1 reason=/);
    expect(stderr).not.toMatch(/association accepted/);
  });

  it('with client certificates optional, lets senders without a verified one in over TLS and names only verified devices', async () => {
    const { files } = writeStudy(join(work, 'study-tls-optional'), 3, 'Gateway^Patient^O', 'GW-PID-O');
    const gateway = await startGateway('tls-optional', [...tlsArgs('--tls-ca', hospitalCa.certPath), '--no-upload'], stack.url, { plain: false });
    for (const [i, identity] of [scanner, undefined, rogue].entries()) {
      const pushed = storescuTls(gateway.tlsPort, [files[i] as string], identity);
      expect(pushed.status, pushed.output).toBe(0);
    }
    expect(buffered(gateway.dir)).toHaveLength(3);
    const { stderr } = await gateway.stop();
    const accepted = stderr.split('\n').filter((line) => line.includes('association accepted'));
    expect(accepted).toHaveLength(3);
    expect(accepted[0]).toMatch(/tls=true tlsVersion=\S+ clientCn=CT_SCANNER_2 /);
    expect(accepted[1]).toMatch(/tls=true tlsVersion=\S+ contexts=/);
    expect(accepted[2]).toMatch(/tls=true tlsVersion=\S+ clientCertificate=unverified contexts=/);
    expect(stderr).not.toContain('clientCn=CT_SCANNER_2-rogue');
  });

  it('warns at start when it listens without TLS on a network address', async () => {
    const gateway = await startGateway('plain-network', [...tlsArgs(), '--host', '0.0.0.0', '--no-upload']);
    const warning = await gateway.run.waitForStderr(/warn +DICOM receiver listening without TLS on a network address.*/);
    expect(warning[0]).toContain(`host=0.0.0.0 port=${gateway.port}`);
    const { code, stderr } = await gateway.stop();
    // A clean stop means start-up ran to its end, past every warning it had to give.
    expect(code).toBe(0);
    expect(stderr).toMatch(/stopped stored=0/);
    // Only the plain port, not the TLS one.
    expect(stderr.match(/without TLS on a network address/g)).toHaveLength(1);
  });
});
