/**
 * De-identification throughput on generated CT instances (not a test).
 *   /usr/bin/python3 ../shared/tools/gen_dicom.py --patients 1 --series-per-study 1 --slices 300 --modality CT --seed 12 --out bench/data/ct
 *   npx tsx bench/deid.bench.ts [dir=bench/data/ct] [rounds=5]
 * Files are read into memory first: this measures deidentifyPart10 alone
 * (parse, profile, UID/pseudonym HMACs, write, DICOM JSON, index fields, frames).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { deidentifyPart10 } from '../shared/src/dicom/deidentify-part10';

function dicomFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...dicomFiles(path));
    else if (name.endsWith('.dcm')) out.push(path);
  }
  return out.sort();
}

const dir = process.argv[2] ?? 'bench/data/ct';
const rounds = Number(process.argv[3] ?? 5);
const files = dicomFiles(dir).map((path) => new Uint8Array(readFileSync(path)));
if (files.length === 0) {
  console.error(`No .dcm files under ${dir}: generate them first (see the header of this file).`);
  process.exit(1);
}
const totalBytes = files.reduce((sum, file) => sum + file.length, 0);
const key = randomBytes(32);

// Warm-up: profile tables, dictionary and JIT.
for (const file of files.slice(0, 50)) deidentifyPart10(file, { key });

const rates: number[] = [];
for (let round = 0; round < rounds; round++) {
  const started = process.hrtime.bigint();
  let outputBytes = 0;
  for (const file of files) outputBytes += deidentifyPart10(file, { key }).part10.length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  rates.push(files.length / seconds);
  console.log(`round ${round + 1}: ${files.length} instances in ${seconds.toFixed(3)} s → ${(files.length / seconds).toFixed(0)} inst/s, ${(totalBytes / 1e6 / seconds).toFixed(0)} MB/s in, ${(outputBytes / 1e6 / seconds).toFixed(0)} MB/s out, ${((seconds * 1000) / files.length).toFixed(3)} ms/instance`);
}
rates.sort((a, b) => a - b);
const median = rates[Math.floor(rates.length / 2)] as number;
const meanSize = totalBytes / files.length;
console.log(`median: ${median.toFixed(0)} inst/s, ${((median * meanSize) / 1e6).toFixed(0)} MB/s (${files.length} files, mean ${(meanSize / 1e3).toFixed(0)} kB), one core`);
console.log(`Orthanc 1.10 anonymize on this machine kind: ~170 inst/s (orthanc-baseline.md), i.e. medlake is ${(median / 170).toFixed(1)}x on one core.`);
