/**
 * A real Mosquitto broker for tests, on a free loopback port with a
 * temporary configuration:
 *
 *   listener <port> 127.0.0.1
 *   allow_anonymous true
 *   persistence false
 *
 * `startMosquitto()` resolves once the port accepts connections; `stop()`
 * (call it in an after hook) ends the broker and removes its directory.
 * `skipWithoutMosquitto(this)` skips a suite loudly when mosquitto is not
 * installed (CI installs it: apt-get install mosquitto). MOSQUITTO_BIN points
 * at another executable.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';

const CANDIDATES = [
  '/usr/sbin/mosquitto',
  '/usr/bin/mosquitto',
  '/usr/local/sbin/mosquitto',
  '/usr/local/bin/mosquitto',
  '/opt/homebrew/sbin/mosquitto',
];

/**
 * Path of the mosquitto executable, or undefined when it is not installed.
 * MOSQUITTO_BIN names it explicitly (a path that does not exist counts as not installed).
 */
export function findMosquitto(): string | undefined {
  const explicit = process.env.MOSQUITTO_BIN;
  if (explicit) return fs.existsSync(explicit) ? explicit : undefined;
  const found = CANDIDATES.find((p) => fs.existsSync(p));
  if (found) return found;
  const r = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p || undefined;
}

/** Loud skip: the reason goes to stderr in capitals so nobody mistakes a skip for a pass. */
export function skipWithoutMosquitto(ctx: Mocha.Context): string {
  const bin = findMosquitto();
  if (!bin) {
    process.stderr.write('\n!!! MOSQUITTO NOT INSTALLED: SKIPPING THE MQTT TESTS (apt-get install mosquitto) !!!\n\n');
    ctx.skip();
  }
  return bin ?? 'mosquitto';
}

export interface Mosquitto {
  readonly host: string;
  readonly port: number;
  /** mqtt://127.0.0.1:<port> */
  readonly url: string;
  readonly process: ChildProcess;
  /** What the broker logged (stdout and stderr). */
  log(): string;
  /** Ends the broker (SIGTERM, SIGKILL after 3 s) and removes its temporary directory. */
  stop(): Promise<void>;
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(500, () => done(false));
  });
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function startOnce(bin: string, dir: string, startTimeoutMs: number): Promise<Mosquitto | { retry: string }> {
  const host = '127.0.0.1';
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  // Logging to stdout: when started as root, mosquitto drops to the `mosquitto` user and could not write a log file here.
  fs.writeFileSync(
    conf,
    [
      `listener ${port} ${host}`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stdout',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      '',
    ].join('\n'),
  );
  const child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer): void => {
    output += d.toString('utf8');
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  child.once('error', (err) => {
    output += `\nspawn error: ${err.message}`;
  });
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (exited(child)) {
      // Another process took the port between freePort() and the bind: try another one.
      if (/address already in use/i.test(output)) return { retry: output };
      throw new Error(`mosquitto exited with ${String(child.exitCode ?? child.signalCode)} during start:\n${output}`);
    }
    if (await accepts(host, port)) {
      return {
        host,
        port,
        url: `mqtt://${host}:${port}`,
        process: child,
        log: () => output,
        async stop() {
          if (!exited(child)) {
            child.kill('SIGTERM');
            if (!(await waitForExit(child, 3000))) {
              child.kill('SIGKILL');
              await waitForExit(child, 3000);
            }
          }
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  await waitForExit(child, 3000);
  throw new Error(`mosquitto did not accept connections on ${host}:${port} within ${startTimeoutMs} ms:\n${output}`);
}

/** Starts mosquitto on a free loopback port; resolves when the port accepts connections. */
export async function startMosquitto(opts: { bin?: string; startTimeoutMs?: number } = {}): Promise<Mosquitto> {
  const bin = opts.bin ?? findMosquitto() ?? 'mosquitto';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-mosquitto-'));
  fs.chmodSync(dir, 0o755);
  let last = '';
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await startOnce(bin, dir, opts.startTimeoutMs ?? 10000);
      if (!('retry' in r)) return r;
      last = r.retry;
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  throw new Error(`mosquitto could not bind a free port in 3 attempts:\n${last}`);
}
