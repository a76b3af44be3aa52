/**
 * medlake next to Orthanc, on the same data and the same machine, in one run:
 *
 *   npm run bench                          # everything, both Orthanc indexes (~45 min; machine calm first)
 *   npm run bench -- --quick --orthanc sqlite
 *   npm run bench -- --only qido,metadata --runs 3
 *
 * (--help lists the options.) For each system in turn — medlake (the local
 * stack in its own process, export worker in another), Orthanc with SQLite,
 * Orthanc with PostgreSQL — from empty: ingest the 1.1 GB CT study with 4
 * clients until it is queryable; series metadata and every frame of a
 * 300-slice series (1 and 8 clients); the study as a zip (medlake's export job
 * and its download vs Orthanc's /archive) with the zipping process's memory;
 * then the query set, 1,000 studies and then 10,000, with the five QIDO
 * filters at each size. Plus the machine's own cat and zip -0 of the same
 * files, and each Lambda's bundle size and cold-init time. One Markdown table
 * with both systems and their ratio, JSON beside it (bench/results/), and
 * the README's table (between its bench markers) for full runs.
 *
 * Workloads and data are those of the Orthanc baseline measured when medlake
 * was planned (same generator, bench/tools/gen_dicom.py, same parameters),
 * but every number here comes from this run for every system, through one
 * client implementation (bench/support/http-client.ts).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bucketName } from '@medlake/functions/adapters/aws-clients';
import { ingestSettings } from '@medlake/functions/ingest/ingest-settings';
import { queueConcurrency } from '@medlake/local/stack';
import type { BenchOptions, Phase } from './support/cli';
import { CliError, orthancIndexes, parseCli, usage } from './support/cli';
import type { Dataset, ManifestRow } from './support/datasets';
import { benchRoot, ctStudySpec, dataRoot, ensureDataset, querySetSpec, studySlice, totalBytes } from './support/datasets';
import { baselineQidoCases, measureFrames, measureMetadata, measureQido, medianPass, seededRandom, verifyStudies } from './support/dicomweb-workloads';
import { HttpClient, runParallel } from './support/http-client';
import { measureLambdas } from './support/lambda-bundles';
import { loadAverages, machineInfo } from './support/machine';
import type { MedlakeSystem } from './support/medlake';
import { startMedlake } from './support/medlake';
import type { UploadFile } from './support/medlake-upload';
import { metered } from './support/meter';
import type { IngestCeiling } from './support/ingest-s3-ceiling';
import { measureIngestCeiling } from './support/ingest-s3-ceiling';
import type { CopyCeiling } from './support/s3-copy-ceiling';
import { measureCopyCeiling } from './support/s3-copy-ceiling';
import type { OrthancIndex } from './support/orthanc';
import { benchPackages, ensureDebianPackages, inPrivateNetwork, orthancStudyId, postgresServerVersion, startOrthanc } from './support/orthanc';
import { writeReport } from './support/result-writer';
import type { LambdaFigure, MeterFields, Report, Row } from './support/results';
import { evaluateTargets, machineSystem, median, otherCores, percentile, resultStamp } from './support/results';

const netnsFlag = 'MEDLAKE_BENCH_NETNS';
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** A system under test, as the workloads see it. */
interface SystemUnderTest {
  name: string;
  description: string;
  /** Roots of its process trees (server CPU). */
  serverPids: number[];
  /** Names the part of the system a server process is, from its command line (server CPU split). */
  classify(commandLine: string): string;
  /** The process that builds the zip (memory of the export/archive). */
  zipRssPids: number[];
  dicomweb: HttpClient;
  /** The value it stored for an original UID / Patient ID of the generated data. */
  uid(original: string): string;
  patientId(original: string): string;
  /** PatientName prefixes that exist in it (the generator's last names, or medlake's pseudonyms). */
  namePrefixes: readonly string[];
  ingestNote: string;
  /** Stores the files with 4 clients; returns once the index holds `expectedTotal` instances. */
  ingest(files: readonly UploadFile[], expectedTotal: number): Promise<void>;
  /** The same S3 and SQS requests as the ingest of `files`, without ingest (medlake: the emulator's ceiling for ingest). */
  ingestCeiling?(files: readonly UploadFile[]): Promise<IngestCeiling & { note: string }>;
  /** The study as a zip: total seconds until the last byte was read, and the parts of it. */
  zip(studyUid: string): Promise<{ seconds: number; zipBytes: number; note: string; jobSeconds?: number }>;
  /** The same S3 reads and writes as the zip, without zipping (medlake: the emulator's ceiling for an export). */
  copyCeiling?(studyUid: string): Promise<CopyCeiling>;
  refresh(): Promise<void>;
  stop(): Promise<void>;
}

