/**
 * Every node type as a whole: each example flow loads in the runtime with only
 * our nodes and Node-RED's core nodes and logs no problem, and each editor
 * definition (run against a stub editor) validates, labels and translates.
 * Each node's runtime behaviour is tested in its own file (test/node/<type>.test.ts).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import helper from 'node-red-node-test-helper';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeAPI } from 'node-red';
import { i18n } from '@node-red/util';
import daliBus from '../../nodes/dali-bus/dali-bus';
import lightingStore from '../../nodes/lighting-store/lighting-store';
import daliDt8Out from '../../nodes/dali-dt8-out/dali-dt8-out';
import lsdSensorIn from '../../nodes/lsd-sensor-in/lsd-sensor-in';
import featureWindow from '../../nodes/feature-window/feature-window';
import aiDecide from '../../nodes/ai-decide/ai-decide';
import rulesFallback from '../../nodes/rules-fallback/rules-fallback';
import overrideGate from '../../nodes/override-gate/override-gate';
import retentionPrune from '../../nodes/retention-prune/retention-prune';
import aiProvider from '../../nodes/ai-provider/ai-provider';
import apiGuard from '../../nodes/api-guard/api-guard';
import lightingAlerts from '../../nodes/lighting-alerts/lighting-alerts';
import lightingQuery from '../../nodes/lighting-query/lighting-query';
import apiDocs from '../../nodes/api-docs/api-docs';
import lightingWeather from '../../nodes/lighting-weather/lighting-weather';
import lightingInsights from '../../nodes/lighting-insights/lighting-insights';

helper.init(require.resolve('node-red'));

const PACKAGE = '@smart-lighting-dali/node-red-smart-lighting-dali';
const ROOT = path.resolve(__dirname, '..', '..', '..');
const NODES_DIR = path.join(ROOT, 'nodes');
const MODULES: Record<string, NodeInitializer> = {
  'dali-bus': daliBus,
  'lighting-store': lightingStore,
  'dali-dt8-out': daliDt8Out,
  'lsd-sensor-in': lsdSensorIn,
  'feature-window': featureWindow,
  'ai-decide': aiDecide,
  'rules-fallback': rulesFallback,
  'override-gate': overrideGate,
  'retention-prune': retentionPrune,
  'ai-provider': aiProvider,
  'api-guard': apiGuard,
  'lighting-query': lightingQuery,
  'lighting-alerts': lightingAlerts,
  'api-docs': apiDocs,
  'lighting-weather': lightingWeather,
  'lighting-insights': lightingInsights,
};
const TYPES = Object.keys(MODULES);
const CONFIG_TYPES = new Set(['dali-bus', 'lighting-store', 'ai-provider']);

type Catalogue = Record<string, unknown>;

function catalogue(type: string): Catalogue {
  const file = path.join(NODES_DIR, type, 'locales', 'en-US', `${type}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Catalogue;
}

/** The catalogue text at a dotted key (interpolating __name__ markers), or undefined. */
function message(type: string, key: string, subs: Record<string, unknown> = {}): string | undefined {
  let at: unknown = catalogue(type)[type];
  for (const part of key.split('.')) {
    if (at === null || typeof at !== 'object') return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  if (typeof at !== 'string') return undefined;
  return at.replace(/__([A-Za-z0-9]+)__/g, (m: string, name: string) => (name in subs ? String(subs[name]) : m));
}

/**
 * A node module as Node-RED's registry loads it: the test helper hands every
 * module the same API with an identity `_`; the registry gives each node set
 * its own `_` bound to the set's catalogue (namespace "<module>/<set>").
 */
function asNodeSet(type: string): NodeInitializer {
  return (RED: NodeAPI) => {
    const scoped = Object.create(RED) as NodeAPI;
    scoped._ = (key: string, subs?: Record<string, string | number>) => i18n._(`${PACKAGE}/${type}:${key}`, subs);
    return MODULES[type](scoped);
  };
}

/** What the test helper itself logs on every load (its own "helper" node type, its unencrypted credentials store). */
const HARNESS_NOISE = [/^\[helper\] Deprecated call to RED\.runtime\.nodes\.registerType/, /^nodes\.credentials\.unencrypted$/];

/** Warnings and errors in Node-RED's log since the last load, but for the helper's own. */
function logProblems(): string[] {
  const log = helper.log();
  return log.args
    .filter(([e]) => e.level <= log.WARN && !HARNESS_NOISE.some((re) => re.test(String(e.msg))))
    .map(([e]) => `${e.type ?? ''} ${String(e.msg)}`);
}

function nodeById<T extends Node>(id: string): T {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} exists`);
  return node as T;
}

describe('node types in the Node-RED runtime', function () {
  const savedKey = process.env.OPENAI_API_KEY;

  before(async () => {
    (i18n as typeof i18n & { init(settings: { lang?: string }): void }).init({ lang: 'en-US' });
    for (const type of TYPES) {
      await i18n.registerMessageCatalog(`${PACKAGE}/${type}`, path.join(NODES_DIR, type, 'locales'), `${type}.json`);
    }
  });

  beforeEach(() => {
    delete process.env.OPENAI_API_KEY;
  });

  afterEach(async () => {
    await helper.unload();
    if (savedKey === undefined) delete process.env.OPENAI_API_KEY;
    else process.env.OPENAI_API_KEY = savedKey;
  });

  describe('example flows', () => {
    const CORE: Record<string, string> = {
      inject: '@node-red/nodes/core/common/20-inject.js',
      debug: '@node-red/nodes/core/common/21-debug.js',
      comment: '@node-red/nodes/core/common/90-comment.js',
      change: '@node-red/nodes/core/function/15-change.js',
      function: '@node-red/nodes/core/function/10-function.js',
      'http in': '@node-red/nodes/core/network/21-httpin.js',
      'http response': '@node-red/nodes/core/network/21-httpin.js',
    };
    const files = fs.readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json'));

    // The helper's runtime settings are a plain copy whose node-settings store was never
    // initialised, so core nodes that declare settings (debug, function) could not register.
    // Example stores use the default path, <userDir>/smart-lighting.db: keep it in a temp dir.
    let userDir = '';
    before(() => {
      userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'slai-examples-'));
      helper.settings({ registerNodeSettings: () => undefined, userDir });
    });
    after(() => {
      helper.settings({});
      fs.rmSync(userDir, { recursive: true, force: true });
    });

    it('exist for every non-config node type', () => {
      for (const type of TYPES.filter((t) => !CONFIG_TYPES.has(t))) {
        assert.ok(files.includes(`${type}.json`), `examples/${type}.json`);
      }
    });

    for (const file of files) {
      it(`${file} loads with only our nodes and core nodes, explained by a comment`, async () => {
        const flow = JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8')) as FlowNodeDef[];
        const types = new Set(flow.map((n) => n.type));
        assert.ok(types.has('tab') && types.has('comment'), 'a tab and a comment');
        assert.ok(types.has(file.replace(/\.json$/, '')), 'uses its node');
        const ours = [...types].filter((t) => t in MODULES);
        const core = [...types].filter((t) => !(t in MODULES) && t !== 'tab' && t !== 'catch');
        for (const t of core) assert.ok(t in CORE, `core node ${t} is one of ${Object.keys(CORE).join(', ')}`);
        const initializers = [
          ...ours.map(asNodeSet),
          // eslint-disable-next-line @typescript-eslint/no-require-imports
          ...[...new Set(core.map((t) => CORE[t] as string))].map((file) => require(file) as NodeInitializer),
        ];
        await helper.load(initializers, flow);
        for (const n of flow.filter((x) => x.type !== 'tab')) nodeById(n.id);
        for (const n of flow.filter((x) => x.type === 'lighting-store')) {
          assert.equal(n.path, '', 'the example store uses the default path');
        }
        for (const n of flow.filter((x) => x.type === 'dali-bus')) {
          assert.equal(n.interfaceType, 'simulator', 'the example bus is simulated');
        }
        assert.deepEqual(logProblems(), []);
      });
    }
  });
});

/* ------------------------------------------------------------------------ */
/* Editor side: each node's HTML run against a stub editor.                   */
/* ------------------------------------------------------------------------ */

interface EditorProperty {
  value: unknown;
  required?: boolean;
  type?: string;
  validate?: (this: EditorNode, value: unknown, opt?: object) => unknown;
}

interface EditorDefinition {
  category: string;
  color?: string;
  icon?: string;
  inputs?: number;
  outputs?: number;
  defaults: Record<string, EditorProperty>;
  credentials?: Record<string, { type: string }>;
  paletteLabel?: (this: EditorNode) => unknown;
  label?: (this: EditorNode) => unknown;
  outputLabels?: (this: EditorNode, index: number) => unknown;
  inputLabels?: (this: EditorNode, index: number) => unknown;
  oneditprepare?: (this: EditorNode) => void;
}

type EditorNode = Record<string, unknown> & { _: (key: string, subs?: Record<string, unknown>) => string };

interface Editor {
  definition: EditorDefinition;
  template: string;
  help: string;
  script: string;
  /** typedInput() calls made by oneditprepare: [selector, options]. */
  typedInputs: Array<[string, unknown]>;
}

function blocks(html: string): Array<{ attrs: string; body: string }> {
  const out: Array<{ attrs: string; body: string }> = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push({ attrs: m[1], body: m[2] });
  return out;
}

/** A do-nothing jQuery: no element is in the page, every chainable method records and returns itself. */
function fakeJQuery(typedInputs: Array<[string, unknown]>): (selector: unknown) => unknown {
  return (selector: unknown) => {
    const el: Record<string, unknown> = { length: 0 };
    for (const m of ['on', 'trigger', 'toggle', 'attr', 'not', 'show', 'hide', 'addClass', 'removeClass', 'prop', 'change']) {
      el[m] = () => el;
    }
    el.val = () => undefined;
    el.typedInput = (options: unknown) => {
      typedInputs.push([String(selector), options]);
      return el;
    };
    return el;
  };
}

function loadEditor(type: string): Editor {
  const html = fs.readFileSync(path.join(NODES_DIR, type, `${type}.html`), 'utf8');
  const all = blocks(html);
  const script = all
    .filter((b) => /type=["']text\/javascript["']/.test(b.attrs))
    .map((b) => b.body)
    .join('\n');
  const template = all.find((b) => new RegExp(`data-template-name=["']${type}["']`).test(b.attrs))?.body ?? '';
  const help = all.find((b) => new RegExp(`data-help-name=["']${type}["']`).test(b.attrs))?.body ?? '';
  const registered: Array<[string, EditorDefinition]> = [];
  const typedInputs: Array<[string, unknown]> = [];
  const RED = {
    nodes: {
      registerType: (t: string, def: unknown) => registered.push([t, def as EditorDefinition]),
    },
    validators: {
      number: (blankAllowed?: boolean) => (v: unknown) =>
        (blankAllowed === true && (v === '' || v === undefined)) ||
        (v !== '' && /^[+-]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?$/.test(String(v))) ||
        !isNaN(Number(v)),
      regex: (re: RegExp) => (v: unknown) => re.test(String(v)),
      typedInput: () => () => true,
    },
    _: (key: string) => key,
  };
  // As the editor does: first the shared scripts the HTML loads from our resources/ folder, then its own.
  const context = vm.createContext({ RED, $: fakeJQuery(typedInputs) });
  const resources = all.map((b) => /\bsrc=["']resources\/((?:@[^"'/]+\/)?[^"'/]+)\/([^"']+)["']/.exec(b.attrs)).filter((m) => m !== null);
  for (const [, module, file] of resources) {
    assert.equal(module, PACKAGE, `a resource of ${PACKAGE}`);
    vm.runInContext(fs.readFileSync(path.join(ROOT, 'resources', file), 'utf8'), context, { filename: `resources/${file}` });
  }
  vm.runInContext(script, context, { filename: `${type}.html` });
  assert.equal(registered.length, 1, 'registers one type');
  assert.equal(registered[0][0], type);
  return { definition: registered[0][1], template, help, script, typedInputs };
}

/** A node as the editor holds it: default values, the catalogue translator, and overrides. */
function editorNode(type: string, def: EditorDefinition, values: Record<string, unknown> = {}): EditorNode {
  const node: EditorNode = {
    _: (key: string, subs: Record<string, unknown> = {}) => message(type, key.replace(new RegExp(`^${type}\\.`), ''), subs) ?? key,
  };
  for (const [prop, spec] of Object.entries(def.defaults)) node[prop] = spec.value;
  return Object.assign(node, values);
}

/** Result of a property's validator for `value` on a node with `values`. */
function validate(type: string, def: EditorDefinition, prop: string, value: unknown, values: Record<string, unknown> = {}): unknown {
  const spec = def.defaults[prop];
  assert.ok(spec, `${prop} is a property`);
  const node = editorNode(type, def, { ...values, [prop]: value });
  if (spec.required && (value === '' || value === undefined)) return false;
  return spec.validate ? spec.validate.call(node, value, {}) : true;
}

/** Node-RED's markdown help turns `: name (type) : text` lines into property rows; a stray colon breaks a row. */
const HELP_ROW = /^:[^:\n]+\([^:\n]+\)[^:\n]*:[^:\n]*$/;

describe('editor definitions', () => {
  for (const type of TYPES) {
    describe(type, () => {
      const editor = loadEditor(type);
      const def = editor.definition;

      it('is in the right category with colour and its own icon', () => {
        assert.equal(def.category, CONFIG_TYPES.has(type) ? 'config' : 'smart lighting');
        assert.match(def.color ?? '', /^#[0-9A-F]{6}$/i);
        assert.equal(def.icon, `${type}.svg`);
        const svg = fs.readFileSync(path.join(NODES_DIR, type, 'icons', `${type}.svg`), 'utf8');
        assert.match(svg, /<svg[^>]*viewBox="0 0 40 60"/);
        assert.ok(!/fill="(?!none|#fff)[^"]*"|stroke="(?!none|#fff)[^"]*"/i.test(svg), 'white glyph only');
      });

      it('accepts its own defaults', () => {
        const mustBeSet = new Set(['bus', 'store', 'zone']);
        for (const [prop, spec] of Object.entries(def.defaults)) {
          if (mustBeSet.has(prop) && spec.required) continue;
          const result = validate(type, def, prop, spec.value);
          assert.equal(result, true, `${prop} = ${JSON.stringify(spec.value)}: ${String(result)}`);
        }
      });

      it('labels a node by its name, else by a translated default', () => {
        const named = editorNode(type, def, { name: 'Kitchen' });
        assert.equal(def.label?.call(named), 'Kitchen');
        const unnamed = editorNode(type, def);
        const label = String(def.label?.call(unnamed));
        assert.ok(label.trim() !== '' && !label.includes(`${type}.`) && !label.includes('__'), `label "${label}"`);
        const palette = String(def.paletteLabel?.call(unnamed));
        assert.ok(palette.trim() !== '' && !palette.includes(`${type}.`), `palette label "${palette}"`);
        for (let i = 0; i < (def.outputs ?? 0); i++) {
          const out = String(def.outputLabels?.call(unnamed, i));
          assert.ok(out.trim() !== '' && !out.includes(`${type}.`), `output ${i} label "${out}"`);
        }
        if ((def.outputs ?? 0) > 1) {
          assert.notEqual(def.outputLabels?.call(unnamed, 0), def.outputLabels?.call(unnamed, 1), 'outputs told apart');
        }
      });

      it('has a form field for every property and credential', () => {
        const prefix = CONFIG_TYPES.has(type) ? 'node-config-input-' : 'node-input-';
        for (const prop of [...Object.keys(def.defaults), ...Object.keys(def.credentials ?? {})]) {
          assert.match(editor.template, new RegExp(`id="${prefix}${prop}"`), `field ${prop}`);
        }
      });

      it('finds every label, placeholder and validation message in its catalogue', () => {
        const keys = new Set<string>();
        for (const m of editor.template.matchAll(/data-i18n="([^"]+)"/g)) {
          for (const k of m[1].split(';')) keys.add(k.replace(/^\[[a-z]+\]/, ''));
        }
        for (const m of editor.script.matchAll(/["']([a-z0-9-]+\.(?:label|placeholder|status|errors)\.[A-Za-z0-9.]+)["']/g)) keys.add(m[1]);
        assert.ok(keys.size > 5);
        for (const key of keys) {
          assert.ok(key.startsWith(`${type}.`), `${key} is in the ${type} namespace`);
          assert.ok(message(type, key.slice(type.length + 1)) !== undefined, `${key} in the catalogue`);
        }
      });

      it('prepares the edit dialog without errors', () => {
        const node = editorNode(type, def);
        assert.doesNotThrow(() => def.oneditprepare?.call(node));
      });

      it('has markdown help whose property rows all render', () => {
        const lines = editor.help.split('\n').map((l) => l.trim());
        const rows = lines.filter((l) => l.startsWith(':'));
        assert.ok(rows.length >= 4, 'lists properties');
        for (const row of rows) assert.match(row, HELP_ROW, 'a `: name (type) : text` row without stray colons');
        if (!CONFIG_TYPES.has(type)) {
          assert.ok(lines.includes('### Outputs') || lines.includes('### Inputs'));
          if ((def.inputs ?? 0) > 0) assert.ok(lines.includes('### Inputs'), 'Inputs section');
          if ((def.outputs ?? 0) > 0) assert.ok(lines.includes('### Outputs'), 'Outputs section');
        }
        assert.ok(lines.includes('### Properties') && lines.includes('### Details'));
      });
    });
  }

  it('the shared editor script may run again (the editor loads it once per node) and keeps its first definitions', () => {
    const code = fs.readFileSync(path.join(ROOT, 'resources', 'editor-common.js'), 'utf8');
    const context = vm.createContext({});
    vm.runInContext(code, context);
    const first = (context as { SmartLightingEditor?: unknown }).SmartLightingEditor;
    assert.ok(first && typeof first === 'object', 'defines SmartLightingEditor');
    vm.runInContext(code, context);
    assert.equal((context as { SmartLightingEditor?: unknown }).SmartLightingEditor, first);
  });

  describe('validation', () => {
    it('dali-dt8-out: addresses 0-63, A0-A63, G0-G15 and broadcast', () => {
      const { definition: def } = loadEditor('dali-dt8-out');
      for (const ok of ['0', '5', 'A5', 'a63', 'G0', 'g15', 'BC', 'broadcast']) {
        assert.equal(validate('dali-dt8-out', def, 'address', ok), true, ok);
      }
      for (const bad of ['64', 'A64', 'G16', 'A', 'X1', '', '5,6']) {
        assert.notEqual(validate('dali-dt8-out', def, 'address', bad), true, bad);
      }
      assert.equal(validate('dali-dt8-out', def, 'address', 'payload.address', { addressType: 'msg' }), true);
      const message = validate('dali-dt8-out', def, 'address', 'G16');
      assert.match(String(message), /group G0-G15/, 'explains the syntax');
    });

    it('dali-dt8-out: the coolest colour temperature above the warmest', () => {
      const { definition: def } = loadEditor('dali-dt8-out');
      assert.equal(validate('dali-dt8-out', def, 'coolestKelvin', '6500', { warmestKelvin: '2700' }), true);
      assert.notEqual(validate('dali-dt8-out', def, 'coolestKelvin', '2000', { warmestKelvin: '2700' }), true);
      assert.notEqual(validate('dali-dt8-out', def, 'fadeMs', '-1'), true);
      assert.notEqual(validate('dali-dt8-out', def, 'fadeMs', '1.5'), true);
    });

    it('dali-bus: a port only for hardware, simulator settings only for the simulator', () => {
      const { definition: def } = loadEditor('dali-bus');
      assert.equal(validate('dali-bus', def, 'port', '', { interfaceType: 'simulator' }), true);
      assert.notEqual(validate('dali-bus', def, 'port', '', { interfaceType: 'luba' }), true);
      assert.equal(validate('dali-bus', def, 'port', '/dev/ttyACM0', { interfaceType: 'luba' }), true);
      assert.equal(validate('dali-bus', def, 'port', 'COM3', { interfaceType: 'sci2' }), true);
      assert.equal(validate('dali-bus', def, 'simGroups', '0:0-3; 1:4-7', { simGear: '0-7' }), true);
      assert.notEqual(validate('dali-bus', def, 'simGroups', '0:0-5', { simGear: '0-3' }), true, 'members must be simulated gear');
      assert.notEqual(validate('dali-bus', def, 'simGroups', '16:0', { simGear: '0-3' }), true, 'groups 0-15');
      assert.equal(validate('dali-bus', def, 'simGroups', '16:0', { simGear: '0-3', interfaceType: 'luba' }), true);
      assert.notEqual(validate('dali-bus', def, 'simGear', '0-64'), true);
      assert.notEqual(validate('dali-bus', def, 'simGear', '3-1'), true);
      assert.equal(validate('dali-bus', def, 'simSensor', ''), true, 'blank = no sensor');
      assert.notEqual(validate('dali-bus', def, 'simSensor', '64'), true);
      assert.notEqual(validate('dali-bus', def, 'simSpeed', '3601'), true);
      assert.notEqual(validate('dali-bus', def, 'reconnectMaxMs', '100', { reconnectMinMs: '250' }), true);
    });

    it('rules-fallback: colour temperatures in order, a position for the sun', () => {
      const { definition: def } = loadEditor('rules-fallback');
      assert.notEqual(validate('rules-fallback', def, 'warmestKelvin', '5500'), true, 'night above day');
      assert.notEqual(validate('rules-fallback', def, 'minKelvin', '3000'), true, 'floor above night');
      assert.equal(validate('rules-fallback', def, 'latitude', '', { circadian: 'clock' }), true);
      assert.notEqual(validate('rules-fallback', def, 'latitude', '', { circadian: 'sun' }), true);
      assert.notEqual(validate('rules-fallback', def, 'longitude', '181', { circadian: 'sun' }), true);
      assert.equal(validate('rules-fallback', def, 'longitude', '-13.4', { circadian: 'sun' }), true);
    });

    it('retention-prune, ai-decide, lsd-sensor-in: schedule, batch limit, lux table, zone gear', () => {
      const prune = loadEditor('retention-prune').definition;
      assert.equal(validate('retention-prune', prune, 'schedule', '*/15 * * * *'), true);
      assert.equal(validate('retention-prune', prune, 'schedule', ''), true, 'blank = on input only');
      assert.notEqual(validate('retention-prune', prune, 'schedule', 'every night'), true);
      assert.notEqual(validate('retention-prune', prune, 'timezone', 'Berlin time'), true);
      assert.equal(validate('retention-prune', prune, 'timezone', 'Europe/Berlin'), true);
      const insights = loadEditor('lighting-insights').definition;
      assert.equal(validate('lighting-insights', insights, 'schedule', '30 2 * * 1-5'), true);
      assert.notEqual(validate('lighting-insights', insights, 'schedule', '30 2 * *'), true, 'four fields');
      assert.notEqual(validate('lighting-insights', insights, 'timezone', 'Europe/Berlin time'), true);
      const ai = loadEditor('ai-decide').definition;
      assert.notEqual(validate('ai-decide', ai, 'payloadBatchLimit', '4'), true);
      const provider = loadEditor('ai-provider').definition;
      assert.notEqual(validate('ai-provider', provider, 'baseUrl', 'ftp://x'), true);
      assert.equal(provider.credentials?.apiKey?.type, 'password');
      const sensor = loadEditor('lsd-sensor-in').definition;
      assert.equal(validate('lsd-sensor-in', sensor, 'luxTable', '[[0,0],[500,450]]'), true);
      assert.notEqual(validate('lsd-sensor-in', sensor, 'luxTable', '[[500,450],[0,0]]'), true);
      assert.notEqual(validate('lsd-sensor-in', sensor, 'luxTable', '{"a":1}'), true);
      assert.equal(validate('lsd-sensor-in', sensor, 'zoneGear', 'A0-3,G1, 7'), true);
      assert.notEqual(validate('lsd-sensor-in', sensor, 'zoneGear', 'G16'), true);
      assert.notEqual(validate('lsd-sensor-in', sensor, 'zone', ''), true, 'a zone is required');
    });

    it('dali-dt8-out: the address is a TypedInput of str, msg, flow, global and env', () => {
      const editor = loadEditor('dali-dt8-out');
      editor.definition.oneditprepare?.call(editorNode('dali-dt8-out', editor.definition));
      const address = editor.typedInputs.find(([sel]) => sel === '#node-input-address');
      assert.ok(address, 'typedInput on the address');
      const options = address[1] as { types: string[]; typeField: string };
      assert.deepEqual([...options.types], ['str', 'msg', 'flow', 'global', 'env']);
      assert.equal(options.typeField, '#node-input-addressType');
    });
  });
});
