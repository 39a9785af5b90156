/**
 * Headless Chromium for end-to-end tests (the Node-RED editor, later the
 * dashboard): Debian's /usr/bin/chromium driven by playwright-core. Never
 * downloads a browser, never touches the network beyond the page under test.
 *
 * - `chromiumPath()` / `requireChromium(ctx)`: find the browser; without it the
 *   suite fails when CI=true and is skipped (loudly) otherwise.
 * - `launchBrowser()`: a fresh persistent context in a temporary user data
 *   directory, one page, and a collector of every console error, page error,
 *   failed request and HTTP error answer seen by that page.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';

/** Launch flags for this machine: no network, no GPU, running as root. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** The Chromium executable: E2E_CHROMIUM, else Debian's package. */
export function chromiumPath(): string {
  return process.env.E2E_CHROMIUM || '/usr/bin/chromium';
}

/**
 * Makes a mocha suite (call from `before`) depend on Chromium: when the browser
 * is missing it throws under CI=true and skips the suite with a loud message
 * otherwise. Returns the executable path.
 */
export function requireChromium(ctx: Mocha.Context): string {
  const exe = chromiumPath();
  if (fs.existsSync(exe)) return exe;
  const msg =
    `Chromium not found at ${exe}: browser tests cannot run. ` +
    'Install Debian\'s "chromium" package or set E2E_CHROMIUM to a Chromium executable.';
  if (process.env.CI === 'true') throw new Error(msg);
  process.stderr.write(`\n!!!!!!!!!!\n!!! SKIPPING BROWSER TESTS: ${msg}\n!!!!!!!!!!\n\n`);
  ctx.skip();
  return exe; // not reached: skip() throws
}

export type PageProblemKind = 'console' | 'pageerror' | 'requestfailed' | 'http';

export interface PageProblem {
  kind: PageProblemKind;
  text: string;
  /** Where it came from (script URL and line for console messages, the URL for requests). */
  where?: string;
}

/**
 * An entry that is expected and harmless. Match by exact text (a string) or,
 * for messages with volatile parts (ids, ports), by a RegExp; every entry
 * must say why it is allowed.
 */
export interface AllowedProblem {
  kind: PageProblemKind;
  text: string | RegExp;
  why: string;
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Every problem seen so far (allowed ones excluded), in order. */
  readonly problems: PageProblem[];
  /** Console warnings (reported for the record, never failing a test by themselves). */
  readonly warnings: PageProblem[];
  /** Problems since `mark` (a previous `problems.length`), formatted one per line. */
  problemsSince(mark: number): string[];
  /** Closes the browser; console warnings seen are printed for the record first. */
  close(): Promise<void>;
}

export interface LaunchOptions {
  viewport?: { width: number; height: number };
  allow?: AllowedProblem[];
  /** Only HTTP answers from this origin count as problems (the app under test). */
  origin?: string;
  /**
   * Console messages of any other type (log, info, ...) that are errors in
   * disguise, e.g. Node-RED reports exceptions in a node's editor code with
   * console.log("Definition error: ...").
   */
  errorPatterns?: RegExp[];
}

function isAllowed(p: PageProblem, allow: AllowedProblem[]): boolean {
  return allow.some((a) => a.kind === p.kind && (typeof a.text === 'string' ? a.text === p.text : a.text.test(p.text)));
}

export function formatProblem(p: PageProblem): string {
  return `[${p.kind}] ${p.text}${p.where ? ` (${p.where})` : ''}`;
}

function consoleWhere(msg: ConsoleMessage): string | undefined {
  const loc = msg.location();
  return loc.url ? `${loc.url}:${loc.lineNumber}` : undefined;
}

/** Starts Chromium with a fresh temporary profile and one page watched for problems. */
export async function launchBrowser(opts: LaunchOptions = {}): Promise<BrowserSession> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-chromium-'));
  const allow = opts.allow ?? [];
  const errorPatterns = opts.errorPatterns ?? [];
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: opts.viewport ?? { width: 1440, height: 900 },
      acceptDownloads: false,
      serviceWorkers: 'block',
    });
  } catch (err) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    throw err;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const problems: PageProblem[] = [];
  const warnings: PageProblem[] = [];
  const record = (p: PageProblem): void => {
    if (!isAllowed(p, allow)) problems.push(p);
  };
  page.on('console', (msg) => {
    const type = msg.type();
    if (type === 'error' || type === 'assert') record({ kind: 'console', text: msg.text(), where: consoleWhere(msg) });
    else if (type === 'warning') warnings.push({ kind: 'console', text: msg.text(), where: consoleWhere(msg) });
    else if (errorPatterns.some((re) => re.test(msg.text()))) record({ kind: 'console', text: msg.text(), where: consoleWhere(msg) });
  });
  page.on('pageerror', (err) =>
    record({ kind: 'pageerror', text: `${err.name}: ${err.message}`, where: err.stack?.split('\n')[1]?.trim() }),
  );
  page.on('requestfailed', (req) => {
    // A navigation or fetch the page itself abandoned (e.g. the comms socket on close) is not a failure of the app.
    const failure = req.failure()?.errorText ?? 'failed';
    if (failure === 'net::ERR_ABORTED') return;
    record({ kind: 'requestfailed', text: `${req.method()} ${req.url()}: ${failure}`, where: req.url() });
  });
  page.on('response', (res) => {
    if (res.status() < 400) return;
    if (opts.origin && !res.url().startsWith(opts.origin)) return;
    record({ kind: 'http', text: `${res.request().method()} ${res.url()} -> ${res.status()}`, where: res.url() });
  });

  let closed = false;
  return {
    context,
    page,
    problems,
    warnings,
    problemsSince(mark: number): string[] {
      return problems.slice(mark).map(formatProblem);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (warnings.length) {
        process.stdout.write(
          `      browser console warnings (not failures):\n${warnings.map((w) => `        ${formatProblem(w)}`).join('\n')}\n`,
        );
      }
      try {
        await context.close();
      } finally {
        fs.rmSync(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** test-artifacts/screenshots/<label>/ under the project root, created on demand. */
export function screenshotDir(projectRoot: string, label: string): string {
  const dir = path.join(projectRoot, 'test-artifacts', 'screenshots', label);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