const base32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** The generator's last names the baseline queried (PatientName=<LAST>*). */
const generatorLastNames = ['DOE', 'SMITH', 'MARTIN', 'DUBOIS', 'MUELLER', 'ROSSI', 'GARCIA', 'JANSSENS', 'NOVAK'];

/**
 * The rate a workload's CPU allows: its part of the server is one process
 * (one core at most), and it shares the machine's cores with its clients.
 */
function cpuBound(fields: MeterFields, items: number, part: string): { instancesPerSecond: number; serverMs: number; clientMs: number } {
  const serverMs = ((fields.serverCpuByPart?.[part] ?? 0) * 1000) / items;
  const clientMs = (fields.clientCpuS * 1000) / items;
  return { instancesPerSecond: Math.min(1000 / serverMs, (cpus().length * 1000) / (serverMs + clientMs)), serverMs, clientMs };
}

function medlakeSystem(m: MedlakeSystem): SystemUnderTest {
  return {
    name: 'medlake',
    description: `local stack (embedded PostgreSQL ${m.postgresVersion}, S3/SQS emulator) in its own process; export worker in another`,
    serverPids: m.pids,
    classify: (command) => {
      if (/postgres/.test(command)) return 'PostgreSQL';
      if (/aws-emulator/.test(command)) return 'S3/SQS emulator';
      const fn = /functions\/src\/([\w-]+)\/handler/.exec(command);
      if (/lambda-runtime/.test(command)) return fn ? `${fn[1]} function` : 'function instances';
      if (/medlake-export-worker/.test(command)) return 'export worker';
      if (/medlake-server/.test(command)) return 'stack process';
      return 'other';
    },
    zipRssPids: [m.exportWorkerPid],
    dicomweb: m.dicomweb,
    uid: m.uid,
    patientId: m.patientId,
    // Patient names are replaced by the pseudonym (MLP- + base32): one more character selects about as many patients as a last name did.
    namePrefixes: [...base32].map((c) => `MLP-${c}`),
    ingestNote: 'POST /api/uploads (50 files each) + presigned PUTs to S3, ingest worker: de-identify, archive, index; timed until every instance is indexed and QIDO shows the study complete',
    ingest: (files, expectedTotal) => m.ingest(files, { clients: 4, filesPerUpload: 50, expectedTotal, timeoutMs: 45 * 60_000 }),
    async ingestCeiling(files) {
      // The server process inherits this process's environment: the same function instances per queue.
      const consumers = queueConcurrency().ingest;
      const inFlight = ingestSettings(m.info.env).concurrency;
      const result = await measureIngestCeiling({
        endpoint: m.info.endpoints.aws,
        quarantineBucket: bucketName('quarantine', m.info.env),
        archiveBucket: bucketName('archive', m.info.env),
        files,
        clients: 4,
        consumers,
        inFlight,
      });
      return { ...result, note: `per file: presigned PUT into quarantine and its S3 event on a queue (4 uploading: ${result.uploadSeconds.toFixed(1)} s), then receive, GET with SHA-256, archive PUT, delete (${consumers} consumers x ${inFlight} files, as the ingest function instances: ${result.processSeconds.toFixed(1)} s); from the benchmark process, no de-identification or database: what the local S3 and SQS allow an ingest on this machine` };
    },
    async zip(studyUid) {
      const outcome = await m.exportStudy(studyUid);
      if (outcome.head.readUInt32LE(0) !== 0x04034b50) throw new Error('the export is not a zip');
      return {
        seconds: outcome.jobSeconds + outcome.downloadSeconds,
        zipBytes: outcome.zipBytes,
        jobSeconds: outcome.jobSeconds,
        note: `POST /api/exports (store) → done in ${outcome.jobSeconds.toFixed(1)} s (${outcome.files} files, zip written to S3 by the export worker), then the download ${outcome.downloadSeconds.toFixed(1)} s; ${(outcome.zipBytes / 1e6).toFixed(0)} MB zip; memory: the export worker process`,
      };
    },
    async copyCeiling(studyUid) {
      const keys = await m.db.query<{ archive_key: string }>('SELECT archive_key FROM instances WHERE study_uid = $1 ORDER BY series_uid, instance_number, sop_uid', [studyUid]);
      return measureCopyCeiling({
        endpoint: m.info.endpoints.aws,
        archiveBucket: bucketName('archive', m.info.env),
        exportsBucket: bucketName('exports', m.info.env),
        keys: keys.rows.map((row) => row.archive_key),
        env: m.info.env,
      });
    },
    refresh: () => m.refreshTokens(),
    stop: () => m.stop(),
  };
}

