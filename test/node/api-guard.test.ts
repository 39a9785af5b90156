/**
 * api-guard in the Node-RED runtime (node-red-node-test-helper): accepted
 * messages on output 1 with the contract fields, rejections on output 2 with
 * statusCode/headers/{detail}, done(err) only without msg.res, statuses,
 * one JSON log line per HTTP request without body or token, the limiter
 * shared between nodes and released on close, and a real
 * http in -> api-guard -> http response flow driven over HTTP.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FlowNodeDef, NodeInitializer } from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import apiGuard from '../../nodes/api-guard/api-guard';
import { sharedLimiterUsers } from '../../lib/http/api-request';
import { asNodeSet, helper, latestStatus, MessageQueue, message, registerCatalogues, ROOT } from './helpers';

const guardNode = asNodeSet('api-guard', apiGuard);
const TOKEN = 'node-test-admin-token';
/** The reference service's sample personal.json: {profile_id, encrypted_payload}. */
const SAMPLE_PROFILE = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8')) as {
  profile_id: string;
  encrypted_payload: string;
};

type Out = NodeMessage & {
  statusCode?: number;
  headers?: Record<string, string>;
  waitForCommit?: boolean;
  control?: unknown;
  req?: unknown;
  res?: unknown;
};
type Caught = NodeMessage & { error: { message: string } };

let accepted: MessageQueue;
let rejected: MessageQueue;
let errors: MessageQueue;
let seq = 0;

function guardDef(id: string, config: Record<string, unknown>, wires: string[][] = [['out1'], ['out2']]): FlowNodeDef {
  return {
    id,
    type: 'api-guard',
    z: 'f1',
    name: '',
    operation: 'ingest-sensor',
    rateLimit: '60',
    trustProxy: false,
    requireAdmin: false,
    overrideMinutes: '30',
    defaultZone: '',
    logRequests: false,
    ...config,
    wires,
  };
}

async function start(config: Record<string, unknown> = {}, credentials: Record<string, string> = {}): Promise<Node> {
  const id = `guard-${++seq}`;
  const flow: FlowNodeDef[] = [
    { id: 'f1', type: 'tab', label: 'test' },
    guardDef(id, config),
    { id: 'out1', type: 'helper', z: 'f1', wires: [] },
    { id: 'out2', type: 'helper', z: 'f1', wires: [] },
    { id: 'c1', type: 'catch', z: 'f1', scope: [id], uncaught: false, wires: [['err']] },
    { id: 'err', type: 'helper', z: 'f1', wires: [] },
  ];
  await helper.load(guardNode, flow, { [id]: credentials });
  accepted = new MessageQueue('out1');
  rejected = new MessageQueue('out2');
  errors = new MessageQueue('err');
  const n = helper.getNode(id);
  assert.ok(n);
  return n;
}

