/**
 * Offline package check: the Node-RED Flow Library scorecard rules that need
 * no network, applied to this checkout (the same files `npm pack` ships).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vm from 'node:vm';
import * as semver from 'semver';
import { CONFIG_TYPES, NODE_TYPES } from '../helpers/node-types';

const root = path.resolve(__dirname, '..', '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  license?: string;
  repository?: { url?: string } | string;
  keywords?: string[];
  engines?: { node?: string };
  files?: string[];
  'node-red'?: { version?: string; nodes?: Record<string, string> };
};

interface FlowNode {
  type: string;
  [k: string]: unknown;
}

function nodeSourceDir(type: string): string {
  return path.join(root, 'nodes', type);
}

/** The editor HTML's script blocks by their type attribute. */
function scriptBlocks(html: string): { type: string; attrs: string; body: string }[] {
  const out: { type: string; attrs: string; body: string }[] = [];
  const re = /<script\b([^>]*)>([\s\S]*?)<\/script>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const typeAttr = /type\s*=\s*["']([^"']+)["']/i.exec(m[1]);
    out.push({ type: typeAttr ? typeAttr[1] : 'text/javascript', attrs: m[1], body: m[2] });
  }
  return out;
}

describe('package check (Flow Library scorecard, offline rules)', () => {
  it('has a scoped name (scorecard P04: new packages use a scoped name) that says node-red', () => {
    assert.match(pkg.name, /^@[a-z0-9-]+\/node-red-[a-z0-9-]+$/);
  });

  it('declares the MIT license and ships a LICENSE file', () => {
    assert.equal(pkg.license, 'MIT');
    assert.match(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8'), /MIT License/);
    assert.ok(pkg.files?.includes('LICENSE'), 'LICENSE is in package.json files');
  });

  it('names a repository', () => {
    const url = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    assert.ok(url && /^(git\+)?https:\/\//.test(url), `repository url: ${url}`);
  });

  it('has the node-red keyword', () => {
    assert.ok(pkg.keywords?.includes('node-red'));
  });

  it('declares a node-red.version range admitting Node-RED 4.1 and 5', () => {
    const range = pkg['node-red']?.version;
    assert.ok(range && semver.validRange(range), `node-red.version "${range}" is a valid range`);
    assert.ok(semver.satisfies('4.1.15', range));
    assert.ok(semver.satisfies('5.0.7', range));
  });

  it('declares engines.node admitting Node 20.17 and 22.9 (Node-RED 5 minimum)', () => {
    const range = pkg.engines?.node;
    assert.ok(range && semver.validRange(range));
    assert.ok(semver.satisfies('22.9.0', range), `${range} admits 22.9.0`);
    assert.ok(semver.satisfies('20.17.0', range), `${range} admits 20.17.0`);
  });

  it('registers exactly our thirteen node types, each file under dist/nodes', () => {
    const nodes = pkg['node-red']?.nodes ?? {};
    assert.deepEqual(Object.keys(nodes).sort(), [...NODE_TYPES].sort());
    for (const [type, file] of Object.entries(nodes)) {
      assert.equal(file, `dist/nodes/${type}/${type}.js`);
      assert.ok(fs.existsSync(path.join(nodeSourceDir(type), `${type}.ts`)), `nodes/${type}/${type}.ts exists`);
    }
  });

  for (const type of NODE_TYPES) {
    describe(`node ${type}`, () => {
      const htmlFile = path.join(nodeSourceDir(type), `${type}.html`);

      it('has an editor HTML that parses and registers a literal type and the literal category', () => {
        const html = fs.readFileSync(htmlFile, 'utf8');
        const blocks = scriptBlocks(html);
        const js = blocks.filter((b) => b.type === 'text/javascript');
        assert.ok(js.length >= 1, 'a text/javascript block');
        for (const b of js) assert.doesNotThrow(() => new vm.Script(b.body, { filename: htmlFile }), 'JavaScript parses');
        const all = js.map((b) => b.body).join('\n');
        const reg = new RegExp(`RED\\.nodes\\.registerType\\(\\s*(["'])${type}\\1\\s*,\\s*\\{`);
        assert.match(all, reg, `registerType("${type}", {...}) with a literal type`);
        assert.match(all, /category\s*:\s*(["'])(smart lighting|config)\1/, 'literal category');
        if (CONFIG_TYPES.has(type)) assert.match(all, /category\s*:\s*["']config["']/);
        else assert.match(all, /category\s*:\s*["']smart lighting["']/);
        assert.ok(
          blocks.some((b) => b.type === 'text/html' && new RegExp(`data-template-name=["']${type}["']`).test(b.attrs)),
          'an edit template',
        );
      });

      it('loads shared editor scripts only from the resources/ folder the package ships', () => {
        // The editor holds back every node of the module until each <script src> has loaded: a missing file hangs them all.
        const html = fs.readFileSync(htmlFile, 'utf8');
        for (const b of scriptBlocks(html).filter((x) => /\bsrc\s*=/.test(x.attrs))) {
          const src = /\bsrc\s*=\s*["']([^"']+)["']/.exec(b.attrs)?.[1] ?? '';
          const m = new RegExp(`^resources/${pkg.name}/([A-Za-z0-9._-]+\\.js)$`).exec(src);
          assert.ok(m, `script src "${src}" is resources/${pkg.name}/<file>.js`);
          const file = path.join(root, 'resources', m[1]);
          assert.ok(fs.existsSync(file), `resources/${m[1]} exists`);
          assert.doesNotThrow(() => new vm.Script(fs.readFileSync(file, 'utf8'), { filename: file }), `resources/${m[1]} parses`);
          assert.ok(pkg.files?.includes('resources'), 'resources is in package.json files');
          assert.ok(html.indexOf(src) < html.indexOf('RED.nodes.registerType'), 'loaded before the node registers');
        }
      });

      it('has markdown help listing inputs/outputs and properties', () => {
        const html = fs.readFileSync(htmlFile, 'utf8');
        const localeHelp = path.join(nodeSourceDir(type), 'locales', 'en-US', `${type}.html`);
        const sources = [html, fs.existsSync(localeHelp) ? fs.readFileSync(localeHelp, 'utf8') : ''].join('\n');
        const help = scriptBlocks(sources).find(
          (b) => /text\/(markdown|html)/.test(b.type) && new RegExp(`data-help-name=["']${type}["']`).test(b.attrs),
        );
        assert.ok(help, 'a data-help-name block');
        assert.equal(help.type, 'text/markdown', 'help is markdown');
        assert.ok(help.body.trim().length > 200, 'help says something');
        if (!CONFIG_TYPES.has(type)) {
          const text = help.body;
          const ins = /###\s*Inputs/i.test(text);
          const outs = /###\s*Outputs/i.test(text);
          assert.ok(ins || outs, 'Inputs or Outputs section');
        }
        assert.match(help.body, /###\s*(Properties|Details|Configuration)/i);
      });

      it('has an en-US message catalogue and an icon', () => {
        const cat = path.join(nodeSourceDir(type), 'locales', 'en-US', `${type}.json`);
        const messages = JSON.parse(fs.readFileSync(cat, 'utf8')) as Record<string, unknown>;
        assert.ok(messages[type] && typeof messages[type] === 'object', `catalogue keyed by "${type}"`);
        const html = fs.readFileSync(htmlFile, 'utf8');
        if (!CONFIG_TYPES.has(type)) {
          const icon = /icon\s*:\s*["']([^"']+)["']/.exec(html)?.[1];
          assert.ok(icon, 'icon declared');
          assert.ok(fs.existsSync(path.join(nodeSourceDir(type), 'icons', icon)), `icons/${icon} exists`);
        }
      });
    });
  }

  it('uses every non-config node type in at least one examples/ flow, and every example is valid flow JSON', () => {
    const dir = path.join(root, 'examples');
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith('.json')) files.push(p);
      }
    };
    walk(dir);
    assert.ok(files.length > 0, 'examples exist');
    const used = new Set<string>();
    for (const f of files) {
      const flow = JSON.parse(fs.readFileSync(f, 'utf8')) as FlowNode[];
      assert.ok(Array.isArray(flow), `${f} is a flow array`);
      const ids = new Set<string>();
      for (const n of flow) {
        assert.equal(typeof n.id, 'string', `${f}: every node has an id`);
        assert.ok(!ids.has(n.id as string), `${f}: ids unique`);
        ids.add(n.id as string);
        used.add(n.type);
      }
      for (const n of flow) {
        for (const port of (n.wires as string[][] | undefined) ?? []) {
          for (const target of port) assert.ok(ids.has(target), `${f}: wire to ${target} resolves`);
        }
      }
    }
    for (const type of NODE_TYPES.filter((t) => !CONFIG_TYPES.has(t))) {
      assert.ok(used.has(type), `${type} used in an example`);
    }
  });
});
