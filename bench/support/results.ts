/**
 * Benchmark results: the rows every workload emits, their merge over runs
 * (medians), the side-by-side Markdown table with ratios, the target checks,
 * and the README section between markers. Pure: no I/O here, so the
 * formatting is unit-tested (test/bench/results.test.ts).
 */

export type Better = 'higher' | 'lower';

/** What the meter saw around one workload (see meter.ts). */
export interface MeterFields {
  wallS: number;
  /** CPU of the system under test (its process trees), seconds. */
  serverCpuS?: number;
  /** CPU of the benchmark client (this process and the commands it ran). */
  clientCpuS: number;
  /** Everything else on the machine: other people's work during the measurement. */
  otherCpuS: number;
  /** Server CPU by part of the system (from the processes' command lines), seconds. */
  serverCpuByPart?: Record<string, number>;
  /** Sampled every 50 ms over the process trees named for memory (Orthanc, medlake's export worker). */
  peakRssMb?: number;
  rssBeforeMb?: number;
}

export interface Row {
  /** `medlake`, `orthanc-sqlite`, `orthanc-postgres`, or `machine` for the physical references. */
  system: string;
  run: number;
  phase: string;
  workload: string;
  value: number;
  unit: string;
  better: Better;
  value2?: number;
  unit2?: string;
  note?: string;
  meter?: MeterFields;
}

/** Several runs of one (system, phase, workload) as one row: medians, run values kept. */
export interface MergedRow extends Row {
  runs: number[];
}

export const machineSystem = 'machine';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** Nearest-rank percentile (p in 0..100) of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

const rowKey = (row: Pick<Row, 'phase' | 'workload'>): string => `${row.phase}\u0000${row.workload}`;

/** Groups rows by system and workload; each group becomes the row of its middle run with median values. */
export function mergeRuns(rows: readonly Row[]): MergedRow[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const key = `${row.system}\u0000${rowKey(row)}`;
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((group) => {
    const middle = [...group].sort((a, b) => a.value - b.value)[Math.floor(group.length / 2)] as Row;
    const merged: MergedRow = { ...middle, value: median(group.map((r) => r.value)), runs: group.map((r) => r.value) };
    const seconds = group.map((r) => r.value2).filter((v): v is number => v !== undefined);
    if (seconds.length === group.length) {
      merged.value2 = median(seconds);
    } else {
      // A second figure some runs lack would pass for a median.
      delete merged.value2;
      delete merged.unit2;
    }
    return merged;
  });
}

/** 3 significant figures below 100, thousands separators above. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}

export function formatCell(row: MergedRow | undefined): string {
  if (!row) return '–';
  let cell = `${formatNumber(row.value)} ${row.unit}`;
  if (row.value2 !== undefined && row.unit2) cell += ` (${formatNumber(row.value2)} ${row.unit2})`;
  if (row.runs.length > 1) cell += ` [runs: ${row.runs.map(formatNumber).join(', ')}]`;
  return cell;
}

/**
 * How many times better `subject` is than `reference`, whatever the unit:
 * rates divide subject by reference, latencies and sizes reference by subject.
 * Above 1: the subject is better (faster, smaller).
 */
export function advantage(subject: Pick<Row, 'value' | 'better'>, reference: Pick<Row, 'value'>): number | undefined {
  if (!(subject.value > 0) || !(reference.value > 0)) return undefined;
  return subject.better === 'higher' ? subject.value / reference.value : reference.value / subject.value;
}

export function formatAdvantage(factor: number | undefined): string {
  if (factor === undefined) return '–';
  if (factor >= 1) return `**${formatNumber(factor)}×**`;
  return `${formatNumber(factor)}× (worse)`;
}

export interface TableOptions {
  /** The system compared against the others (first column, ratio numerator). */
  subject: string;
  /** The others, in column order. */
  references: readonly string[];
}

/**
 * One Markdown table: a row per workload, a column per system, and after each
 * reference system the subject's advantage over it. Physical references of
 * the machine (`machine` rows) are listed in the subject's column, marked.
 */
