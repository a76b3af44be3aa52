/**
 * DICOMweb benchmark (not a test): QIDO-RS latency at 10,000 studies, series
 * metadata of a 300-slice CT series, frames/s with 1 and 8 clients, through
 * the local front door with a Bearer token, on a lake filled through the
 * real ingest path (uploads → SQS → de-identification → archive → index).
 *
 *   npx tsx bench/dicomweb.bench.ts                 # full: 10,000 studies + a 300-slice CT series
 *   BENCH_PATIENTS=500 npx tsx bench/dicomweb.bench.ts   # quicker, 1,000 studies
 *
 * Data (gen_dicom.py, deterministic) are generated once into bench/data
 * (ignored by git): the Orthanc baseline's query set (`--patients 5000
 * --studies-per-patient 2 --series-per-study 2 --slices 1 --matrix 8
 * --seed 13`, headers-only) and its 300-slice CT series (`--seed 11`).
 * Orthanc 1.10 + SQLite on the same machine kind: PatientID 18.6 ms,
 * 30-day StudyDate 60 ms, ModalitiesInStudy=CT 626 ms, 1-year StudyDate +
 * CT 128 ms, PatientName=<LAST>* 55.9 ms (limit 50, medians); metadata
 * 150 ms; frames 458 (1 client) / 674 (8 clients) frames/s.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestStack } from '../test/support/local-stack';
import type { GeneratedInstance } from '../test/fixtures/dicomweb/lake';
import { generateDicom, readManifest, uploadAndIngest } from '../test/fixtures/dicomweb/lake';

const root = fileURLToPath(new URL('..', import.meta.url));
const patients = Number(process.env.BENCH_PATIENTS ?? 5000);
const samples = Number(process.env.BENCH_SAMPLES ?? 200);

function dataset(name: string, make: (dir: string) => GeneratedInstance[]): GeneratedInstance[] {
  const dir = join(root, 'bench', 'data', name);
  if (existsSync(join(dir, 'manifest.tsv'))) return readManifest(dir);
  console.log(`generating ${name} ...`);
  return make(dir);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summary(times: number[]): { p50: number; p95: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
}

const fmt = (ms: number) => `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;

/**
 * The HTTP client runs in its own thread (its own event loop and core), as
 * the Orthanc baseline's client ran in its own process: the local stack's
 * process keeps its event loop for the front door and the handlers.
 */
