/**
 * api-docs in the Node-RED runtime (node-red-node-test-helper): the document
 * and the Swagger UI page with its files served on RED.httpNode while the
 * node is deployed, gone after it is removed; other paths configured; a bad
 * path setting warned about and the default used; an input message answered
 * with the document.
 */
import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { NodeAPI, NodeMessage } from 'node-red';
import apiDocs from '../../nodes/api-docs/api-docs';
import { API_ENDPOINTS } from '../../lib/http/endpoints';
import { asNodeSet, helper, latestStatus, MessageQueue, message, nodeById, registerCatalogues } from './helpers';

const docsNode = asNodeSet('api-docs', apiDocs);

/** RED.httpNode of the loaded runtime, behind a real HTTP server. */
let httpNode: http.RequestListener | null = null;
const capture: NodeInitializer = (RED: NodeAPI) => {
  httpNode = RED.httpNode as unknown as http.RequestListener;
};
let server: http.Server | null = null;
let base = '';

async function load(flow: FlowNodeDef[]): Promise<void> {
  await helper.load([capture, docsNode], flow);
  if (server === null) {
    assert.ok(httpNode, 'RED.httpNode captured');
    const s = http.createServer((req, res) => (httpNode as http.RequestListener)(req, res));
    server = s;
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
    base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  }
}

interface Got {
  status: number;
  text: string;
  body: unknown;
  headers: Headers;
}
async function get(p: string): Promise<Got> {
  const r = await fetch(`${base}${p}`, { redirect: 'manual' });
  const text = await r.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, text, body, headers: r.headers };
}
const request = (): { get: typeof get } => ({ get });

function def(config: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'd', type: 'api-docs', z: 'f1', name: '', specPath: '/openapi.json', docsPath: '/docs', ...config, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1', wires: [] },
  ];
}

describe('api-docs node', function () {
  this.timeout(20000);
  before(async () => {
    await registerCatalogues(['api-docs']);
  });
  after(async () => {
    const s = server;
    server = null;
    if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()));
  });
  afterEach(async () => {
    await helper.unload();
  });

  it('serves the OpenAPI document and the docs page with its files while deployed, and nothing once removed', async () => {
    await load(def());
    const spec = await request().get('/openapi.json');
    assert.equal(spec.status, 200);
    const doc = spec.body as { openapi: string; paths: Record<string, unknown>; servers: Array<{ url: string }> };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(Object.keys(doc.paths).length, new Set(API_ENDPOINTS.map((e) => e.path)).size);
    assert.deepEqual(doc.servers, [{ url: '/' }]);
    const page = await request().get('/docs');
    assert.equal(page.status, 200);
    assert.match(String(page.headers.get('content-type')), /^text\/html/);
    assert.match(page.text, /docs\/swagger-ui-bundle\.js/);
    const js = await request().get('/docs/swagger-ui-bundle.js');
    assert.equal(js.status, 200);
    assert.match(String(js.headers.get('content-type')), /javascript/);
    assert.equal((await request().get('/docs/swagger-ui.css')).status, 200);
    const other = await request().get('/docs/index.js');
    assert.equal(other.status, 404, 'only the listed files of swagger-ui-dist');
    assert.deepEqual(other.body, { detail: message('api-docs', 'errors.noAsset') });
    const slash = await request().get('/docs/');
    assert.equal(slash.status, 301);
    assert.equal(slash.headers.get('location'), '../docs');
    assert.equal(latestStatus(nodeById('d'))?.fill, 'green');

    await helper.unload();
    await load([{ id: 'f1', type: 'tab', label: 'test' }]);
    assert.equal((await request().get('/openapi.json')).status, 404, 'route removed on close');
    assert.equal((await request().get('/docs')).status, 404);
    assert.equal((await request().get('/docs/swagger-ui.css')).status, 404);
  });

  it('serves other paths as configured; blank docs page = the document only', async () => {
    await load(def({ specPath: '/api/spec.json', docsPath: '' }));
    assert.equal((await request().get('/api/spec.json')).status, 200);
    assert.equal((await request().get('/docs')).status, 404);
    await helper.unload();
    await load(def({ specPath: '/api/openapi.json', docsPath: '/api/docs' }));
    const page = await request().get('/api/docs');
    assert.equal(page.status, 200);
    assert.match(page.text, /"url":"openapi\.json"/, 'the document relative to the page');
    assert.match(page.text, /href="docs\/swagger-ui\.css"/);
    assert.equal((await request().get('/api/docs/swagger-ui.css')).status, 200);
  });

  it('warns about a path it cannot serve and uses the default', async () => {
    await load(def({ specPath: 'no slash' }));
    assert.equal((await request().get('/openapi.json')).status, 200, 'the default path');
    const log = helper.log() as unknown as { WARN: number; args: Array<[{ level: number; msg: unknown }]> };
    const warned = log.args.filter(([e]) => e.level === log.WARN && (e as { id?: unknown }).id === 'd').map(([e]) => String(e.msg));
    assert.deepEqual(warned, [message('api-docs', 'errors.badPath', { name: 'specPath', value: 'no slash', fallback: '/openapi.json' })]);
  });

  it('answers an input message with the document', async () => {
    await load(def());
    const out = new MessageQueue('out');
    nodeById('d').receive({ payload: 'go' } as NodeMessage);
    const msg = (await out.next()) as NodeMessage & { payload: { openapi: string; info: { version: string } } };
    assert.equal(msg.payload.openapi, '3.1.0');
    assert.match(msg.payload.info.version, /^\d+\.\d+\.\d+/);
  });
});