async function orthancSystem(index: OrthancIndex, workDir: string): Promise<SystemUnderTest> {
  const server = await startOrthanc(index, workDir, log);
  const rest = new HttpClient(server.url, {}, 8);
  const dicomweb = new HttpClient(server.dicomwebUrl, {}, 16);
  return {
    name: `orthanc-${index}`,
    description: `${server.description}${index === 'postgres' ? `; index in ${postgresServerVersion()} (initdb defaults)` : '; SQLite index'}`,
    serverPids: server.pids,
    classify: (command) => (/postgres/.test(command) ? 'PostgreSQL' : 'Orthanc'),
    zipRssPids: [server.orthancPid],
    dicomweb,
    uid: (original) => original,
    patientId: (original) => original,
    namePrefixes: generatorLastNames,
    ingestNote: 'POST /instances, one file per request; timed until every answer and a QIDO check of the study',
    async ingest(files) {
      const statuses = new Map<string, number>();
      await runParallel(files, 4, async (file) => {
        const answer = await rest.request('POST', '/instances', { body: file.bytes, headers: { 'content-type': 'application/dicom' } });
        const status = answer.status === 200 ? String((JSON.parse(answer.body.toString('utf8')) as { Status?: string }).Status) : `HTTP ${answer.status}`;
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      });
      if (statuses.get('Success') !== files.length) throw new Error(`Orthanc ingest: ${[...statuses].map(([k, v]) => `${k}: ${v}`).join(', ')}`);
    },
    async zip(studyUid) {
      const id = await orthancStudyId(rest, studyUid);
      const t0 = performance.now();
      const answer = await rest.drain('GET', `/studies/${id}/archive`);
      const seconds = (performance.now() - t0) / 1000;
      if (answer.status !== 200 || answer.head.readUInt32LE(0) !== 0x04034b50) throw new Error(`archive: HTTP ${answer.status}`);
      const method = answer.head.readUInt16LE(8) === 0 ? 'stored' : answer.head.readUInt16LE(8) === 8 ? 'deflate' : 'other';
      return { seconds, zipBytes: answer.bytes, note: `GET /studies/{id}/archive (${method}), streamed: ${(answer.bytes / 1e6).toFixed(0)} MB zip, ${(answer.bytes / 1e6 / seconds).toFixed(1)} MB/s on the wire; memory: the Orthanc process` };
    },
    refresh: async () => undefined,
    async stop() {
      rest.close();
      dicomweb.close();
      await server.stop();
      rmSync(join(workDir, `orthanc-${index}`), { recursive: true, force: true });
    },
  };
}

