/**
 * Pseudo-terminal pairs from socat for integration tests:
 *
 *   socat -d -d pty,raw,echo=0,link=<dir>/dev pty,raw,echo=0,link=<dir>/app
 *
 * `<dir>/dev` is the device end (the simulator opens it), `<dir>/app` the end
 * the code under test opens as if it were /dev/ttyACM0 or /dev/hidraw0.
 * Killing socat closes both ptys: the application side then reads EIO, like
 * an unplugged USB interface. Every process started here is tracked and
 * killed by `killAll()` (call it in an after hook).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const SOCAT = '/usr/bin/socat';

const children = new Set<ChildProcess>();

/** Path of socat, or undefined when it is not installed. */
export function findSocat(): string | undefined {
  if (fs.existsSync(SOCAT)) return SOCAT;
  const r = spawnSync('sh', ['-c', 'command -v socat'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p || undefined;
}

/** Loud skip: the reason goes to stderr in capitals so nobody mistakes a skip for a pass. */
export function skipWithoutSocat(ctx: Mocha.Context): string {
  const socat = findSocat();
  if (!socat) {
    process.stderr.write('\n!!! SOCAT NOT INSTALLED: SKIPPING THE PTY INTEGRATION TESTS (apt-get install socat) !!!\n\n');
    ctx.skip();
  }
  return socat ?? SOCAT;
}

export interface PtyPair {
  readonly dev: string;
  readonly app: string;
  readonly process: ChildProcess;
  /** Kills socat (SIGKILL unless told otherwise) and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

export async function waitForPath(p: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!fs.existsSync(p)) {
    if (Date.now() - start > timeoutMs) throw new Error(`${p} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Starts socat with two raw ptys linked at <dir>/<devName> and <dir>/<appName>. */
export async function startPtyPair(dir: string, names: { dev?: string; app?: string } = {}): Promise<PtyPair> {
  const socat = findSocat() ?? SOCAT;
  const dev = path.join(dir, names.dev ?? 'dev');
  const app = path.join(dir, names.app ?? 'app');
  for (const p of [dev, app]) fs.rmSync(p, { force: true });
  const child = spawn(socat, ['-d', '-d', `pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${app}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  try {
    await waitForPath(dev);
    await waitForPath(app);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`socat did not create the pty pair: ${(err as Error).message}\n${stderr}`);
  }
  return {
    dev,
    app,
    process: child,
    async stop(signal: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await waitForExit(child, 3000);
    },
  };
}

/** Tracks another child process (e.g. dali-sim) so killAll() ends it. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** Kills every process started or tracked here and waits for them. */
export async function killAll(): Promise<void> {
  const list = [...children];
  for (const c of list) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(list.map((c) => waitForExit(c, 3000)));
}
