/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the endpoint
 * registry (./endpoints) and the request schemas api-guard validates with,
 * and the interactive docs page (Swagger UI, served from the swagger-ui-dist
 * package on this host: nothing is fetched from elsewhere). Plain
 * TypeScript, no Node-RED: the `api-docs` node serves what is built here.
 *
 * OpenAPI 3.1 schemas are JSON Schema 2020-12: a client can validate an
 * answer with answerSchema(doc, ...) and any 2020-12 validator.
 */
import { escapeHtml } from './html';
import * as fs from 'fs';
import * as path from 'path';
import { API_ENDPOINTS, ANSWER_SCHEMAS, type Endpoint, type JsonSchema } from './endpoints';

export interface OpenApiOptions {
  /** Package version (info.version). */
  version: string;
  /** Where the API is mounted (Node-RED's httpNodeRoot as the client sees it), default "/". */
  serverUrl?: string;
  title?: string;
}

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, OperationObject>>;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, unknown> };
};

interface OperationObject {
  operationId: string;
  responses: Record<string, { description: string; content?: Record<string, { schema: JsonSchema }> }>;
  [key: string]: unknown;
}

export const DEFAULT_TITLE = 'Smart lighting DALI API';

/** A plain copy: the document never shares an object with the schemas the validators use. */
const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Express path → OpenAPI path ("/alerts/:id/resolve" → "/alerts/{id}/resolve"). */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

const DETAIL = { $ref: '#/components/schemas/Detail' };
const RETRY_AFTER = { 'Retry-After': { description: 'seconds to wait before retrying', schema: { type: 'string' } } };

function operation(e: Endpoint): OperationObject {
  const parameters: unknown[] = [];
  for (const [name, schema] of Object.entries(e.params ?? {})) {
    parameters.push({
      name,
      in: 'path',
      required: true,
      schema: copy(schema),
      ...(e.example.params?.[name] !== undefined ? { example: e.example.params[name] } : {}),
    });
  }
  const props = (e.query?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, schema] of Object.entries(props)) {
    const example = e.example.query?.[name];
    parameters.push({ name, in: 'query', required: false, schema: copy(schema), ...(example !== undefined ? { example } : {}) });
  }
  const responses: OperationObject['responses'] = {};
  for (const [status, a] of Object.entries(e.answers)) {
    responses[status] = { description: a.description, content: { 'application/json': { schema: copy(a.schema) } } };
  }
  for (const [status, when] of Object.entries(e.errors)) {
    if (responses[status] !== undefined || when === undefined) continue;
    const n = Number(status);
    const headers = n === 429 || n === 503 ? RETRY_AFTER : undefined;
    responses[status] = { description: when, ...(headers ? { headers } : {}), content: { 'application/json': { schema: DETAIL } } };
  }
  const op: OperationObject = {
    operationId: e.id,
    tags: [e.tag],
    summary: e.summary,
    description: `${e.description}${e.admin ? '\n\nNeeds `Authorization: Bearer <ADMIN_TOKEN>`.' : ''}${e.rateLimited ? '' : '\n\nNot rate limited.'}`,
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(e.body !== undefined
      ? {
          requestBody: {
            required: e.bodyRequired === true,
            content: {
              'application/json': { schema: copy(e.body), ...(e.example.body !== undefined ? { example: copy(e.example.body) } : {}) },
            },
          },
        }
      : {}),
    responses,
    ...(e.admin ? { security: [{ bearerAuth: [] }] } : {}),
  };
  return op;
}

/** The whole document. */
export function buildOpenApiDocument(options: OpenApiOptions): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const e of API_ENDPOINTS) {
    const p = openApiPath(e.path);
    paths[p] = { ...(paths[p] ?? {}), [e.method.toLowerCase()]: operation(e) };
  }
  const server = options.serverUrl === undefined || options.serverUrl === '' ? '/' : options.serverUrl;
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? DEFAULT_TITLE,
      version: options.version,
      description:
        "The HTTP API of the smart lighting flow (the Python service smart-lighting-ai-dali's endpoints). " +
        "Bodies are JSON; request fields may be snake_case (the reference's names) or camelCase, and answers carry " +
        'the reference\'s names beside ours. Every error answers {"detail": "..."}; every answer has an X-Request-Id header.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: server }],
    tags: [...new Set(API_ENDPOINTS.map((e) => e.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: copy(ANSWER_SCHEMAS),
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN' } },
    },
  };
}

/**
 * The schema of `status`'s answer of method + path (Express or OpenAPI form)
 * as one JSON Schema 2020-12 document (its $refs resolve inside it); null
 * when the document has no such answer.
 */
export function answerSchema(doc: OpenApiDocument, method: string, expressPath: string, status: number): JsonSchema | null {
  const op = doc.paths[openApiPath(expressPath)]?.[method.toLowerCase()];
  const schema = op?.responses[String(status)]?.content?.['application/json']?.schema;
  if (schema === undefined) return null;
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema, components: { schemas: doc.components.schemas } };
}

// ---- the docs page ---------------------------------------------------------

/** The Swagger UI files the page loads, served from swagger-ui-dist: name -> content type. */
export const DOCS_ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
  'favicon-16x16.png': 'image/png',
};

/** Folder of the swagger-ui-dist package; null when it is not installed. */
export function swaggerUiDir(): string | null {
  try {
    return path.dirname(require.resolve('swagger-ui-dist/package.json'));
  } catch {
    return null;
  }
}

/** Content of an asset (read once, kept), or null for a name that is not one of DOCS_ASSETS. */
const assetCache = new Map<string, Buffer>();
export function docsAsset(name: string): { body: Buffer; type: string } | null {
  const type = Object.prototype.hasOwnProperty.call(DOCS_ASSETS, name) ? DOCS_ASSETS[name] : undefined;
  if (type === undefined) return null;
  let body = assetCache.get(name);
  if (body === undefined) {
    const dir = swaggerUiDir();
    if (dir === null) return null;
    body = fs.readFileSync(path.join(dir, name));
    assetCache.set(name, body);
  }
  return { body, type };
}

/** JSON for inside a <script>: no "</script>" can end it early. */
const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/**
 * The docs page. `assetBase` and `specUrl` are URLs relative to the page (or
 * absolute paths). Swagger UI's online validator is off: the page fetches
 * nothing but its own assets and the document.
 */
export function docsPage(options: { title?: string; assetBase: string; specUrl: string }): string {
  const title = escapeHtml(options.title ?? DEFAULT_TITLE);
  const base = escapeHtml(options.assetBase.replace(/\/?$/, '/'));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${base}swagger-ui.css">
<link rel="icon" type="image/png" href="${base}favicon-32x32.png" sizes="32x32">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle(${scriptJson({ url: options.specUrl, dom_id: '#swagger-ui', validatorUrl: null, deepLinking: true, layout: 'BaseLayout', displayRequestDuration: true })});
</script>
</body>
</html>
`;
}