const loadFiles = (rows: readonly ManifestRow[]): UploadFile[] => rows.map((r, i) => ({ name: `IM${String(i).padStart(5, '0')}.dcm`, bytes: readFileSync(r.file) }));
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
const count = (n: number) => n.toLocaleString('en-US');

interface RunContext {
  options: BenchOptions;
  run: number;
  ct: Dataset;
  ctFiles: UploadFile[];
  query: Dataset;
  querySizes: number[];
  rows: Row[];
  notes: string[];
}

function has(options: BenchOptions, ...wanted: Phase[]): boolean {
  return wanted.some((p) => options.only.includes(p));
}

async function measureSystem(system: SystemUnderTest, ctx: RunContext): Promise<void> {
  const { options, run, ct } = ctx;
  const emit = (row: Omit<Row, 'system' | 'run'>, meter?: MeterFields) => {
    const full: Row = { system: system.name, run, ...row, ...(meter ? { meter } : {}) };
    ctx.rows.push(full);
    log(`${system.name}: ${row.phase} | ${row.workload}: ${row.value.toFixed(2)} ${row.unit}${row.value2 !== undefined ? ` (${row.value2.toFixed(2)} ${row.unit2})` : ''}`);
  };
  const meter = <T>(work: () => Promise<T>, rss = false) => metered({ serverPids: system.serverPids, classify: system.classify, ...(rss ? { rssPids: system.zipRssPids } : {}) }, work);
  let instancesLoaded = 0;

  const ctStudy = ct.rows[0]?.studyUid as string;
  const ctBytes = totalBytes(ct.rows);
  if (has(options, 'ingest', 'metadata', 'frames', 'export')) {
    await system.refresh();
    const { fields } = await meter(async () => {
      await system.ingest(ctx.ctFiles, instancesLoaded + ctx.ctFiles.length);
      const bad = await verifyStudies(system.dicomweb, [{ uid: system.uid(ctStudy), instances: ct.rows.length }]);
      if (bad.length > 0) throw new Error(`after ingest, QIDO: ${bad.join('; ')}`);
    });
    instancesLoaded += ctx.ctFiles.length;
    emit({ phase: 'ingest', workload: `CT study: ${count(ct.rows.length)} instances, ${gb(ctBytes)}, 4 clients`, value: ct.rows.length / fields.wallS, unit: 'inst/s', better: 'higher', value2: ctBytes / 1e6 / fields.wallS, unit2: 'MB/s', note: system.ingestNote }, fields);
    if (system.ingestCeiling) {
      const { result: ceiling, fields: ceilingFields } = await meter(() => (system.ingestCeiling as NonNullable<typeof system.ingestCeiling>)(ctx.ctFiles));
      const bound = cpuBound(ceilingFields, ceiling.files, 'S3/SQS emulator');
      emit({
        phase: 'ingest',
        workload: "S3/SQS alone: the CT study's uploads, events, reads and archive writes, no de-identification or database (the emulator's ceiling)",
        value: bound.instancesPerSecond,
        unit: 'inst/s',
        better: 'higher',
        value2: ceiling.files / ceiling.seconds,
        unit2: 'inst/s measured',
        note: `the most these requests allow on this machine, from their CPU per instance: emulator ${bound.serverMs.toFixed(2)} ms (one process, so at most ${(1000 / bound.serverMs).toFixed(0)}/s), `
          + `their client side ${bound.clientMs.toFixed(2)} ms (upload clients and the consumers' SDK calls; ${cpus().length} cores for both: at most ${((cpus().length * 1000) / (bound.serverMs + bound.clientMs)).toFixed(0)}/s). ${ceiling.note}`,
      }, ceilingFields);
    }
  }

  const series = ct.rows.filter((r) => r.seriesUid === ct.rows[0]?.seriesUid);
  const seriesPath = `/studies/${system.uid(ctStudy)}/series/${system.uid(series[0]?.seriesUid as string)}`;
  if (has(options, 'metadata')) {
    await system.refresh();
    for (const gzip of [false, true]) {
      const { result, fields } = await meter(() => measureMetadata(system.dicomweb, `${seriesPath}/metadata`, { n: 21, maxSeconds: 120, gzip }));
      const [first = Number.NaN, ...rest] = result.latenciesMs;
      if (result.instances !== series.length) ctx.notes.push(`${system.name}: series metadata returned ${result.instances} of ${series.length} instances`);
      emit({
        phase: 'wado',
        workload: `series metadata (${series.length}-slice CT)${gzip ? ', gzip' : ''}`,
        value: median(rest),
        unit: 'ms',
        better: 'lower',
        value2: percentile(rest, 95),
        unit2: 'ms p95',
        note: `first call ${first.toFixed(0)} ms, then n=${rest.length}; ${result.instances} instances, ${(result.bytes / 1e3).toFixed(0)} kB ${result.contentEncoding}${gzip ? ' (Accept-Encoding: gzip)' : ' (no Accept-Encoding)'}`,
      }, fields);
    }
  }

  if (has(options, 'frames')) {
    await system.refresh();
    const paths = series.map((r) => `${seriesPath}/instances/${system.uid(r.sopUid)}/frames/1`);
    const minBytes = (series[0]?.matrix ?? 0) ** 2 * 2;
    for (const clients of [1, 8]) {
      const { result, fields } = await meter(() => measureFrames(system.dicomweb, paths, { concurrency: clients, reps: options.quick ? 3 : 5, maxSeconds: 120, minBytes }));
      const pass = medianPass(result);
      emit({
        phase: 'wado',
        workload: `frames, ${clients} client${clients > 1 ? 's' : ''} (${series.length}-slice CT)`,
        value: pass.frames / pass.seconds,
        unit: 'frames/s',
        better: 'higher',
        value2: pass.bytes / 1e6 / pass.seconds,
        unit2: 'MB/s',
        note: `${paths.length} frames x ${result.length} passes (median pass), ${(pass.bytes / pass.frames / 1e3).toFixed(0)} kB/frame; passes ${result.map((p) => (p.frames / p.seconds).toFixed(0)).join(', ')} frames/s`,
      }, fields);
    }
  }

  if (has(options, 'export')) {
    await system.refresh();
    const { result, fields } = await meter(() => system.zip(system.uid(ctStudy)), true);
    const workload = `study zip: ${count(ct.rows.length)} instances, ${gb(ctBytes)}`;
    emit({ phase: 'export', workload, value: ctBytes / 1e6 / result.seconds, unit: 'MB/s', better: 'higher', value2: result.seconds, unit2: 's', note: `MB/s of DICOM data until the last zip byte was read; ${result.note}` }, fields);
    if (fields.peakRssMb !== undefined) {
      emit({ phase: 'export', workload: `${workload}: peak memory of the zipping process`, value: fields.peakRssMb, unit: 'MB', better: 'lower', value2: fields.peakRssMb - (fields.rssBeforeMb ?? 0), unit2: 'MB growth', note: `RSS ${fields.rssBeforeMb} MB before, sampled every 50 ms` });
    }
    if (result.jobSeconds !== undefined) {
      emit({ phase: 'export', workload: 'export job alone (until the zip is complete in S3)', value: ctBytes / 1e6 / result.jobSeconds, unit: 'MB/s', better: 'higher', value2: result.jobSeconds, unit2: 's', note: 'from POST /api/exports until the export reads done (polled every 100 ms)' });
    }
    if (system.copyCeiling) {
      const { result: ceiling, fields: ceilingFields } = await meter(() => (system.copyCeiling as NonNullable<typeof system.copyCeiling>)(system.uid(ctStudy)));
      emit({
        phase: 'export',
        workload: "S3 alone: the export job's GETs and part uploads, no zip (the emulator's ceiling)",
        value: ctBytes / 1e6 / ceiling.seconds,
        unit: 'MB/s',
        better: 'higher',
        value2: ceiling.seconds,
        unit2: 's',
        note: `every archived object GET (${ceiling.readConcurrency} at a time): ${(ceiling.bytes / 1e6 / ceiling.readSeconds).toFixed(0)} MB/s; then as many bytes uploaded in parts (${ceiling.uploadConcurrency} at a time): ${(ceiling.bytes / 1e6 / ceiling.writeSeconds).toFixed(0)} MB/s; from the benchmark process, no zip, hashing or database: what the local S3 allows an export on this machine`,
      }, ceilingFields);
    }
  }

  if (has(options, 'qido')) {
    let previous = 0;
    for (const size of ctx.querySizes) {
      await system.refresh();
      const slice = studySlice(ctx.query.rows, previous, size);
      const files = loadFiles(slice);
      const { fields } = await meter(() => system.ingest(files, instancesLoaded + files.length));
      instancesLoaded += files.length;
      emit({ phase: 'ingest', workload: `headers-only (8x8): +${count(files.length)} instances, studies ${count(previous)}–${count(size)}, 4 clients`, value: files.length / fields.wallS, unit: 'inst/s', better: 'higher', value2: totalBytes(slice) / 1e6 / fields.wallS, unit2: 'MB/s', note: system.ingestNote }, fields);
      const loaded = studySlice(ctx.query.rows, 0, size);
      const perStudy = new Map<string, number>();
      for (const r of slice) perStudy.set(r.studyUid, (perStudy.get(r.studyUid) ?? 0) + 1);
      const sample = [...perStudy].filter((_, i) => i % Math.max(1, Math.floor(perStudy.size / 50)) === 0).slice(0, 50);
      const bad = await verifyStudies(system.dicomweb, sample.map(([uid, instances]) => ({ uid: system.uid(uid), instances })));
      if (bad.length > 0) ctx.notes.push(`${system.name}: ${bad.length} of ${sample.length} sampled studies incomplete after loading ${size}: ${bad[0]}`);
      const studiesOf = new Map<string, Set<string>>();
      for (const r of loaded) (studiesOf.get(r.patientId) ?? studiesOf.set(r.patientId, new Set()).get(r.patientId))?.add(r.studyUid);
      const cases = baselineQidoCases({
        patients: [...studiesOf].map(([id, studies]) => ({ id: system.patientId(id), studies: studies.size })),
        namePrefixes: system.namePrefixes,
      });
      for (const [i, qidoCase] of cases.entries()) {
        const { result, fields: qidoFields } = await meter(() => measureQido(system.dicomweb, qidoCase, { n: options.samples, maxSeconds: 60, random: seededRandom(size * 10 + i) }));
        const mean = result.counts.reduce((a, b) => a + b, 0) / Math.max(1, result.counts.length);
        emit({
          phase: 'query',
          workload: `${count(size)} studies: ${qidoCase.name}`,
          value: median(result.latenciesMs),
          unit: 'ms',
          better: 'lower',
          value2: percentile(result.latenciesMs, 95),
          unit2: 'ms p95',
          note: `n=${result.latenciesMs.length}, mean ${mean.toFixed(1)} matches${result.wrong ? `, ${result.wrong} WRONG answers (first: ${result.firstWrong})` : ''}`,
        }, qidoFields);
      }
      previous = size;
    }
  }
}

