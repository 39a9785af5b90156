/**
 * Installs the API's front door (lib/http/front-door) once per HTTP node app
 * (RED.httpNode), from a node module's registration: the flows start after
 * every module is registered, so it comes before every route the http-in
 * nodes add.
 */
import type { NodeAPI } from 'node-red';
import { FrontDoor, expressServes, parseByteLimit, type Res } from '../../lib/http/front-door';
import { createLogger } from '../../lib/http/log';

const doors = new WeakMap<object, FrontDoor>();

type Layer = { handle?: unknown; name?: unknown };
type App = ((...args: unknown[]) => unknown) & {
  use(fn: unknown): unknown;
  parent?: App;
  _router?: { stack?: Layer[] };
  router?: { stack?: Layer[] };
};

/**
 * Adds `fn` to `app` and moves it to the front of its stack, just behind
 * Express's own request setup (expressInit), as 21-httpin does for its raw
 * body capture.
 */
function useFirst(app: App, fn: unknown): void {
  app.use(fn);
  const stack = app._router?.stack ?? app.router?.stack;
  if (!Array.isArray(stack)) return;
  const i = stack.findIndex((layer) => layer?.handle === fn);
  if (i < 0) return;
  const [layer] = stack.splice(i, 1);
  const init = stack.findIndex((l) => l?.name === 'expressInit');
  stack.splice(init + 1, 0, layer as Layer);
}

/** The front door of RED.httpNode, installing it on first call; null when there is no HTTP node app. */
export function frontDoor(RED: NodeAPI): FrontDoor | null {
  const app = (RED as unknown as { httpNode?: App }).httpNode;
  if (typeof app !== 'function' || typeof app.use !== 'function') return null;
  const known = doors.get(app);
  if (known !== undefined) return known;
  const settings = RED.settings as unknown as { apiMaxLength?: unknown; httpNodeRoot?: unknown };
  const limitText =
    typeof settings.apiMaxLength === 'string'
      ? settings.apiMaxLength
      : typeof settings.apiMaxLength === 'number'
        ? `${settings.apiMaxLength} bytes`
        : '5mb';
  const log = createLogger({
    sink: (line: string) => {
      process.stdout.write(`${line}\n`);
    },
    base: { component: 'api-guard' },
  });
  const door = new FrontDoor({
    maxBodyBytes: parseByteLimit(settings.apiMaxLength),
    maxBodyText: limitText,
    routeServes: (method, path) => expressServes(app, method, path),
    mountPath: typeof settings.httpNodeRoot === 'string' ? settings.httpNodeRoot : '/',
    log,
  });
  doors.set(app, door);
  // Added at module load, before the flows start: ahead of every route the http-in nodes add.
  app.use(door.handle);
  // The editor's app sits in front of the HTTP node app when both are at "/" and parses every
  // JSON body with body-parser (errors: an HTML page with a stack): the door also goes first in
  // the server's top app, which both are mounted on (Express sets `parent` when mounting).
  const top = app.parent;
  if (typeof top === 'function' && typeof top.use === 'function') useFirst(top, door.handle);
  // Express's documented override of its response API, on the prototype of the responses of every app
  // that can answer an API request: the HTTP node app (routes, httpNodeMiddleware, CORS), the top app
  // (httpNodeAuth's 401) and the editor's app (httpAdminMiddleware when both share a root).
  const admin = (RED as unknown as { httpAdmin?: unknown }).httpAdmin;
  for (const a of [app, top, admin]) {
    const proto = typeof a === 'function' ? (a as { response?: unknown }).response : undefined;
    if (typeof proto === 'object' && proto !== null) door.installOn(proto as Res);
  }
  const events = (RED as unknown as { events?: { on(name: string, fn: () => void): void } }).events;
  events?.on('flows:stopped', () => door.flowsStopped());
  return door;
}
