/**
 * The FlowFuse Dashboard 2 example (examples/dashboard/smart-lighting-dashboard.json)
 * in a real runtime (4.1 on Node 20 or 5 on Node 22, see scripts/e2e-matrix.js)
 * with @flowfuse/node-red-dashboard installed next to our package in the user
 * directory, and its page in a real headless Chromium.
 *
 * Proves, as a user would see it: the example file imports with only core,
 * our and dashboard node types and no dangling reference; it deploys through
 * the Admin API with no warning; the "Smart lighting" page opens with no
 * console or page error; the lux, presence, intensity, colour temperature and
 * energy-saving charts all draw data from the simulated bus; a manual setpoint
 * entered in the form reaches the simulated gear (the gear's read back shows
 * it), the intensity chart receives it and the decision text names it.
 * The runtime's time zone is chosen so that the simulated office runs a
 * morning (10:xx local time, occupied, daylight) at any hour of the day.
 * Screenshots: test-artifacts/screenshots/<nodered-version>/dashboard*.png.
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { NodeRedRuntime, PACKAGE_NAME, PROJECT_ROOT, runtimeDescription } from './harness';
import { launchBrowser, requireChromium, screenshotDir, type AllowedProblem, type BrowserSession } from '../helpers/browser';
import {
  DASHBOARD_PACKAGE,
  flowFileProblems,
  makeDashboardUserDir,
  readFlowFile,
  seriesPixels,
  timeZoneWithLocalHour,
  type FlowNode,
} from '../helpers/dashboard';

const EXAMPLE = path.join(PROJECT_ROOT, 'examples', 'dashboard', 'smart-lighting-dashboard.json');

const OUR_TYPES = ['dali-bus', 'lighting-store', 'lsd-sensor-in', 'feature-window', 'rules-fallback', 'override-gate', 'dali-dt8-out'];
const DASHBOARD_TYPES = ['ui-base', 'ui-page', 'ui-group', 'ui-theme', 'ui-chart', 'ui-form', 'ui-text', 'ui-button'];
const CORE_TYPES = ['tab', 'comment', 'inject', 'change', 'switch', 'function'];
/** Properties naming a config node, and the type it must be. */
const CONFIG_PROPS = { bus: 'dali-bus', store: 'lighting-store', group: 'ui-group', page: 'ui-page', ui: 'ui-base', theme: 'ui-theme' };

/** The five charts, by their label in the example. */
const CHARTS = ['Illuminance (lux)', 'Presence (1 = occupied)', 'Intensity (%)', 'Colour temperature (K)', 'Energy saving (%)'];
/**
 * Pixels in a series colour that mean the chart has drawn data: one point's
 * symbol (a ring of radius 4) covers about 12-25, a line many more; without
 * data no pixel of the plot has a series colour (the legend is skipped).
 */
const MIN_SERIES_PIXELS = 8;

const MANUAL = { intensity: 37, cct: 3300, minutes: 5 };

/** Nothing is expected: every entry would need the exact text and why. */
const ALLOWED: AllowedProblem[] = [];

const EDITOR_THEME = { tours: false, projects: { enabled: false }, palette: { catalogues: [] } };

interface NodeSet {
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
}

/** A socket.io event the dashboard page received: name and its first argument. */
interface SocketEvent {
  name: string;
  msg: unknown;
}

