/**
 * End-to-end harness: starts a real Node-RED runtime in a child process with
 * its own user directory, a loopback port and a generated settings file,
 * deploys flows through the Admin HTTP API and talks to it over HTTP.
 *
 * Which runtime runs is chosen by the environment (scripts/e2e-matrix.js sets it):
 * - E2E_NODE_BIN       node executable (default: this process's node)
 * - E2E_NODE_RED_DIR   directory of the node-red package (default: devDependency)
 * - E2E_USER_MODULES   node_modules directory in which our package was installed
 *                      from its packed tarball (default: the project itself is
 *                      linked in, for quick local runs)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { freePort } from '../helpers/free-port';

export const PACKAGE_NAME = '@smart-lighting-dali/node-red-smart-lighting-dali';
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..', '..');

/** Settings scripts/start.js (npm start) adds to the defaults that matter to behaviour: node context on disk. */
export const NPM_START_SETTINGS: Record<string, unknown> = { contextStorage: { default: { module: 'localfilesystem' } } };

/** Warnings every fresh Node-RED user directory logs with the harness settings. */
export const CORE_FIRST_START_WARNINGS: readonly RegExp[] = [
  /\[warn\] Projects disabled : editorTheme\.projects\.enabled=false$/,
  /\[warn\] Encrypted credentials not found$/,
];

export interface RuntimeOptions {
  /** Extra settings merged into the generated settings.js (JSON-serialisable). */
  settings?: Record<string, unknown>;
  /** Extra environment for the runtime process. */
  env?: Record<string, string>;
  /** Flows written to flows.json before start. */
  flows?: object[];
  /** Use this directory as the user directory instead of a fresh temporary one. */
  userDir?: string;
  /** How long to wait for the runtime to come up. */
  startTimeoutMs?: number;
  /**
   * Run Node-RED as this user and group (the test runs as root): the user
   * directory is handed to them. For faults root would not see, e.g. a
   * database file it cannot write.
   */
  uid?: number;
  gid?: number;
}

export interface HttpResult {
  status: number;
  text: string;
  json: unknown;
  headers: Headers;
}

export function runtimeDescription(): { nodeBin: string; nodeRedDir: string; userModules?: string } {
  return {
    nodeBin: process.env.E2E_NODE_BIN || process.execPath,
    nodeRedDir: process.env.E2E_NODE_RED_DIR || path.dirname(require.resolve('node-red/package.json')),
    userModules: process.env.E2E_USER_MODULES || undefined,
  };
}

export { freePort };

function linkPackage(userDir: string, userModules: string | undefined): void {
  const nm = path.join(userDir, 'node_modules');
  if (fs.existsSync(nm)) return;
  if (userModules) {
    fs.symlinkSync(userModules, nm, 'dir');
  } else {
    fs.mkdirSync(path.dirname(path.join(nm, PACKAGE_NAME)), { recursive: true }); // node_modules/@scope
    fs.symlinkSync(PROJECT_ROOT, path.join(nm, PACKAGE_NAME), 'dir');
  }
}

/** chown -R, without following symbolic links (the linked package stays root's). */
function chownTree(dir: string, uid: number, gid: number): void {
  fs.lchownSync(dir, uid, gid);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) chownTree(p, uid, gid);
    else fs.lchownSync(p, uid, gid);
  }
}

export class NodeRedRuntime {
  readonly logLines: string[] = [];
  private exited: Promise<number | null>;
  private stopping = false;