const clientSource = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { urls, concurrency, headers } = workerData;
  const times = new Array(urls.length);
  const counts = new Array(urls.length);
  let next = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < urls.length) {
      const i = next++;
      const t0 = performance.now();
      const res = await fetch(urls[i], { headers });
      const body = await res.arrayBuffer();
      times[i] = performance.now() - t0;
      if (!res.ok) throw new Error(urls[i] + ' answered ' + res.status + ': ' + Buffer.from(body).toString().slice(0, 300));
      bytes = body.byteLength;
      if ((res.headers.get('content-type') || '').includes('json')) counts[i] = JSON.parse(Buffer.from(body).toString()).length;
    }
  }));
  parentPort.postMessage({ times, counts, bytes, wallMs: performance.now() - started });
})().catch((error) => parentPort.postMessage({ error: String(error && error.message || error) }));
`;

interface ClientRun {
  times: number[];
  counts: (number | undefined)[];
  bytes: number;
  wallMs: number;
}

function runClient(urls: string[], concurrency: number, headers: Record<string, string>): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(clientSource, { eval: true, workerData: { urls, concurrency, headers } });
    worker.once('message', (message: ClientRun & { error?: string }) => {
      void worker.terminate();
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    });
    worker.once('error', reject);
  });
}

async function main(): Promise<void> {
  const queryArgs = { patients, studiesPerPatient: 2, seriesPerStudy: 2, slices: 1, matrix: 8, modality: 'mix' as const, seed: 13 };
  const queryName = `query-${patients}x2x2x1-m8-s13`;
  const querySet = dataset(queryName, (dir) => generateDicom(dir, queryArgs));
  const ctArgs = { patients: 1, studiesPerPatient: 1, seriesPerStudy: 1, slices: 300, modality: 'CT' as const, seed: 11 };
  const ctName = 'ct-1x300-s11';
  const ct = dataset(ctName, (dir) => generateDicom(dir, ctArgs));

  const stack = await startTestStack();
  try {
    const uploader = await stack.createUser({ groups: ['uploader'] });
    const reader = await stack.createUser({ groups: ['researcher'] });
    let started = performance.now();
    await uploadAndIngest(stack, uploader.idToken, querySet.map((f) => f.path), 500);
    const queryIngestS = (performance.now() - started) / 1000;
    started = performance.now();
    await uploadAndIngest(stack, uploader.idToken, ct.map((f) => f.path), 100);
    const ctIngestS = (performance.now() - started) / 1000;
    const studies = (await stack.db.query<{ n: number }>('SELECT count(*)::int AS n FROM studies')).rows[0]?.n ?? 0;
    console.log(`ingested ${querySet.length} headers-only instances (${studies} studies in the lake) in ${queryIngestS.toFixed(1)} s, the 300-slice CT series in ${ctIngestS.toFixed(1)} s`);
    await stack.db.query('ANALYZE');

    const headers = { authorization: `Bearer ${reader.idToken}`, accept: 'application/dicom+json' };
    const url = (path: string) => `${stack.url}${path}`;
    // QIDO-RS, the baseline's five workloads.
    const patientIds = (await stack.db.query<{ patient_id: string; patient_name: string }>('SELECT patient_id, patient_name FROM patients ORDER BY random() LIMIT $1', [samples])).rows;
    const range = (await stack.db.query<{ lo: Date; hi: Date }>('SELECT min(study_date) AS lo, max(study_date) AS hi FROM studies')).rows[0] as { lo: Date; hi: Date };
    const da = (d: Date) => d.toISOString().slice(0, 10).replace(/-/g, '');
    const randomWindow = (days: number) => {
      const span = range.hi.getTime() - range.lo.getTime() - days * 86_400_000;
      const start = new Date(range.lo.getTime() + Math.random() * Math.max(0, span));
      return `${da(start)}-${da(new Date(start.getTime() + days * 86_400_000))}`;
    };
    const workloads: { name: string; orthanc: number; path: (i: number) => string }[] = [
      { name: 'PatientID=<id>', orthanc: 18.6, path: (i) => `/dicomweb/studies?PatientID=${encodeURIComponent(patientIds[i % patientIds.length]?.patient_id ?? '')}` },
      { name: 'StudyDate=<30 days>&limit=50', orthanc: 60.0, path: () => `/dicomweb/studies?StudyDate=${randomWindow(30)}&limit=50` },
      { name: 'ModalitiesInStudy=CT&limit=50', orthanc: 626, path: () => '/dicomweb/studies?ModalitiesInStudy=CT&limit=50' },
      { name: 'StudyDate=<1 year>&ModalitiesInStudy=CT&limit=50', orthanc: 128, path: () => `/dicomweb/studies?StudyDate=${randomWindow(365)}&ModalitiesInStudy=CT&limit=50` },
      // Pseudonymous names are MLP-<base32>: "MLP-" and one more character select 1/32 of the patients,
      // about the selectivity of the baseline's <LAST>* over real surnames.
      { name: 'PatientName=<prefix>*&limit=50', orthanc: 55.9, path: (i) => `/dicomweb/studies?PatientName=${encodeURIComponent(`${(patientIds[i % patientIds.length]?.patient_name ?? 'A').slice(0, 5)}*`)}&limit=50` },
    ];
    const rows: string[] = [];
    for (const w of workloads) {
      await runClient([url(w.path(0))], 1, headers);
      const run = await runClient(Array.from({ length: samples }, (_, i) => url(w.path(i))), 1, headers);
      const results = run.counts.reduce<number>((sum, n) => sum + (n ?? 0), 0);
      const s = summary(run.times);
      rows.push(`| QIDO ${studies} studies: ${w.name} | ${fmt(s.p50)} | ${fmt(s.p95)} | ${fmt(w.orthanc)} | ≤ ${fmt(w.orthanc / 5)} | ${s.p50 <= w.orthanc / 5 ? 'met' : 'MISSED'} | n=${samples}, mean ${(results / samples).toFixed(1)} results |`);
    }

    // WADO-RS series metadata of the 300-slice series.
    const series = (await stack.db.query<{ study_uid: string; series_uid: string }>('SELECT study_uid, series_uid FROM series WHERE num_instances = 300 LIMIT 1')).rows[0] as { study_uid: string; series_uid: string };
    const metadataPath = `/dicomweb/studies/${series.study_uid}/series/${series.series_uid}/metadata`;
    // fetch asks for gzip (and decompresses); a client that does not gets the JSON as is.
    const first = await runClient([url(metadataPath)], 1, headers);
    const m = summary((await runClient(Array.from({ length: 20 }, () => url(metadataPath)), 1, headers)).times);
    const plain = summary((await runClient(Array.from({ length: 20 }, () => url(metadataPath)), 1, { ...headers, 'accept-encoding': 'identity' })).times);
    rows.push(`| series metadata (300-slice CT), gzip | ${fmt(m.p50)} | ${fmt(m.p95)} | ${fmt(150)} | ≤ 30 ms | ${m.p50 <= 30 ? 'met' : 'MISSED'} | first call (builds the document) ${fmt(first.times[0] as number)}; ${(first.bytes / 1024).toFixed(0)} kB JSON; n=20 |`);
    rows.push(`| series metadata (300-slice CT), identity | ${fmt(plain.p50)} | ${fmt(plain.p95)} | ${fmt(150)} | ≤ 30 ms | ${plain.p50 <= 30 ? 'met' : 'MISSED'} | client without Accept-Encoding: gzip; n=20 |`);

    // WADO-RS frames: every frame of the series, 5 passes, 1 and 8 clients.
    const sops = (await stack.db.query<{ sop_uid: string }>('SELECT sop_uid FROM instances WHERE series_uid = $1 ORDER BY instance_number', [series.series_uid])).rows.map((r) => r.sop_uid);
    const frameAccept = { accept: 'multipart/related; type=application/octet-stream; transfer-syntax=*' };
    for (const clients of [1, 8]) {
      const rates: number[] = [];
      let bytes = 0;
      const frameUrls = sops.map((sop) => url(`/dicomweb/studies/${series.study_uid}/series/${series.series_uid}/instances/${sop}/frames/1`));
      for (let pass = 0; pass < 5; pass++) {
        const run = await runClient(frameUrls, clients, { ...headers, ...frameAccept });
        bytes = run.bytes;
        rates.push(sops.length / (run.wallMs / 1000));
      }
      const sorted = [...rates].sort((a, b) => a - b);
      const median = sorted[2] as number;
      const orthanc = clients === 1 ? 458 : 674;
      rows.push(`| frames c${clients} (300-slice CT) | ${median.toFixed(0)} frames/s | – | ${orthanc} frames/s | ${clients === 8 ? '≥ 674 frames/s' : '–'} | ${clients === 8 ? (median >= 674 ? 'met' : 'MISSED') : ''} | ${(median * bytes / 1e6).toFixed(0)} MB/s; passes ${rates.map((r) => r.toFixed(0)).join(', ')} |`);
    }

    console.log('\n| workload | medlake p50 | p95 | Orthanc-SQLite | target | | note |\n|---|---|---|---|---|---|---|');
    for (const row of rows) console.log(row);
  } finally {
    await stack.stop();
  }
}

await main();
