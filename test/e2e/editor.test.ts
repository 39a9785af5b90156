/**
 * The Node-RED editor with our package loaded, in a real headless Chromium
 * (Debian's /usr/bin/chromium through playwright-core) against the real
 * runtime started by the harness (4.1 on Node 20 or 5 on Node 22).
 *
 * Proves, as a user would see it: the editor loads without console or page
 * errors; the "smart lighting" palette category holds our ten nodes, each
 * with its own SVG icon; every edit dialog (ten nodes, three config nodes)
 * opens with its fields, TypedInputs and translated labels and cancels
 * cleanly; each node's markdown help renders as HTML in the help sidebar;
 * a flow with every node type deploys from the Deploy button.
 * Screenshots: test-artifacts/screenshots/<nodered-version>/.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeRedRuntime, PACKAGE_NAME, PROJECT_ROOT } from './harness';
import { launchBrowser, requireChromium, screenshotDir, type AllowedProblem, type BrowserSession } from '../helpers/browser';
import type { Locator, Page } from 'playwright-core';
import { CONFIG_TYPES, FLOW_NODE_TYPES } from '../helpers/node-types';

const CATEGORY = 'smart lighting';

/** Properties edited through a TypedInput (the node's oneditprepare turns the plain input into one). */
const TYPED_INPUTS: Record<string, { prop: string; type: string }[]> = {
  'dali-dt8-out': [{ prop: 'address', type: 'str' }],
  'lsd-sensor-in': [{ prop: 'luxTable', type: 'json' }],
};

/** Which node's dialog leads to each config node's dialog (its edit button next to the config select). */
const CONFIG_VIA: Record<string, { from: string; prop: string }> = {
  'dali-bus': { from: 'e2e-out', prop: 'bus' },
  'lighting-store': { from: 'e2e-window', prop: 'store' },
  'ai-provider': { from: 'e2e-ai', prop: 'provider' },
};

/**
 * Console output Node-RED itself produces that is not a defect of ours. Kept
 * empty unless a run shows otherwise: every entry needs the exact text and why.
 */
const ALLOWED: AllowedProblem[] = [];

/**
 * The editor catches exceptions thrown by a node's editor code (label,
 * oneditprepare, oneditsave, ...) and only console.log()s them: count those.
 */
const EDITOR_ERRORS = [/^Definition error: /, /^onedit(prepare|save|cancel|resize|delete)\b/];

/**
 * Runtime settings for this suite. The machine (like many edge boxes) has no
 * Internet: Node-RED's palette manager would fetch catalogue.nodered.org when
 * the editor starts and log the failure, so the catalogue list is empty, as an
 * offline install is configured. The rest repeats the harness's editorTheme.
 */
const EDITOR_THEME = { tours: false, projects: { enabled: false }, palette: { catalogues: [] } };

/** A flow using every node type, wired like the reference flow, laid out to fit the canvas; defaults are filled in the editor. */
const FLOW: Record<string, unknown>[] = [
  { id: 'e2e-bus', type: 'dali-bus', name: 'e2e bus', interfaceType: 'simulator' },
  { id: 'e2e-store', type: 'lighting-store', name: 'e2e store' },
  { id: 'e2e-provider', type: 'ai-provider', name: 'e2e provider' },
  { id: 'e2e-sensor', type: 'lsd-sensor-in', bus: 'e2e-bus', zone: 'office-1', x: 140, y: 80, wires: [['e2e-window'], []] },
  { id: 'e2e-window', type: 'feature-window', store: 'e2e-store', x: 400, y: 80, wires: [['e2e-rules', 'e2e-ai'], []] },
  { id: 'e2e-ai', type: 'ai-decide', provider: 'e2e-provider', x: 660, y: 60, wires: [['e2e-gate'], []] },
  { id: 'e2e-rules', type: 'rules-fallback', x: 660, y: 140, wires: [['e2e-gate']] },
  { id: 'e2e-gate', type: 'override-gate', store: 'e2e-store', x: 400, y: 240, wires: [['e2e-out'], []] },
  { id: 'e2e-out', type: 'dali-dt8-out', bus: 'e2e-bus', address: 'BC', addressType: 'str', x: 660, y: 240, wires: [[]] },
  { id: 'e2e-prune', type: 'retention-prune', store: 'e2e-store', x: 140, y: 360, wires: [[]] },
  { id: 'e2e-guard', type: 'api-guard', operation: 'telemetry', x: 140, y: 440, wires: [['e2e-query'], []] },
  { id: 'e2e-query', type: 'lighting-query', store: 'e2e-store', query: 'decisions', x: 400, y: 440, wires: [[], []] },
  { id: 'e2e-alerts', type: 'lighting-alerts', store: 'e2e-store', bus: 'e2e-bus', x: 660, y: 440, wires: [[]] },
  { id: 'e2e-docs', type: 'api-docs', x: 140, y: 520, wires: [[]] },
  { id: 'e2e-weather', type: 'lighting-weather', x: 140, y: 160, wires: [['e2e-window']] },
  { id: 'e2e-insights', type: 'lighting-insights', store: 'e2e-store', x: 400, y: 520, wires: [[], ['e2e-rules']] },
];
const ID_OF: Record<string, string> = Object.fromEntries(FLOW.map((n) => [n.type as string, n.id as string]));

