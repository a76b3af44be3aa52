/**
 * Annotations benchmark (not a test): what versioning costs the viewer's
 * DICOMweb reads, and how long saves take, on the local stack with a lake
 * filled through the real ingest path.
 *
 *   npx tsx bench/annotations.bench.ts
 *   BENCH_SLICES=300 BENCH_VERSIONS=60 npx tsx bench/annotations.bench.ts
 *
 * 1. The study's QIDO series and instance lists, the CT series' /metadata
 *    and the study /metadata, before any annotation and again after
 *    BENCH_VERSIONS viewer saves (4 sets, 20 measurements each, saved the
 *    way OHIF saves them, over STOW-RS), and with a viewer selection active.
 * 2. A viewer save (STOW-RS of a TID 1500 SR: de-identification, archive,
 *    index, versioning rule), an API version (SR built with dcmjs, stored
 *    the same way, If-Match), a diff between two versions.
 * Medians and 95th percentiles of sequential requests through the front door.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LakeImage, ToolMeasurement } from '../test/fixtures/annotations/ohif-measurement-report';
import { ohifMeasurementReport, stowBody } from '../test/fixtures/annotations/ohif-measurement-report';
import type { GeneratedInstance } from '../test/fixtures/dicomweb/lake';
import { generateDicom, readManifest, uploadAndIngest } from '../test/fixtures/dicomweb/lake';
import { startTestStack } from '../test/support/local-stack';

type Json = Record<string, { vr: string; Value?: unknown[] }>;

const root = fileURLToPath(new URL('..', import.meta.url));
const slices = Number(process.env.BENCH_SLICES ?? 100);
const versionCount = Number(process.env.BENCH_VERSIONS ?? 40);
const samples = Number(process.env.BENCH_SAMPLES ?? 60);

function dataset(): GeneratedInstance[] {
  const dir = join(root, 'bench', 'data', `annotations-ct-1x${slices}-s19`);
  if (existsSync(join(dir, 'manifest.tsv'))) return readManifest(dir);
  console.log(`generating a ${slices}-slice CT series ...`);
  return generateDicom(dir, { patients: 1, studiesPerPatient: 1, seriesPerStudy: 1, slices, matrix: 64, modality: 'CT', seed: 19 });
}

function stats(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  return `p50 ${at(50).toFixed(1)} ms, p95 ${at(95).toFixed(1)} ms`;
}

async function timed(n: number, run: (i: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run(i);
    times.push(performance.now() - t0);
  }
  return times;
}

async function main(): Promise<void> {
  const source = dataset();
  const stack = await startTestStack();
  try {
    const [uploader, annotator, reader] = await Promise.all([
      stack.createUser({ groups: ['uploader'] }),
      stack.createUser({ groups: ['annotator'] }),
      stack.createUser({ groups: ['researcher'] }),
    ]);
    await uploadAndIngest(stack, uploader.idToken, source.map((f) => f.path), 100);
    const get = async (path: string, token = reader.idToken) => {
      const res = await fetch(`${stack.url}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'application/dicom+json', 'accept-encoding': 'gzip' } });
      if (!res.ok) throw new Error(`${path} answered ${res.status}`);
      return (await res.json()) as unknown;
    };
    const study = ((await get('/dicomweb/studies')) as Json[])[0] as Json;
    const studyUid = String(study['0020000D']?.Value?.[0]);
    const instances = (await get(`/dicomweb/studies/${studyUid}/instances`)) as Json[];
    const images: LakeImage[] = instances.map((i) => ({ studyUid, seriesUid: String(i['0020000E']?.Value?.[0]), sopUid: String(i['00080018']?.Value?.[0]), sopClassUid: String(i['00080016']?.Value?.[0]) }));
    const ctSeries = images[0]?.seriesUid as string;
    const patient = { patientId: String(study['00100020']?.Value?.[0]), patientName: String((study['00100010']?.Value?.[0] as { Alphabetic?: string })?.Alphabetic ?? ''), studyDate: String(study['00080020']?.Value?.[0]) };

    const reads: [string, string][] = [
      ['QIDO series of the study', `/dicomweb/studies/${studyUid}/series`],
      [`QIDO instances of the study (${images.length})`, `/dicomweb/studies/${studyUid}/instances`],
      [`CT series /metadata (${images.length} instances)`, `/dicomweb/studies/${studyUid}/series/${ctSeries}/metadata`],
      ['study /metadata', `/dicomweb/studies/${studyUid}/metadata`],
    ];
    const measureReads = async (label: string) => {
      console.log(`\n${label}`);
      for (const [name, path] of reads) {
        await get(path);
        console.log(`  ${name}: ${stats(await timed(samples, () => get(path).then(() => undefined)))}`);
      }
    };
    await measureReads('before any annotation');

    // Viewer saves: 4 sets of versions, each version 20 Length measurements over the slices.
    const measurements = (v: number): ToolMeasurement[] =>
      Array.from({ length: 20 }, (_, m) => ({ tool: 'Length', image: images[(v + m) % images.length] as LakeImage, from: [4 + m, 4], to: [14 + m + v, 12], lengthMm: 10 + m + v / 10, label: `lesion ${m}` }));
    const stowTimes = await timed(versionCount, async (v) => {
      const { body, contentType } = stowBody(ohifMeasurementReport(measurements(v), { reportName: `Reading ${v % 4}`, ...patient }).part10);
      const res = await fetch(`${stack.url}/dicomweb/studies`, { method: 'POST', headers: { authorization: `Bearer ${annotator.idToken}`, 'content-type': contentType }, body });
      if (!res.ok) throw new Error(`STOW-RS answered ${res.status}`);
    });
    console.log(`\nviewer save (STOW-RS of a 20-measurement SR → version): ${stats(stowTimes)}`);
    const sets = ((await get(`/api/studies/${studyUid}/annotations`)) as { items: { setId: string; currentVersion: number; latest: { seriesInstanceUID: string } }[] }).items;
    console.log(`  ${sets.length} sets, ${sets.reduce((n, s) => n + s.currentVersion, 0)} versions`);

    reads.push(['report series /metadata (filtered)', `/dicomweb/studies/${studyUid}/series/${sets[0]?.latest.seriesInstanceUID}/metadata`]);
    await measureReads(`after ${versionCount} versions (latest shown)`);
    const first = sets[0] as { setId: string; currentVersion: number };
    await fetch(`${stack.url}/api/studies/${studyUid}/annotations/viewer-selection`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${reader.idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ versions: [{ setId: first.setId, version: 1 }] }),
    });
    await measureReads('with a viewer selection of version 1');

    let current = first.currentVersion;
    const apiTimes = await timed(10, async (i) => {
      const res = await fetch(`${stack.url}/api/studies/${studyUid}/annotations/${first.setId}/versions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${annotator.idToken}`, 'content-type': 'application/json', 'if-match': `"${current}"` },
        body: JSON.stringify({
          measurements: Array.from({ length: 20 }, (_, m) => ({ tool: 'Length', value: 10 + m + i, image: { sopInstanceUID: images[m % images.length]?.sopUid }, coordinates: { graphicType: 'POLYLINE', graphicData: [4, 4, 14 + m, 12] } })),
        }),
      });
      if (res.status !== 201) throw new Error(`API version answered ${res.status}`);
      current++;
    });
    console.log(`\nAPI version (20 measurements, SR built and stored, If-Match): ${stats(apiTimes)}`);
    const diffTimes = await timed(samples, (i) => get(`/api/studies/${studyUid}/annotations/${first.setId}/diff?from=${1 + (i % (current - 1))}&to=${current}`).then(() => undefined));
    console.log(`diff of two 20-measurement versions: ${stats(diffTimes)}`);
  } finally {
    await stack.stop();
  }
}

await main();
