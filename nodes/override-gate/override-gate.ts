/**
 * override-gate: manual overrides per zone and an anti-flicker guard between
 * automatic deciders and the lights (OverrideGate of lib/control). Output 1:
 * setpoints that pass (maybe step-limited); output 2: reports (blocked,
 * overrideStarted, overrideCleared, overrideExpired). Overrides persist
 * through an OverrideRepository: the lighting-store's database when one is
 * configured, else memory kept per node id (survives a redeploy).
 */
import { isFiniteNumber, isPlainObject, type Setpoint } from '../../lib/contracts';
import { findZones, loadZoneState, zoneMapOrNull, zoneRefusal } from '../shared/zones';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { DeadlineTimer, type GateResult, OverrideGate, type OverrideRow, validateSetpoint } from '../../lib/control';
import {
  gateDecisionRow,
  MemoryOverrideRepository,
  type OverrideRepository,
  StoreOverrideRepository,
  storeFromOwner,
} from '../../lib/control/repository';
import { ContextState } from '../shared/context-state';
import { findOwner, type LightingStoreNode } from '../shared/owners';
import { idleStatus, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import {
  blockedReport,
  commandOf,
  expiredReport,
  type OverrideGateSettings,
  parseClear,
  parseManualChange,
  readGateSettings,
  startedReport,
} from './gate-io';
import { messageOf, toError } from '../shared/errors';
import { refusesWrites, StorageUnavailableError, type StorageFault } from '../../lib/store/storage-fault';

interface OverrideGateNode extends Node, OwnerStatusListener {
  settings: OverrideGateSettings;
  /** Optional: persists overrides so a restart does not forget them. */
  store: LightingStoreNode | null;
}

type Msg = NodeMessage & { energy?: unknown; gate?: unknown };
type Done = (err?: Error) => void;

/** Overrides of gates without a database, by node id: a redeploy keeps them, removing the node drops them. */
const memoryRepositories = new Map<string, MemoryOverrideRepository>();
const CLOSE_WAIT_MS = 5000;
/** A failed setpoint's decision is looked for among those recorded this long before the failure (a bus send ends within a minute). */
const NOT_SENT_WINDOW_MS = 10 * 60_000;

export = function (RED: NodeAPI): void {
  function OverrideGateNode(this: OverrideGateNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`override-gate.${key}`, subs);
    this.settings = readGateSettings(new SettingsReader(RED, this, config));
    this.store = findOwner<LightingStoreNode>(RED, config.store, 'lighting-store');
    /** The gate's own status (sticky): the store's "connected" gives way to it, the store's errors do not. */
    const view = new StatusView(this);
    this.ownerStatus = (status: NodeStatus): void => view.owner(status);
    this.store?.register(this);
    const gate = new OverrideGate(this.settings);
    // The last level per zone (anti-flicker, manual-change detection) outlives a redeploy or restart.
    const saved = new ContextState(
      this,
      'gateApplied',
      () => gate.appliedJSON(),
      (err) => this.warn(t('errors.context', { detail: err.message })),
    );
    // With a zone map, the last levels of zones no longer in it are dropped.
    const zones = findZones(RED, config.zones);
    const zoneMap = zoneMapOrNull(zones);
    loadZoneState(saved, zones, (value) =>
      gate.restoreApplied(
        zoneMap && Array.isArray(value) ? value.filter((r: unknown) => zoneMap.has((r as { zone?: unknown } | null)?.zone)) : value,
      ),
    );
    const memory = memoryRepositories.get(this.id) ?? new MemoryOverrideRepository();
    let repo: OverrideRepository = memory;
    let loaded = false;
    this.status(idleStatus(RED, this, true));

    const showStatus = (): void => {
      const count = gate.toJSON().length;
      if (count > 0) view.show({ fill: 'yellow', shape: 'dot', text: t('status.active', { count }) }, true);
      else if (loaded) view.show({ fill: 'green', shape: 'dot', text: t('status.none') }, true);
    };
    const persist = (write: Promise<void>): void => {
      write.catch((err: unknown) => {
        this.error(t('errors.store', { detail: messageOf(err) }));
        view.show({ fill: 'red', shape: 'ring', text: t('status.storeError') }, true);
      });
    };
    /** Persist an override; with a database, log the reference service's "Manual override stored" once it is written. */
    const storeOverride = (row: OverrideRow): void => {
      persist(
        repo.save(row).then(() => {
          if (repo !== memory) this.log(t('log.overrideStored', { zone: row.zone, until: new Date(row.expiresAt).toISOString() }));
        }),
      );
    };
    const report = (payload: Record<string, unknown>, msg: Msg = {}): Msg => Object.assign(msg, { topic: payload.kind, payload });
    const notifyExpired = (rows: OverrideRow[]): void => {
      for (const row of rows) this.send([null, report(expiredReport(row))]);
    };
    /** Two deadlines: the next override expiry and the next deferred setpoint. */
    const deadlines = new DeadlineTimer<'expiry' | 'deferred'>((keys, now) => {
      notifyExpired(gate.expire(now));
      if (keys.includes('deferred')) releaseDeferred(now);
      showStatus();
      schedule();
    });
    const schedule = (): void => {
      deadlines.set('expiry', gate.nextExpiry());
      deadlines.set('deferred', gate.nextDeferred());
    };
    const fail = (done: Done, key: string, detail: string): void => {
      view.show({ fill: 'red', shape: 'ring', text: t('status.invalid') }, true);
      done(new Error(t(`errors.${key}`, { detail })));
    };

    /** The store's storage fault now (null without a store). */
    let faultOf = (): StorageFault | null => null;
    /**
     * A database that could not be opened at the start (a server still down, a folder not writable yet) is
     * tried again with backoff (1 s doubling to 30 s) until it opens: then the overrides kept in memory
     * meanwhile are stored, and every decision and override from then on.
     */
    let reopenTimer: NodeJS.Timeout | null = null;
    let reopenMs = 1000;
    let closed = false;
    const reopenLater = (): void => {
      if (closed || reopenTimer !== null) return;
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        void reopen();
      }, reopenMs);
      reopenMs = Math.min(reopenMs * 2, 30_000);
    };
    const reopen = async (): Promise<void> => {
      let store: Awaited<ReturnType<typeof storeFromOwner>>;
      try {
        store = await storeFromOwner(this.store);
      } catch {
        reopenLater();
        return;
      }
      if (closed || !store || repo !== memory) return;
      const stored = new StoreOverrideRepository(store, this.settings.recordDecisions);
      faultOf = () => (store as { storageFault?: StorageFault | null }).storageFault ?? null;
      const now = Date.now();
      // Overrides stored before (a hold set before a power cut) count from now on, beside those kept in memory.
      const rows = await stored.load(now).catch(() => []);
      gate.loadRows(zoneMap ? rows.filter((r) => zoneMap.has(r.zone)) : rows, now);
      schedule();
      const kept = await memory.load(now);
      repo = stored;
      memoryRepositories.delete(this.id);
      for (const row of kept) storeOverride(row);
      this.log(t('log.storeOpen', { count: kept.length }));
      if (gate.toJSON().length === 0) view.show({ fill: 'green', shape: 'dot', text: t('status.none') }, true);
      showStatus();
    };
    const ready = (async () => {
      if (this.store) {
        try {
          const store = await storeFromOwner(this.store);
          faultOf = () => (store as { storageFault?: StorageFault | null } | null)?.storageFault ?? null;
          if (store) repo = new StoreOverrideRepository(store, this.settings.recordDecisions);
          else this.warn(t('errors.noDatabase'));
        } catch (err) {
          this.error(t('errors.storeOpen', { detail: messageOf(err) }));
          reopenLater();
        }
      }
      if (repo === memory) memoryRepositories.set(this.id, memory);
      const now = Date.now();
      // With a zone map, overrides of zones no longer in it are not taken back.
      const rows = await repo.load(now);
      gate.loadRows(
        zoneMap && Array.isArray(rows) ? rows.filter((r: unknown) => zoneMap.has((r as { zone?: unknown } | null)?.zone)) : rows,
        now,
      );
    })()
      .catch((err: unknown) => this.error(t('errors.load', { detail: messageOf(err) })))
      .finally(() => {
        loaded = true;
        if (gate.toJSON().length > 0) showStatus();
        schedule();
      });

    /** Records a passed setpoint and sends it on output 1 in `msg`. */
    const sendPassed = (r: GateResult, msg: Msg, send: (m: Array<Msg | null>) => void, now: number, watts: number | null): void => {
      const sp = r.setpoint as Setpoint;
      persist(repo.recordDecision(gateDecisionRow(sp, now, { applied: true, estimatedWatts: watts, msgId: msg._msgid ?? null })));
      msg.payload = sp;
      msg.topic = sp.zone;
      msg.gate = {
        reason: r.reason,
        ...(r.limitedBy ? { limitedBy: r.limitedBy } : {}),
        ...(r.override ? { overrideUntil: r.override.expiresAt } : {}),
        ...(r.deferredUntil !== undefined ? { deferredUntil: r.deferredUntil } : {}),
      };
      send([msg, null]);
    };
    /** Deferred setpoints whose time has come go out in new messages (the message that brought them was answered). */
    const releaseDeferred = (now: number): void => {
      try {
        for (const r of gate.releaseDue(now)) sendPassed(r, { _msgid: RED.util.generateId() }, (m) => this.send(m), now, null);
        saved.changed();
      } catch (err) {
        this.error(t('errors.deferred', { detail: messageOf(err) }));
      }
    };

    const onSetpoint = (msg: Msg, send: (m: Array<Msg | null>) => void, done: Done, now: number): void => {
      if (isPlainObject(msg.payload) && msg.payload.source === 'manual') {
        // A manual setpoint (and its override) the store cannot record now is refused (503), not applied and then forgotten.
        const f = faultOf();
        if (f !== null && (refusesWrites(f.kind) || f.kind === 'write-failed')) {
          view.show({ fill: 'red', shape: 'ring', text: t('status.storeError') }, true);
          done(new StorageUnavailableError(`storage unavailable: ${f.message}; the manual setpoint was not applied, retry later`, f.kind));
          return;
        }
      }
      const r = gate.submit(msg.payload, now, typeof msg._msgid === 'string' && msg._msgid !== '' ? msg._msgid : null);
      notifyExpired(r.expired);
      if (r.blockedBy === 'invalid') return fail(done, 'invalidSetpoint', r.reason.replace(/^gate:invalid /, ''));
      const energy = isPlainObject(msg.energy) ? msg.energy : {};
      const input: Setpoint = validateSetpoint(msg.payload);
      const watts =
        isFiniteNumber(energy.estimatedWatts) && (!r.setpoint || r.setpoint.intensity === input.intensity) ? energy.estimatedWatts : null;
      const msgId = msg._msgid ?? null;
      if (r.passed && r.setpoint) {
        if (input.source === 'manual') {
          if (r.override) storeOverride(r.override);
          else persist(repo.clear(input.zone, now));
        }
        sendPassed(r, msg, send, now, watts);
      } else {
        const blockedBy = r.blockedBy as string;
        persist(
          repo.recordDecision(
            gateDecisionRow(input, now, {
              applied: false,
              blockedBy,
              reason: input.reason ? `${input.reason}; ${r.reason}` : r.reason,
              estimatedWatts: watts,
              msgId,
            }),
          ),
        );
        const deferred = r.deferredUntil !== undefined ? { deferredUntil: r.deferredUntil } : {};
        send([null, report({ ...blockedReport(input, blockedBy, r.reason, r.override), ...deferred }, msg)]);
      }
      showStatus();
      schedule();
      done();
    };

    /**
     * A setpoint this gate passed failed on its way to the gear (msg.payload: that setpoint with `error`;
     * msg._msgid: its message's): its decision is marked not applied, and the gate forgets it
     * (lib/control/override.ts notSent: a manual setpoint's own override ends, the one it replaced comes back).
     */
    const onNotSent = (msg: Msg, send: (m: Array<Msg | null>) => void, done: Done, now: number): void => {
      const p = isPlainObject(msg.payload) ? msg.payload : {};
      if (typeof p.zone !== 'string' || p.zone === '') return fail(done, 'invalidNotSent', 'payload.zone must be the zone of the setpoint');
      const zone = p.zone;
      const detail = typeof p.error === 'string' && p.error !== '' ? p.error : 'not sent';
      const msgId = typeof msg._msgid === 'string' && msg._msgid !== '' ? msg._msgid : null;
      const r = gate.notSent(zone, msgId, now);
      if (r.restored !== null) storeOverride(r.restored);
      else if (r.cleared) persist(repo.clear(zone, now));
      if (msgId !== null) persist(repo.markNotSent(msgId, zone, detail, now - NOT_SENT_WINDOW_MS));
      send([
        null,
        report(
          { kind: 'notSent', zone, overrideCleared: r.cleared, overrideRestored: r.restored !== null, reason: detail.slice(0, 300) },
          msg,
        ),
      ]);
      showStatus();
      schedule();
      done();
    };

    const handle = (msg: Msg, send: (m: Array<Msg | null>) => void, done: Done): void => {
      const now = Date.now();
      const command = commandOf(msg.topic, msg.payload);
      if (command === 'stale' || command === 'recovered') return done();
      if (command === 'setpoint') return onSetpoint(msg, send, done, now);
      if (command === 'notSent') return onNotSent(msg, send, done, now);
      if (command === 'clear') {
        let zone: string | null;
        try {
          zone = parseClear(msg.payload);
        } catch (err) {
          return fail(done, 'invalidClear', messageOf(err));
        }
        const zones = (zone === null ? gate.toJSON().map((r) => r.zone) : [zone]).filter((z) => gate.clear(z));
        persist(repo.clear(zone, now));
        send([null, report({ kind: 'overrideCleared', zones }, msg)]);
      } else {
        let change;
        try {
          change = parseManualChange(msg.payload);
        } catch (err) {
          return fail(done, 'invalidManualChange', messageOf(err));
        }
        const row =
          command === 'observed'
            ? gate.observe(change.zone, { intensity: change.intensity, cct: change.cct }, now)
            : gate.noteManualChange(change.zone, now, {
                intensity: change.intensity,
                cct: change.cct,
                ...(change.minutes !== undefined ? { minutes: change.minutes } : {}),
                reason: change.address ? `manual change on the bus (${change.address})` : 'manual change on the bus',
                source: 'bus',
              });
        if (row) {
          storeOverride(row);
          send([null, report(startedReport(row), msg)]);
        } else if (command === 'manualChange') persist(repo.clear(change.zone, now));
      }
      showStatus();
      schedule();
      done();
    };

    this.on('input', (msg, send, done) => {
      // A clear may name its zone as a plain string payload.
      const payload = (msg as Msg).payload;
      const refused = zoneRefusal(zones, typeof payload === 'string' && payload !== '' ? { zone: payload } : payload);
      if (refused !== null) return fail(done, 'unknownZone', refused);
      const run = (): void => {
        try {
          handle(msg as Msg, send as (m: Array<Msg | null>) => void, done);
          saved.changed();
        } catch (err) {
          done(toError(err));
        }
      };
      if (loaded) run();
      else void ready.then(run);
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      if (reopenTimer !== null) clearTimeout(reopenTimer);
      reopenTimer = null;
      deadlines.clear();
      saved.close(removed);
      if (removed) memoryRepositories.delete(this.id);
      let wait: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => (wait = setTimeout(resolve, CLOSE_WAIT_MS)));
      void Promise.race([ready.then(() => repo.flush()).catch(() => undefined), bounded]).then(() => {
        clearTimeout(wait);
        if (this.store) this.store.deregister(this, done, removed);
        else done();
      });
    });
  }

  RED.nodes.registerType('override-gate', OverrideGateNode);
};
