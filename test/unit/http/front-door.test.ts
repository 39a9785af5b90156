import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FrontDoor, parseByteLimit, stripPaths, type Req, type Res } from '../../../lib/http/front-door';

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
});
