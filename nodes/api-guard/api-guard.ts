/**
 * api-guard: the front door of one HTTP API endpoint (after an `http in`, or
 * an mqtt in / inject). Rate limit (shared by every api-guard with the same
 * limit), admin bearer token and body/query validation of lib/http/api-request;
 * output 1: the validated message for the next nodes, output 2: a ready
 * rejection (statusCode, headers, payload {detail}) for an `http response`.
 * One structured JSON log line per HTTP request (never the body or headers:
 * for `profile` the body is an encrypted personal profile), written when the
 * answer has been sent, with the status actually sent and the request id:
 * info below 400, warn for 4xx, error for 5xx (with the answer's detail).
 * Registering this module installs the API's front door on RED.httpNode
 * (JSON answers for bad bodies and for requests while the flows are stopped).
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import {
  acquireSharedLimiter,
  alwaysRequiresAdmin,
  API_OPERATIONS,
  ApiGuard,
  type ApiOperation,
  type ApiRequestLike,
  type SharedLimiter,
} from '../../lib/http/api-request';
import { MIN_ADMIN_TOKEN_LENGTH, resolveAdminToken } from '../../lib/http/admin-auth';
import { createLogger, type Logger } from '../../lib/http/log';
import { MAX_OVERRIDE_REQUEST_MINUTES } from '../../lib/contracts';
import { idleStatus } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { toError } from '../shared/errors';
import { findZones } from '../shared/zones';
import { addAnswerFields, answerOf, requestIdOf } from '../../lib/http/front-door';
import { frontDoor } from '../shared/front-door';

interface Credentials {
  adminToken?: string;
}

interface ApiGuardSettings {
  operation: ApiOperation;
  rateLimit: number;
  trustProxy: boolean;
  requireAdmin: boolean;
  overrideMinutes: number;
  defaultZone: string;
  logRequests: boolean;
}

type Msg = NodeMessage & {
  req?: ApiRequestLike;
  res?: unknown;
  statusCode?: number;
  headers?: Record<string, string>;
  waitForCommit?: boolean;
  control?: unknown;
};
type Done = (err?: Error) => void;

/** Status updates at most this often under traffic. */
const STATUS_THROTTLE_MS = 1000;

/** All request lines go to stdout (the logger's default puts warn on stderr). */
const stdoutSink = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function readSettings(read: SettingsReader): ApiGuardSettings {
  const operation = read.choice('operation', API_OPERATIONS, 'ingest-sensor');
  return {
    operation,
    rateLimit: read.number('rateLimit', 60, 0, 100_000, true),
    trustProxy: read.bool('trustProxy', false),
    requireAdmin: alwaysRequiresAdmin(operation) || read.bool('requireAdmin', false),
    overrideMinutes: read.number('overrideMinutes', 30, 1, MAX_OVERRIDE_REQUEST_MINUTES, true),
    defaultZone: read.text('defaultZone').slice(0, 200),
    logRequests: read.bool('logRequests', true),
  };
}

/** The Node.js response under http-in's msg.res wrapper. */
interface RawRes {
  statusCode: number;
  writableFinished?: boolean;
  once(event: 'close', fn: () => void): void;
}

function rawResponse(res: unknown): RawRes | null {
  const raw = typeof res === 'object' && res !== null ? (res as { _res?: unknown })._res : undefined;
  return typeof raw === 'object' && raw !== null && typeof (raw as RawRes).once === 'function' ? (raw as RawRes) : null;
}

