/**
 * Metering of one workload, as the Orthanc baseline did it (bench_dicomweb.py's
 * Meter, ported): wall time; CPU of the system under test (the process trees
 * of its root PIDs, children that exited included), of this client, and of
 * everything else on the machine (other people's work: the machine is shared),
 * the server's CPU split by part (PostgreSQL, emulator, function instances...);
 * and the peak RSS of chosen process trees, sampled every 50 ms. Linux /proc only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { MeterFields } from './results';

const clockTicks = 100; // USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK))

interface ProcStat {
  ppid: number;
  /** utime + stime + cutime + cstime: the process and its waited-for children, seconds. */
  cpuS: number;
}

function procStat(pid: number | 'self'): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuS: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / clockTicks };
  } catch {
    return undefined;
  }
}

/** Every live process under `roots` (the roots included). */
export function processTree(roots: readonly number[]): Set<number> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid);
    if (list) list.push(Number(entry));
    else children.set(stat.ppid, [Number(entry)]);
  }
  const tree = new Set<number>();
  const todo = [...roots];
  while (todo.length > 0) {
    const pid = todo.pop() as number;
    if (tree.has(pid) || !procStat(pid)) continue;
    tree.add(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return tree;
}

function cpuByPid(pids: Iterable<number>): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const stat = procStat(pid);
    if (stat) out.set(pid, stat.cpuS);
  }
  return out;
}

/** CPU seconds the whole machine spent busy (user, nice, system, irq, softirq, steal). */
export function hostBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] as string;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  return ((v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[5] ?? 0) + (v[6] ?? 0) + (v[7] ?? 0)) / clockTicks;
}

export function rssMb(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) kb += Number(match[1]);
    } catch {
      // gone: counts as nothing
    }
  }
  return kb / 1024;
}

export interface MeterTargets {
  /** Roots of the system under test's process trees (server CPU). */
  serverPids: readonly number[];
  /** Processes whose summed RSS, with their descendants', is sampled (none: no memory columns). */
  rssPids?: readonly number[];
  /** Names the part of the system a server process is (from its command line), to split server CPU. */
  classify?: (commandLine: string) => string;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** Summed RSS of the processes and their descendants. */
export function treeRssMb(pids: readonly number[]): number {
  return rssMb([...processTree(pids)]);
}

export interface Metered<T> {
  result: T;
  fields: MeterFields;
}

/** Runs `work` under the meter. */
export async function metered<T>(targets: MeterTargets, work: () => Promise<T>): Promise<Metered<T>> {
  const server0 = cpuByPid(processTree(targets.serverPids));
  const busy0 = hostBusySeconds();
  const self0 = procStat('self')?.cpuS ?? 0;
  const rssPids = targets.rssPids ?? [];
  const rssBefore = rssPids.length > 0 ? treeRssMb(rssPids) : undefined;
  let peak = rssBefore ?? 0;
  const sampler = rssPids.length > 0 ? setInterval(() => (peak = Math.max(peak, treeRssMb(rssPids))), 50) : undefined;
  const t0 = performance.now();
  let result: T;
  try {
    result = await work();
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const wallS = (performance.now() - t0) / 1000;
  if (rssPids.length > 0) peak = Math.max(peak, treeRssMb(rssPids));
  const server1 = cpuByPid(processTree(targets.serverPids));
  let serverCpuS = 0;
  const byPart: Record<string, number> = {};
  for (const [pid, cpu] of server1) {
    const used = Math.max(0, cpu - (server0.get(pid) ?? 0));
    serverCpuS += used;
    if (targets.classify) {
      const part = targets.classify(commandLine(pid));
      byPart[part] = (byPart[part] ?? 0) + used;
    }
  }
  const clientCpuS = (procStat('self')?.cpuS ?? 0) - self0;
  const otherCpuS = Math.max(0, hostBusySeconds() - busy0 - serverCpuS - clientCpuS);
  const fields: MeterFields = { wallS: round(wallS, 3), clientCpuS: round(clientCpuS, 2), otherCpuS: round(otherCpuS, 2) };
  if (targets.serverPids.length > 0) fields.serverCpuS = round(serverCpuS, 2);
  if (targets.classify) fields.serverCpuByPart = Object.fromEntries(Object.entries(byPart).filter(([, v]) => v >= 0.005).map(([k, v]) => [k, round(v, 2)]));
  if (rssBefore !== undefined) {
    fields.rssBeforeMb = round(rssBefore, 1);
    fields.peakRssMb = round(peak, 1);
  }
  return { result, fields };
}

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
