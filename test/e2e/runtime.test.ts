/**
 * The package as users install it (npm pack -> npm install <tgz> in a fresh
 * user directory), loaded by a real Node-RED runtime (4.1 on Node 20 or 5 on
 * Node 22, chosen by scripts/e2e-matrix.js), driven over its Admin HTTP API.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONFIG_TYPES, NODE_TYPES } from '../helpers/node-types';
import { NodeRedRuntime, PACKAGE_NAME, runtimeDescription } from './harness';

interface NodeSet {
  id: string;
  module: string;
  types: string[];
  enabled: boolean;
  err?: string;
  version?: string;
}

describe(`real Node-RED runtime (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  let rt: NodeRedRuntime;

  before(async function () {
    const installDir = process.env.E2E_INSTALL_DIR;
    // The install directory from the packed tarball is itself a fresh user directory.
    rt = await NodeRedRuntime.start(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {});
  });

  after(async () => {
    if (rt) {
      await rt.stopAndClean();
    }
  });

  it('runs the expected runtime', async () => {
    const res = await rt.request('GET', '/settings');
    assert.equal(res.status, 200);
    const settings = res.json as { version: string };
    // A runtime living inside a git checkout reports "<version>-git".
    assert.equal(settings.version.replace(/-git$/, ''), rt.nodeRedVersion);
    const major = Number(settings.version.split('.')[0]);
    assert.ok(major === 4 || major === 5, `Node-RED ${settings.version}`);
  });

  it('loads every node type of the package, enabled and without errors', async () => {
    const res = await rt.request('GET', '/nodes', undefined, { Accept: 'application/json' });
    assert.equal(res.status, 200);
    const sets = (res.json as NodeSet[]).filter((s) => s.module === PACKAGE_NAME);
    const types = sets.flatMap((s) => s.types).sort();
    assert.deepEqual(types, [...NODE_TYPES].sort());
    for (const s of sets) {
      assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
      assert.equal(s.enabled, true, `${s.id} enabled`);
    }
  });

  it('logs no warning or error while loading the package', () => {
    // Node-RED's own first-start notices on a brand-new user directory, not ours:
    // projects are switched off in the test settings, and there is no credentials file yet.
    const ours = rt.ourProblems();
    assert.deepEqual(ours, [], `warnings in the log:\n${ours.join('\n')}`);
  });

  it('serves each node’s editor, markdown help and en-US catalogue to the editor', async () => {
    const html = await rt.request('GET', '/nodes', undefined, { Accept: 'text/html' });
    assert.equal(html.status, 200);
    for (const t of NODE_TYPES) {
      assert.match(html.text, new RegExp(`RED\\.nodes\\.registerType\\(\\s*["']${t}["']`), `${t} registered`);
      assert.match(html.text, new RegExp(`data-help-name=["']${t}["']`), `${t} help`);
    }
    const setId = `${PACKAGE_NAME}/dali-dt8-out`;
    const cat = await rt.request('GET', `/nodes/messages?lng=en-US&module=${encodeURIComponent(setId)}`);
    assert.equal(cat.status, 200);
    const all = await rt.request('GET', '/nodes/messages?lng=en-US');
    const messages = all.json as Record<string, Record<string, unknown>>;
    for (const t of NODE_TYPES) {
      const ns = messages[`${PACKAGE_NAME}/${t}`];
      assert.ok(ns && ns[t], `catalogue for ${t}`);
    }
  });

  it('serves an icon for every node', async () => {
    for (const t of NODE_TYPES.filter((x) => !CONFIG_TYPES.has(x))) {
      const res = await rt.request('GET', `/icons/${PACKAGE_NAME}/${t}.svg`);
      assert.equal(res.status, 200, `icon of ${t}`);
      assert.match(res.text, /<svg/);
    }
  });

  it('lists our examples under Import > Examples', async () => {
    const modules = await rt.request('GET', '/library/examples/flows/');
    assert.ok((modules.json as string[]).includes(PACKAGE_NAME), `our module in ${modules.text}`);
    const res = await rt.request('GET', `/library/examples/flows/${PACKAGE_NAME}`);
    assert.equal(res.status, 200);
    const names = (res.json as { fn?: string }[]).map((e) => e.fn);
    for (const t of NODE_TYPES.filter((x) => !CONFIG_TYPES.has(x))) {
      assert.ok(names.includes(t), `example for ${t} listed: ${res.text}`);
    }
    const one = await rt.request('GET', `/library/examples/flows/${PACKAGE_NAME}/dali-dt8-out`);
    assert.equal(one.status, 200);
    assert.ok(Array.isArray(one.json), 'example flow is a flow array');
  });

  it('deploys a flow through the Admin HTTP API and serves its output', async () => {
    const flows = [
      { id: 'tab1', type: 'tab', label: 'e2e' },
      { id: 'in1', type: 'http in', z: 'tab1', url: '/e2e/echo', method: 'post', wires: [['fn1']] },
      {
        id: 'fn1',
        type: 'change',
        z: 'tab1',
        rules: [{ t: 'set', p: 'payload.seen', pt: 'msg', to: 'true', tot: 'bool' }],
        wires: [['out1']],
      },
      { id: 'out1', type: 'http response', z: 'tab1', statusCode: '', headers: {}, wires: [] },
    ];
    await rt.deploy(flows);
    const res = await rt.request('POST', '/e2e/echo', { zone: 'office-1', lux: 420 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { zone: 'office-1', lux: 420, seen: true });
    const back = await rt.request('GET', '/flows');
    const ids = ((back.json as { flows: { id: string }[] }).flows ?? []).map((n) => n.id);
    assert.ok(ids.includes('fn1'));
  });
});