export = function (RED: NodeAPI): void {
  const door = frontDoor(RED);

  function ApiGuardNode(this: Node<Credentials>, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`api-guard.${key}`, subs);
    const s = readSettings(new SettingsReader(RED, this, config));
    const shared: SharedLimiter | null = s.rateLimit > 0 ? acquireSharedLimiter(s.rateLimit) : null;
    const zones = findZones(RED, config.zones);
    const credential = typeof this.credentials?.adminToken === 'string' ? this.credentials.adminToken : '';
    const configuredToken = s.requireAdmin ? resolveAdminToken(credential) : null;
    /** A token is set but too short (refused): say so, not "none is configured". */
    const tokenTooShort = configuredToken !== null && configuredToken.length < MIN_ADMIN_TOKEN_LENGTH;
    const guard = new ApiGuard({
      operation: s.operation,
      limiter: shared?.limiter ?? null,
      trustProxy: s.trustProxy,
      requireAdmin: s.requireAdmin,
      adminToken: configuredToken,
      overrideMinutes: s.overrideMinutes,
      ...(s.defaultZone !== '' ? { defaultZone: s.defaultZone } : {}),
      ...(zones ? { zones: zones.map } : {}),
    });
    const log: Logger | null = s.logRequests
      ? createLogger({ sink: stdoutSink, base: { component: 'api-guard', operation: s.operation } })
      : null;

    const adminProblem = guard.adminProblem;
    if (adminProblem !== null) this.warn(tokenTooShort ? t('errors.shortToken', { min: MIN_ADMIN_TOKEN_LENGTH }) : t('errors.noToken'));
    let accepted = 0;
    let rejected = 0;
    let statusTimer: NodeJS.Timeout | null = null;
    let lastStatusAt = 0;
    const showStatus = (): void => {
      statusTimer = null;
      lastStatusAt = Date.now();
      if (adminProblem !== null) {
        this.status({ fill: 'red', shape: 'ring', text: t(tokenTooShort ? 'status.shortToken' : 'status.noToken', { rejected }) });
      } else {
        this.status({ fill: 'green', shape: 'dot', text: t('status.counts', { accepted, rejected }) });
      }
    };
    const scheduleStatus = (): void => {
      if (statusTimer !== null) return;
      const wait = lastStatusAt + STATUS_THROTTLE_MS - Date.now();
      if (wait <= 0) showStatus();
      else statusTimer = setTimeout(showStatus, wait);
    };
    if (adminProblem !== null) showStatus();
    else this.status(idleStatus(RED, this, true));

    const handle = (msg: Msg, send: (m: Array<Msg | null>) => void, done: Done): void => {
      const started = Date.now();
      const outcome = guard.check({ req: msg.req, payload: msg.payload });
      const r = outcome.result;
      if (r.ok) {
        accepted++;
        msg.payload = r.payload;
        if (r.topic !== undefined) msg.topic = r.topic;
        if (r.statusCode !== undefined) msg.statusCode = r.statusCode;
        if (r.waitForCommit) msg.waitForCommit = true;
        if (r.control !== undefined) msg.control = r.control;
        if (r.answerFields !== undefined) {
          const raw = rawResponse(msg.res);
          if (raw !== null) addAnswerFields(raw, r.answerFields);
        }
      } else {
        rejected++;
        msg.statusCode = r.status;
        msg.headers = { ...r.headers };
        msg.payload = { ...r.body };
      }
      const route = (msg.req as { route?: { path?: unknown } } | undefined)?.route?.path;
      if (door !== null && outcome.method !== null && typeof route === 'string') door.learn(outcome.method, route);
      if (log !== null && outcome.method !== null) {
        const requestId = requestIdOf(msg.req) ?? msg._msgid;
        const { method, path, client } = outcome;
        const raw = rawResponse(msg.res);
        let logged = false;
        /** One line with the status sent (the guard's own answer, or what the flow answered later). */
        const write = (status: number | null): void => {
          if (logged) return;
          logged = true;
          const fields: Record<string, unknown> = { requestId, method, path, client, status, ms: Date.now() - started };
          if (!r.ok) fields.reason = r.reason;
          if (status !== null && status < 400) {
            fields.outcome = 'accepted';
            log.info('api request', fields);
            return;
          }
          fields.outcome = status === null ? 'aborted' : status >= 500 ? 'failed' : 'rejected';
          const detail = status === null ? undefined : answerOf(raw).detail;
          if (detail !== undefined) fields.detail = detail;
          if (status === null) log.warn('api request aborted', fields);
          else if (status >= 500) log.error('api request failed', fields);
          else log.warn('api request rejected', fields);
        };
        if (raw === null) write(r.ok ? (r.statusCode ?? 200) : r.status);
        else if (raw.writableFinished === true) write(raw.statusCode);
        // 'close' comes after 'finish' when the answer went out, alone when the connection dropped first.
        else raw.once('close', () => write(raw.writableFinished === true ? raw.statusCode : null));
      }
      scheduleStatus();
      if (r.ok) {
        send([msg, null]);
        done();
        return;
      }
      send([null, msg]);
      // Over HTTP the 4xx answer is the error report; otherwise Catch nodes must see it.
      if (msg.res !== undefined && msg.res !== null) done();
      else done(new Error(t('errors.rejected', { status: r.status, detail: r.body.detail })));
    };

    this.on('input', (msg, send, done) => {
      try {
        handle(msg as Msg, send as (m: Array<Msg | null>) => void, done);
      } catch (err) {
        done(toError(err));
      }
    });

    this.on('close', (_removed: boolean, done: () => void) => {
      if (statusTimer !== null) clearTimeout(statusTimer);
      statusTimer = null;
      shared?.release();
      done();
    });
  }

  RED.nodes.registerType<Node<Credentials>, NodeConfig, Record<string, never>, Credentials>('api-guard', ApiGuardNode, {
    credentials: { adminToken: { type: 'password' } },
  });
};
