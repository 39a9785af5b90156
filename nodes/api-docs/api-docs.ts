/**
 * api-docs: serves the HTTP API's OpenAPI 3.1 document (GET /openapi.json)
 * and interactive docs (GET /docs, Swagger UI from the swagger-ui-dist
 * package, nothing fetched from elsewhere) on Node-RED's HTTP node port
 * while it is deployed, from lib/http/openapi. Routes are added to
 * RED.httpNode at start and removed on close, as `http in` does. An input
 * message gets the document as msg.payload (to write it to a file, say).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import * as path from 'path';
import { buildOpenApiDocument, docsAsset, docsPage, swaggerUiDir, type OpenApiDocument } from '../../lib/http/openapi';
import { packageVersion } from '../../lib/http/health';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { toError } from '../shared/errors';

/** A route path this node may serve. */
const ROUTE_PATH = /^\/[A-Za-z0-9._~/-]{0,200}$/;

interface Req {
  baseUrl?: string;
  originalUrl?: string;
  params?: Record<string, string>;
}
interface Res {
  status(code: number): Res;
  set(headers: Record<string, string>): Res;
  send(body: unknown): Res;
  json(body: unknown): Res;
  redirect(status: number, url: string): void;
}
type Handler = (req: Req, res: Res) => void;
type App = {
  get(path: string, handler: Handler): void;
  _router?: { stack?: unknown[] };
  router?: { stack?: unknown[] };
};

/** Removes from `app` the routes whose handler is one of `handlers` (Express 4: app._router, 5: app.router). */
function removeRoutes(app: App, handlers: readonly Handler[]): void {
  const stack = app._router?.stack ?? app.router?.stack;
  if (!Array.isArray(stack)) return;
  for (let i = stack.length - 1; i >= 0; i--) {
    const layers = (stack[i] as { route?: { stack?: Array<{ handle?: unknown }> } }).route?.stack ?? [];
    if (layers.some((l) => handlers.includes(l.handle as Handler))) stack.splice(i, 1);
  }
}

export = function (RED: NodeAPI): void {
  function ApiDocsNode(this: Node, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`api-docs.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const pathSetting = (name: string, fallback: string, blankAllowed: boolean): string => {
      const v = read.text(name, fallback);
      if (v === '' && blankAllowed) return '';
      if (ROUTE_PATH.test(v) && v !== '/') return v.replace(/\/+$/, '');
      this.warn(t('errors.badPath', { name, value: v.slice(0, 60), fallback }));
      return fallback;
    };
    const specPath = pathSetting('specPath', '/openapi.json', false);
    const docsPath = pathSetting('docsPath', '/docs', true);
    const version = packageVersion(__dirname);
    const app = (RED as unknown as { httpNode?: App }).httpNode;
    const handlers: Handler[] = [];
    /** Documents by server URL (httpNodeRoot as the request came in). */
    const docs = new Map<string, OpenApiDocument>();
    const documentFor = (serverUrl: string): OpenApiDocument => {
      let doc = docs.get(serverUrl);
      if (doc === undefined) {
        doc = buildOpenApiDocument({ version, serverUrl });
        docs.set(serverUrl, doc);
      }
      return doc;
    };
    const route = (p: string, handler: Handler): void => {
      const safe: Handler = (req, res) => {
        try {
          handler(req, res);
        } catch (err) {
          this.error(t('errors.failed', { path: p, message: toError(err).message }));
          res.status(500).json({ detail: t('errors.failed', { path: p, message: 'see the Node-RED log' }) });
        }
      };
      handlers.push(safe);
      app?.get(p, safe);
    };

    const uiDir = swaggerUiDir();
    if (app === undefined || typeof app.get !== 'function') {
      this.status({ fill: 'red', shape: 'ring', text: t('status.noHttp') });
    } else {
      route(specPath, (req, res) => {
        res.set({ 'Cache-Control': 'no-cache' }).json(documentFor(req.baseUrl || '/'));
      });
      if (docsPath !== '') {
        const specUrl = path.posix.relative(path.posix.dirname(docsPath), specPath) || path.posix.basename(specPath);
        const assetBase = `${path.posix.basename(docsPath)}/`;
        const page = docsPage({ assetBase, specUrl });
        route(docsPath, (req, res) => {
          // "/docs/": the page's relative links need "/docs".
          if ((req.originalUrl ?? '').split('?')[0]?.endsWith('/') === true) {
            res.redirect(301, `../${path.posix.basename(docsPath)}`);
            return;
          }
          if (uiDir === null) {
            res.status(503).json({ detail: t('errors.noSwaggerUi') });
            return;
          }
          res.set({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }).send(page);
        });
        route(`${docsPath}/:file`, (req, res) => {
          const asset = docsAsset(req.params?.file ?? '');
          if (asset === null) {
            res.status(404).json({ detail: t('errors.noAsset') });
            return;
          }
          res.set({ 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600' }).send(asset.body);
        });
      }
      if (docsPath !== '' && uiDir === null) {
        this.warn(t('errors.noSwaggerUi'));
        this.status({ fill: 'yellow', shape: 'ring', text: t('status.specOnly', { spec: specPath }) });
      } else {
        this.status({
          fill: 'green',
          shape: 'dot',
          text: docsPath === '' ? t('status.specOnly', { spec: specPath }) : t('status.serving', { docs: docsPath, spec: specPath }),
        });
      }
    }

    this.on('input', (msg: NodeMessage, send, done) => {
      try {
        const root = (RED.settings as unknown as { httpNodeRoot?: unknown }).httpNodeRoot;
        msg.payload = documentFor(typeof root === 'string' && root !== '' ? root.replace(/(.)\/+$/, '$1') : '/');
        send(msg);
        done();
      } catch (err) {
        done(toError(err));
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      if (app !== undefined) removeRoutes(app, handlers);
      handlers.length = 0;
      docs.clear();
      done();
    });
  }

  RED.nodes.registerType('api-docs', ApiDocsNode);
};
