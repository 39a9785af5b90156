import assert from 'node:assert/strict';
import { MASK, createLogger, formatLogLine, maskFields } from '../../../lib/http/log';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: Array<{ line: string; level: string }> = [];
  const log = createLogger({ level, now: () => 0, sink: (line, lvl) => lines.push({ line, level: lvl }) });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l.line) as Record<string, unknown>) };
}

describe('lib/http structured log', function () {
  it('writes one JSON object per line with ts, level, msg and the fields', () => {
    const { log, parsed, lines } = capture();
    log.info('Manual override stored', { zone: 'office', minutes: 30 });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]?.line.includes('\n'));
    assert.deepEqual(parsed()[0], {
      ts: '1970-01-01T00:00:00.000Z',
      level: 'info',
      msg: 'Manual override stored',
      zone: 'office',
      minutes: 30,
    });
  });

  it("a logger's base fields come first and a line's own field of the same name replaces them, as one merged object would", () => {
    const lines: string[] = [];
    const base = { component: 'api-guard', operation: 'ingest-sensor', outcome: 'base' };
    const log = createLogger({ now: () => 0, base, sink: (line) => lines.push(line) });
    const fields = { requestId: 'r-1', status: 201, outcome: 'accepted', level: 'not-this', apiKey: 'sk-1' };
    log.info('api request', { requestId: 'r-1', status: 201, outcome: 'accepted' });
    log.info('api request', fields);
    assert.equal(lines[0], formatLogLine('info', 'api request', { ...base, requestId: 'r-1', status: 201, outcome: 'accepted' }, 0));
    assert.deepEqual(Object.keys(JSON.parse(lines[0] as string) as object), [
      'ts',
      'level',
      'msg',
      'component',
      'operation',
      'outcome',
      'requestId',
      'status',
    ]);
    // A field that needs masking takes the careful path: same line as for the merged object.
    assert.equal(lines[1], formatLogLine('info', 'api request', { ...base, ...fields }, 0));
    assert.equal((JSON.parse(lines[1] as string) as Record<string, unknown>).apiKey, MASK);
    assert.equal((JSON.parse(lines[1] as string) as Record<string, unknown>).level, 'info');
  });

  it('masks personal and secret fields at any depth but keeps token counters', () => {
    const out = maskFields({
      profile: { name: 'Ada', minLux: 500 },
      profile_id: 'p-1',
      token: 'abc',
      apiKey: 'sk-123',
      OPENAI_API_KEY: 'sk-456',
      authorization: 'Bearer xyz',
      nested: { encrypted_payload: 'gAAAA...', encryptedPayload: 'gAAAA...', fernetKey: 'k', password: 'p' },
      list: [{ adminToken: 't' }],
      promptTokens: 12,
      completion_tokens: 7,
      zone: 'office',
    }) as Record<string, unknown>;
    assert.deepEqual(out, {
      profile: MASK,
      profile_id: MASK,
      token: MASK,
      apiKey: MASK,
      OPENAI_API_KEY: MASK,
      authorization: MASK,
      nested: { encrypted_payload: MASK, encryptedPayload: MASK, fernetKey: MASK, password: MASK },
      list: [{ adminToken: MASK }],
      promptTokens: 12,
      completion_tokens: 7,
      zone: 'office',
    });
  });

  it('a flat line (the request log line) keeps field order and still masks secret names; undefined is null as in nested fields', () => {
    const line = formatLogLine(
      'info',
      'api request',
      { requestId: 'r-1', status: 201, ok: true, adminToken: 'abc', gone: undefined, level: 'x' },
      0,
    );
    assert.equal(
      line,
      '{"ts":"1970-01-01T00:00:00.000Z","level":"info","msg":"api request","requestId":"r-1","status":201,"ok":true,"adminToken":"***","gone":null}',
    );
  });

  it('masks a Bearer token inside free text and the message', () => {
    const line = formatLogLine('warn', 'rejected Bearer abc.def-123', { header: 'Bearer abc.def-123' }, 0);
    assert.ok(!line.includes('abc.def-123'), line);
    assert.match(line, /Bearer \*\*\*/);
  });

  it('never throws on cycles, BigInt, Errors or a throwing sink; fields cannot overwrite ts/level/msg', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const { log, parsed } = capture('debug');
    log.debug('odd fields', { cyclic, big: 10n, err: new Error('disk full'), fn: () => 1, level: 'fake', ts: 'fake', msg: 'fake' });
    const p = parsed()[0] as Record<string, unknown>;
    assert.deepEqual(p.cyclic, { a: 1, self: '[circular]' });
    assert.equal(p.big, '10');
    assert.deepEqual(p.err, { name: 'Error', message: 'disk full' });
    assert.equal(p.level, 'debug');
    assert.equal(p.msg, 'odd fields');
    const broken = createLogger({
      sink: () => {
        throw new Error('EPIPE');
      },
    });
    assert.doesNotThrow(() => broken.error('still fine'));
  });

  it('drops lines below the level; child loggers add their fields', () => {
    const { log, parsed } = capture('warn');
    log.info('hidden');
    log.child({ component: 'http' }).warn('Rate limit exceeded', { client: '10.0.0.1' });
    assert.deepEqual(
      parsed().map((p) => [p.msg, p.component, p.client]),
      [['Rate limit exceeded', 'http', '10.0.0.1']],
    );
  });
});