describe('Dashboard 2 example in Chromium, with our package and @flowfuse/node-red-dashboard loaded', function () {
  let rt: NodeRedRuntime | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;
  let shots: string;
  let flow: FlowNode[];
  const events: SocketEvent[] = [];
  let deployMark = 0;

  const byName = (type: string, key: 'name' | 'label', value: string): FlowNode => {
    const hit = flow.filter((n) => n.type === type && n[key] === value);
    assert.equal(hit.length, 1, `one ${type} with ${key} "${value}" in the example`);
    return hit[0];
  };
  const widget = (node: FlowNode): Locator => page.locator(`#nrdb-ui-widget-${node.id}`);
  const chartNode = (label: string): FlowNode => byName('ui-chart', 'label', label);
  const chartColours = (label: string): string[] => (chartNode(label).colors as string[]).slice(0, 2);
  const textOf = async (label: string): Promise<string> =>
    (
      await widget(byName('ui-text', 'label', label))
        .locator('.nrdb-ui-text-value')
        .innerText()
    ).trim();

  function assertNoProblemsSince(mark: number, what: string): void {
    const seen = browser ? browser.problemsSince(mark) : [];
    assert.deepEqual(seen, [], `${what}: the browser reported\n${seen.join('\n')}`);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
  }

  /** Waits until `check` returns a truthy value, polling; fails with `what` and the last value seen. */
  async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined | null | false>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined | null | false;
    while (Date.now() < deadline) {
      last = await check();
      if (last) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)})`);
  }

  before(async function () {
    this.timeout(90000);
    requireChromium(this);
    flow = readFlowFile(EXAMPLE);
    const installDir = process.env.E2E_INSTALL_DIR;
    const userDir = makeDashboardUserDir({
      projectRoot: PROJECT_ROOT,
      packageName: PACKAGE_NAME,
      userModules: runtimeDescription().userModules,
      ...(installDir ? { parent: path.join(installDir, '..') } : {}),
    });
    // The simulated office follows the local time of day: run it at 10:xx (people in, daylight),
    // whatever the hour on this machine, so every run sees the same kind of morning.
    rt = await NodeRedRuntime.start({ userDir, settings: { editorTheme: EDITOR_THEME }, env: { TZ: timeZoneWithLocalHour(10) } });
    shots = screenshotDir(PROJECT_ROOT, rt.nodeRedVersion);
  });

  after(async function () {
    this.timeout(30000);
    try {
      if (browser) await browser.close();
    } finally {
      if (rt) await rt.stopAndClean(true);
    }
  });

  it('the example uses only core, our and dashboard nodes, and every reference and wire resolves', async () => {
    const allowed = new Set([...OUR_TYPES, ...DASHBOARD_TYPES, ...CORE_TYPES]);
    assert.deepEqual(flowFileProblems(flow, allowed, CONFIG_PROPS), [], 'problems in the example file');
    for (const t of [...OUR_TYPES, 'ui-base', 'ui-page', 'ui-group', 'ui-theme', 'ui-chart', 'ui-form', 'ui-text']) {
      assert.ok(
        flow.some((n) => n.type === t),
        `the example has a ${t}`,
      );
    }
    assert.deepEqual(
      flow
        .filter((n) => n.type === 'ui-chart')
        .map((n) => n.label)
        .sort(),
      [...CHARTS].sort(),
      'the charts',
    );

    // Users get it from Import > Examples: the installed package serves this very file there.
    const listed = await rt!.request('GET', `/library/examples/flows/${PACKAGE_NAME}/dashboard/smart-lighting-dashboard`);
    assert.equal(listed.status, 200, 'the example is listed under Import > Examples > dashboard');
    assert.deepEqual(listed.json, flow, 'Import > Examples serves the file of this project');

    // The runtime loaded the dashboard from the user directory, and knows every type the example uses.
    const res = await rt!.request('GET', '/nodes', undefined, { Accept: 'application/json' });
    assert.equal(res.status, 200);
    const sets = res.json as NodeSet[];
    const broken = sets.filter(
      (s) => (s.module === DASHBOARD_PACKAGE || s.module === PACKAGE_NAME) && s.err && s.types.some((t) => allowed.has(t)),
    );
    assert.deepEqual(
      broken.map((s) => `${s.module}: ${s.err}`),
      [],
      'node sets that failed to load',
    );
    const known = new Set(sets.filter((s) => s.enabled && !s.err).flatMap((s) => s.types));
    const missing = [...new Set(flow.map((n) => n.type))].filter((t) => t !== 'tab' && !known.has(t));
    assert.deepEqual(missing, [], 'types of the example the runtime does not know');
    const dashboard = sets.filter((s) => s.module === DASHBOARD_PACKAGE);
    assert.ok(dashboard.length > 0, `${DASHBOARD_PACKAGE} is loaded`);
  });

  it('deploys through the Admin API and starts with no warning or error', async function () {
    this.timeout(30000);
    const mark = rt!.logLines.length;
    deployMark = mark;
    await rt!.deploy(flow);
    await rt!.waitForLog(/Dashboard 2\.0 .* started at \/dashboard/, 10000, mark);
    await rt!.waitForLog(/DALI interface connected \(simulated bus\)/, 10000, mark);
    const deployed = ((await rt!.request('GET', '/flows')).json as { flows: { id: string }[] }).flows;
    assert.deepEqual(deployed.map((n) => n.id).sort(), flow.map((n) => n.id).sort(), 'every node of the example is deployed');
    await new Promise((r) => setTimeout(r, 1500)); // the sensor is configured, the first events arrive
    const problems = rt!.logLines.slice(mark).filter((l) => /\[(warn|error)\]/.test(l));
    assert.deepEqual(problems, [], `runtime warnings or errors after deploy:\n${problems.join('\n')}`);
  });

  it('opens the "Smart lighting" page with its groups and no console or page error', async function () {
    this.timeout(45000);
    browser = await launchBrowser({ allow: ALLOWED, origin: rt!.baseUrl, viewport: { width: 1440, height: 1100 } });
    page = browser.page;
    page.setDefaultTimeout(15000);
    // Every socket.io event the page receives (the dashboard talks over a WebSocket).
    page.on('websocket', (ws) => {
      ws.on('framereceived', ({ payload }) => {
        const text = typeof payload === 'string' ? payload : payload.toString('utf8');
        const m = /^42(?:\/[^,]*,)?(\[.*\])$/s.exec(text);
        if (!m) return;
        try {
          const [name, msg] = JSON.parse(m[1]) as [string, unknown];
          events.push({ name, msg });
        } catch {
          // not JSON: not an event
        }
      });
    });
    await page.goto(`${rt!.baseUrl}/dashboard`, { waitUntil: 'load' });
    await page.waitForURL(/\/dashboard\/smart-lighting$/);
    for (const g of flow.filter((n) => n.type === 'ui-group')) {
      await page
        .locator(`#nrdb-ui-group-${g.id}`)
        .getByText(g.name as string, { exact: true })
        .waitFor();
    }
    for (const label of CHARTS) await widget(chartNode(label)).locator('canvas').waitFor();
    assert.equal(await page.title(), 'Smart lighting', 'page title');
    await shot('dashboard-opened');
    assertNoProblemsSince(0, 'opening the dashboard');
  });

  it('draws every chart with data from the simulated bus', async function () {
    this.timeout(100000);
    const mark = browser!.problems.length;
    // Readings first (the sensor's events), then ask the feature window for a snapshot so the
    // rules decide now instead of at the end of the minute ("aggregate now" in the example).
    await eventually(
      'lux chart draws readings',
      30000,
      async () => (await seriesPixels(widget(chartNode(CHARTS[0])), chartColours(CHARTS[0]))) > MIN_SERIES_PIXELS,
    );
    const inject = await rt!.request('POST', `/inject/${byName('inject', 'name', 'aggregate now').id}`);
    assert.equal(inject.status, 200, `aggregate now: ${inject.text}`);
    const drawn: Record<string, number> = {};
    await eventually('every chart draws data', 75000, async () => {
      for (const label of CHARTS) drawn[label] = await seriesPixels(widget(chartNode(label)), chartColours(label));
      // A first point at the plot's left edge is drawn half (about 8 pixels): that is data too.
      return Object.values(drawn).every((n) => n >= MIN_SERIES_PIXELS) ? drawn : undefined;
    }).catch(async (err: Error) => {
      await shot('dashboard-failed');
      throw new Error(`${err.message}; series pixels per chart: ${JSON.stringify(drawn)}`);
    });
    // The setpoint the gear got is named with its source and reason, and the gear answered it.
    const decision = await textOf('Last applied decision');
    assert.match(decision, /^rules \d+(\.\d+)? % \d+ K: \S/, `last decision text: "${decision}"`);
    const gear = await textOf('Gear reports (read back)');
    assert.match(gear, /^A0 \d+\.\d % \d+ K, 4\/4 gear match$/, `gear read back text: "${gear}"`);
    await shot('dashboard');
    assertNoProblemsSince(mark, 'charts');
  });

  it('applies a manual setpoint from the form: the gear, the intensity chart and the texts show it', async function () {
    this.timeout(60000);
    const mark = browser!.problems.length;
    const formNode = byName('ui-form', 'name', 'manual setpoint');
    const intensityChart = chartNode('Intensity (%)');
    const form = widget(formNode);
    const eventsBefore = events.length;
    for (const [key, value] of Object.entries(MANUAL)) await form.locator(`[data-form="form-row-${key}"] input`).fill(String(value));
    await form.getByRole('button', { name: formNode.submit as string }).click();

    const decision = await eventually('the decision text names the manual setpoint', 20000, async () => {
      const t = await textOf('Last applied decision');
      return t.startsWith(`manual ${MANUAL.intensity} % ${MANUAL.cct} K`) ? t : undefined;
    });
    assert.match(decision, /manual: dashboard$/);
    // What the gear itself reports after the change (QUERY ACTUAL LEVEL / COLOUR VALUE), shown on the page.
    const gear = await eventually('every gear reports the manual setpoint', 20000, async () => {
      const m = /^A0 (\d+\.\d) % (\d+) K, (\d+)\/(\d+) gear match$/.exec(await textOf('Gear reports (read back)'));
      return m && Math.abs(Number(m[1]) - MANUAL.intensity) <= 1 && m[3] === m[4] && Number(m[4]) === 4 ? m : undefined;
    });
    // The read-back colour is the mirek value turned back into kelvin: within one mirek of what was asked.
    assert.ok(Math.abs(1e6 / Number(gear[2]) - 1e6 / MANUAL.cct) <= 1, `gear colour ${gear[2]} K`);
    // The gate holds the zone: it says so, or it has already blocked an automatic setpoint for it.
    const gate = await textOf('Override gate');
    assert.match(gate, /^(override \(manual\) of office-1 until |blocked \(override\): )/, `the gate holds the zone: "${gate}"`);

    // The intensity chart received the manual value for the setpoint series and the gear's value, and drew them
    // (each widget gets its own socket message: the chart's may come a moment after the read-back text's).
    const chartMsgs = (): Array<{ topic?: string; payload?: unknown }> =>
      events
        .slice(eventsBefore)
        .filter((e) => e.name === `msg-input:${intensityChart.id}`)
        .map((e) => e.msg as { topic?: string; payload?: unknown });
    await eventually('the intensity chart gets the setpoint', 10000, async () =>
      chartMsgs().some((m) => m.topic === 'setpoint' && m.payload === MANUAL.intensity),
    );
    await eventually('the intensity chart gets the gear value', 10000, async () =>
      chartMsgs().some(
        (m) => m.topic === 'gear (read back)' && typeof m.payload === 'number' && Math.abs(m.payload - MANUAL.intensity) <= 1,
      ),
    );
    const saving = events
      .slice(eventsBefore)
      .filter((e) => e.name === `msg-input:${chartNode('Energy saving (%)').id}`)
      .map((e) => (e.msg as { payload?: unknown }).payload);
    assert.ok(saving.includes(100 - MANUAL.intensity), `energy saving chart got ${100 - MANUAL.intensity}: ${JSON.stringify(saving)}`);
    assert.ok((await seriesPixels(widget(intensityChart), chartColours('Intensity (%)'))) > MIN_SERIES_PIXELS);
    await page.waitForTimeout(500); // the chart animates to the new point
    await shot('dashboard-manual');
    assertNoProblemsSince(mark, 'manual setpoint');
    const problems = rt!.logLines.slice(deployMark).filter((l) => /\[(warn|error)\]/.test(l));
    assert.deepEqual(problems, [], `runtime warnings or errors since the deploy:\n${problems.join('\n')}`);
  });
});
