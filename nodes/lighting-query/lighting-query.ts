/**
 * lighting-query: answers of the runtime HTTP API (and dashboards) read from
 * the lighting store: decisions, telemetry, alerts (list, resolve), health,
 * daily energy, the latest feature windows, and encrypted personal profiles
 * (store-profile: checked against FERNET_KEY, stored encrypted; profile: read
 * back), lib/http/query-api. Output 1: the answer (msg.payload,
 * msg.statusCode 200, 201 for store-profile; health also 503; msg.profile =
 * the still encrypted blob for the profile queries); output 2:
 * not answered (msg.statusCode 4xx/5xx, msg.payload {detail}). msg.req/res
 * are kept, so both outputs can be wired to an `http response` node.
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import {
  buildHealthReport,
  daliProbe,
  healthHttpStatus,
  packageVersion,
  type HealthProbes,
  type HealthReport,
} from '../../lib/http/health';
import { QUERY_KINDS, runQuery, type Answer, type QueryKind } from '../../lib/http/query-api';
import { errorBody } from '../../lib/http/schemas';
import { findOwner, type DaliBusNode, type LightingStoreNode } from '../shared/owners';
import { schedulerProbe } from '../shared/schedulers';
import { hhmm, idleStatus, shortText, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { toError } from '../shared/errors';
import { findZones, zoneMapOrNull } from '../shared/zones';
import { zoneRatedWatts } from '../../lib/zones/zone-map';
import type { ReportZone } from '../../lib/http/query-report';

interface LightingQuerySettings {
  query: QueryKind;
  /** Windows answered by latest-windows, 1-3. */
  windows: number;
  /** Input power of a zone's luminaires at 100 %, W (energy); null = not set. */
  fixtureWatts: number | null;
  /** telemetry-ai: prices per million input / output tokens; null = AI_PRICE_*_PER_MTOK of the environment. */
  priceInputPerMTok: number | null;
  priceOutputPerMTok: number | null;
}

interface LightingQueryNode extends Node, OwnerStatusListener {
  settings: LightingQuerySettings;
  store: LightingStoreNode | null;
  bus: DaliBusNode | null;
}

type Msg = NodeMessage & { res?: unknown; statusCode?: number; changed?: boolean; profile?: unknown; headers?: Record<string, string> };
type Result = Answer | { statusCode: 500; payload: { detail: string } } | { statusCode: 200 | 503; payload: HealthReport };

