/**
 * A real, throwaway PostgreSQL cluster for tests (Debian's `postgresql`
 * package; CI installs it: apt-get install postgresql).
 *
 * `startPostgres()` runs initdb in a fresh temporary directory (as the
 * `postgres` user when the tests run as root: initdb refuses root), starts
 * the server with pg_ctl on a free loopback port (listen 127.0.0.1 only, no
 * unix socket outside the directory, password auth), creates a database and
 * resolves with its URL (about 2 s). `stop()` / `start()` stop and start the
 * same cluster (restart fault tests); `remove()` stops it and deletes the
 * directory (call it in an after hook).
 *
 * `skipWithoutPostgres(this)` skips a suite loudly when the server binaries
 * are not installed. PG_BIN names the directory of initdb/pg_ctl explicitly.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from './free-port';

/** Directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPgBin(): string | undefined {
  const explicit = process.env.PG_BIN;
  if (explicit) return fs.existsSync(path.join(explicit, 'initdb')) ? explicit : undefined;
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => /^\d+$/.test(v) && fs.existsSync(path.join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  }
  const r = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const p = r.status === 0 ? r.stdout.trim() : '';
  return p ? path.dirname(fs.realpathSync(p)) : undefined;
}

/** Loud skip: the reason goes to stderr in capitals so nobody mistakes a skip for a pass. */
export function skipWithoutPostgres(ctx: Mocha.Context): void {
  if (!findPgBin()) {
    process.stderr.write('\n!!! POSTGRESQL NOT INSTALLED: SKIPPING THE POSTGRESQL TESTS (apt-get install postgresql) !!!\n\n');
    ctx.skip();
  }
}

export interface PgCluster {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  /** postgresql://<user>:<password>@127.0.0.1:<port>/<database> */
  readonly url: string;
  readonly dir: string;
  /** A URL for another database of the same cluster (created on first call). */
  database2(name: string): string;
  /** pg_ctl stop -m fast (in-flight connections are terminated). */
  stop(): void;
  /** pg_ctl start again on the same port and data directory. */
  start(): void;
  /** Stops the server (if running) and deletes its directory. Idempotent. */
  remove(): void;
}

/** Clusters not removed yet, each with its discard at process exit. */
const live = new Map<PgCluster, () => void>();
function discardAll(): void {
  for (const [cluster, discard] of live) {
    live.delete(cluster);
    try {
      discard();
    } catch {
      // best effort at exit
    }
  }
}
process.on('exit', discardAll);
// A parallel mocha worker that has not exited a second after it was told to gets SIGTERM:
// the clusters go first, then the process ends as SIGTERM would have ended it.
process.once('SIGTERM', () => {
  discardAll();
  process.exit(143);
});

/** Blocks the thread for `ms` (only in the synchronous exit handler). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Quick end of a cluster at process exit: a parallel mocha worker is killed about
 * a second after it was told to exit, too soon for pg_ctl's checkpoint and wait.
 * SIGQUIT is PostgreSQL's immediate shutdown (nothing is kept, so nothing to flush);
 * once the postmaster is gone the directory is deleted.
 */
function discardNow(data: string, dir: string): void {
  const pidFile = path.join(data, 'postmaster.pid');
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
  if (Number.isInteger(pid) && pid > 0) {
    try {
      process.kill(pid, 'SIGQUIT');
      // The postmaster deletes its pid file as it exits (the process may linger as a zombie where nothing reaps it).
      for (let i = 0; i < 100 && fs.existsSync(pidFile); i++) sleepSync(10);
    } catch {
      // exited already
    }
  }
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

function runAs(
  uid: number | undefined,
  gid: number | undefined,
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C', ...env },
    ...(uid !== undefined ? { uid, gid } : {}),
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return r;
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const r = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const g = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (r.status !== 0 || g.status !== 0)
    throw new Error('running as root and there is no postgres user (apt-get install postgresql creates it)');
  return { uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
}

/**
 * Starts a throwaway cluster. `password` defaults to a random one (tests check it never shows).
 * `fsync`: off by default (tests: durability against a process kill does not need it); the
 * benchmarks turn it on so that a commit costs what it costs on a real server.
 */
export async function startPostgres(options: { password?: string; database?: string; fsync?: boolean } = {}): Promise<PgCluster> {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const ids = postgresIds();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pg-test-'));
  const data = path.join(dir, 'data');
  if (ids) fs.chownSync(dir, ids.uid, ids.gid);
  fs.chmodSync(dir, 0o700);
  const user = 'lighting';
  const password = options.password ?? `pw-${Math.random().toString(36).slice(2)}-S3cr3t`;
  const database = options.database ?? 'smart_lighting';
  const pwfile = path.join(dir, 'pw');
  fs.writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (ids) fs.chownSync(pwfile, ids.uid, ids.gid);
  const init = runAs(ids?.uid, ids?.gid, path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    user,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '--locale=C',
    '--encoding=UTF8',
    '--no-sync',
  ]);
  fs.rmSync(pwfile, { force: true });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    [
      "listen_addresses = '127.0.0.1'",
      `port = ${port}`,
      `unix_socket_directories = '${dir}'`,
      `fsync = ${options.fsync === true ? 'on' : 'off'}`,
      'max_connections = 50',
      'shared_buffers = 32MB',
      '',
    ].join('\n'),
  );
  const logFile = path.join(dir, 'server.log');
  let running = false;
  const pgCtl = (args: string[]): SpawnSyncReturns<string> => runAs(ids?.uid, ids?.gid, path.join(bin, 'pg_ctl'), ['-D', data, ...args]);
  const psql = (sql: string): void => {
    const r = runAs(
      ids?.uid,
      ids?.gid,
      path.join(bin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-c', sql],
      {
        PGPASSWORD: password,
      },
    );
    if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  };
  const created = new Set<string>();
  const cluster: PgCluster = {
    port,
    user,
    password,
    database,
    dir,
    url: `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`,
    database2(name: string): string {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      if (!created.has(name)) {
        psql(`CREATE DATABASE ${name}`);
        created.add(name);
      }
      return `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
    },
    stop(): void {
      if (!running) return;
      const r = pgCtl(['stop', '-m', 'fast', '-w', '-t', '30']);
      if (r.status !== 0) throw new Error(`pg_ctl stop failed: ${r.stderr}`);
      running = false;
    },
    start(): void {
      if (running) return;
      const r = pgCtl(['start', '-w', '-t', '30', '-l', logFile]);
      if (r.status !== 0)
        throw new Error(`pg_ctl start failed: ${r.stderr} ${fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''}`);
      running = true;
    },
    remove(): void {
      live.delete(cluster);
      try {
        cluster.stop();
      } catch {
        pgCtl(['stop', '-m', 'immediate', '-w', '-t', '10']);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  live.set(cluster, () => {
    if (running) discardNow(data, dir);
    else fs.rmSync(dir, { recursive: true, force: true });
  });
  try {
    cluster.start();
    psql(`CREATE DATABASE ${database}`);
  } catch (err) {
    cluster.remove();
    throw err;
  }
  return cluster;
}