/** A request as http in passes it (without a live socket). */
function fakeReq(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { method: 'POST', path: '/ingest/sensor', headers: {}, query: {}, params: {}, socket: { remoteAddress: '10.1.2.3' }, ...extra };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** JSON lines of api-guard written to stdout while `fn` runs (everything else passes through). */
async function captureLog(fn: () => Promise<void>): Promise<Array<Record<string, unknown>>> {
  const lines: Array<Record<string, unknown>> = [];
  const original = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('"component":"api-guard"')) {
      lines.push(JSON.parse(text) as Record<string, unknown>);
      return true;
    }
    return (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return lines;
}

describe('api-guard node', function () {
  const savedToken = process.env.ADMIN_TOKEN;

  before(async () => {
    await registerCatalogues(['api-guard']);
  });

  beforeEach(() => {
    delete process.env.ADMIN_TOKEN;
  });

  afterEach(async () => {
    await helper.unload();
    if (savedToken === undefined) delete process.env.ADMIN_TOKEN;
    else process.env.ADMIN_TOKEN = savedToken;
  });

  it('accepts a sensor reading on output 1 with topic, 201 and waitForCommit, keeping req/res', async () => {
    const g = await start({ defaultZone: 'hall' });
    assert.deepEqual(latestStatus(g), { fill: 'grey', shape: 'ring', text: 'idle' });
    const req = fakeReq();
    const res = { marker: true };
    g.receive({ payload: { sensor_id: 's1', lux: 250, ts: 1_700_000_000_000 }, req, res } as NodeMessage);
    const out = (await accepted.next()) as Out;
    assert.deepEqual(out.payload, { sensorId: 's1', zone: 'hall', ts: 1_700_000_000_000, lux: 250, source: 'http' });
    assert.equal(out.topic, 'hall');
    assert.equal(out.statusCode, 201);
    assert.equal(out.waitForCommit, true);
    assert.equal(out.req, req);
    assert.equal(out.res, res);
    assert.deepEqual(latestStatus(g), { fill: 'green', shape: 'dot', text: '1 ok / 0 rejected' });
  });

  it('control: a manual setpoint with the node override minutes and msg.control', async () => {
    const g = await start({ operation: 'control', overrideMinutes: '45', defaultZone: 'office-1' });
    g.receive({ payload: { intensity: 55, cct: 4000, reason: 'manual tweak', manual_override: true } });
    const out = (await accepted.next()) as Out;
    assert.deepEqual(out.payload, {
      zone: 'office-1',
      intensity: 55,
      cct: 4000,
      reason: 'manual tweak',
      source: 'manual',
      overrideMinutes: 45,
    });
    assert.deepEqual(out.control, { manualOverride: true, overrideMinutes: 45 });
    assert.equal(out.topic, 'office-1');
  });

  it('over HTTP an invalid body goes to output 2 as a 400 {detail} and ends without error', async () => {
    const g = await start({ operation: 'control' });
    g.receive({ payload: { intensity: 55, cct: 99999 }, req: fakeReq({ path: '/control' }), res: {} } as NodeMessage);
    const out = (await rejected.next()) as Out;
    assert.equal(out.statusCode, 400);
    assert.deepEqual(out.headers, {});
    assert.match((out.payload as { detail: string }).detail, /^invalid control request: cct/);
    await sleep(50);
    assert.equal(errors.pending, 0, 'no done(err) when the 4xx answers the request');
    assert.equal(accepted.pending, 0);
  });

  it('without msg.res a rejection also ends in done(err) for Catch nodes', async () => {
    const g = await start({ operation: 'ingest-weather' });
    g.receive({ payload: { zone: 'a' } });
    const out = (await rejected.next()) as Out;
    assert.equal(out.statusCode, 400);
    const caught = (await errors.next()) as Caught;
    const detail = (out.payload as { detail: string }).detail;
    assert.equal(caught.error.message, `Error: ${message('api-guard', 'errors.rejected', { status: 400, detail })}`);
  });

  it('admin without a configured token: red ring, a warning, and 503 for every request', async () => {
    const g = await start({ operation: 'admin' });
    assert.deepEqual(latestStatus(g), { fill: 'red', shape: 'ring', text: 'admin token not configured (0 rejected)' });
    const log = helper.log() as unknown as { WARN: number; args: Array<[{ level: number; msg: unknown }]> };
    const warnings = log.args.filter(([e]) => e.level === log.WARN).map(([e]) => String(e.msg));
    assert.ok(warnings.includes(message('api-guard', 'errors.noToken')), warnings.join('; '));
    g.receive({ payload: {}, req: fakeReq({ headers: { authorization: 'Bearer whatever-it-is' } }), res: {} } as NodeMessage);
    const out = (await rejected.next()) as Out;
    assert.equal(out.statusCode, 503);
    assert.match((out.payload as { detail: string }).detail, /ADMIN_TOKEN/);
    assert.equal(latestStatus(g).fill, 'red');
  });

  it('admin with a token shorter than 8 characters: the warning says it is too short, not that none is configured', async () => {
    const g = await start({ operation: 'admin' }, { adminToken: 'short' });
    assert.deepEqual(latestStatus(g), { fill: 'red', shape: 'ring', text: 'admin token too short (0 rejected)' });
    const log = helper.log() as unknown as { WARN: number; args: Array<[{ level: number; msg: unknown }]> };
    const warnings = log.args.filter(([e]) => e.level === log.WARN).map(([e]) => String(e.msg));
    assert.ok(warnings.includes(message('api-guard', 'errors.shortToken', { min: 8 })), warnings.join('; '));
    assert.ok(!warnings.some((w) => /none is configured/.test(w) || w.includes('short ')), warnings.join('; '));
  });

  it('admin with the credential: 401 + WWW-Authenticate for a wrong token, accepted (topic aggregate) with the right one', async () => {
    process.env.ADMIN_TOKEN = 'the-env-token-is-not-used';
    const g = await start({ operation: 'admin' }, { adminToken: TOKEN });
    g.receive({ payload: {}, req: fakeReq({ headers: { authorization: 'Bearer the-env-token-is-not-used' } }), res: {} } as NodeMessage);
    const no = (await rejected.next()) as Out;
    assert.equal(no.statusCode, 401);
    assert.match(no.headers?.['WWW-Authenticate'] ?? '', /^Bearer/);
    g.receive({ payload: {}, req: fakeReq({ headers: { authorization: `Bearer ${TOKEN}` } }), res: {} } as NodeMessage);
    const yes = (await accepted.next()) as Out;
    assert.equal(yes.topic, 'aggregate');
    assert.deepEqual(yes.payload, {});
  });

  it('profile: 401 without the token (requireAdmin off makes no difference), 400 for a bad body, accepted with the token; never logs the body', async () => {
    const lines = await captureLog(async () => {
      const g = await start({ operation: 'profile', requireAdmin: false, logRequests: true }, { adminToken: TOKEN });
      const at = (headers: Record<string, string> = {}): Record<string, unknown> => fakeReq({ path: '/admin/profile', headers });
      g.receive({ payload: SAMPLE_PROFILE, req: at(), res: {} } as NodeMessage);
      const no = (await rejected.next()) as Out;
      assert.equal(no.statusCode, 401);
      assert.match(no.headers?.['WWW-Authenticate'] ?? '', /^Bearer/);

      const authed = at({ authorization: `Bearer ${TOKEN}` });
      g.receive({
        payload: { profile_id: 'default', encrypted_payload: '{"visual_impairment":"low_vision"}' },
        req: authed,
        res: {},
      } as NodeMessage);
      const bad = (await rejected.next()) as Out;
      assert.equal(bad.statusCode, 400);
      assert.match((bad.payload as { detail: string }).detail, /^invalid profile: encrypted_payload is not url-safe base64/);
      assert.ok(!JSON.stringify(bad.payload).includes('low_vision'));
      g.receive({ payload: { encrypted_payload: SAMPLE_PROFILE.encrypted_payload }, req: authed, res: {} } as NodeMessage);
      assert.match((((await rejected.next()) as Out).payload as { detail: string }).detail, /profile_id is missing/);

      const res = { marker: 'res' };
      g.receive({ payload: JSON.stringify(SAMPLE_PROFILE), req: authed, res } as NodeMessage);
      const ok = (await accepted.next()) as Out;
      assert.deepEqual(ok.payload, { profileId: 'default', encryptedPayload: SAMPLE_PROFILE.encrypted_payload });
      assert.equal(ok.topic, 'profile');
      assert.equal(ok.res, res);
      // mqtt/inject carry no token: refused, and reported to Catch.
      g.receive({ payload: SAMPLE_PROFILE });
      assert.equal(((await rejected.next()) as Out).statusCode, 401);
      await errors.next();
      assert.deepEqual(latestStatus(g).fill, 'green');
    });
    assert.deepEqual(
      lines.map((l) => [l.path, l.status]),
      [
        ['/admin/profile', 401],
        ['/admin/profile', 400],
        ['/admin/profile', 400],
        ['/admin/profile', 200],
      ],
    );
    const all = JSON.stringify(lines);
    for (const secret of [SAMPLE_PROFILE.encrypted_payload.slice(0, 24), 'low_vision', TOKEN])
      assert.ok(!all.includes(secret), `${secret} logged`);
  });

  it('profile without any admin token configured: red ring and 503', async () => {
    const g = await start({ operation: 'profile' });
    assert.equal(latestStatus(g).fill, 'red');
    g.receive({ payload: SAMPLE_PROFILE, req: fakeReq({ headers: { authorization: 'Bearer whatever-it-is' } }), res: {} } as NodeMessage);
    assert.equal(((await rejected.next()) as Out).statusCode, 503);
  });

  it('a blank credential falls back to the ADMIN_TOKEN environment variable', async () => {
    process.env.ADMIN_TOKEN = TOKEN;
    const g = await start({ operation: 'control', requireAdmin: true });
    g.receive({
      payload: { intensity: 5, cct: 3000 },
      req: fakeReq({ headers: { authorization: `Bearer ${TOKEN}` } }),
      res: {},
    } as NodeMessage);
    assert.equal(((await accepted.next()) as Out).topic, 'default');
    // A message without a request carries no token: refused, and reported to Catch.
    g.receive({ payload: { intensity: 5, cct: 3000 } });
    assert.equal(((await rejected.next()) as Out).statusCode, 401);
    assert.match(((await errors.next()) as Caught).error.message, /Request rejected \(401\)/);
  });

  it('rate limits HTTP requests per client with 429 + Retry-After; messages without req are not limited', async () => {
    const g = await start({ operation: 'health', rateLimit: '2' });
    for (let i = 0; i < 2; i++) {
      g.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
      await accepted.next();
    }
    g.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
    const out = (await rejected.next()) as Out;
    assert.equal(out.statusCode, 429);
    assert.ok(Number(out.headers?.['Retry-After']) >= 1);
    assert.match((out.payload as { detail: string }).detail, /^Too many requests/);
    g.receive({ payload: {}, req: fakeReq({ socket: { remoteAddress: '10.9.9.9' } }), res: {} } as NodeMessage);
    await accepted.next();
    for (let i = 0; i < 5; i++) {
      g.receive({ payload: {} });
      await accepted.next();
    }
  });

  it('throttles status updates under traffic and shows the final counts', async () => {
    const g = await start({ operation: 'predict' });
    g.receive({ payload: {} });
    await accepted.next();
    g.receive({ payload: { zone: '' } });
    await rejected.next();
    g.receive({ payload: { zone: 'x' } });
    await accepted.next();
    assert.deepEqual(latestStatus(g), { fill: 'green', shape: 'dot', text: '1 ok / 0 rejected' }, 'the burst is not shown at once');
    await sleep(1200);
    assert.deepEqual(latestStatus(g), { fill: 'green', shape: 'dot', text: '2 ok / 1 rejected' });
  });

  it('logs one JSON line per HTTP request, never the body, query or token; nothing when logging is off', async () => {
    const lines = await captureLog(async () => {
      const g = await start({ operation: 'control', logRequests: true, requireAdmin: true }, { adminToken: TOKEN });
      const req = fakeReq({ path: '/control', headers: { authorization: `Bearer ${TOKEN}` }, query: { secretish: 'q' } });
      g.receive({ payload: { intensity: 55, cct: 4000, reason: 'very-private-reason' }, req, res: {} } as NodeMessage);
      await accepted.next();
      g.receive({
        payload: {},
        req: fakeReq({ path: '/control', headers: { authorization: 'Bearer wrong-token-xyz' } }),
        res: {},
      } as NodeMessage);
      await rejected.next();
      g.receive({ payload: { intensity: 1, cct: 3000 } });
      assert.equal(((await rejected.next()) as Out).statusCode, 401);
      await errors.next();
    });
    assert.equal(lines.length, 2, 'the message without a request is not an HTTP request');
    const [ok, no] = lines as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(ok.level, 'info');
    assert.equal(ok.method, 'POST');
    assert.equal(ok.path, '/control');
    assert.equal(ok.operation, 'control');
    assert.equal(ok.client, '10.1.2.3');
    assert.equal(ok.outcome, 'accepted');
    assert.equal(ok.status, 200);
    assert.equal(typeof ok.ms, 'number');
    assert.equal(no.outcome, 'rejected');
    assert.equal(no.status, 401);
    assert.equal(no.reason, 'unauthorized');
    const all = JSON.stringify(lines);
    for (const secret of [TOKEN, 'wrong-token-xyz', 'very-private-reason', 'secretish', 'authorization']) {
      assert.ok(!all.includes(secret), `${secret} not logged`);
    }

    await helper.unload();
    const quiet = await captureLog(async () => {
      const g = await start({ operation: 'health', logRequests: false });
      g.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
      await accepted.next();
    });
    assert.deepEqual(quiet, []);
  });

  it('shares one limiter between nodes with the same limit and releases it on close', async () => {
    const flow: FlowNodeDef[] = [
      { id: 'f1', type: 'tab', label: 'test' },
      guardDef('ga', { operation: 'health', rateLimit: '3' }),
      guardDef('gb', { operation: 'predict', rateLimit: '3' }),
      guardDef('gc', { operation: 'telemetry', rateLimit: '0' }),
      { id: 'out1', type: 'helper', z: 'f1', wires: [] },
      { id: 'out2', type: 'helper', z: 'f1', wires: [] },
    ];
    await helper.load(guardNode, flow);
    accepted = new MessageQueue('out1');
    rejected = new MessageQueue('out2');
    assert.equal(sharedLimiterUsers().get(3), 2);
    assert.equal(sharedLimiterUsers().has(0), false, 'rate limit 0 = no limiter');
    const [a, b, c] = ['ga', 'gb', 'gc'].map((id) => helper.getNode(id));
    a?.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
    b?.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
    a?.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
    for (let i = 0; i < 3; i++) await accepted.next();
    b?.receive({ payload: {}, req: fakeReq(), res: {} } as NodeMessage);
    assert.equal(((await rejected.next()) as Out).statusCode, 429, 'the fourth request across both endpoints is limited');
    for (let i = 0; i < 10; i++) c?.receive({ payload: {}, req: fakeReq({ method: 'GET' }), res: {} } as NodeMessage);
    for (let i = 0; i < 10; i++) await accepted.next();
    await helper.unload();
    assert.equal(sharedLimiterUsers().has(3), false, 'released with the last node');
  });

  describe('behind a real http in and http response', () => {
    let server: http.Server | null = null;
    let base = '';

    afterEach(async () => {
      const s = server;
      server = null;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    });

    /** Loads http in -> api-guard -> (change-free) http response, listening on a free port. */
    async function startHttp(
      config: Record<string, unknown>,
      method: string,
      url: string,
      credentials: Record<string, string> = {},
      answered = true,
    ): Promise<void> {
      let httpNode: http.RequestListener | null = null;
      const capture: NodeInitializer = (RED: NodeAPI) => {
        httpNode = RED.httpNode as unknown as http.RequestListener;
      };
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const httpIn = require('@node-red/nodes/core/network/21-httpin.js') as NodeInitializer;
      const flow: FlowNodeDef[] = [
        { id: 'f1', type: 'tab', label: 'test' },
        { id: 'in', type: 'http in', z: 'f1', name: '', url, method, upload: false, swaggerDoc: '', wires: [['g']] },
        guardDef('g', config, [answered ? ['ok'] : [], ['resp']]),
        { id: 'ok', type: 'http response', z: 'f1', name: '', statusCode: '', headers: {}, wires: [] },
        { id: 'resp', type: 'http response', z: 'f1', name: '', statusCode: '', headers: {}, wires: [] },
      ];
      await helper.load([capture, httpIn, guardNode], flow, { g: credentials });
      assert.ok(httpNode, 'RED.httpNode captured');
      const s = http.createServer(httpNode);
      server = s;
      await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
      base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    }

    const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

    it('answers 201 with the validated reading, 400 {detail} for a bad body, 429 with Retry-After past the limit', async () => {
      await startHttp({ operation: 'ingest-sensor', rateLimit: '2' }, 'post', '/ingest/sensor');
      const ok = await post('/ingest/sensor', { sensor_id: 's1', zone: 'office-1', lux: 300, ts: 1_700_000_000_000 });
      assert.equal(ok.status, 201);
      // The answer carries the reference's sensor_id beside sensorId (lib/http/reference-names).
      assert.deepEqual(await ok.json(), {
        sensorId: 's1',
        sensor_id: 's1',
        zone: 'office-1',
        ts: 1_700_000_000_000,
        lux: 300,
        source: 'http',
      });
      const bad = await post('/ingest/sensor', { sensor_id: 's1', zone: 'office-1' });
      assert.equal(bad.status, 400);
      assert.deepEqual(await bad.json(), { detail: 'invalid sensor reading: lux or presence must be given' });
      const limited = await post('/ingest/sensor', { sensor_id: 's1', zone: 'office-1', lux: 1 });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.match(((await limited.json()) as { detail: string }).detail, /^Too many requests/);
    });

    it('logs the status sent once the answer is out, and "aborted" (status null) when the client left before any answer', async () => {
      const lines = await captureLog(async () => {
        await startHttp({ operation: 'ingest-sensor', rateLimit: '0', logRequests: true }, 'post', '/ingest/sensor');
        assert.equal((await post('/ingest/sensor', { sensor_id: 's1', zone: 'office-1', lux: 300 })).status, 201);
        assert.equal((await post('/ingest/sensor', { sensor_id: 's1' })).status, 400);
        await helper.unload();
        await new Promise<void>((resolve) => (server as http.Server).close(() => resolve()));
        server = null;
        // Nothing answers accepted requests here: the client gives up.
        await startHttp({ operation: 'ingest-sensor', rateLimit: '0', logRequests: true }, 'post', '/ingest/sensor', {}, false);
        const gaveUp = new AbortController();
        const pending = fetch(`${base}/ingest/sensor`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sensor_id: 's2', zone: 'office-1', lux: 1 }),
          signal: gaveUp.signal,
        }).catch(() => 'aborted');
        await sleep(100);
        gaveUp.abort();
        assert.equal(await pending, 'aborted');
        await sleep(100);
      });
      assert.deepEqual(
        lines.map((l) => [l.msg, l.outcome, l.status]),
        [
          ['api request', 'accepted', 201],
          ['api request rejected', 'rejected', 400],
          ['api request aborted', 'aborted', null],
        ],
      );
    });

    it('GET query and path parameters: telemetry and resolve-alert over HTTP', async () => {
      await startHttp({ operation: 'telemetry' }, 'get', '/telemetry');
      const r = await fetch(`${base}/telemetry?limit=5&zone=office-1`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { limit: 5, offset: 0, zone: 'office-1' });
      const bad = await fetch(`${base}/telemetry?limit=abc`);
      assert.equal(bad.status, 400);
      await helper.unload();
      await new Promise<void>((resolve) => (server as http.Server).close(() => resolve()));
      server = null;
      await startHttp({ operation: 'resolve-alert' }, 'post', '/alerts/:id/resolve');
      const resolved = await post('/alerts/12/resolve', { resolved_by: 'alice' });
      assert.equal(resolved.status, 200);
      assert.deepEqual(await resolved.json(), { id: 12, resolvedBy: 'alice' });
    });

    it('admin over HTTP: 401 with WWW-Authenticate, then 200 with the bearer token', async () => {
      await startHttp({ operation: 'admin' }, 'post', '/admin/aggregate-now', { adminToken: TOKEN });
      const no = await post('/admin/aggregate-now', {});
      assert.equal(no.status, 401);
      assert.match(no.headers.get('www-authenticate') ?? '', /^Bearer/);
      assert.match(((await no.json()) as { detail: string }).detail, /Authorization/);
      const yes = await post('/admin/aggregate-now', {}, { authorization: `Bearer ${TOKEN}` });
      assert.equal(yes.status, 200);
      assert.deepEqual(await yes.json(), {});
    });
  });
});
