/**
 * lighting-alerts: turns the events of the other nodes (stale sensors, AI
 * circuit changes, gear diagnostics, a watched dali-bus, generic alert /
 * resolve messages) into alerts in the lighting store, deduplicated and
 * resolvable, and sends one { event, alert } message per change
 * (lib/contracts/alert-input reads them, lib/store/alert-events stores
 * them). It registers with its lighting-store and, when
 * one is set, with a dali-bus whose connection it watches.
 *
 * ai-decide's telemetry messages (topic "telemetry", kind "ai-call") are
 * stored as telemetry rows of kind "ai" (lib/http/query-ai-telemetry
 * aiTelemetryRow: a fixed list of fields, never the key or profile data);
 * they raise no alert and send nothing. A demand response message (topic
 * "demand-response") is stored the same way, as a telemetry row of kind
 * "demand_response" (lib/http/query-demand-response).
 */
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import type { BusStatus } from '../../lib/dali/bus-session';
import { AlertInputError, busDisconnectedRow, interpretAlertMessage, type AlertAction } from '../../lib/contracts';
import { AlertBook, busConnected, DisconnectWatch, type AlertEvent } from '../../lib/store/alert-events';
import { aiTelemetryRow } from '../../lib/http/query-ai-telemetry';
import { demandResponseRow } from '../../lib/http/query-demand-response';
import { DEMAND_RESPONSE_TOPIC } from '../../lib/control/demand-response';
import { RowValidationError, type TelemetryRow } from '../../lib/store/rows';
import { findOwner, type DaliBusNode, type LightingStoreNode } from '../shared/owners';
import { idleStatus, shortText, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { messageOf } from '../shared/errors';

interface LightingAlertsSettings {
  /** Zone of alerts that name none; "" = site-wide. */
  zone: string;
  /** Seconds the bus may be not connected before busDisconnected is raised; 0 = at once. */
  disconnectAfterS: number;
}

interface LightingAlertsNode extends Node, OwnerStatusListener {
  settings: LightingAlertsSettings;
  store: LightingStoreNode | null;
  bus: DaliBusNode | null;
}

/** While the store fails, its count is asked again this often (the status recovers by itself). */
const STORE_RETRY_MS = 5000;

export = function (RED: NodeAPI): void {
  function LightingAlerts(this: LightingAlertsNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`lighting-alerts.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    const s: LightingAlertsSettings = {
      zone: read.text('zone'),
      disconnectAfterS: read.number('disconnectAfterS', 30, 0, 86400),
    };
    this.settings = s;
    const zone = s.zone === '' ? null : s.zone;
    const storeOwner = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    const busOwner = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.store = storeOwner;
    this.bus = busOwner;
    let closed = false;

    const view = new StatusView(this);
    this.ownerStatus = (status: NodeStatus): void => {
      if (!closed) view.owner(status);
    };
    /** Bumped by every red status: a count that started before it does not hide it. */
    let problems = 0;
    const show = (status: NodeStatus): void => {
      if (status.fill === 'red') problems += 1;
      if (!closed) view.show(status, true);
    };
    /**
     * A store failure shows red; the count is asked again every STORE_RETRY_MS until it answers, so the
     * status turns green by itself once the database is back, with or without alerts in between.
     */
    let storeDown = false;
    let storeRetry: NodeJS.Timeout | null = null;
    const storeFailed = (err: unknown): void => {
      storeDown = true;
      show({ fill: 'red', shape: 'ring', text: shortText(t('status.storeError', { message: messageOf(err) })) });
      if (storeRetry === null && !closed)
        storeRetry = setTimeout(() => {
          storeRetry = null;
          if (!closed) refreshCount();
        }, STORE_RETRY_MS);
    };

    const book = storeOwner ? new AlertBook(() => storeOwner.getStore()) : null;
    const refreshCount = (): void => {
      const at = problems;
      book?.activeCount().then(
        (n) => {
          storeDown = false;
          if (problems === at) show({ fill: 'green', shape: 'dot', text: t('status.active', { n }) });
        },
        (err: unknown) => {
          if (problems === at) storeFailed(err);
        },
      );
    };
    const emit = (events: AlertEvent[], send: (m: NodeMessage) => void): void => {
      for (const ev of events) send({ topic: 'alert', payload: ev } as NodeMessage);
    };

    this.status(idleStatus(RED, this, storeOwner !== null));
    storeOwner?.register(this);
    if (book) refreshCount();

    // ---- the watched bus ----
    let watch: DisconnectWatch | null = null;
    let lastBusStatus: BusStatus = { kind: 'connecting' };
    const fromBus = (action: AlertAction): void => {
      if (!book || closed) return;
      book.apply(action).then(
        (events) => {
          if (closed) return;
          emit(events, (m) => this.send(m));
          if (events.length > 0) refreshCount();
        },
        (err: unknown) => {
          if (closed) return;
          storeFailed(err);
          this.error(t('errors.store', { message: messageOf(err) }));
        },
      );
    };
    const onBusStatus = (status: BusStatus): void => {
      lastBusStatus = status;
      const connected = busConnected(status.kind);
      if (connected !== null) watch?.update(connected);
    };
    if (busOwner) {
      const bus = { id: busOwner.id, name: busOwner.name || busOwner.id };
      watch = new DisconnectWatch(s.disconnectAfterS * 1000, {
        down: () => fromBus({ type: 'raise', row: busDisconnectedRow(zone, bus, lastBusStatus, s.disconnectAfterS) }),
        up: () => fromBus({ type: 'resolve', kind: 'busDisconnected', zone, by: 'reconnected', match: { bus: bus.id } }),
      });
      busOwner.session.on('status', onBusStatus);
      busOwner.register(this);
      onBusStatus(busOwner.session.status);
    }

    this.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      const fail = (err: unknown, key: 'invalid' | 'storeError'): void => {
        if (closed) return done();
        if (key === 'storeError') storeFailed(err);
        else show({ fill: 'red', shape: 'ring', text: t('status.invalid') });
        done(new Error(t(`errors.${key === 'invalid' ? 'input' : 'store'}`, { message: messageOf(err) })));
      };
      let telemetry: TelemetryRow | null;
      try {
        telemetry =
          msg.topic === 'telemetry'
            ? aiTelemetryRow(msg.payload)
            : msg.topic === DEMAND_RESPONSE_TOPIC
              ? demandResponseRow(msg.payload, Date.now())
              : null;
      } catch (err) {
        return fail(err, 'invalid');
      }
      if (telemetry !== null) {
        if (!storeOwner) return done();
        storeOwner
          .getStore()
          .then((store) => store.insert('telemetry', telemetry))
          .then(
            () => {
              if (storeDown) refreshCount();
              done();
            },
            (err: unknown) => fail(err, err instanceof RowValidationError ? 'invalid' : 'storeError'),
          );
        return;
      }
      let action: AlertAction;
      try {
        action = interpretAlertMessage(msg, { zone });
      } catch (err) {
        return fail(err, 'invalid');
      }
      if (action.type === 'ignore') return done();
      if (!book) return fail(new Error(t('errors.noStore')), 'invalid');
      book.apply(action).then(
        (events) => {
          if (closed) return done();
          emit(events, send);
          refreshCount();
          done();
        },
        (err: unknown) => fail(err, err instanceof AlertInputError || err instanceof RowValidationError ? 'invalid' : 'storeError'),
      );
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (storeRetry !== null) clearTimeout(storeRetry);
      storeRetry = null;
      watch?.stop();
      busOwner?.session.off('status', onBusStatus);
      const leaveStore = (): void => (storeOwner ? storeOwner.deregister(this, done, removed) : done());
      const leaveBus = (): void => (busOwner ? busOwner.deregister(this, leaveStore, removed) : leaveStore());
      (book ? book.idle() : Promise.resolve()).then(leaveBus, leaveBus);
    });
  }

  RED.nodes.registerType('lighting-alerts', LightingAlerts);
};
