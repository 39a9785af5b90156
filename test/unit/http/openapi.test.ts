/**
 * The endpoint registry, the flows and the OpenAPI document hold together:
 * every `http in` node of the shipped flows has a registry entry (method +
 * path, and the api-guard behind it guards that operation) and every entry
 * has its node, so an endpoint added later fails here until it is
 * documented; the request schemas are the guards' own objects; every
 * example request passes both the guard and the document's schema; every
 * answer schema compiles as JSON Schema 2020-12; and the reference's field
 * names are added to answers and schemas from one list.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { API_ENDPOINTS, findEndpoint } from '../../../lib/http/endpoints';
import { answerSchema, buildOpenApiDocument, docsAsset, docsPage, openApiPath } from '../../../lib/http/openapi';
import { CONTROL_SCHEMA, SENSOR_SCHEMA, TELEMETRY_SCHEMA, WEATHER_SCHEMA } from '../../../lib/http/schemas';
import { validateApiInput } from '../../../lib/http/api-request';
import { MAIN_FLOW_ROUTES, addAnswerFields, answerBody } from '../../../lib/http/front-door';
import { REFERENCE_FIELDS, withReferenceNames } from '../../../lib/http/reference-names';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

interface FlowNode {
  id: string;
  type: string;
  url?: string;
  method?: string;
  operation?: string;
  wires?: string[][];
}

const flowFiles = fs
  .readdirSync(path.join(ROOT, 'flows'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => path.join(ROOT, 'flows', f));

function httpInNodes(): Array<{ file: string; node: FlowNode; guard: FlowNode | undefined }> {
  const out: Array<{ file: string; node: FlowNode; guard: FlowNode | undefined }> = [];
  for (const file of flowFiles) {
    const nodes = JSON.parse(fs.readFileSync(file, 'utf8')) as FlowNode[];
    const byId = new Map(nodes.map((n) => [n.id, n]));
    for (const node of nodes.filter((n) => n.type === 'http in')) {
      // The guard may sit behind change nodes (DELETE /admin/demand-response sets {level: 0} first).
      let next = (node.wires ?? []).flat().map((id) => byId.get(id));
      let guard: FlowNode | undefined;
      for (let hop = 0; hop < 3 && !guard; hop++) {
        guard = next.find((n) => n?.type === 'api-guard');
        next = next.filter((n) => n?.type === 'change').flatMap((n) => (n!.wires ?? []).flat().map((id) => byId.get(id)));
      }
      out.push({ file: path.basename(file), node, guard });
    }
  }
  return out;
}

function ajv(): Ajv2020 {
  return new Ajv2020({ strict: false, allErrors: true, formats: { date: /^\d{4}-\d{2}-\d{2}$/, 'date-time': true } });
}

describe('HTTP API registry and OpenAPI document', () => {
  const doc = buildOpenApiDocument({ version: '9.9.9' });

  it('has a registry entry for every http in node of the shipped flows, with the operation its api-guard checks', () => {
    const nodes = httpInNodes();
    assert.ok(nodes.length >= API_ENDPOINTS.length);
    for (const { file, node, guard } of nodes) {
      const e = findEndpoint(String(node.method), String(node.url));
      assert.ok(
        e,
        `${file}: http in ${String(node.method).toUpperCase()} ${node.url} (${node.id}) has no entry in lib/http/endpoints.ts: document it`,
      );
      assert.ok(guard, `${file}: http in ${node.url} goes through an api-guard`);
      assert.equal(guard.operation, e.operation, `${file}: the api-guard behind ${node.url} checks "${e.operation}"`);
    }
  });

  it('has an http in node in the main flow for every registry entry, and the front door knows each route', () => {
    const served = new Set(
      httpInNodes()
        .filter((n) => n.file === 'smart-lighting.json')
        .map(({ node }) => `${String(node.method).toUpperCase()} ${node.url}`),
    );
    for (const e of API_ENDPOINTS) assert.ok(served.has(`${e.method} ${e.path}`), `${e.method} ${e.path} is served by an http in node`);
    assert.deepEqual(
      MAIN_FLOW_ROUTES.map(([m, p]) => `${m} ${p}`),
      API_ENDPOINTS.map((e) => `${e.method} ${e.path}`),
    );
    assert.equal(new Set(API_ENDPOINTS.map((e) => e.id)).size, API_ENDPOINTS.length, 'operation ids are unique');
  });

  it('documents the bodies and queries with the very schema objects the guards validate with (no copy)', () => {
    assert.equal(findEndpoint('POST', '/ingest/sensor')?.body, SENSOR_SCHEMA);
    assert.equal(findEndpoint('POST', '/ingest/weather')?.body, WEATHER_SCHEMA);
    assert.equal(findEndpoint('POST', '/control')?.body, CONTROL_SCHEMA);
    assert.equal(findEndpoint('GET', '/telemetry')?.query, TELEMETRY_SCHEMA);
    const sensor = doc.paths['/ingest/sensor']?.post as unknown as { requestBody: { content: Record<string, { schema: unknown }> } };
    assert.deepEqual(sensor.requestBody.content['application/json']?.schema, SENSOR_SCHEMA);
    const telemetry = doc.paths['/telemetry']?.get as unknown as { parameters: Array<{ name: string; in: string }> };
    assert.deepEqual(telemetry.parameters.map((p) => p.name).sort(), Object.keys(TELEMETRY_SCHEMA.properties).sort());
  });

  it('is an OpenAPI 3.1 document: every operation, every error status with its {"detail"} body, Bearer on the admin routes', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(Object.keys(doc.components.securitySchemes), ['bearerAuth']);
    for (const e of API_ENDPOINTS) {
      const op = doc.paths[openApiPath(e.path)]?.[e.method.toLowerCase()];
      assert.ok(op, `${e.method} ${e.path} in the document`);
      assert.equal(op.operationId, e.id);
      for (const status of Object.keys(e.errors)) {
        const r = op.responses[status];
        assert.ok(r, `${e.method} ${e.path} documents ${status}`);
        if (e.answers[Number(status)] === undefined) {
          assert.deepEqual(
            r.content?.['application/json']?.schema,
            { $ref: '#/components/schemas/Detail' },
            `${status} answers {"detail"}`,
          );
        }
      }
      assert.ok(op.responses['500'], `${e.path}: 500`);
      if (e.rateLimited) assert.ok(op.responses['429'], `${e.path}: 429`);
      if (e.admin) {
        assert.deepEqual(op.security, [{ bearerAuth: [] }], `${e.path}: Bearer`);
        assert.ok(op.responses['401'], `${e.path}: 401`);
      } else {
        assert.equal(op.security, undefined);
      }
      if (e.params !== undefined) assert.ok(openApiPath(e.path).includes('{'), 'path parameters in OpenAPI form');
    }
    assert.ok(doc.paths['/alerts/{id}/resolve']);
  });

  it('compiles every answer schema as JSON Schema 2020-12, and an error answer validates against Detail', () => {
    const v = ajv();
    for (const e of API_ENDPOINTS) {
      for (const status of [...Object.keys(e.answers), ...Object.keys(e.errors)].map(Number)) {
        const schema = answerSchema(doc, e.method, e.path, status);
        assert.ok(schema, `${e.method} ${e.path} ${status}`);
        v.compile(schema);
      }
    }
    const detail = v.compile(answerSchema(doc, 'POST', '/control', 400) as object);
    assert.equal(detail({ detail: 'invalid control request: intensity must be <= 100' }), true);
    assert.equal(detail({ error: 'x' }), false);
  });

  it("has example requests that the guard accepts and the document's request schema allows", () => {
    const v = ajv();
    for (const e of API_ENDPOINTS) {
      const r = validateApiInput(e.operation, {
        payload: e.example.body ?? {},
        query: e.example.query ?? {},
        params: e.example.params ?? {},
      });
      assert.ok(r.ok, `${e.path} example accepted by the guard: ${JSON.stringify(r)}`);
      if (e.body !== undefined && e.example.body !== undefined)
        assert.ok(v.validate(e.body, e.example.body), `${e.path}: ${v.errorsText()}`);
      if (e.query !== undefined && e.example.query !== undefined) {
        // Query values are text; the guard coerces them as the document's parameter schemas say.
        for (const [name, value] of Object.entries(e.example.query)) {
          const s = (e.query.properties as Record<string, { type?: unknown }>)[name];
          assert.ok(s, `${e.path}: ${name} is a documented parameter`);
          const typed = s.type === 'integer' ? Number(value) : value;
          assert.ok(v.validate(s, typed), `${e.path}?${name}: ${v.errorsText()}`);
        }
      }
    }
  });

  it('refuses in the guard what the schema refuses: a bad control body is 400 in both', () => {
    const v = ajv();
    const body = { zone: 'office-1', intensity: 120, cct: 4000 };
    assert.equal(v.validate(CONTROL_SCHEMA, body), false);
    const r = validateApiInput('control', { payload: body });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.status, 400);
  });

  it('serves a docs page that loads only its own files and the document, with the online validator off', () => {
    const html = docsPage({ assetBase: 'docs', specUrl: 'openapi.json' });
    assert.match(html, /<script src="docs\/swagger-ui-bundle\.js"><\/script>/);
    assert.match(html, /"url":"openapi\.json"/);
    assert.match(html, /"validatorUrl":null/);
    assert.doesNotMatch(html, /https?:\/\//, 'no absolute URL: nothing from a CDN');
    const evil = docsPage({ assetBase: 'docs', specUrl: '</script><script>alert(1)</script>' });
    assert.doesNotMatch(evil, /<\/script><script>alert/);
    assert.ok((docsAsset('swagger-ui-bundle.js')?.body.length ?? 0) > 100_000, 'Swagger UI from swagger-ui-dist');
    assert.equal(docsAsset('../package.json'), null);
    assert.equal(docsAsset('index.html'), null);
  });
});

describe('reference field names in answers', () => {
  it("adds the reference's name beside ours, in pages and records, without touching the input", () => {
    const page = { items: [{ id: 1, energySavingEstimate: 0.45, data: { sensorId: 'deep' } }], total: 1 };
    const mapped = withReferenceNames(page);
    assert.deepEqual(mapped.items[0], {
      id: 1,
      energySavingEstimate: 0.45,
      energy_saving_estimate: 0.45,
      data: { sensorId: 'deep', sensor_id: 'deep' },
    });
    assert.deepEqual(page.items[0], { id: 1, energySavingEstimate: 0.45, data: { sensorId: 'deep' } }, 'input unchanged');
    const plain = { ok: true, id: 3 };
    assert.equal(withReferenceNames(plain), plain, 'nothing to add: the same object');
    assert.deepEqual(
      withReferenceNames({ profileId: 'a', profile_id: 'b' }),
      { profileId: 'a', profile_id: 'b' },
      'a reference name given is kept',
    );
    assert.equal(withReferenceNames('text'), 'text');
    assert.deepEqual(withReferenceNames([{ manualOverride: false }]), [{ manualOverride: false, manual_override: false }]);
  });

  it('stops 3 levels deep (free data of a row is not walked further)', () => {
    const deep = { a: { b: { c: { d: { sensorId: 'x' } } } } };
    assert.equal(withReferenceNames(deep), deep);
  });

  it('echoes the fields the guard asked for in a successful answer, with both names', () => {
    const res = {};
    addAnswerFields(res, { manualOverride: true, overrideMinutes: 30 });
    assert.deepEqual(answerBody(res, { zone: 'office-1', intensity: 55 }), {
      zone: 'office-1',
      intensity: 55,
      manualOverride: true,
      manual_override: true,
      overrideMinutes: 30,
      override_minutes: 30,
    });
    assert.deepEqual(
      answerBody(res, { overrideMinutes: 5 }),
      { overrideMinutes: 5, override_minutes: 5, manualOverride: true, manual_override: true },
      "the answer's own value wins",
    );
  });

  it('lists both names in the answer schemas of the endpoints that carry them', () => {
    const doc = buildOpenApiDocument({ version: '1' });
    const text = JSON.stringify(doc);
    for (const f of REFERENCE_FIELDS) {
      assert.ok(text.includes(`"${f.reference}"`), `${f.reference} in the document`);
      for (const endpoint of f.endpoints) {
        const [method, p] = endpoint.split(' ') as [string, string];
        const e = findEndpoint(method, p);
        assert.ok(e, endpoint);
        const status = Number(Object.keys(e.answers)[0]);
        const schema = JSON.stringify(answerSchema(doc, method, p, status));
        assert.ok(
          schema.includes(`"${f.ours}"`) && schema.includes(`"${f.reference}"`),
          `${endpoint} answer schema has ${f.ours} and ${f.reference}`,
        );
      }
    }
  });
});

describe('README API section', () => {
  it("has the table of the reference's field names, one row per REFERENCE_FIELDS entry, and names /docs and /openapi.json in the quick start", () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const f of REFERENCE_FIELDS) {
      const row = `| \`${f.ours}\` | \`${f.reference}\` | ${f.endpoints.map((e) => `\`${e}\``).join(', ')} |`;
      assert.ok(readme.includes(row), `README row: ${row}`);
    }
    const quickStart = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('## Install into an existing Node-RED'));
    assert.match(quickStart, /\/docs/);
    assert.match(quickStart, /\/openapi\.json/);
  });
});
