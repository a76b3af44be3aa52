/**
 * The benchmark's pure parts: merging runs, the side-by-side table and its
 * ratios, target checks, the README section, the result files, the CLI.
 * (No number of a benchmark is asserted anywhere: these rows are made up.)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CliError, parseCli } from '../../bench/support/cli';
import { writeReport } from '../../bench/support/result-writer';
import type { Report, Row } from '../../bench/support/results';
import { advantage, comparisonTable, evaluateTargets, formatAdvantage, formatNumber, mergeRuns, median, percentile, readmeMarkers, replaceReadmeSection } from '../../bench/support/results';

const row = (system: string, workload: string, value: number, extra: Partial<Row> = {}): Row => ({
  system, run: 1, phase: 'query', workload, value, unit: 'ms', better: 'lower', ...extra,
});

describe('numbers', () => {
  it('formats by magnitude', () => {
    expect(formatNumber(12345.6)).toBe('12,346');
    expect(formatNumber(123.4)).toBe('123');
    expect(formatNumber(12.34)).toBe('12.3');
    expect(formatNumber(1.234)).toBe('1.23');
    expect(formatNumber(0.01234)).toBe('0.012');
    expect(formatNumber(Number.NaN)).toBe('n/a');
  });

  it('takes medians and nearest-rank percentiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(percentile([5, 1, 4, 2, 3], 95)).toBe(5);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 95)).toBe(95);
  });

  it('states the advantage as "times better" whatever the unit', () => {
    expect(advantage({ value: 10, better: 'lower' }, { value: 50 })).toBe(5);
    expect(advantage({ value: 200, better: 'higher' }, { value: 100 })).toBe(2);
    expect(advantage({ value: 0, better: 'higher' }, { value: 100 })).toBeUndefined();
    expect(formatAdvantage(5)).toBe('**5.00×**');
    expect(formatAdvantage(0.5)).toBe('0.50× (worse)');
  });
});

describe('runs and the table', () => {
  it('merges runs into medians and keeps the run values', () => {
    const merged = mergeRuns([row('a', 'w', 3, { run: 1 }), row('a', 'w', 1, { run: 2 }), row('a', 'w', 2, { run: 3, value2: 9, unit2: 'ms p95' })]);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.value).toBe(2);
    expect(merged[0]?.runs).toEqual([3, 1, 2]);
    // value2 only when every run has one
    expect(merged[0]?.value2).toBeUndefined();
  });

  it('puts every system in one row per workload with the ratio after each reference', () => {
    const table = comparisonTable([
      row('machine', 'zip -0', 300, { phase: 'reference', unit: 'MB/s', better: 'higher' }),
      row('medlake', 'PatientID', 2),
      row('orthanc-sqlite', 'PatientID', 20),
      row('orthanc-postgres', 'PatientID', 10),
      row('medlake', 'ingest', 100, { phase: 'ingest', unit: 'inst/s', better: 'higher' }),
      row('orthanc-sqlite', 'ingest', 400, { phase: 'ingest', unit: 'inst/s', better: 'higher' }),
    ], { subject: 'medlake', references: ['orthanc-sqlite', 'orthanc-postgres'] });
    const lines = table.split('\n');
    expect(lines[0]).toBe('| phase | workload | medlake | orthanc-sqlite | medlake vs orthanc-sqlite | orthanc-postgres | medlake vs orthanc-postgres |');
    expect(lines[2]).toBe('| reference | zip -0 | 300 MB/s (machine) |  |  |  |  |');
    expect(lines[3]).toBe('| query | PatientID | 2.00 ms | 20.0 ms | **10.0×** | 10.0 ms | **5.00×** |');
    expect(lines[4]).toBe('| ingest | ingest | 100 inst/s | 400 inst/s | 0.25× (worse) | – | – |');
  });
});

describe('targets', () => {
  it('judges QIDO against a fifth of Orthanc-SQLite in the same run and flags what was not measured', () => {
    const targets = evaluateTargets([
      row('medlake', '1,000 studies: PatientID=<id>', 3),
      row('orthanc-sqlite', '1,000 studies: PatientID=<id>', 20),
      row('medlake', '1,000 studies: ModalitiesInStudy=CT&limit=50', 30),
      row('orthanc-sqlite', '1,000 studies: ModalitiesInStudy=CT&limit=50', 100),
    ]);
    expect(targets.find((t) => t.target.includes('PatientID'))?.status).toBe('met');
    expect(targets.find((t) => t.target.includes('ModalitiesInStudy'))?.status).toBe('missed');
    expect(targets.find((t) => t.target.startsWith('frames'))?.status).toBe('not measured');
  });

  it('needs both the zip -0 share and flat memory for the export target', () => {
    const rows = [
      row('machine', 'zip -0 of the files', 300, { phase: 'reference', unit: 'MB/s', better: 'higher' }),
      row('medlake', 'study zip: 2,100 instances', 250, { phase: 'export', unit: 'MB/s', better: 'higher', meter: { wallS: 4, clientCpuS: 0, otherCpuS: 0, rssBeforeMb: 100, peakRssMb: 900 } }),
    ];
    const exportTarget = evaluateTargets(rows).find((t) => t.target.startsWith('export'));
    expect(exportTarget?.status).toBe('missed');
    expect(exportTarget?.detail).toContain('83 % of zip -0');
  });
});

describe('README section and result files', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('adds the section once, then replaces only what is between the markers', () => {
    const first = replaceReadmeSection('# medlake\n\nIntro.\n', 'table one');
    expect(first).toBe(`# medlake\n\nIntro.\n\n## Benchmarks\n\n${readmeMarkers.start}\ntable one\n${readmeMarkers.end}\n`);
    const second = replaceReadmeSection(`${first}\n## After\n`, 'table two');
    expect(second).toContain(`${readmeMarkers.start}\ntable two\n${readmeMarkers.end}`);
    expect(second).not.toContain('table one');
    expect(second.endsWith('\n## After\n')).toBe(true);
    expect(second.match(/## Benchmarks/g)).toHaveLength(1);
  });

  const report = (quick: boolean): Report => ({
    startedAt: '2026-11-25T10:00:00.000Z',
    finishedAt: '2026-11-25T10:40:00.000Z',
    quick,
    runs: 1,
    phases: ['qido'],
    systems: ['medlake', 'orthanc-sqlite'],
    machine: { cpu: 'CPU', cores: 2, ramGiB: 23.5, kernel: '6.1', os: 'Debian', node: 'v22' },
    software: { 'orthanc-sqlite': 'Orthanc 1.10.1' },
    load: { start: [0.5, 0.4, 0.3], end: [0.6, 0.5, 0.4], otherCores: 0.1 },
    data: { 'query set': 'q' },
    rows: [row('medlake', '1,000 studies: PatientID=<id>', 3), row('orthanc-sqlite', '1,000 studies: PatientID=<id>', 20)],
    lambdas: [{ name: 'api', bundleBytes: 2048, mapBytes: 4096, initMs: 120, initRunsMs: [110, 120, 130], largest: [{ name: '@aws-sdk/client-s3', bytes: 1024 }] }],
    targets: [],
    notes: [],
  });

  it('writes timestamped files, and latest plus the README only when published', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
    dirs.push(dir);
    const readmePath = join(dir, 'README.md');
    writeFileSync(readmePath, '# medlake\n');
    const quick = writeReport(report(true), { resultsDir: join(dir, 'results'), readmePath, publish: false });
    expect(quick.json).toBe(join(dir, 'results', '2026-11-25T10-00-00Z-quick.json'));
    expect(existsSync(join(dir, 'results', 'latest.md'))).toBe(false);
    expect(readFileSync(readmePath, 'utf8')).toBe('# medlake\n');
    expect(JSON.parse(readFileSync(quick.json, 'utf8')).rows).toHaveLength(2);

    const full = writeReport(report(false), { resultsDir: join(dir, 'results'), readmePath, publish: true });
    expect(full.markdown).toBe(join(dir, 'results', '2026-11-25T10-00-00Z.md'));
    const latest = readFileSync(join(dir, 'results', 'latest.md'), 'utf8');
    expect(latest).toContain('| query | 1,000 studies: PatientID=<id> | 3.00 ms | 20.0 ms | **6.67×** |');
    expect(latest).toContain('| api | 2.00 KiB | 4.00 KiB | 120 ms | 110, 120, 130 | @aws-sdk/client-s3 1.00 KiB |');
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toContain(readmeMarkers.start);
    expect(readme).toContain('**6.67×**');
  });
});

describe('command line', () => {
  it('defaults to everything, published, 200 QIDO samples', () => {
    const options = parseCli([]);
    expect(options.only).toContain('qido');
    expect(options.orthanc).toBe('both');
    expect(options.samples).toBe(200);
    expect(options.publish).toBe(true);
  });

  it('does not publish quick or partial runs unless asked', () => {
    expect(parseCli(['--quick']).publish).toBe(false);
    expect(parseCli(['--quick']).samples).toBe(50);
    expect(parseCli(['--only', 'qido,ingest']).only).toEqual(['ingest', 'qido']);
    expect(parseCli(['--only=qido']).publish).toBe(false);
    expect(parseCli(['--only=qido', '--publish']).publish).toBe(true);
    expect(parseCli(['--orthanc', 'postgres', '--runs', '3']).runs).toBe(3);
  });

  it('refuses what it does not know, with a sentence', () => {
    expect(() => parseCli(['--only', 'qido,teleport'])).toThrow(CliError);
    expect(() => parseCli(['--orthanc', 'mysql'])).toThrow('--orthanc takes sqlite, postgres, both or none, not mysql');
    expect(() => parseCli(['--runs', '0'])).toThrow('--runs takes a whole number ≥ 1');
    expect(() => parseCli(['--fast'])).toThrow('unknown option --fast');
  });
});
