/**
 * rules-fallback: the deterministic controller. A feature window in, a
 * setpoint out (RulesController of lib/control: circadian colour, occupancy,
 * daylight harvesting, profile hints, clamps last), with msg.energy. One timer
 * per node re-decides at the earliest zone's nextCheckAt so hold and vacancy
 * take effect without new windows. A sensor reading ({sensorId, zone, ts,
 * lux?, presence?, source}) with presence true takes the presence fast path
 * (RulesController.onPresence): a vacant zone gets its occupied level at once
 * instead of at the next window; a reading whose lux fell under the daylight
 * aim of an occupied zone takes the lux fast path (a rise at once); other
 * readings are ignored. msg.profile (hints or an encrypted profile
 * blob) is turned into hints by ProfileSource; the plaintext never leaves it.
 * The per-zone state (output, hold, daylight model) is kept in the node
 * context (ContextState): a redeploy, or a restart with a persistent context
 * store, goes on where it was instead of treating an occupied room as empty.
 * The first presence in a zone without any window yet is decided on the
 * process's local clock, so a fresh start or a new zone lights up at once.
 * With a zone map (`zones`) only its zones are decided (anything else is an
 * error and leaves no state; saved state of zones no longer in the map is
 * dropped), each with its own target lux, colour and fixtures.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import {
  checkFixturePower,
  type ControlHints,
  DeadlineTimer,
  energySavingEstimate,
  type FixturePower,
  powerW,
  type RulesDecision,
  RulesController,
  validateFeatureWindow,
} from '../../lib/control';
import type { SensorReading, Setpoint } from '../../lib/contracts';
import { ProfileSource } from '../../lib/control/profile-source';
import { ContextState } from '../shared/context-state';
import { idleStatus } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { looksLikeReading, parseApplied, parseReading, readRulesSettings, type RulesFallbackSettings } from './rules-io';
import { messageOf } from '../shared/errors';
import { findZones, loadZoneState, zoneMapOrNull } from '../shared/zones';
import { LocalClock } from '../../lib/features/local-time';
import { DEFAULT_SHED_PCT, DEMAND_RESPONSE_TOPIC, demandResponseReason } from '../../lib/control/demand-response';
import { DemandResponseHolder, demandResponseStatus } from '../shared/demand-response';
import { parseScheduleRules } from '../../lib/learning/schedule';
import { SCHEDULE_RULES_TOPIC } from '../../lib/learning/types';

interface RulesFallbackNode extends Node<{ fernetKey?: string }> {
  settings: RulesFallbackSettings;
}

type Msg = NodeMessage & { profile?: unknown; hints?: ControlHints; energy?: unknown; decision?: unknown };

/** Windows whose end is further than this from the wall clock (replays) arm no timer. */
const CLOCK_TOLERANCE_MS = 10 * 60_000;