/* ---- the editor's API as seen from page.evaluate (a subset; these functions run in the browser) ---- */
interface EditorNode {
  id: string;
  type: string;
  z?: string;
  valid?: boolean;
  validationErrors?: string[];
  status?: { fill?: string; shape?: string; text?: string };
  [prop: string]: unknown;
}
interface NodeDef {
  category: string;
  defaults: Record<string, { value?: unknown; type?: string }>;
  credentials?: Record<string, unknown>;
}
interface RedEditor {
  nodes: {
    getType(type: string): NodeDef | undefined;
    node(id: string): EditorNode | undefined;
    dirty(): boolean;
  };
  workspaces: { active(): string; count(): number };
  view: { importNodes(nodes: object[], opts: object): void };
  sidebar: { show(id: string): void; help: { show(type: string): void } };
}
type EditorWindow = { RED?: RedEditor };

describe('Node-RED editor in Chromium, with our package loaded', function () {
  let rt: NodeRedRuntime | undefined;
  let browser: BrowserSession | undefined;
  let page: Page;
  let shots: string;

  /** Fails with every problem the page reported since `mark`. */
  function assertNoProblemsSince(mark: number, what: string): void {
    const seen = browser ? browser.problemsSince(mark) : [];
    assert.deepEqual(seen, [], `${what}: the browser reported\n${seen.join('\n')}`);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: path.join(shots, `${name}.png`) });
  }

  /** The edit button next to a config-node select (Node-RED 4.1 and 5; 4.0 and older said "lookup"). */
  function editButton(prefix: string, prop: string): string {
    return `#${prefix}-btn-${prop}-edit, #${prefix}-lookup-${prop}`;
  }

  /** The workspace node of `id` (its SVG group), for clicking. */
  function canvasNode(id: string): Locator {
    return page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${id}"] rect.red-ui-flow-node`);
  }

  before(async function () {
    this.timeout(90000);
    requireChromium(this);
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start({
      settings: { editorTheme: EDITOR_THEME },
      ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {}),
    });
    shots = screenshotDir(PROJECT_ROOT, rt.nodeRedVersion);
    browser = await launchBrowser({
      allow: ALLOWED,
      errorPatterns: EDITOR_ERRORS,
      origin: rt.baseUrl,
      viewport: { width: 1440, height: 900 },
    });
    page = browser.page;
    page.setDefaultTimeout(15000);
    await page.goto(`${rt.baseUrl}/`, { waitUntil: 'load' });
    // Ready = flows loaded into a visible workspace and the loading bar gone.
    await page.waitForFunction(() => {
      const RED = (globalThis as unknown as EditorWindow).RED;
      return !!RED && !!RED.nodes && RED.workspaces.count() > 0 && !!RED.workspaces.active();
    });
    await page.locator('#red-ui-loading-progress').waitFor({ state: 'hidden' });
  });

  after(async function () {
    this.timeout(30000);
    try {
      if (browser) await browser.close();
    } finally {
      if (rt) await rt.stopAndClean();
    }
  });

  // A failed check can leave a dialog open over the canvas; close it so the next test starts clean.
  afterEach(async function () {
    if (!browser) return;
    for (const sel of ['#node-config-dialog-cancel', '#node-dialog-cancel']) {
      while ((await page.locator(sel).count()) > 0) {
        await page.locator(sel).last().click({ timeout: 5000 });
        await page.waitForTimeout(400);
      }
    }
  });

  it('loads the editor with no console error and no page error', async () => {
    await page.locator('#red-ui-palette-container').waitFor();
    await page.locator('#red-ui-header-button-deploy').waitFor();
    await shot('editor');
    assertNoProblemsSince(0, 'loading the editor');
  });

  it(`shows the "${CATEGORY}" palette category with our ten nodes, each with its own SVG icon`, async () => {
    const mark = browser!.problems.length;
    const category = page.locator('.red-ui-palette-category').filter({
      has: page.locator('.red-ui-palette-header span', { hasText: new RegExp(`^${CATEGORY}$`) }),
    });
    assert.equal(await category.count(), 1, `one palette category labelled "${CATEGORY}"`);
    const inCategory = await category
      .locator('.red-ui-palette-node')
      .evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('data-palette-type')));
    assert.deepEqual([...inCategory].sort(), [...FLOW_NODE_TYPES].sort(), `nodes in "${CATEGORY}"`);
    for (const t of CONFIG_TYPES) {
      assert.equal(
        await page.locator(`.red-ui-palette-node[data-palette-type="${t}"]`).count(),
        0,
        `config node ${t} is not in the palette`,
      );
    }

    await category.scrollIntoViewIfNeeded();
    await category.screenshot({ path: path.join(shots, 'palette-smart-lighting.png') });

    for (const t of FLOW_NODE_TYPES) {
      const container = category.locator(`.red-ui-palette-node[data-palette-type="${t}"] .red-ui-palette-icon-container`);
      const iconUrl = await container.getAttribute('data-palette-icon');
      assert.ok(iconUrl, `${t}: palette icon URL`);
      // Our own file, not Node-RED's fallback (arrow-in.svg) for a missing icon.
      assert.ok(iconUrl.endsWith(`icons/${PACKAGE_NAME}/${t}.svg`), `${t}: palette icon is our file, got ${iconUrl}`);
      const bg = await container
        .locator('.red-ui-palette-icon')
        .evaluate(
          (el) =>
            (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundImage: string } }).getComputedStyle(el).backgroundImage,
        );
      assert.ok(bg.includes(`${PACKAGE_NAME}/${t}.svg`), `${t}: icon element shows our file, got ${bg}`);

      const res = await page.request.get(new URL(iconUrl, `${rt!.baseUrl}/`).toString());
      assert.equal(res.status(), 200, `${t}: icon answers 200`);
      assert.match(res.headers()['content-type'] ?? '', /^image\/svg\+xml/, `${t}: icon content type`);
      assert.match(await res.text(), /<svg[\s>]/, `${t}: icon is an SVG document`);

      // The browser can actually decode and draw it.
      const size = await page.evaluate(
        (url) =>
          new Promise<{ w: number; h: number } | string>((resolve) => {
            const Img = (
              globalThis as unknown as {
                Image: new () => { onload: () => void; onerror: () => void; src: string; naturalWidth: number; naturalHeight: number };
              }
            ).Image;
            const img = new Img();
            img.onload = () => resolve({ w: img.naturalWidth, h: img.naturalHeight });
            img.onerror = () => resolve('image failed to load');
            img.src = url;
          }),
        iconUrl,
      );
      assert.ok(typeof size === 'object' && size.w > 0 && size.h > 0, `${t}: icon renders in the browser: ${JSON.stringify(size)}`);
    }
    const urls = await category
      .locator('.red-ui-palette-icon-container')
      .evaluateAll((els) => els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('data-palette-icon')));
    assert.equal(new Set(urls).size, FLOW_NODE_TYPES.length, `each node has its own icon: ${urls.join(', ')}`);
    assertNoProblemsSince(mark, 'palette');
  });

  it('opens every edit dialog with its fields, TypedInputs and translated labels, and cancels it', async function () {
    this.timeout(60000);
    const mark = browser!.problems.length;
    await page.evaluate((flow) => {
      const RED = (globalThis as unknown as EditorWindow).RED!;
      const z = RED.workspaces.active();
      const nodes = flow.map((n) => {
        const def = RED.nodes.getType(n.type as string);
        if (!def) throw new Error(`type ${String(n.type)} is not registered in the editor`);
        const full: Record<string, unknown> = { ...n };
        for (const [k, d] of Object.entries(def.defaults)) {
          if (full[k] === undefined && d.value !== undefined) full[k] = JSON.parse(JSON.stringify(d.value));
        }
        if (def.category !== 'config') full.z = z;
        return full;
      });
      // Like a paste or Import: the nodes follow the mouse until a click drops them.
      RED.view.importNodes(nodes, { generateIds: false, touchImport: false, addFlow: false, notify: false });
    }, FLOW);
    const chart = page.locator('#red-ui-workspace-chart');
    const chartBox = (await chart.boundingBox())!;
    await page.mouse.move(chartBox.x + 100, chartBox.y + 60);
    await page.mouse.move(chartBox.x + 140, chartBox.y + 80, { steps: 4 });
    await page.mouse.down();
    await page.mouse.up();
    for (const t of FLOW_NODE_TYPES) await canvasNode(ID_OF[t]).waitFor();
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as EditorWindow).RED!.nodes.dirty()),
      true,
      'the drop marks the flow changed',
    );
    // A click on empty canvas clears the selection of the dropped nodes.
    await chart.click({ position: { x: 700, y: 600 } });
    await shot('workspace-imported');

    const invalid = await page.evaluate(
      (ids) => {
        const RED = (globalThis as unknown as EditorWindow).RED!;
        return ids
          .map((id) => RED.nodes.node(id))
          .filter((n): n is EditorNode => !!n && n.valid === false)
          .map((n) => `${n.type}: ${(n.validationErrors ?? []).join(', ')}`);
      },
      FLOW.map((n) => n.id as string),
    );
    assert.deepEqual(invalid, [], 'every imported node is valid with its defaults');

    /** Checks the open dialog of `type` (prefix node-input or node-config-input). */
    const checkDialog = async (type: string, prefix: string, dialog: Locator): Promise<void> => {
      const def = await page.evaluate((t) => {
        const d = (globalThis as unknown as EditorWindow).RED!.nodes.getType(t)!;
        return {
          defaults: Object.keys(d.defaults),
          credentials: Object.keys(d.credentials ?? {}),
          configProps: Object.entries(d.defaults)
            .filter(([, v]) => !!v.type)
            .map(([k, v]) => [k, v.type as string]),
        };
      }, type);
      for (const prop of [...def.defaults, ...def.credentials]) {
        assert.equal(await dialog.locator(`#${prefix}-${prop}`).count(), 1, `${type}: dialog has a field #${prefix}-${prop}`);
      }
      for (const [prop, cfgType] of def.configProps) {
        // A config-node property becomes a select of that type's nodes plus an edit button.
        const select = dialog.locator(`select#${prefix}-${prop}`);
        assert.equal(await select.count(), 1, `${type}: ${prop} is a ${cfgType} select`);
        assert.equal(await dialog.locator(editButton(prefix, prop)).count(), 1, `${type}: ${prop} has its edit button`);
      }
      for (const { prop, type: tiType } of TYPED_INPUTS[type] ?? []) {
        const container = dialog.locator(`#${prefix}-${prop} + .red-ui-typedInput-container`);
        assert.equal(await container.count(), 1, `${type}: ${prop} is a TypedInput`);
        assert.ok(await container.isVisible(), `${type}: TypedInput ${prop} is visible`);
        const box = await container.boundingBox();
        assert.ok(box && box.width > 50 && box.height > 10, `${type}: TypedInput ${prop} has a size: ${JSON.stringify(box)}`);
        const shown = await dialog.locator(`#${prefix}-${prop}`).evaluate((el) => {
          const $ = (globalThis as unknown as { $: (e: unknown) => { typedInput(m: string): string } }).$;
          return $(el).typedInput('type');
        });
        assert.equal(shown, tiType, `${type}: TypedInput ${prop} type`);
      }
      // Every TypedInput in the dialog (also ones this test does not know about) rendered with a size.
      for (const c of await dialog.locator('.red-ui-typedInput-container:visible').all()) {
        const box = await c.boundingBox();
        assert.ok(box && box.width > 20, `${type}: a TypedInput rendered without width`);
      }
      // The defaults of a valid node show no field as invalid.
      const errors = await dialog
        .locator('.input-error')
        .evaluateAll((els) => els.map((e) => (e as unknown as { id: string }).id || '(no id)'));
      assert.deepEqual(errors, [], `${type}: fields marked invalid with valid values`);
      // Labels and placeholders come from the catalogue: no raw i18n key is on screen.
      const text = await dialog.innerText();
      const placeholders = await dialog
        .locator('[placeholder]')
        .evaluateAll((els) =>
          els.map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('placeholder') ?? ''),
        );
      const rawKeys = [text, ...placeholders].join('\n').match(new RegExp(`\\b${type}\\.[A-Za-z]+\\.[A-Za-z.]+`, 'g')) ?? [];
      assert.deepEqual(rawKeys, [], `${type}: untranslated catalogue keys in the dialog`);
      const labels = await dialog
        .locator(`label[for^="${prefix}-"]`)
        .evaluateAll((els) =>
          els
            .filter((e) => (e as unknown as { innerText: string }).innerText.trim() === '')
            .map((e) => (e as unknown as { getAttribute(n: string): string | null }).getAttribute('for')),
        );
      assert.deepEqual(labels, [], `${type}: labels without text`);
    };

    const trayDialog = (prefix: string): Locator =>
      page
        .locator('.red-ui-tray')
        .filter({ has: page.locator(`#${prefix}-name`) })
        .last();

    for (const t of FLOW_NODE_TYPES) {
      const before = browser!.problems.length;
      await canvasNode(ID_OF[t]).dblclick();
      const dialog = trayDialog('node-input');
      await dialog.locator('#node-dialog-cancel').waitFor();
      await dialog.locator('.red-ui-tray-body form, .red-ui-tray-body .red-ui-tray-content').first().waitFor();
      await page.waitForTimeout(350); // the tray slides in
      await checkDialog(t, 'node-input', dialog);
      await shot(`dialog-${t}`);

      const cfg = Object.entries(CONFIG_VIA).find(([, v]) => v.from === ID_OF[t]);
      if (cfg) {
        const [cfgType, { prop }] = cfg;
        assert.equal(
          await dialog.locator(`#node-input-${prop}`).inputValue(),
          ID_OF[cfgType],
          `${t}: ${prop} selects the flow's ${cfgType}`,
        );
        await dialog.locator(editButton('node-input', prop)).click();
        const cfgDialog = trayDialog('node-config-input');
        await cfgDialog.locator('#node-config-dialog-cancel').waitFor();
        await page.waitForTimeout(350);
        await checkDialog(cfgType, 'node-config-input', cfgDialog);
        await shot(`dialog-${cfgType}`);
        await cfgDialog.locator('#node-config-dialog-cancel').click();
        await page.locator('#node-config-dialog-cancel').waitFor({ state: 'detached' });
      }
      await dialog.locator('#node-dialog-cancel').click();
      await page.locator('#node-dialog-cancel').waitFor({ state: 'detached' });
      assertNoProblemsSince(before, `edit dialog of ${t}`);
    }
    assertNoProblemsSince(mark, 'edit dialogs');
  });

  it('renders each node’s markdown help as HTML in the help sidebar', async function () {
    this.timeout(30000);
    const mark = browser!.problems.length;
    await page.locator('#red-ui-workspace-chart').click({ position: { x: 700, y: 600 } });
    await page.evaluate(() => (globalThis as unknown as EditorWindow).RED!.sidebar.show('help'));
    const help = page.locator('.red-ui-sidebar-help-stack');
    await help.waitFor();

    const checkHelp = async (type: string): Promise<void> => {
      const title = help.locator('h1.red-ui-help-title');
      const expected = await page.evaluate((t) => {
        const RED = (globalThis as unknown as EditorWindow).RED! as unknown as {
          nodes: { getType(t: string): { paletteLabel?: string | (() => string) } & Record<string, unknown> };
        };
        const def = RED.nodes.getType(t);
        return typeof def.paletteLabel === 'function' ? def.paletteLabel.call(def) : def.paletteLabel || t;
      }, type);
      await page.waitForFunction((want) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document;
        return doc.querySelector('.red-ui-sidebar-help-stack h1.red-ui-help-title')?.textContent === want;
      }, expected);
      assert.equal(await title.innerText(), expected);
      const body = help.locator('div.red-ui-help').last();
      // The node-red help style: Inputs when the node has an input, Outputs when it has outputs, Properties always.
      const headings = (await body.locator('h3').allInnerTexts()).map((h) => h.trim());
      const ports = await page.evaluate((t) => {
        const d = (globalThis as unknown as EditorWindow).RED!.nodes.getType(t)! as unknown as { inputs?: number; outputs?: number };
        return { inputs: d.inputs ?? 0, outputs: d.outputs ?? 0 };
      }, type);
      const want = [...(ports.inputs > 0 ? ['Inputs'] : []), ...(ports.outputs > 0 ? ['Outputs'] : []), 'Properties'];
      for (const h of want) assert.ok(headings.includes(h), `${type}: help has a "${h}" heading, got ${JSON.stringify(headings)}`);
      const text = await body.innerText();
      assert.doesNotMatch(text, /^#{1,6} /m, `${type}: markdown headings rendered, not shown raw`);
      assert.doesNotMatch(text, /^: \S/m, `${type}: message-property lists rendered, not shown raw`);
      assert.ok((await body.locator('dl.message-properties').count()) > 0, `${type}: property lists render as dl.message-properties`);
    };

    for (const t of FLOW_NODE_TYPES) {
      await canvasNode(ID_OF[t]).click();
      await checkHelp(t);
      if (t === 'dali-dt8-out') await shot('help-dali-dt8-out');
    }
    // Config nodes are not on the canvas: show their help by type.
    for (const t of CONFIG_TYPES) {
      await page.evaluate((type) => (globalThis as unknown as EditorWindow).RED!.sidebar.help.show(type), t);
      await checkHelp(t);
    }
    await shot('help-lighting-store');
    assertNoProblemsSince(mark, 'help sidebar');
  });

  it('deploys the flow from the Deploy button with no error notification', async function () {
    this.timeout(30000);
    const mark = browser!.problems.length;
    const logMark = rt!.logLines.length;
    await page.locator('#red-ui-workspace-chart').click({ position: { x: 700, y: 600 } });
    const deploy = page.locator('#red-ui-header-button-deploy');
    assert.ok(!(await deploy.getAttribute('class'))?.includes('disabled'), 'Deploy is enabled after adding nodes');
    await deploy.click();

    const outcome = page.locator(
      '.red-ui-notification-success, .red-ui-notification-error, .red-ui-notification-warning, #red-ui-deploy-dialog-confirm-deploy-deploy',
    );
    await outcome.first().waitFor();
    await page.locator('#red-ui-header-shade').waitFor({ state: 'hidden' }); // the deploy has settled
    await shot('deployed');
    const notes = await page
      .locator('.red-ui-notification')
      .evaluateAll((els) =>
        els.map((e) => `${(e as unknown as { className: string }).className}: ${(e as unknown as { innerText: string }).innerText.trim()}`),
      );
    assert.equal(
      await page.locator('#red-ui-deploy-dialog-confirm-deploy-deploy').count(),
      0,
      `deploy asked for confirmation:\n${notes.join('\n')}`,
    );
    assert.equal(
      await page.locator('.red-ui-notification-error, .red-ui-notification-warning').count(),
      0,
      `error notification:\n${notes.join('\n')}`,
    );
    assert.equal(await page.locator('.red-ui-notification-success').count(), 1, `success notification:\n${notes.join('\n')}`);
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as EditorWindow).RED!.nodes.dirty()),
      false,
      'editor is clean after deploy',
    );

    // The runtime has the flow and started it.
    await rt!.waitForLog(/Started flows/, 20000, logMark);
    const res = await rt!.request('GET', '/flows');
    assert.equal(res.status, 200);
    const deployed = ((res.json as { flows: { id: string; type: string }[] }).flows ?? []).filter((n) => n.id.startsWith('e2e-'));
    assert.deepEqual(deployed.map((n) => n.type).sort(), FLOW.map((n) => n.type as string).sort(), 'every node deployed');

    // Every node reports a status to the editor; none red, none an untranslated key.
    const ids = FLOW_NODE_TYPES.map((t) => ID_OF[t]);
    await page.waitForFunction(
      (list) => list.every((id) => !!(globalThis as unknown as EditorWindow).RED!.nodes.node(id)?.status?.text),
      ids,
      { timeout: 10000 },
    );
    const statuses = await page.evaluate(
      (list) => list.map((id) => ({ id, ...((globalThis as unknown as EditorWindow).RED!.nodes.node(id)?.status ?? {}) })),
      ids,
    );
    for (const s of statuses) {
      assert.notEqual(s.fill, 'red', `${s.id}: red status "${s.text}"`);
      assert.doesNotMatch(s.text ?? '', /^[a-z0-9-]+\.[a-zA-Z]+\.[a-zA-Z.]+$/, `${s.id}: status is a raw catalogue key`);
    }
    await shot('deployed-status');
    const problems = rt!.logLines.slice(logMark).filter((l) => /\[(warn|error)\]/.test(l));
    assert.deepEqual(problems, [], `runtime warnings or errors after deploy:\n${problems.join('\n')}`);
    assertNoProblemsSince(mark, 'deploy');
  });
});
