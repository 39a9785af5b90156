/**
 * `npm start` (scripts/start.js) as a new user runs it, at an hour when the
 * real office is empty: the runtime's time zone is chosen so that the wall
 * clock reads 03:xx, and the demo clock is left at its default (08:55), so
 * the proof holds at any real hour. The runtime is the leg's Node-RED (4.1 on
 * Node 20, 5 on Node 22: E2E_NODE_BIN / E2E_NODE_RED_DIR), Dashboard 2 from
 * the project's devDependencies, the page in a real headless Chromium.
 *
 * Proves: within 2 minutes of the start the dashboard at /dashboard shows the
 * demo clock, and for every zone the room (lux / presence), the light applied
 * with the gear's read-back, the last decision, the override state and the
 * energy of the day; alerts and suggestions (404 from a flow without
 * /suggestions is "no suggestions"); the four live charts draw data. A manual
 * setpoint entered on the page reaches the simulated gear (the page shows
 * the gear's own read-back) and holds the zone with the time left; "back to
 * automatic" ends it. GET /report draws non-empty charts for every zone.
 * Screenshots: test-artifacts/screenshots/<nodered-version>/demo-*.png.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { PROJECT_ROOT, runtimeDescription } from './harness';
import { launchBrowser, requireChromium, screenshotDir, type BrowserSession } from '../helpers/browser';
import { readFlowFile, seriesPixels, timeZoneWithLocalHour, type FlowNode } from '../helpers/dashboard';
import { freePort } from '../helpers/free-port';

const ZONES = ['office-1', 'meeting-1', 'corridor-1'];
const MANUAL = { zone: 'meeting-1', intensity: 37, cct: 3300, minutes: 5 };
/** The promise: data on the page within 2 minutes of `npm start`. */
const ALIVE_WITHIN_MS = 120_000;
const MIN_SERIES_PIXELS = 8;

const EDITED_FLOW = JSON.stringify([{ id: 'my-tab', type: 'tab', label: 'my edit' }]);

