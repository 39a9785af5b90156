/**
 * feature-window: sensor readings (and weather updates) in, one feature
 * window per zone out at each window end (FeatureWindowService of
 * lib/features: streaming statistics, grace for late readings, restore and
 * replay from the lighting store at start). Output 1: windows; output 2: an
 * acknowledgement per stored message ({id, committed}; with
 * msg.waitForCommit only after the commit), or (acks "http") only per
 * message that came with an HTTP request to answer. The hot path is readable by other
 * nodes through `node.latest(zone, n)`.
 */
import { findZones, zoneMapOrNull, zoneRefusal } from '../shared/zones';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import type { FeatureWindow } from '../../lib/contracts';
import { FeatureWindowService } from '../../lib/features';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { hhmm, idleStatus, shortText, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { toError } from '../shared/errors';

interface FeatureWindowSettings {
  /** Window length; whole minutes in the editor, a fraction (>= 1 s) accepted from hand-edited flows. */
  windowMinutes: number;
  keepWindows: number;
  /** How long after a window ends late readings are still accepted into it. */
  graceS: number;
  /** Output 2 gets an acknowledgement of every stored message, or only of those that came with an HTTP request (msg.res). */
  acks: 'all' | 'http';
}

interface FeatureWindowNode extends Node, OwnerStatusListener {
  settings: FeatureWindowSettings;
  store: LightingStoreNode | null;
  /** The last `n` (default keepWindows) windows of `zone`, newest first (partial snapshots included); [] before start. */
  latest(zone: string, n?: number): FeatureWindow[];
}

type Msg = NodeMessage & { waitForCommit?: unknown };

export = function (RED: NodeAPI): void {
  function FeatureWindowNodeType(this: FeatureWindowNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`feature-window.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    this.settings = {
      windowMinutes: read.number('windowMinutes', 5, 1 / 60, 1440),
      keepWindows: read.number('keepWindows', 3, 1, 1000, true),
      graceS: read.number('graceS', 60, 0, 3600, true),
      acks: read.choice('acks', ['all', 'http'] as const, 'all'),
    };
    const ackHttpOnly = this.settings.acks === 'http';
    const windowMs = Math.max(1000, Math.round(this.settings.windowMinutes * 60_000));
    const owner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    this.store = owner;

    let svc: FeatureWindowService | null = null;
    let starting: Promise<FeatureWindowService> | null = null;
    let closing = false;
    /** The status shows an error (until the next message handled or window sent). */
    let failed = false;
    let sent = 0;
    let lastEnd: number | null = null;

    /** The node's own status (sticky): the store's "connected" gives way to it, the store's errors do not. */
    const view = new StatusView(this);
    const show = (status: NodeStatus): void => {
      if (!closing) view.show(status, true);
    };
    this.ownerStatus = (status: NodeStatus): void => {
      if (!closing) view.owner(status);
    };
    const showCounts = (): void => {
      if (closing || svc === null) return;
      failed = false;
      const zones = svc.engine.zones().length;
      show(
        lastEnd === null
          ? { fill: 'green', shape: 'dot', text: t('status.waiting', { zones }) }
          : { fill: 'green', shape: 'dot', text: t('status.windows', { windows: sent, zones, time: hhmm(lastEnd) }) },
      );
    };
    const onWindow = (w: FeatureWindow): void => {
      this.debug(
        t('log.featureRow', {
          zone: w.zone,
          start: new Date(w.windowStart).toISOString(),
          end: new Date(w.windowEnd).toISOString(),
          count: w.count,
          partial: w.partial === true ? ' (partial)' : '',
        }),
      );
      if (closing) return;
      sent += 1;
      lastEnd = w.windowEnd;
      this.send([{ topic: w.zone, payload: w }, null]);
      showCounts();
    };

    const zones = findZones(RED, config.zones);
    const zoneMap = zoneMapOrNull(zones);
    const start = async (store: LightingStoreNode): Promise<FeatureWindowService> => {
      const handle = await store.getStore();
      if (closing) throw new Error(t('errors.closed'));
      const s = new FeatureWindowService({
        windowMs,
        graceMs: this.settings.graceS * 1000,
        keepWindows: this.settings.keepWindows,
        tickMs: Math.min(1000, Math.max(50, Math.round(windowMs / 20))),
        store: handle,
        onWindow,
        onError: (err) => this.error(t('errors.background', { message: err.message })),
        // With a zone map, zones no longer in it do not come back after a restart.
        ...(zoneMap ? { allowZone: (zone: string) => zoneMap.has(zone) } : {}),
      });
      svc = s;
      const restored = await s.start();
      if (restored.restoredWindows > 0 || restored.replayedReadings > 0) {
        this.log(t('log.restored', { windows: restored.restoredWindows, readings: restored.replayedReadings }));
      }
      showCounts();
      return s;
    };
    /** The running service, starting (or retrying a failed start) when needed. */
    const ensureStarted = (): Promise<FeatureWindowService> => {
      if (owner === null) return Promise.reject(new Error(t('errors.noStore')));
      if (starting === null) {
        const p = start(owner);
        starting = p;
        p.catch((err: unknown) => {
          if (starting === p) starting = null;
          svc = null;
          if (!closing) show({ fill: 'red', shape: 'ring', text: shortText((err as Error).message) });
        });
      }
      return starting;
    };
    this.latest = (zone: string, n?: number) => (svc === null ? [] : svc.latest(zone, n));

    this.status(idleStatus(RED, this, owner !== null));
    if (owner !== null) {
      owner.register(this);
      ensureStarted().catch(() => undefined);
    }

    const handle = async (msg: Msg): Promise<NodeMessage> => {
      const s = await ensureStarted();
      const waitForCommit = msg.waitForCommit === true;
      if (msg.topic === 'aggregate') {
        msg.payload = { aggregated: s.aggregateNow().length };
      } else if (msg.topic === 'weather') {
        const { ack } = await s.ingestWeatherWithAck(msg.payload, { waitForCommit });
        msg.payload = { id: ack?.id ?? null, committed: ack?.committed === true };
      } else {
        const r = await s.ingest(msg.payload, { waitForCommit });
        msg.payload = { id: r.ack?.id ?? null, committed: r.ack?.committed === true, late: r.late };
      }
      return msg;
    };

    this.on('input', (msg, send, done) => {
      const refused = zoneRefusal(zones, (msg as Msg).payload);
      if (refused !== null) {
        show({ fill: 'red', shape: 'ring', text: shortText(refused) });
        return done(new Error(refused));
      }
      handle(msg as Msg).then(
        (ack) => {
          // "HTTP requests only": the message stops here, stored, when there is no request to answer.
          if (!ackHttpOnly || (ack.res !== undefined && ack.res !== null)) send([null, ack]);
          if (failed) showCounts();
          done();
        },
        (err: unknown) => {
          const error = toError(err);
          failed = true;
          show({ fill: 'red', shape: 'ring', text: shortText(error.message) });
          done(error);
        },
      );
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      void svc?.stop();
      const leave = (): void => (owner ? owner.deregister(this, done, removed) : done());
      // A start still restoring finishes first (its timer never starts once stopped).
      (starting ?? Promise.resolve(null))
        .then(
          () => svc?.stop(),
          () => undefined,
        )
        .then(leave, leave);
    });
  }

  RED.nodes.registerType('feature-window', FeatureWindowNodeType);
};