export = function (RED: NodeAPI): void {
  function LightingQuery(this: LightingQueryNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`lighting-query.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const s: LightingQuerySettings = {
      query: read.choice('query', QUERY_KINDS, 'decisions'),
      windows: read.number('windows', 3, 1, 3, true),
      fixtureWatts: read.optionalNumber('fixtureWatts', 0.001, 100000),
      priceInputPerMTok: read.optionalNumber('priceInputPerMTok', 0, 1e6),
      priceOutputPerMTok: read.optionalNumber('priceOutputPerMTok', 0, 1e6),
    };
    this.settings = s;
    const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store = owner;
    // Read only (health): this node does not register with the bus, so it never opens the interface itself.
    const bus = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.bus = bus;
    const zones = findZones(RED, config.zones);
    /** report: a zone's target and luminaires from the zone map (wattage: the node's setting when the map has none). */
    const reportZone = (zone: string): ReportZone => {
      const spec = zoneMapOrNull(zones)?.get(zone);
      const watts = (spec ? zoneRatedWatts(spec) : undefined) ?? s.fixtureWatts;
      return { zone, ...(spec?.label !== undefined ? { label: spec.label } : {}), targetLux: spec?.targetLux ?? null, fixtureWatts: watts };
    };
    const version = packageVersion(__dirname);
    let closing = false;
    /** The database failure last logged ("" = healthy), so a polled /healthz logs each failure once. */
    let loggedDbFailure = '';

    const view = new StatusView(this);
    const show = (status: NodeStatus): void => {
      if (!closing) view.show(status, true);
    };
    this.ownerStatus = (status: NodeStatus): void => {
      if (!closing) view.owner(status);
    };
    this.status(idleStatus(RED, this, owner !== null));
    owner?.register(this);

    const health = async (): Promise<Result> => {
      const probes: HealthProbes = {
        database: async () => {
          if (owner === null) throw new Error(t('errors.noStore'));
          return (await owner.getStore()).healthCheck();
        },
      };
      if (bus !== null) probes.dali = () => daliProbe(bus.session, bus.settings.interfaceType);
      const scheduler = schedulerProbe();
      if (scheduler !== null) probes.scheduler = () => scheduler;
      const report = await buildHealthReport(probes, { version });
      if (!report.checks.database.ok) {
        if (report.database !== loggedDbFailure) this.error(t('errors.database', { message: report.database }));
        loggedDbFailure = report.database;
      } else loggedDbFailure = '';
      return { statusCode: healthHttpStatus(report), payload: report };
    };

    const answer = async (msg: Msg): Promise<Result> => {
      if (s.query === 'health') return health();
      if (owner === null) return { statusCode: 503, payload: errorBody(t('errors.noStore')) };
      let store;
      try {
        store = await owner.getStore();
      } catch (err) {
        return { statusCode: 503, payload: errorBody(t('errors.unavailable', { message: (err as Error).message })) };
      }
      if (store.closed) return { statusCode: 503, payload: errorBody(t('errors.unavailable', { message: 'closed' })) };
      try {
        return await runQuery(s.query, store, msg.payload, {
          windows: s.windows,
          fixtureWatts: s.fixtureWatts,
          prices: { inputPerMTok: s.priceInputPerMTok, outputPerMTok: s.priceOutputPerMTok },
          reportZone,
          ...(zones ? { reportZones: () => zoneMapOrNull(zones)?.zones() ?? [] } : {}),
        });
      } catch (err) {
        return { statusCode: 500, payload: errorBody(t('errors.failed', { message: (err as Error).message })) };
      }
    };

    /** The 5xx a message without msg.res (a poll, say) last ended with: the same one again only sets the status. */
    let lastPolledFailure = '';
    this.on('input', (msg: Msg, send, done) => {
      answer(msg).then(
        (a) => {
          msg.payload = a.payload;
          msg.statusCode = a.statusCode;
          if ('changed' in a && a.changed !== undefined) msg.changed = a.changed;
          if ('profile' in a && a.profile !== undefined) msg.profile = a.profile;
          if ('contentType' in a && a.contentType !== undefined) msg.headers = { ...(msg.headers ?? {}), 'content-type': a.contentType };
          if (a.statusCode < 400 || s.query === 'health') {
            if (msg.res === undefined) lastPolledFailure = '';
            send([msg, null]);
            const degraded = a.statusCode >= 300;
            show({
              fill: degraded ? 'yellow' : 'green',
              shape: degraded ? 'ring' : 'dot',
              text: t(degraded ? 'status.degraded' : 'status.answered', { query: s.query, code: a.statusCode, time: hhmm(Date.now()) }),
            });
            done();
            return;
          }
          const detail = (a.payload as { detail: string }).detail;
          send([null, msg]);
          const notFound = a.statusCode === 404;
          show({ fill: notFound ? 'yellow' : 'red', shape: 'ring', text: shortText(`${a.statusCode}: ${detail}`) });
          if (msg.res !== undefined || notFound) {
            if (a.statusCode >= 500) this.error(detail);
            done();
          } else if (a.statusCode >= 500 && detail === lastPolledFailure) {
            done(); // a repeated poll during the same outage: once in the log is enough, the status says it still lasts
          } else {
            if (a.statusCode >= 500) lastPolledFailure = detail;
            done(new Error(detail));
          }
        },
        (err: unknown) => done(toError(err)),
      );
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      if (owner) owner.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('lighting-query', LightingQuery);
};