describe('npm start: the dashboard of the demo building at any hour (demo clock), in Chromium', function () {
  let child: ChildProcess | undefined;
  let userDir = '';
  let base = '';
  let startedAt = 0;
  const log: string[] = [];
  let browser: BrowserSession | undefined;
  let page: Page;
  let shots = '';
  const flow: FlowNode[] = readFlowFile(path.join(PROJECT_ROOT, 'flows', 'smart-lighting-dashboard.json'));

  const text = (id: string): Locator => page.locator(`#nrdb-ui-widget-${id} .nrdb-ui-text-value`);
  const textOf = async (id: string): Promise<string> => ((await text(id).count()) > 0 ? (await text(id).first().innerText()).trim() : '');
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  async function eventually<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: T | undefined | false;
    while (Date.now() < end) {
      last = await probe();
      if (last) return last;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
  }

  before(async function () {
    this.timeout(90000);
    requireChromium(this);
    const { nodeBin, nodeRedDir } = runtimeDescription();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-demo-'));
    // A flow edited in the editor since the last start: npm start replaces it with the demo, keeping it beside.
    fs.writeFileSync(path.join(userDir, 'flows.json'), EDITED_FLOW);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: String(port),
      NODE_RED_USER_DIR: userDir,
      NODE_RED_DIR: nodeRedDir,
      TZ: timeZoneWithLocalHour(3),
    };
    for (const k of [
      'DEMO_CLOCK',
      'DEMO_SPEED',
      'DEMO_CLOCK_EPOCH_MS',
      'KEEP_FLOWS',
      'DEMO_FLOW',
      'NO_DASHBOARD',
      'OPENAI_API_KEY',
      'USE_MOCK_DALI',
    ])
      delete env[k];
    startedAt = Date.now();
    child = spawn(nodeBin, [path.join(PROJECT_ROOT, 'scripts', 'start.js')], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [child.stdout, child.stderr]) s?.on('data', (d: Buffer) => log.push(...d.toString('utf8').split('\n').filter(Boolean)));
    await eventually('the runtime answers GET /healthz', 60000, async () => {
      try {
        return (await fetch(`${base}/healthz`)).status < 600;
      } catch {
        return false;
      }
    });
    await eventually('the flows started', 60000, async () => log.some((l) => /\[info\] Started flows/.test(l)));
    const version = /Node-RED version: v(\S+)/.exec(log.join('\n'))?.[1] ?? 'unknown';
    shots = screenshotDir(PROJECT_ROOT, version);
  });

  after(async function () {
    this.timeout(30000);
    try {
      if (browser) await browser.close();
    } finally {
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child?.once('exit', r));
        child.kill('SIGINT');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      if (process.env.E2E_KEEP_LOGS) fs.writeFileSync(path.join(userDir, 'start.log'), log.join('\n'));
      else fs.rmSync(userDir, { recursive: true, force: true });
    }
  });

  it("keeps a flows.json edited since the last start as flows.json.<time>.bak (and says so) before it puts the demo's in place", () => {
    const kept = fs.readdirSync(userDir).filter((f) => /^flows\.json\.\d{4}-.*\.bak$/.test(f));
    assert.equal(kept.length, 1, fs.readdirSync(userDir).join(', '));
    assert.equal(fs.readFileSync(path.join(userDir, kept[0] as string), 'utf8'), EDITED_FLOW);
    assert.ok(
      log.some((l) => /flows\.json differed from the demo flow .*kept as .*flows\.json\..*\.bak/.test(l)),
      'a line in the log',
    );
    const now = JSON.parse(fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8')) as Array<{ id: string }>;
    assert.ok(
      now.some((n) => n.id === 'sl-tab'),
      "the demo's flow in place",
    );
  });

  it('starts with the demo clock at 08:55 although the wall clock says 03:xx, and with the dashboard', () => {
    const all = log.join('\n');
    assert.match(all, /clock starts at 08:5\d and runs at 1x/);
    assert.match(all, /Demo clock: the simulated building runs from 08:5\d/);
    assert.match(all, /Dashboard 2\.0 .* started at \/dashboard/);
  });

  it('shows every zone with data from the running simulation within 2 minutes, and the charts draw it', async function () {
    this.timeout(ALIVE_WITHIN_MS + 60000);
    browser = await launchBrowser({ origin: base, viewport: { width: 1440, height: 1300 } });
    page = browser.page;
    page.setDefaultTimeout(15000);
    await page.goto(`${base}/dashboard`, { waitUntil: 'load' });
    await page.waitForURL(/\/dashboard\/building$/);
    const left = (): number => Math.max(5000, ALIVE_WITHIN_MS - (Date.now() - startedAt));

    assert.match(
      await eventually('demo clock', left(), async () => /demo time/.test(await textOf('sld-t-clock')) && textOf('sld-t-clock')),
      /^08:5\d demo time/,
    );
    assert.equal(await eventually('alerts', left(), () => textOf('sld-t-alerts')), 'none');
    assert.equal(
      await eventually('suggestions', left(), () => textOf('sld-t-suggestions')),
      'no suggestions',
      'GET /suggestions is 404 in this flow',
    );
    const seen: Record<string, string> = {};
    await eventually('every zone shows its room, light with read-back, override and energy', left(), async () => {
      for (const z of ZONES) for (const k of ['room', 'light', 'override', 'energy']) seen[`${z} ${k}`] = await textOf(`sld-t-${z}-${k}`);
      return ZONES.every(
        (z) =>
          /(occupied|vacant)$/.test(seen[`${z} room`] ?? '') &&
          /\/ gear \d+(\.\d)? % \d+ K$/.test(seen[`${z} light`] ?? '') &&
          (seen[`${z} override`] ?? '') === 'automatic' &&
          /% of the 100 % baseline|no decision yet today/.test(seen[`${z} energy`] ?? ''),
      );
    }).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(seen, null, 1)}`);
    });
    // Someone is in the office at 08:55 (demo time): the lights were decided, with a reason and source.
    const decision = await eventually(
      'office decision',
      left(),
      async () => /^(rules|AI): \d/.test(await textOf('sld-t-office-1-decision')) && textOf('sld-t-office-1-decision'),
    );
    assert.match(decision, /\(.*occupancy:occupied.*\)$/, decision);
    assert.match(await textOf('sld-t-office-1-room'), /^\d+ lx, occupied$|^lux not reported yet, occupied$/);
    assert.match(await textOf('sld-t-office-1-energy'), /% of the 100 % baseline/);

    const drawn: Record<string, number> = {};
    await eventually('the four live charts draw data', left(), async () => {
      for (const c of flow.filter((n) => n.type === 'ui-chart')) {
        drawn[c.label as string] = await seriesPixels(page.locator(`#nrdb-ui-widget-${c.id}`), (c.colors as string[]).slice(0, 3));
      }
      return Object.values(drawn).every((n) => n >= MIN_SERIES_PIXELS);
    }).catch(async (err: Error) => {
      await shot('demo-dashboard-failed');
      throw new Error(`${err.message}; series pixels: ${JSON.stringify(drawn)}`);
    });
    assert.ok(Date.now() - startedAt <= ALIVE_WITHIN_MS + 5000, `alive after ${Date.now() - startedAt} ms`);
    await shot('demo-dashboard');
    assert.deepEqual(browser.problemsSince(0), [], 'no console or page error');
  });

  it('a manual setpoint from the page reaches the simulated gear, holds the zone with the time left, and "back to automatic" ends it', async function () {
    this.timeout(90000);
    const mark = browser!.problems.length;
    const form = page.locator(`#nrdb-ui-widget-sld-form-${MANUAL.zone}`);
    for (const key of ['intensity', 'cct', 'minutes'] as const)
      await form.locator(`[data-form="form-row-${key}"] input`).fill(String(MANUAL[key]));
    await form.getByRole('button', { name: 'apply' }).click();
    // The gear's own answer (QUERY ACTUAL LEVEL / COLOUR VALUE through DT8 out diagnostics), shown on the page.
    const light = await eventually('the gear reports the manual setpoint', 30000, async () => {
      const m = /^applied (\d+(?:\.\d)?) % (\d+) K \/ gear (\d+(?:\.\d)?) % (\d+) K$/.exec(await textOf(`sld-t-${MANUAL.zone}-light`));
      return m && Number(m[1]) === MANUAL.intensity && Math.abs(Number(m[3]) - MANUAL.intensity) <= 1 ? m : undefined;
    });
    assert.ok(Math.abs(1e6 / Number(light[4]) - 1e6 / MANUAL.cct) <= 2, `gear colour ${light[4]} K for ${MANUAL.cct} K`);
    const held = await eventually('the override and its time left', 20000, async () => {
      const t = await textOf(`sld-t-${MANUAL.zone}-override`);
      return /min left$/.test(t) ? t : undefined;
    });
    assert.match(held, new RegExp(`^manual ${MANUAL.intensity} % ${MANUAL.cct} K, [45] min left$`));
    assert.match(
      await textOf(`sld-t-${MANUAL.zone}-decision`),
      new RegExp(`^manual: ${MANUAL.intensity} % ${MANUAL.cct} K .*manual: dashboard`),
    );
    await shot('demo-dashboard-manual');

    await page.locator(`#nrdb-ui-widget-sld-auto-${MANUAL.zone}`).getByRole('button').click();
    await eventually('back to automatic', 20000, async () => (await textOf(`sld-t-${MANUAL.zone}-override`)) === 'automatic');
    assert.deepEqual(browser!.problemsSince(mark), []);
  });

  it("GET /report draws non-empty charts for every zone, and the dashboard's Reports page shows it", async function () {
    this.timeout(60000);
    const res = await fetch(`${base}/report?period=day`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    await page.goto(`${base}/report?period=day`, { waitUntil: 'load' });
    for (const z of ZONES) {
      const section = page.locator(`section[data-zone="${z}"]`);
      assert.equal(await section.locator('svg[data-chart]').count(), 4, `${z}: four charts`);
      assert.equal(await section.locator('svg[data-chart="Energy used vs 100 % baseline"] polyline').count(), 1, `${z}: the baseline line`);
    }
    // The office (occupied since the start) and the meeting room (the manual setpoint) have decisions: their energy is drawn.
    for (const z of ['office-1', MANUAL.zone]) {
      const bars = await page
        .locator(`section[data-zone="${z}"] svg[data-chart="Energy used vs 100 % baseline"]`)
        .getAttribute('data-bars');
      assert.ok(Number(bars) > 0, `${z}: energy bars (${bars})`);
    }
    const office = page.locator('section[data-zone="office-1"]');
    assert.ok(
      Number(await office.locator('svg[data-chart="Decisions: AI, rules, manual; blocked"]').getAttribute('data-bars')) > 0,
      'office decisions',
    );
    await shot('demo-report-day');
    const week = await fetch(`${base}/report?period=week&format=json`);
    const body = (await week.json()) as { zones: Array<{ zone: string; buckets: unknown[] }> };
    assert.deepEqual(
      body.zones.map((z) => [z.zone, z.buckets.length]),
      ZONES.map((z) => [z, 7]),
    );
    assert.equal((await fetch(`${base}/report?period=year`)).status, 400);

    await page.goto(`${base}/dashboard/reports`, { waitUntil: 'load' });
    const frame = page.frameLocator('#nrdb-ui-widget-sld-report-day iframe');
    await frame.locator('section[data-zone="office-1"] svg').first().waitFor();
    await shot('demo-dashboard-reports');
  });
});
