/**
 * Small process facts the local stack needs: is a pid alive, wait for it to
 * exit, and is a TCP port free on an address.
 */
import { createServer } from 'node:net';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** A port the OS considers free right now on `host` (0 asks the OS for one). */
export function freePort(host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      const found = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(found));
    });
  });
}

/** Whether something already listens on host:port. */
export async function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  try {
    await freePort(host, port);
    return false;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return true;
    throw error;
  }
}

/**
 * Node arguments running a TypeScript entry point of this repository in a
 * child process: the tsx loader (the same transform `npm run dev` uses),
 * resolved to a file URL so it works whatever the child's working directory.
 * The parent's own flags are not inherited (under vitest they are vitest's).
 * MEDLAKE_CPU_PROF_DIR=<dir> makes every such child write a V8 CPU profile
 * there when it exits (Node refuses --cpu-prof in NODE_OPTIONS).
 */
export function typeScriptEntryArgs(file: string, nodeFlags: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): string[] {
  const profile = env.MEDLAKE_CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${env.MEDLAKE_CPU_PROF_DIR}`] : [];
  return [...nodeFlags, ...profile, '--import', import.meta.resolve('tsx'), file];
}