export function comparisonTable(rows: readonly Row[], options: TableOptions): string {
  const merged = mergeRuns(rows);
  const keys: { phase: string; workload: string }[] = [];
  const seen = new Set<string>();
  for (const row of merged) {
    if (row.phase === 'lambda') continue;
    const key = rowKey(row);
    if (seen.has(key)) continue;
    seen.add(key);
    keys.push({ phase: row.phase, workload: row.workload });
  }
  const find = (system: string, key: { phase: string; workload: string }) => merged.find((r) => r.system === system && rowKey(r) === rowKey(key));
  const header = ['phase', 'workload', options.subject];
  for (const reference of options.references) header.push(reference, `${options.subject} vs ${reference}`);
  const lines = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`];
  for (const key of keys) {
    const machine = find(machineSystem, key);
    const cells = [key.phase, key.workload];
    if (machine) {
      cells.push(`${formatCell(machine)} (machine)`);
      for (let i = 0; i < options.references.length; i++) cells.push('', '');
    } else {
      const subject = find(options.subject, key);
      cells.push(formatCell(subject));
      for (const reference of options.references) {
        const other = find(reference, key);
        cells.push(formatCell(other), subject && other ? formatAdvantage(advantage(subject, other)) : '–');
      }
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}

/** Per system: wall, CPU split, memory and notes of every row (the middle run's). */
export function detailTable(rows: readonly Row[], system: string): string {
  const merged = mergeRuns(rows).filter((r) => r.system === system && r.phase !== 'lambda');
  const lines = [
    '| phase | workload | result | wall s | server CPU s | client CPU s | other CPU s | peak RSS MB | note |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const num = (v: number | undefined, digits: number) => (v === undefined ? '' : v.toFixed(digits));
  for (const r of merged) {
    const m = r.meter;
    const rss = m?.peakRssMb === undefined ? '' : `${num(m.rssBeforeMb, 0)} → ${num(m.peakRssMb, 0)}`;
    const parts = m?.serverCpuByPart && Object.keys(m.serverCpuByPart).length > 1 ? ` (${Object.entries(m.serverCpuByPart).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')})` : '';
    lines.push(`| ${r.phase} | ${r.workload} | ${formatCell(r)} | ${num(m?.wallS, 2)} | ${num(m?.serverCpuS, 2)}${parts} | ${num(m?.clientCpuS, 2)} | ${num(m?.otherCpuS, 2)} | ${rss} | ${(r.note ?? '').replace(/\|/g, '/')} |`);
  }
  return lines.join('\n');
}

export type TargetStatus = 'met' | 'missed' | 'not measured';

export interface TargetResult {
  target: string;
  status: TargetStatus;
  detail: string;
}

const find = (merged: readonly MergedRow[], system: string, phase: string, workload: (w: string) => boolean) => merged.filter((r) => r.system === system && r.phase === phase && workload(r.workload));

/**
 * The product's performance targets, judged on this run's numbers. Orthanc's
 * figures come from the same run; where Orthanc-SQLite was not run, the
 * baseline figures of this machine kind stand in (and the detail says so).
 */
export function evaluateTargets(rows: readonly Row[], subject = 'medlake', orthanc = 'orthanc-sqlite'): TargetResult[] {
  const merged = mergeRuns(rows);
  const results: TargetResult[] = [];
  const status = (ok: boolean): TargetStatus => (ok ? 'met' : 'missed');

  const ingest = find(merged, subject, 'ingest', (w) => w.startsWith('CT study'));
  const orthancIngest = find(merged, orthanc, 'ingest', (w) => w.startsWith('CT study'));
  if (ingest[0]) {
    const bar = orthancIngest[0]?.value ?? 510;
    const source = orthancIngest[0] ? `${orthanc} in this run` : `${orthanc} baseline`;
    results.push({ target: `ingest with de-identification ≥ ${orthanc} plain ingest (4 clients)`, status: status(ingest[0].value >= bar), detail: `${formatNumber(ingest[0].value)} vs ${formatNumber(bar)} inst/s (${source})` });
  } else {
    results.push({ target: `ingest with de-identification ≥ ${orthanc} plain ingest (4 clients)`, status: 'not measured', detail: '' });
  }

  const qido = find(merged, subject, 'query', (w) => w.includes('studies:'));
  if (qido.length === 0) results.push({ target: `every QIDO filter ≤ 1/5 of ${orthanc}'s median`, status: 'not measured', detail: '' });
  for (const row of qido) {
    const other = merged.find((r) => r.system === orthanc && r.phase === 'query' && r.workload === row.workload);
    if (!other) {
      results.push({ target: `QIDO ${row.workload} ≤ 1/5 of ${orthanc}`, status: 'not measured', detail: `${formatNumber(row.value)} ms; ${orthanc} not run` });
      continue;
    }
    results.push({ target: `QIDO ${row.workload} ≤ 1/5 of ${orthanc}`, status: status(row.value <= other.value / 5), detail: `${formatNumber(row.value)} ms vs ≤ ${formatNumber(other.value / 5)} ms (${orthanc} ${formatNumber(other.value)} ms)` });
  }

  const metadata = find(merged, subject, 'wado', (w) => w.startsWith('series metadata') && !w.includes('gzip'))[0];
  results.push(metadata
    ? { target: 'series /metadata (300 slices) ≤ 1/5 of 150 ms', status: status(metadata.value <= 30), detail: `${formatNumber(metadata.value)} ms median` }
    : { target: 'series /metadata (300 slices) ≤ 1/5 of 150 ms', status: 'not measured', detail: '' });

  const frames = find(merged, subject, 'wado', (w) => w.startsWith('frames, 8 clients'))[0];
  results.push(frames
    ? { target: 'frames ≥ 674 frames/s with 8 clients', status: status(frames.value >= 674), detail: `${formatNumber(frames.value)} frames/s` }
    : { target: 'frames ≥ 674 frames/s with 8 clients', status: 'not measured', detail: '' });

  const exported = find(merged, subject, 'export', (w) => w.startsWith('study zip'))[0];
  const zip0 = find(merged, machineSystem, 'reference', (w) => w.startsWith('zip -0'))[0];
  if (exported && zip0) {
    const fraction = exported.value / zip0.value;
    const growth = exported.meter?.peakRssMb !== undefined && exported.meter.rssBeforeMb !== undefined ? exported.meter.peakRssMb - exported.meter.rssBeforeMb : undefined;
    const flat = growth !== undefined && growth <= flatMemoryBoundMb;
    results.push({
      target: `export ≥ 70 % of zip -0, memory flat (growth ≤ ${flatMemoryBoundMb} MB)`,
      status: status(fraction >= 0.7 && flat),
      detail: `${formatNumber(exported.value)} MB/s = ${Math.round(fraction * 100)} % of zip -0 (${formatNumber(zip0.value)} MB/s); export worker RSS +${growth === undefined ? '?' : formatNumber(growth)} MB`,
    });
  } else {
    results.push({ target: 'export ≥ 70 % of zip -0 with flat memory', status: 'not measured', detail: exported ? 'zip -0 reference not run' : '' });
  }
  return results;
}

/**
 * "Flat" memory: the export worker grows by at most its documented working
 * set (read-ahead 64 MiB + parts in flight and being filled) plus V8 slack,
 * whatever the size of the export (docs/exports.md, "Limits and settings").
 */
export const flatMemoryBoundMb = 320;

export function targetsList(targets: readonly TargetResult[]): string {
  return targets.map((t) => `- ${t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : '– not measured'}: ${t.target}${t.detail ? ` — ${t.detail}` : ''}`).join('\n');
}

export interface LambdaFigure {
  name: string;
  bundleBytes: number;
  /** Source map next to the bundle (uploaded with it, never loaded at init). */
  mapBytes: number;
  /** Median module load time of the bundle in a fresh Node process. */
  initMs?: number;
  initRunsMs: number[];
  /** Biggest contributors to the bundle (packages, workspaces). */
  largest?: { name: string; bytes: number }[];
  error?: string;
}

export function lambdaTable(figures: readonly LambdaFigure[]): string {
  const lines = ['| function | bundle (minified) | source map | cold init (module load, median) | runs | largest parts |', '|---|---|---|---|---|---|'];
  for (const f of figures) {
    const largest = (f.largest ?? []).map((p) => `${p.name} ${formatNumber(p.bytes / 1024)} KiB`).join(', ');
    lines.push(`| ${f.name} | ${formatNumber(f.bundleBytes / 1024)} KiB | ${formatNumber(f.mapBytes / 1024)} KiB | ${f.initMs === undefined ? `failed: ${f.error ?? '?'}` : `${formatNumber(f.initMs)} ms`} | ${f.initRunsMs.map(formatNumber).join(', ')} | ${largest} |`);
  }
  return lines.join('\n');
}

export const readmeMarkers = { start: '<!-- bench:start -->', end: '<!-- bench:end -->' } as const;

/** The README with `section` between the markers (added at the end, under a heading, when absent). */
export function replaceReadmeSection(readme: string, section: string): string {
  const start = readme.indexOf(readmeMarkers.start);
  const end = readme.indexOf(readmeMarkers.end);
  const body = `${readmeMarkers.start}\n${section.trim()}\n${readmeMarkers.end}`;
  if (start >= 0 && end > start) return readme.slice(0, start) + body + readme.slice(end + readmeMarkers.end.length);
  return `${readme.replace(/\s*$/, '')}\n\n## Benchmarks\n\n${body}\n`;
}

/** `bench/results/<stamp>.json`-style name from a date: sortable, no colons. */
export function resultStamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export interface Report {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  runs: number;
  phases: string[];
  systems: string[];
  machine: { cpu: string; cores: number; ramGiB: number; kernel: string; os: string; node: string };
  /** Versions of what was measured, e.g. { orthanc-sqlite: "Orthanc 1.10.1; plugins: ..." }. */
  software: Record<string, string>;
  load: {
    start: number[];
    end: number[];
    /** Average CPU cores busy with other people's work while the workloads ran (sum of other CPU / sum of wall). */
    otherCores: number;
  };
  data: Record<string, string>;
  rows: Row[];
  lambdas: LambdaFigure[];
  targets: TargetResult[];
  notes: string[];
}

/** Average cores busy with work not ours across metered rows. */
export function otherCores(rows: readonly Row[]): number {
  let other = 0;
  let wall = 0;
  for (const row of rows) {
    if (!row.meter) continue;
    other += row.meter.otherCpuS;
    wall += row.meter.wallS;
  }
  return wall > 0 ? Math.round((other / wall) * 100) / 100 : 0;
}

const ratioNote = 'Ratio columns: how many times better medlake is (rates: medlake ÷ other; latencies and memory: other ÷ medlake); above 1 = medlake better.';

function machineLine(report: Report): string {
  const m = report.machine;
  return `${m.cores} × ${m.cpu}, ${m.ramGiB} GiB RAM, ${m.os}, kernel ${m.kernel}, Node ${m.node}`;
}

function loadLine(report: Report): string {
  return `load average ${report.load.start.join(' / ')} at start, ${report.load.end.join(' / ')} at end; other work used ${report.load.otherCores} cores on average while the workloads ran`;
}

/** The whole report as Markdown (bench/results/*.md). */
export function renderMarkdown(report: Report): string {
  const [subject = 'medlake', ...references] = report.systems;
  const parts = [
    `# medlake vs Orthanc: ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (quick: small data)' : ''}`,
    '',
    `- machine: ${machineLine(report)}`,
    `- ${loadLine(report)}`,
    ...Object.entries(report.software).map(([name, version]) => `- ${name}: ${version}`),
    ...Object.entries(report.data).map(([name, what]) => `- data, ${name}: ${what}`),
    `- runs: ${report.runs}; phases: ${report.phases.join(', ')}; ${report.startedAt} → ${report.finishedAt}`,
    '',
    '## Side by side',
    '',
    ratioNote,
    '',
    comparisonTable(report.rows, { subject, references }),
    '',
    '## Targets',
    '',
    targetsList(report.targets),
  ];
  if (report.lambdas.length > 0) parts.push('', '## Lambda functions', '', lambdaTable(report.lambdas));
  if (report.notes.length > 0) parts.push('', '## Notes', '', ...report.notes.map((n) => `- ${n}`));
  parts.push('', '## Details', '', 'Per row: wall time; CPU seconds of the system under test (its process trees), of the client, and of everything else on the machine; RSS of the process measured for memory (Orthanc; medlake\'s export worker) before → peak.');
  for (const system of [subject, ...references, machineSystem]) {
    if (!report.rows.some((r) => r.system === system)) continue;
    parts.push('', `### ${system}`, '', detailTable(report.rows, system));
  }
  return `${parts.join('\n')}\n`;
}

/** The README's section: the table, the targets, the Lambda figures and where the rest is. */
export function readmeSection(report: Report): string {
  const [subject = 'medlake', ...references] = report.systems;
  const parts = [
    `Measured ${report.startedAt.slice(0, 10)} by \`npm run bench\` (bench/run.ts) on ${machineLine(report)}; ${loadLine(report)}. Same generated data for every system; ${ratioNote}`,
    '',
    comparisonTable(report.rows, { subject, references }),
    '',
    targetsList(report.targets),
  ];
  if (report.lambdas.length > 0) parts.push('', lambdaTable(report.lambdas));
  parts.push('', 'Versions, data, CPU and memory per row: [bench/results/latest.md](bench/results/latest.md).');
  return parts.join('\n');
}
