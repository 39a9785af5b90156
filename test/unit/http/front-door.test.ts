import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrontDoor, parseByteLimit, stripPaths, urlPath, type Req, type Res } from '../../../lib/http/front-door';
import { API_ENDPOINTS } from '../../../lib/http/endpoints';

describe('lib/http front door: every API answer is JSON {"detail"}', function () {
  let server: http.Server;
  let base: string;
  let serving = true;
  let arrived: () => void = () => undefined;
  const logged: Array<{ level: string; fields: Record<string, unknown> }> = [];
  const door = new FrontDoor({
    maxBodyBytes: 1024,
    maxBodyText: '1kb',
    routeServes: () => serving,
    log: {
      warn: (_m, fields) => logged.push({ level: 'warn', fields }),
      error: (_m, fields) => logged.push({ level: 'error', fields }),
    },
  });

  before(async () => {
    server = http.createServer((req, res) => {
      door.handle(req as Req, res as Res, () => {
        if (req.url === '/predict') {
          arrived(); // a route still working when the flows stop
          return;
        }
        // What the route would do: echo the parsed body.
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ body: (req as Req).body ?? null, parsed: (req as Req)._body === true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    serving = true;
    logged.length = 0;
  });

  const post = (path: string, body: string, type = 'application/json') =>
    fetch(`${base}${path}`, { method: 'POST', body, headers: { 'Content-Type': type } });

  it("parses a JSON body for the route (Node-RED's parsers then skip it) and gives the request an id", async () => {
    const r = await post('/ingest/sensor', '{"sensor_id":"s1","lux":5}');
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { body: { sensor_id: 's1', lux: 5 }, parsed: true });
    assert.match(r.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('answers malformed JSON (a NaN, a cut body) with 400 JSON, no stack, no path, and logs it with the request id', async () => {
    for (const body of ['{not json', '{"lux": NaN}', '{"lux": 12']) {
      const r = await post('/ingest/sensor', body);
      assert.equal(r.status, 400, body);
      assert.match(r.headers.get('content-type') ?? '', /application\/json/);
      const json = (await r.json()) as { detail: string };
      assert.match(json.detail, /^malformed JSON body/);
      assert.ok(!/\n\s+at |node_modules|\/[\w.-]+\/[\w.-]+/.test(json.detail), json.detail);
    }
    assert.equal(logged.length, 3);
    assert.equal(logged[0]?.level, 'warn');
    assert.equal(logged[0]?.fields.status, 400);
    assert.equal(typeof logged[0]?.fields.requestId, 'string');
  });

  it('answers a body over the limit with 413 naming the limit', async () => {
    const r = await post('/control', JSON.stringify({ pad: 'x'.repeat(5000) }));
    assert.equal(r.status, 413);
    assert.match(((await r.json()) as { detail: string }).detail, /at most 1kb \(1024 bytes\)/);
  });

  it('answers 503 with Retry-After while no route serves an API path (flows stopped), 404s elsewhere are not its business', async () => {
    serving = false;
    const r = await post('/ingest/sensor', '{}');
    assert.equal(r.status, 503);
    assert.equal(r.headers.get('retry-after'), '2');
    assert.match(((await r.json()) as { detail: string }).detail, /not running/);
    assert.equal(logged[0]?.level, 'error');
    const other = await post('/not-ours', '{}');
    assert.equal(other.status, 200, 'passed on to the app');
    const resolve = await post('/alerts/17/resolve', '{}');
    assert.equal(resolve.status, 503, 'route parameters match');
  });

  it('answers an API path asked with a method it does not take with 405 JSON and Allow, unless a route serves that method there', async () => {
    serving = false;
    const r = await fetch(`${base}/ingest/sensor`, { method: 'PUT', body: '{}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.match(r.headers.get('content-type') ?? '', /application\/json/);
    assert.match(((await r.json()) as { detail: string }).detail, /^PUT is not served at \/ingest\/sensor: use POST$/);
    const g = await fetch(`${base}/control`);
    assert.equal(g.status, 405, 'GET /control');
    serving = true; // a flow of the user's serves it: passed on
    assert.equal((await fetch(`${base}/control`)).status, 200);
    assert.equal((await fetch(`${base}/not-ours`, { method: 'PUT' })).status, 200, 'not an API path: passed on');
  });

  it('answers 503 to a request still in flight when the flows stop and its route is gone', async () => {
    const reached = new Promise<void>((r) => (arrived = r));
    const pending = post('/predict', '{}');
    await reached;
    serving = false;
    door.flowsStopped();
    const r = await pending;
    assert.equal(r.status, 503);
    assert.match(((await r.json()) as { detail: string }).detail, /stopped while handling this request/);
  });

  it('learns API paths from the api-guards, reads byte limits as Node-RED does, strips absolute paths', () => {
    assert.equal(door.isApi('POST', '/custom/thing'), false);
    door.learn('post', '/custom/thing');
    assert.equal(door.isApi('POST', '/custom/thing'), true);
    assert.equal(parseByteLimit('5mb'), 5 * 1024 * 1024);
    assert.equal(parseByteLimit('100kb'), 102400);
    assert.equal(parseByteLimit(undefined), 5 * 1024 * 1024);
    assert.equal(
      stripPaths('cannot open SQLite database /var/lib/node-red/smart-lighting.db: SQLITE_CANTOPEN'),
      'cannot open SQLite database …/smart-lighting.db: SQLITE_CANTOPEN',
    );
  });

  it("reads a request's path as the URL parser does, plain URLs without it", () => {
    const reference = (url: string): string | null => {
      try {
        return decodeURIComponent(new URL(url, 'http://x').pathname);
      } catch {
        return null;
      }
    };
    const urls = [
      '/ingest/sensor',
      '/ingest/sensor?x=1&y=/./z',
      '/ingest/sensor/',
      '/telemetry?limit=50#frag',
      '/a/./b',
      '/a/../ingest/sensor',
      '/.',
      '/..',
      '//ingest/sensor',
      '/a//b',
      '/%69ngest/sensor',
      '/%E0%A4%A',
      '/a b',
      '/a"b',
      '/a\\b',
      '/alerts/17/resolve',
      "/x:y@z!$&'()*+,;=~-_.",
      '/ümlaut',
      '/a?b#c?d',
      '/',
      '',
      '?q',
    ];
    // and random URLs over the characters that matter
    const alphabet = ['/', '.', '?', '#', '%', '2', 'e', 'a', ' ', '\\', ':', '@', '~', 'ü', '"', "'"];
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let i = 0; i < 5000; i++) {
      let u = '/';
      const len = rand(12);
      for (let j = 0; j < len; j++) u += alphabet[rand(alphabet.length)];
      urls.push(u);
    }
    for (const url of urls) assert.equal(urlPath(url), reference(url), JSON.stringify(url));
  });

  it("finds a path's routes by their text as their patterns would: any case, one trailing slash, parameters", () => {
    const d = new FrontDoor({ maxBodyBytes: 1024, maxBodyText: '1kb', routeServes: () => true });
    d.learn('GET', '/Custom/Thing');
    d.learn('PUT', '/custom/thing');
    d.learn('post', '/zones/:zone/hold');
    for (const e of API_ENDPOINTS) {
      assert.equal(d.isApi(e.method, e.path.replace(/:\w+/g, 'x1')), true, `${e.method} ${e.path}`);
      assert.equal(d.isApi(e.method, `${e.path.replace(/:\w+/g, 'x1').toUpperCase()}/`), true, `${e.method} ${e.path} upper case, slash`);
      assert.equal(d.isApi(e.method, `${e.path.replace(/:\w+/g, 'x1')}//`), false, `${e.method} ${e.path} two slashes`);
      assert.equal(d.isApi(e.method, `${e.path.replace(/:\w+/g, 'x1')}x`), false, `${e.method} ${e.path} longer`);
    }
    assert.equal(d.isApi('GET', '/custom/THING/'), true);
    d.learn('POST', '/custom/thing/');
    assert.equal(d.isApi('GET', '/custom/thing/'), true, 'the route without the slash, beside its twin with it');
    assert.equal(d.isApi('POST', '/custom/thing/'), true);
    assert.equal(d.isApi('POST', '/custom/thing//'), true);
    assert.equal(d.isApi('GET', '/custom/thing//'), false);
    assert.equal(d.isApi('PUT', '/CUSTOM/thing'), true);
    assert.equal(d.isApi('DELETE', '/custom/thing'), false);
    assert.equal(d.isApi('POST', '/zones/office-1/hold'), true);
    assert.equal(d.isApi('POST', '/zones/office-1/hold/more'), false);
    assert.equal(d.isApi('POST', '/zones//hold'), false);
    assert.equal(d.isApi('GET', '/custom/t\u212Aing'), false, 'the Kelvin sign is no k for a pattern');
  });

  it("overrides the response API on an app's response prototype: API answers as per response, every other answer untouched", async () => {
    // An Express-like app: its responses' prototype holds send/json/sendStatus.
    const makeProto = (): Res => {
      const p = Object.create(http.ServerResponse.prototype) as Res;
      p.send = function (this: Res, ...args: unknown[]): Res {
        // Express 4 still takes res.send(status, body).
        if (args.length === 2) this.statusCode = args.shift() as number;
        const body = args[0];
        this.setHeader('Content-Type', 'application/json');
        this.end(typeof body === 'string' ? body : JSON.stringify(body));
        return this;
      };
      p.json = function (this: Res, body?: unknown): Res {
        return (this.send as (b: unknown) => Res)(JSON.stringify(body));
      };
      p.sendStatus = function (this: Res, code: number): Res {
        this.statusCode = code;
        this.end(String(code));
        return this;
      };
      return p;
    };
    const proto = makeProto();
    const notInstalled = makeProto(); // an app the door was not installed on
    const d = new FrontDoor({ maxBodyBytes: 1024, maxBodyText: '1kb', routeServes: () => true });
    d.installOn(proto);
    const app = http.createServer((req, res) => {
      const other = req.headers['x-other-app'] === '1';
      Object.setPrototypeOf(res, other ? notInstalled : proto);
      d.handle(req as Req, res as Res, () => {
        const r = res as Res;
        assert.equal(
          Object.prototype.hasOwnProperty.call(r, 'send'),
          other,
          'functions of its own only when the prototype is not overridden',
        );
        if (req.url?.startsWith('/predict')) {
          r.statusCode = 500;
          (r.json as (b: unknown) => Res)({ detail: 'failed at /var/lib/x/y.db with key sk-abcdefghijklmnopqrstuvwx' });
        } else if (req.url?.startsWith('/control')) (r.sendStatus as (c: number) => Res)(404);
        else if (req.url === '/healthz') (r.json as (b: unknown) => Res)({ status: 'ok' });
        else if (req.url === '/legacy') (r.send as (s: number, b: unknown) => Res)(202, '"legacy"');
        else {
          r.statusCode = 500;
          (r.json as (b: unknown) => Res)({ detail: 'mine at /var/lib/x/y.db' });
        }
      });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const at = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    try {
      const api = (await (
        await fetch(`${at}/predict`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } })
      ).json()) as {
        detail: string;
      };
      assert.equal(api.detail.includes('/var/lib/x'), false, api.detail);
      assert.equal(api.detail.includes('abcdefghijklmnop'), false, api.detail);
      assert.match(api.detail, /…\/y\.db/);
      const viaOther = (await (
        await fetch(`${at}/predict`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json', 'X-Other-App': '1' } })
      ).json()) as { detail: string };
      assert.equal(viaOther.detail, api.detail, 'the same answer from an app the door was not installed on');
      const statusOther = await fetch(`${at}/control`, {
        method: 'POST',
        body: '{}',
        headers: { 'Content-Type': 'application/json', 'X-Other-App': '1' },
      });
      assert.deepEqual(await statusOther.json(), { detail: 'HTTP 404' });
      const status = await fetch(`${at}/control`, { method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json' } });
      assert.equal(status.status, 404);
      assert.deepEqual(await status.json(), { detail: 'HTTP 404' });
      const healthz = (await (await fetch(`${at}/healthz`)).json()) as Record<string, unknown>;
      assert.equal(healthz.status, 'ok');
      const legacy = await fetch(`${at}/legacy`);
      assert.equal(legacy.status, 202, 'both arguments passed on');
      assert.equal(await legacy.json(), 'legacy');
      const other = await fetch(`${at}/not-ours`);
      assert.equal(other.status, 500);
      assert.deepEqual(await other.json(), { detail: 'mine at /var/lib/x/y.db' }, 'not an API answer: as the route sent it');
    } finally {
      await new Promise<void>((r) => app.close(() => r()));
    }
  });
});
