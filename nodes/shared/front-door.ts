/**
 * Installs the API's front door (lib/http/front-door) once per HTTP node app
 * (RED.httpNode), from a node module's registration: the flows start after
 * every module is registered, so it comes before every route the http-in
 * nodes add.
 */
import type { NodeAPI } from 'node-red';
import { FrontDoor, expressServes, parseByteLimit } from '../../lib/http/front-door';
import { createLogger } from '../../lib/http/log';

const doors = new WeakMap<object, FrontDoor>();

type App = ((...args: unknown[]) => unknown) & { use(fn: unknown): unknown };

/** The front door of RED.httpNode, installing it on first call; null when there is no HTTP node app. */
export function frontDoor(RED: NodeAPI): FrontDoor | null {
  const app = (RED as unknown as { httpNode?: App }).httpNode;
  if (typeof app !== 'function' || typeof app.use !== 'function') return null;
  const known = doors.get(app);
  if (known !== undefined) return known;
  const settings = RED.settings as unknown as { apiMaxLength?: unknown };
  const limitText = typeof settings.apiMaxLength === 'string' ? settings.apiMaxLength : typeof settings.apiMaxLength === 'number' ? `${settings.apiMaxLength} bytes` : '5mb';
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
    log,
  });
  doors.set(app, door);
  // Added at module load, before the flows start: ahead of every route the http-in nodes add.
  app.use(door.handle);
  const events = (RED as unknown as { events?: { on(name: string, fn: () => void): void } }).events;
  events?.on('flows:stopped', () => door.flowsStopped());
  return door;
}
