/**
 * Where the CPU went, from V8 CPU profiles (`node --cpu-prof`, one
 * .cpuprofile per process or thread): sampled time per component of the
 * stack, found by walking each sample's stack from the leaf up to the first
 * frame of a known module (native frames such as hashing, file writes or
 * SQLite count for the JavaScript that called them), plus the heaviest
 * functions by self time.
 *
 *   npx tsx bench/tools/cpu-profile-summary.ts DIR_OR_FILE... [--top 25]
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

/** Components by module path; the first match wins. */
const components: [string, RegExp][] = [
  ['S3/SQS emulator (fauxqs, fastify)', /node_modules\/(fauxqs|fastify|@fastify|find-my-way|light-my-request|avvio|fast-xml|fast-json-stringify|secure-json-parse|pino)/],
  ['local stand-ins (local/src)', /\/local\/src\//],
  ['de-identification (shared/src/dicom)', /\/shared\/src\/dicom\//],
  ['DICOM parsing libraries (dcmjs, dicom-parser)', /node_modules\/(dcmjs|dicom-parser)/],
  ['index writer, archive, quarantine (adapters)', /\/functions\/src\/adapters\//],
  ['ingest handler (functions/src/ingest)', /\/functions\/src\/ingest\//],
  ['reports (functions/src/reports)', /\/functions\/src\/reports\//],
  ['other handlers and HTTP layer (functions/src)', /\/functions\/src\//],
  ['PostgreSQL client (pg)', /node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-)/],
  ['AWS SDK', /node_modules\/(@aws-sdk|@smithy|@aws-crypto)/],
  ['Lambda libraries (powertools, middy, p-limit)', /node_modules\/(@aws-lambda-powertools|@middy|p-limit)/],
  ['HTTP client (undici / fetch)', /(node:internal\/deps\/undici|node_modules\/undici)/],
  ['benchmark and test harness', /\/(bench|test)\//],
  ['tsx / module loading', /node_modules\/(tsx|esbuild)|node:internal\/modules/],
  ['other node_modules', /node_modules\//],
  ['Node.js core (http, streams, fs, crypto)', /^node:/],
];

function componentOf(url: string): string | undefined {
  if (!url) return undefined;
  for (const [name, pattern] of components) if (pattern.test(url)) return name;
  return 'other code';
}

export interface ProfileSummary {
  file: string;
  wallMs: number;
  busyMs: number;
  byComponent: Map<string, number>;
  topFunctions: [string, number][];
}

export function summarize(file: string, top = 25): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const componentCache = new Map<number, string>();
  const componentFor = (id: number): string => {
    const cached = componentCache.get(id);
    if (cached) return cached;
    const node = byId.get(id) as ProfileNode;
    const name = node.callFrame.functionName;
    let found: string | undefined;
    if (name === '(garbage collector)') found = 'garbage collector';
    else if (name === '(idle)') found = 'idle';
    else if (name === '(program)') found = 'V8/native, unattributed';
    // Node's own JavaScript (hashing, fs, http) counts for the code that called it.
    else if (!node.callFrame.url.startsWith('node:')) found = componentOf(node.callFrame.url);
    if (!found) {
      const up = parent.get(id);
      found = up === undefined ? (node.callFrame.url.startsWith('node:') ? 'Node.js core (http, streams, fs, crypto)' : 'V8/native, unattributed') : componentFor(up);
      if (found === 'V8/native, unattributed' && node.callFrame.url.startsWith('node:')) found = 'Node.js core (http, streams, fs, crypto)';
    }
    componentCache.set(id, found);
    return found;
  };
  const byComponent = new Map<string, number>();
  const selfTime = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const component = componentFor(id);
    byComponent.set(component, (byComponent.get(component) ?? 0) + ms);
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const label = `${frame.functionName || '(anonymous)'} ${frame.url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${frame.lineNumber + 1}`;
    selfTime.set(label, (selfTime.get(label) ?? 0) + ms);
  }
  const wallMs = (profile.endTime - profile.startTime) / 1000;
  const busyMs = wallMs - (byComponent.get('idle') ?? 0);
  const topFunctions = [...selfTime.entries()].filter(([label]) => !label.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top);
  return { file, wallMs, busyMs, byComponent, topFunctions };
}

function profilesIn(paths: readonly string[]): string[] {
  return paths.flatMap((path) => (statSync(path).isDirectory() ? readdirSync(path).filter((f) => f.endsWith('.cpuprofile')).sort().map((f) => join(path, f)) : [path]));
}

function print(summary: ProfileSummary): void {
  console.log(`\n${basename(summary.file)}: ${(summary.wallMs / 1000).toFixed(1)} s profiled, ${(summary.busyMs / 1000).toFixed(1)} s busy (${((summary.busyMs / summary.wallMs) * 100).toFixed(0)} % of one core)`);
  for (const [name, ms] of [...summary.byComponent.entries()].filter(([n]) => n !== 'idle').sort((a, b) => b[1] - a[1])) {
    console.log(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${((ms / summary.busyMs) * 100).toFixed(1).padStart(5)} %  ${name}`);
  }
  console.log('  heaviest functions (self time):');
  for (const [label, ms] of summary.topFunctions) console.log(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${label}`);
}

if (process.argv[1] && import.meta.url.endsWith(basename(process.argv[1]))) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const paths = topAt >= 0 ? [...args.slice(0, topAt), ...args.slice(topAt + 2)] : args;
  for (const file of profilesIn(paths)) print(summarize(file, top));
}