/** The machine itself on the same files: cat (warm page cache) and zip -0 to a pipe. */
async function measureReference(ctx: RunContext, workDir: string): Promise<void> {
  const list = join(workDir, 'ct.list');
  writeFileSync(list, `${ctx.ct.rows.map((r) => r.file).join('\n')}\n`);
  const bytes = totalBytes(ctx.ct.rows);
  const sh = (script: string) => new Promise<number>((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = 0;
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.length));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script}: exit ${code}`))));
  });
  await sh(`xargs -a '${list}' cat >/dev/null`); // warm the page cache
  const catRuns: number[] = [];
  const cat = await metered({ serverPids: [] }, async () => {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await sh(`xargs -a '${list}' cat >/dev/null`);
      catRuns.push((performance.now() - t0) / 1000);
    }
  });
  const catS = median(catRuns);
  ctx.rows.push({ system: machineSystem, run: ctx.run, phase: 'reference', workload: `cat of the ${count(ctx.ct.rows.length)} files (warm cache)`, value: bytes / 1e6 / catS, unit: 'MB/s', better: 'higher', value2: catS, unit2: 's', note: `median of 3: ${catRuns.map((s) => s.toFixed(2)).join(', ')} s`, meter: cat.fields });
  let zipBytes = 0;
  const zip = await metered({ serverPids: [] }, async () => (zipBytes = await sh(`zip -0 -q - -@ <'${list}'`)));
  ctx.rows.push({ system: machineSystem, run: ctx.run, phase: 'reference', workload: `zip -0 of the ${count(ctx.ct.rows.length)} files (warm cache, to a pipe)`, value: bytes / 1e6 / zip.fields.wallS, unit: 'MB/s', better: 'higher', value2: zip.fields.wallS, unit2: 's', note: `${(zipBytes / 1e6).toFixed(0)} MB zip read by the client`, meter: zip.fields });
  log(`machine: cat ${(bytes / 1e6 / catS).toFixed(0)} MB/s, zip -0 ${(bytes / 1e6 / zip.fields.wallS).toFixed(0)} MB/s`);
}

async function inside(options: BenchOptions): Promise<number> {
  const startedAt = new Date();
  const loadStart = loadAverages();
  if (loadStart[0] > 1.5) log(`the machine is busy (load ${loadStart.join(' ')}): numbers will carry that; "other CPU" is recorded per row`);
  const workDir = mkdtempSync(join(tmpdir(), 'medlake-bench-'));
  const stoppers = new Set<() => Promise<void>>();
  const interrupt = async () => {
    log('interrupted: stopping the systems');
    for (const stop of stoppers) await stop().catch(() => undefined);
    rmSync(workDir, { recursive: true, force: true });
    process.exit(130);
  };
  process.once('SIGINT', () => void interrupt());
  process.once('SIGTERM', () => void interrupt());

  const ct = ensureDataset(ctStudySpec(options.quick), log);
  const query = ensureDataset(querySetSpec(options.quick ? 250 : 5000), log);
  const querySizes = options.quick ? [100, 500] : [1000, 10000];
  const needsCt = has(options, 'ingest', 'metadata', 'frames', 'export');
  const ctx: RunContext = { options, run: 1, ct, ctFiles: needsCt ? loadFiles(ct.rows) : [], query, querySizes, rows: [], notes: [] };
  const software: Record<string, string> = {};
  let lambdas: LambdaFigure[] = [];
  const profileDir = options.profile ? join(dataRoot, 'profiles', resultStamp(startedAt)) : undefined;

  try {
    if (has(options, 'lambda')) lambdas = await measureLambdas({ runs: options.quick ? 3 : 7, log });
    for (let run = 1; run <= options.runs; run++) {
      ctx.run = run;
      if (has(options, 'reference')) await measureReference(ctx, workDir);
      const systems: (() => Promise<SystemUnderTest>)[] = [];
      if (has(options, 'ingest', 'metadata', 'frames', 'export', 'qido')) {
        systems.push(async () => medlakeSystem(await startMedlake({ log, ...(profileDir ? { profileDir } : {}) })));
        for (const index of orthancIndexes(options.orthanc)) systems.push(() => orthancSystem(index, workDir));
      }
      // Load from other work drifts during a run: each run starts with the next system, so medians over runs share it out.
      const shift = (run - 1) % Math.max(1, systems.length);
      for (const start of [...systems.slice(shift), ...systems.slice(0, shift)]) {
        let system: SystemUnderTest | undefined;
        try {
          system = await start();
          const current = system;
          stoppers.add(current.stop);
          software[system.name] = system.description;
          log(`run ${run}: ${system.name} (${system.description})`);
          await measureSystem(system, ctx);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          ctx.notes.push(`run ${run}, ${system?.name ?? 'a system'}: stopped by an error: ${message}`);
          log(`ERROR ${message}`);
          if (error instanceof Error && error.stack) console.error(error.stack);
        } finally {
          if (system) {
            await system.stop().catch((error: unknown) => log(`stopping ${system?.name}: ${String(error)}`));
            stoppers.delete(system.stop);
          }
        }
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }

  const systemNames = ['medlake', ...orthancIndexes(options.orthanc).map((i) => `orthanc-${i}`)];
  if (profileDir) ctx.notes.push(`CPU profiles of medlake's processes: ${profileDir}`);
  const report: Report = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    quick: options.quick,
    runs: options.runs,
    phases: options.only,
    systems: systemNames,
    machine: machineInfo(),
    software,
    load: { start: loadStart, end: loadAverages(), otherCores: otherCores(ctx.rows) },
    data: {
      'CT study': `${ct.spec.name}: ${count(ct.rows.length)} instances, ${gb(totalBytes(ct.rows))} (gen_dicom.py ${ct.spec.args.join(' ')})`,
      'query set': `${query.spec.name}: studies loaded in steps ${querySizes.map(count).join(' → ')} (gen_dicom.py ${query.spec.args.join(' ')})`,
    },
    rows: ctx.rows,
    lambdas,
    targets: evaluateTargets(ctx.rows),
    notes: ctx.notes,
  };
  const written = writeReport(report, { resultsDir: join(benchRoot, 'results'), readmePath: join(benchRoot, '..', 'README.md'), publish: options.publish });
  console.log(`\n${readFileSync(written.markdown, 'utf8').split('\n## Details')[0]}`);
  log(`written: ${written.markdown}, ${written.json}${written.latest ? `, ${written.latest.markdown}, README.md` : ''}`);
  return 0;
}

