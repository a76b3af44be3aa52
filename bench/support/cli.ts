/** The command line of bench/run.ts (pure: unit-tested). */

export const phases = ['lambda', 'reference', 'ingest', 'metadata', 'frames', 'export', 'qido'] as const;
export type Phase = (typeof phases)[number];
export type OrthancChoice = 'sqlite' | 'postgres' | 'both' | 'none';

export interface BenchOptions {
  only: Phase[];
  quick: boolean;
  orthanc: OrthancChoice;
  runs: number;
  /** QIDO requests per filter and size. */
  samples: number;
  /** V8 CPU profiles of medlake's processes into bench/results/profiles/. */
  profile: boolean;
  /** Write latest.{md,json} and the README section (default: full data, every phase). */
  publish: boolean;
  help: boolean;
}

export const usage = `npm run bench -- [options]

Side-by-side benchmark of medlake and Orthanc (SQLite and/or PostgreSQL index) on
the same generated data: ingest, QIDO, series metadata, frames, export/archive,
the machine's cat and zip -0, Lambda bundle sizes and cold-init times.

  --only LIST        phases, comma-separated: ${phases.join(',')} (default: all)
  --quick            small data (1 x 300-slice series, 100/500 studies): a smoke run
  --orthanc WHICH    sqlite | postgres | both | none (default both)
  --runs N           repeat every system's workloads N times (fresh servers; each run starts with the
                     next system, so drifting load is shared out), medians reported (default 1)
  --samples N        QIDO requests per filter (default 200; --quick 50)
  --profile          write V8 CPU profiles of medlake's server and export worker (bench/results/profiles/)
  --publish          update bench/results/latest.* and the README table even for --quick or --only runs
  --help

Needs root (apt-get for the Debian packages, and a private network namespace so that
Orthanc, which binds every interface, is reachable on loopback only). Data are
generated once into bench/data/ by bench/tools/gen_dicom.py. Check the machine is
calm first (uptime load < 1.5): every row records the CPU others used meanwhile.`;

export class CliError extends Error {}

export function parseCli(argv: readonly string[]): BenchOptions {
  const options: BenchOptions = { only: [...phases], quick: false, orthanc: 'both', runs: 1, samples: 0, profile: false, publish: false, help: false };
  let onlyGiven = false;
  const value = (i: number, name: string): string => {
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new CliError(`${name} needs a value`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const take = () => {
      if (inline !== undefined) return inline;
      const v = value(i, name);
      i++;
      return v;
    };
    switch (name) {
      case '--only': {
        const list = take().split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = list.filter((p) => !(phases as readonly string[]).includes(p));
        if (unknown.length > 0) throw new CliError(`unknown phase ${unknown.join(', ')} (phases: ${phases.join(', ')})`);
        if (list.length === 0) throw new CliError('--only needs at least one phase');
        options.only = phases.filter((p) => list.includes(p));
        onlyGiven = true;
        break;
      }
      case '--quick':
        options.quick = true;
        break;
      case '--orthanc': {
        const v = take();
        if (!['sqlite', 'postgres', 'both', 'none'].includes(v)) throw new CliError(`--orthanc takes sqlite, postgres, both or none, not ${v}`);
        options.orthanc = v as OrthancChoice;
        break;
      }
      case '--runs':
      case '--samples': {
        const v = Number(take());
        if (!Number.isInteger(v) || v < 1) throw new CliError(`${name} takes a whole number ≥ 1`);
        if (name === '--runs') options.runs = v;
        else options.samples = v;
        break;
      }
      case '--profile':
        options.profile = true;
        break;
      case '--publish':
        options.publish = true;
        break;
      case '--help':
      case '-h':
        options.help = true;
        break;
      default:
        throw new CliError(`unknown option ${arg} (see --help)`);
    }
  }
  if (options.samples === 0) options.samples = options.quick ? 50 : 200;
  if (!options.quick && !onlyGiven) options.publish = true;
  return options;
}

export function orthancIndexes(choice: OrthancChoice): ('sqlite' | 'postgres')[] {
  if (choice === 'both') return ['sqlite', 'postgres'];
  if (choice === 'none') return [];
  return [choice];
}