export = function (RED: NodeAPI): void {
  function RulesFallback(this: RulesFallbackNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`rules-fallback.${key}`, subs);
    const read = new SettingsReader(RED, this, config);
    this.settings = readRulesSettings(read, (name, value) => this.warn(t('errors.invalidSetting', { name, value, fallback: '-' })));
    const s = this.settings;

    const zones = findZones(RED, config.zones);
    const zoneMap = zoneMapOrNull(zones);
    const localClock = new LocalClock();
    let ctl: RulesController | null = null;
    let configError = '';
    if (s.circadian === 'sun' && (s.latitude === null || s.longitude === null)) {
      configError = t('errors.sunNeedsPosition');
      this.warn(configError);
    } else {
      try {
        ctl = new RulesController(s, [], {
          localClock: (ts) => localClock.at(ts),
          now: Date.now,
          ...(zoneMap
            ? {
                allowZone: (zone: string) => zoneMap.has(zone),
                zoneConfig: (zone: string) => zoneMap.rulesConfig(zone),
              }
            : {}),
        });
      } catch (err) {
        configError = messageOf(err);
        this.warn(t('errors.badConfig', { detail: configError }));
      }
    }
    let fixture: FixturePower | null = null;
    if (s.ratedW !== null) {
      try {
        fixture = checkFixturePower({ ratedW: s.ratedW, standbyW: s.standbyW, count: s.fixtureCount });
      } catch (err) {
        this.warn(t('errors.fixture', { detail: messageOf(err) }));
      }
    }
    /** The zone's fixtures: the zone map's wattage and count over the node's. */
    const fixtureOf = (zone: string): FixturePower | null => {
      const own = zoneMap?.rulesOverrides(zone);
      if (!own || (own.ratedW === undefined && own.fixtureCount === undefined)) return fixture;
      const ratedW = own.ratedW ?? s.ratedW;
      if (ratedW === null || ratedW === undefined || ratedW <= 0) return null;
      try {
        return checkFixturePower({ ratedW, standbyW: Math.min(s.standbyW, ratedW), count: own.fixtureCount ?? s.fixtureCount });
      } catch {
        return fixture;
      }
    };
    const profiles = new ProfileSource({ key: this.credentials?.fernetKey ?? null });
    const keyProblem = profiles.checkKey();
    if (keyProblem !== null) this.warn(t('errors.badFernetKey', { detail: keyProblem }));
    this.status(idleStatus(RED, this, ctl !== null));

    const zoneHints = new Map<string, ControlHints | null>();

    const fail = (done: (err?: Error) => void, statusKey: string, text: string): void => {
      this.status({ fill: 'red', shape: 'ring', text: t(`status.${statusKey}`) });
      done(new Error(text));
    };

    const energy = (sp: Setpoint): { energySavingEstimate: number; estimatedWatts?: number } => {
      const out: { energySavingEstimate: number; estimatedWatts?: number } = { energySavingEstimate: energySavingEstimate(sp.intensity) };
      const f = fixtureOf(sp.zone);
      if (f) out.estimatedWatts = Math.round(powerW(sp.intensity, f) * 100) / 100;
      return out;
    };

    /** Fill msg with the decision and show it. */
    const publish = (msg: Msg, d: RulesDecision, trigger: 'window' | 'timer' | 'presence' | 'daylight'): Msg => {
      const sp = d.setpoint;
      msg.topic = sp.zone;
      msg.payload = sp;
      msg.energy = energy(sp);
      msg.decision = {
        trigger,
        changed: d.changed,
        occupancy: d.occupancy,
        circadianPhase: d.circadian.phase,
        daylightLux: d.daylightLux === null ? null : Math.round(d.daylightLux),
        fired: d.fired,
        nextCheckAt: d.nextCheckAt,
      };
      const subs = { zone: sp.zone, intensity: sp.intensity, cct: sp.cct, occupancy: d.occupancy };
      this.status({ fill: 'green', shape: 'dot', text: t('status.decided', subs) });
      return msg;
    };

    /** Re-decides each zone at its nextCheckAt so hold and vacancy act without new windows. */
    const checks = new DeadlineTimer<string>((zones, now) => {
      if (!ctl) return;
      for (const zone of zones) {
        try {
          const d = ctl.tick(zone, now, { hints: zoneHints.get(zone) ?? null });
          if (!d) continue;
          saved?.changed();
          if (d.nextCheckAt !== null && d.nextCheckAt > now) checks.set(zone, d.nextCheckAt);
          if (d.changed) this.send(publish({} as Msg, d, 'timer'));
        } catch (err) {
          this.error(t('errors.tick', { zone, detail: messageOf(err) }));
        }
      }
    });

    // Saved state: restored zones are re-checked at once (a hold that ran out while stopped ends now).
    const saved = ctl
      ? new ContextState(
          this,
          'rulesState',
          () => ctl?.toJSON() ?? [],
          (err) => this.warn(t('errors.context', { detail: err.message })),
        )
      : null;
    if (saved)
      loadZoneState(saved, zones, (value) => {
        const now = Date.now();
        for (const zone of ctl?.restore(value) ?? []) checks.set(zone, now);
      });

    // Demand response: every zone is decided again at once when an event starts or ends.
    const shedPct = read.number('shedPct', DEFAULT_SHED_PCT, 1, 100);
    const demand = ctl
      ? new DemandResponseHolder(
          this,
          (event, why) => {
            ctl?.setDemandResponse(event);
            const now = Date.now();
            for (const zone of ctl?.zones() ?? []) checks.set(zone, now);
            this.log(
              event
                ? t('log.demandResponse', { what: demandResponseReason(event), until: new Date(event.until).toISOString(), why })
                : t('log.demandResponseEnd', { why }),
            );
          },
          (err) => this.warn(t('errors.context', { detail: err.message })),
        )
      : null;
    demand?.load();

    /** Arms the zone's next check, unless the decision was for another time than now (a replay). */
    const arm = (zone: string, d: RulesDecision, now: number): void => {
      const at = d.nextCheckAt;
      const live = d.state.lastDecisionAt !== null && Math.abs(d.state.lastDecisionAt - now) <= CLOCK_TOLERANCE_MS;
      checks.set(zone, at !== null && live ? Math.max(at, now) : null);
    };

    /** The message leaves with the derived hints only, never the profile. */
    const withHints = (msg: Msg, zone: string): Msg => {
      delete msg.profile;
      const hints = zoneHints.get(zone) ?? null;
      if (hints) msg.hints = hints;
      else delete msg.hints;
      return msg;
    };

    this.on('input', (input, send, done) => {
      const msg = input as Msg;
      if (!ctl) return fail(done, 'notConfigured', t('errors.notConfigured', { detail: configError }));
      if (msg.topic === DEMAND_RESPONSE_TOPIC && demand) {
        try {
          const event = demand.handle(msg.payload, shedPct);
          this.status(demandResponseStatus(event, t));
          return done();
        } catch (err) {
          return fail(done, 'invalid', t('errors.invalidDemandResponse', { detail: messageOf(err) }));
        }
      }
      if (msg.topic === SCHEDULE_RULES_TOPIC) {
        // The accepted schedule rules (lighting-insights): the full set replaces the previous one at once.
        try {
          const list = parseScheduleRules(msg.payload);
          ctl.setSchedule(list);
          this.status({ fill: 'green', shape: 'ring', text: t('status.schedule', { n: list.length }) });
          return done();
        } catch (err) {
          return fail(done, 'invalid', t('errors.invalidSchedule', { detail: messageOf(err) }));
        }
      }
      if (msg.topic === 'applied') {
        try {
          const a = parseApplied(msg.payload, Date.now());
          if (!ctl.allows(a.zone))
            return fail(
              done,
              'invalid',
              t('errors.invalidApplied', { detail: `zone ${JSON.stringify(a.zone.slice(0, 64))} is not in the zone map` }),
            );
          ctl.noteOutput(a.zone, a.intensity, a.ts, a.fadeMs, a.cct);
          saved?.changed();
          this.status({ fill: 'green', shape: 'ring', text: t('status.applied', { zone: a.zone, intensity: a.intensity }) });
          return done();
        } catch (err) {
          return fail(done, 'invalid', t('errors.invalidApplied', { detail: messageOf(err) }));
        }
      }
      if (looksLikeReading(msg.payload)) {
        let reading: SensorReading;
        try {
          reading = parseReading(msg.payload);
        } catch (err) {
          const detail = messageOf(err);
          return fail(done, 'invalid', t('errors.invalidReading', { detail }));
        }
        // Absence: nothing to do here (vacancy waits for the hold and vacancy timers).
        // Lux without presence: the lux fast path (an occupied zone under a cloud).
        const lux = reading.lux ?? null;
        if (!ctl.allows(reading.zone))
          return fail(
            done,
            'invalid',
            t('errors.invalidReading', { detail: `zone ${JSON.stringify(reading.zone.slice(0, 64))} is not in the zone map` }),
          );
        if (reading.presence !== true && lux === null) return done();
        let d: RulesDecision | null;
        try {
          const hints = zoneHints.get(reading.zone) ?? null;
          d =
            reading.presence === true
              ? ctl.onPresence(reading.zone, reading.ts, true, { lux, hints })
              : ctl.onLux(reading.zone, reading.ts, lux as number, { hints });
        } catch (err) {
          const detail = messageOf(err);
          return fail(done, 'invalid', t('errors.invalidReading', { detail }));
        }
        if (d) {
          saved?.changed();
          arm(d.setpoint.zone, d, Date.now());
          if (d.changed) send(publish(withHints(msg, d.setpoint.zone), d, d.fastPath === 'lux' ? 'daylight' : 'presence'));
        }
        return done();
      }
      try {
        validateFeatureWindow(msg.payload);
      } catch (err) {
        return fail(done, 'invalid', t('errors.invalidWindow', { detail: messageOf(err) }));
      }
      let hints: ControlHints | null;
      try {
        hints = profiles.hints(msg.profile);
      } catch (err) {
        return fail(done, 'profileError', t('errors.invalidProfile', { detail: messageOf(err) }));
      }
      let d: RulesDecision;
      try {
        d = ctl.decide(msg.payload, { hints });
      } catch (err) {
        return fail(done, 'invalid', t('errors.invalidWindow', { detail: messageOf(err) }));
      }
      const zone = d.setpoint.zone;
      zoneHints.set(zone, hints);
      saved?.changed();
      arm(zone, d, Date.now());
      send(publish(withHints(msg, zone), d, 'window'));
      done();
    });

    this.on('close', (removed: boolean, done: () => void) => {
      checks.clear();
      saved?.close(removed);
      demand?.close(removed);
      done();
    });
  }

  RED.nodes.registerType<RulesFallbackNode, NodeConfig, Record<string, never>, { fernetKey?: string }>('rules-fallback', RulesFallback, {
    credentials: { fernetKey: { type: 'password' } },
  });
};