/** Outside the namespace: packages, data, then this script again under `unshare --net` (loopback only). */
function outside(options: BenchOptions, argv: readonly string[]): number {
  if (process.getuid?.() !== 0) {
    console.error('npm run bench needs root: apt-get for Orthanc and PostgreSQL, and a private network namespace (unshare --net) so that Orthanc is reachable on loopback only.');
    return 2;
  }
  ensureDebianPackages(benchPackages, log);
  ensureDataset(ctStudySpec(options.quick), log);
  ensureDataset(querySetSpec(options.quick ? 250 : 5000), log);
  const script = fileURLToPath(import.meta.url);
  const child = spawnSync('unshare', ['--net', '--fork', '--', process.execPath, '--import', 'tsx', script, ...argv], { stdio: 'inherit', env: { ...process.env, [netnsFlag]: '1' } });
  return child.status ?? 1;
}

let options: BenchOptions;
try {
  options = parseCli(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof CliError)) throw error;
  console.error(`${error.message}\n\n${usage}`);
  process.exit(2);
}
if (options.help) {
  console.log(usage);
  process.exit(0);
}
if (process.env[netnsFlag] === '1') {
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  if (!inPrivateNetwork()) throw new Error('expected a private network namespace');
  process.exit(await inside(options));
}
process.exit(outside(options, process.argv.slice(2)));