  private constructor(
    readonly proc: ChildProcess,
    readonly port: number,
    readonly userDir: string,
    readonly nodeRedVersion: string,
  ) {
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    const collect = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split(/\r?\n/)) if (line.trim()) this.logLines.push(line);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(opts: RuntimeOptions = {}): Promise<NodeRedRuntime> {
    const { nodeBin, nodeRedDir, userModules } = runtimeDescription();
    const userDir = opts.userDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'slai-e2e-'));
    linkPackage(userDir, userModules);
    const port = await freePort();
    const settings = {
      uiHost: '127.0.0.1',
      uiPort: port,
      userDir,
      flowFile: 'flows.json',
      credentialSecret: 'e2e-credential-secret',
      httpNodeRoot: '/',
      logging: { console: { level: 'info', metrics: false, audit: false } },
      telemetry: { enabled: false, updateNotification: false },
      diagnostics: { enabled: true, ui: false },
      editorTheme: { tours: false, projects: { enabled: false } },
      ...opts.settings,
    };
    const settingsFile = path.join(userDir, 'e2e-settings.js');
    fs.writeFileSync(settingsFile, `module.exports = ${JSON.stringify(settings, null, 2)};\n`);
    if (opts.flows) fs.writeFileSync(path.join(userDir, 'flows.json'), JSON.stringify(opts.flows));
    if (opts.uid !== undefined) chownTree(userDir, opts.uid, opts.gid ?? opts.uid);
    const version = JSON.parse(fs.readFileSync(path.join(nodeRedDir, 'package.json'), 'utf8')).version as string;
    const proc = spawn(nodeBin, [path.join(nodeRedDir, 'red.js'), '--settings', settingsFile, '--userDir', userDir], {
      cwd: userDir,
      env: { ...process.env, NODE_OPTIONS: '', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.gid ?? opts.uid } : {}),
    });
    const rt = new NodeRedRuntime(proc, port, userDir, version);
    await rt.waitReady(opts.startTimeoutMs ?? 60000);
    return rt;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exitCode: number | null | undefined;
    void this.exited.then((c) => {
      exitCode = c;
    });
    while (Date.now() < deadline) {
      if (exitCode !== undefined) {
        throw new Error(`Node-RED exited with ${exitCode} during start:\n${this.logLines.join('\n')}`);
      }
      if (this.logLines.some((l) => /Started flows|Stopped flows/.test(l))) {
        try {
          const r = await fetch(`${this.baseUrl}/settings`, { headers: { 'Node-RED-API-Version': 'v2' } });
          if (r.ok) return;
        } catch {
          // not listening yet
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`Node-RED did not start within ${timeoutMs} ms:\n${this.logLines.join('\n')}`);
  }

  async request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
    const init: RequestInit = { method, headers: { 'Node-RED-API-Version': 'v2', ...headers } };
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${urlPath}`, init);
    const text = await res.text();
    let json: unknown = undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json, headers: res.headers };
  }

  /** Full deploy through the Admin HTTP API; resolves when the runtime has started the new flows. */
  async deploy(flows: object[]): Promise<void> {
    const before = this.logLines.length;
    const res = await this.request('POST', '/flows', { flows }, { 'Node-RED-Deployment-Type': 'full' });
    if (res.status !== 200) throw new Error(`deploy failed: ${res.status} ${res.text}`);
    await this.waitForLog(/Started flows/, 20000, before);
  }

  /** Polls GET /healthz until it answers 200 with the DALI interface connected. */
  async waitForBusConnected(timeoutMs = 30_000): Promise<void> {
    const start = Date.now();
    for (;;) {
      const h = await this.request('GET', '/healthz');
      if (h.status === 200 && (h.json as { dali?: { state?: string } }).dali?.state === 'connected') return;
      if (Date.now() - start > timeoutMs) throw new Error(`not healthy: ${h.text}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async waitForLog(re: RegExp, timeoutMs = 10000, fromLine = 0): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = this.logLines.slice(fromLine).find((l) => re.test(l));
      if (hit) return hit;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`log line ${re} not seen within ${timeoutMs} ms:\n${this.logLines.slice(fromLine).join('\n')}`);
  }

  /** Log lines at warn or error level. */
  problems(): string[] {
    return this.logLines.filter((l) => /\[(warn|error)\]/.test(l));
  }

  /** problems() without Node-RED's own first-start warnings (and without lines matching `expected`). */
  ourProblems(expected: readonly RegExp[] = []): string[] {
    return this.problems().filter((l) => ![...CORE_FIRST_START_WARNINGS, ...expected].some((re) => re.test(l)));
  }

  /** stop(), then keep the log in the user directory (E2E_KEEP_LOGS) or, with `removeUserDir`, delete the directory. */
  async stopAndClean(removeUserDir = false): Promise<void> {
    await this.stop();
    if (process.env.E2E_KEEP_LOGS) fs.writeFileSync(path.join(this.userDir, 'node-red.log'), this.logLines.join('\n'));
    else if (removeUserDir) fs.rmSync(this.userDir, { recursive: true, force: true });
  }

  async stop(): Promise<number | null> {
    if (!this.stopping) {
      this.stopping = true;
      this.proc.kill('SIGINT');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15000);
      const code = await this.exited;
      clearTimeout(timer);
      return code;
    }
    return this.exited;
  }
}
