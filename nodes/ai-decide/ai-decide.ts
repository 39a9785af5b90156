/**
 * ai-decide: asks an OpenAI (or OpenAI-compatible) model, configured by an
 * ai-provider node, for a zone's setpoint from its last feature windows. The
 * model's answer passes the strict tool schema and the same clamps as the
 * rules; whenever the model is not used (no key, timeout, error, invalid
 * answer, open circuit) the node's own rules controller decides. All of that
 * lives in lib/ai (AiDecider) and lib/control; this file wires it to msgs.
 */
import {
  ACCEPTED_KELVIN_MAX,
  ACCEPTED_KELVIN_MIN,
  COMMAND_KELVIN_MAX,
  COMMAND_KELVIN_MIN,
  type DecisionWindow,
  type Setpoint,
} from '../../lib/contracts';
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { AiDecider, type AiDecision, type AiLogger, type CircuitChange, makeRedactor } from '../../lib/ai';
import { findZones, loadZoneState, zoneMapOrNull } from '../shared/zones';
import { applyClamps, type ClampContext, RulesController } from '../../lib/control';
import { ProfileSource } from '../../lib/control/profile-source';
import { findAiProvider } from '../shared/ai-provider';
import { ContextState } from '../shared/context-state';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { hhmm } from '../shared/status';
import { HotPath, readHints, readWindows, type Hints } from './hot-path';
import { circuitAlert, telemetryOf } from './report';
import { toError } from '../shared/errors';
import { DEFAULT_SHED_PCT, DEMAND_RESPONSE_TOPIC, shedSetpoint } from '../../lib/control/demand-response';
import { DemandResponseHolder, demandResponseStatus } from '../shared/demand-response';
import { aiScheduleHint, applySlot, parseScheduleRules, scheduleAt, slotNote } from '../../lib/learning/schedule';
import { SCHEDULE_RULES_TOPIC } from '../../lib/learning/types';

interface AiDecideSettings {
  payloadCapBytes: number;
  /** Feature windows kept per zone and sent per request (1..3). */
  payloadBatchLimit: number;
  /** Consecutive failures that open the circuit. */
  circuitFailures: number;
  circuitCooldownS: number;
  targetLux: number;
  occupiedFloorPct: number;
  holdMinutes: number;
  vacancyOffMinutes: number;
  minKelvin: number;
  maxKelvin: number;
}

interface AiDecideNode extends Node {
  settings: AiDecideSettings;
  /** True when the provider has a key (credential or OPENAI_API_KEY); the key itself is never copied. */
  hasApiKey: boolean;
}

type Msg = NodeMessageInFlow & { profile?: unknown };
type Send = (msg: Array<NodeMessage | NodeMessage[] | null>) => void;

export = function (RED: NodeAPI): void {
  function AiDecide(this: AiDecideNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const minKelvin = read.number('minKelvin', COMMAND_KELVIN_MIN, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
    this.settings = {
      payloadCapBytes: read.number('payloadCapBytes', 2048, 256, 65536, true),
      payloadBatchLimit: read.number('payloadBatchLimit', 3, 1, 3, true),
      circuitFailures: read.number('circuitFailures', 3, 1, 100, true),
      circuitCooldownS: read.number('circuitCooldownS', 300, 1, 86400, true),
      targetLux: read.number('targetLux', 500, 0, 100000),
      occupiedFloorPct: read.number('occupiedFloorPct', 10, 0, 100),
      holdMinutes: read.number('holdMinutes', 15, 0, 1440),
      vacancyOffMinutes: read.number('vacancyOffMinutes', 20, 0, 1440),
      minKelvin,
      maxKelvin: read.number('maxKelvin', COMMAND_KELVIN_MAX, minKelvin, ACCEPTED_KELVIN_MAX),
    };
    const s = this.settings;
    const provider = findAiProvider(RED, config.provider);
    const model = provider?.settings.model;
    const t = (key: string, subs?: Record<string, string | number>): string => RED._(`ai-decide.${key}`, subs);

    const inKelvin = (k: number): number => Math.min(s.maxKelvin, Math.max(s.minKelvin, k));
    const zones = findZones(RED, config.zones);
    const zoneMap = zoneMapOrNull(zones);
    const zoneOptions = zoneMap
      ? {
          allowZone: (zone: string) => zoneMap.has(zone),
          zoneConfig: (zone: string) => zoneMap.rulesConfig(zone, inKelvin),
        }
      : {};
    let rules: RulesController;
    try {
      rules = new RulesController(
        {
          targetLux: s.targetLux,
          occupiedFloorPct: s.occupiedFloorPct,
          holdMinutes: s.holdMinutes,
          vacancyOffMinutes: s.vacancyOffMinutes,
          minKelvin: s.minKelvin,
          maxKelvin: s.maxKelvin,
          warmestKelvin: inKelvin(2700),
          coolestKelvin: inKelvin(5000),
          safeKelvin: inKelvin(4000),
        },
        [],
        zoneOptions,
      );
    } catch (err) {
      this.warn(t('errors.rules', { error: (err as Error).message }));
      rules = new RulesController({}, [], zoneOptions);
    }
    // msg.profile: the same reader as rules-fallback's; the key comes from FERNET_KEY.
    const profiles = new ProfileSource({ decrypted: true });
    const keyProblem = profiles.checkKey();
    if (keyProblem !== null) this.warn(t('errors.badFernetKey', { detail: keyProblem }));
    const hot = new HotPath(s.payloadBatchLimit, (zone) => rules.reset(zone));
    // The rules' zone state (hold, output) outlives a redeploy or restart, as in rules-fallback.
    const saved = new ContextState(
      this,
      'rulesState',
      () => rules.toJSON(),
      (err) => this.warn(t('errors.context', { detail: err.message })),
    );
    loadZoneState(saved, zones, (value) => rules.restore(value));
    // Demand response: the AI's answers and the rules (the fallback) are capped alike while an event runs.
    const shedPct = read.number('shedPct', DEFAULT_SHED_PCT, 1, 100);
    const demand = new DemandResponseHolder(
      this,
      (event) => rules.setDemandResponse(event),
      (err) => this.warn(t('errors.context', { detail: err.message })),
    );
    demand.load();

    const alerts: NodeMessage[] = [];
    const fmt = (m: string, meta?: Record<string, unknown>): string => (meta ? `${m} ${JSON.stringify(meta)}` : m);
    const logger: AiLogger = {
      debug: (m, meta) => this.debug(fmt(m, meta)),
      info: (m, meta) => this.log(fmt(m, meta)),
      warn: (m, meta) => this.warn(fmt(m, meta)),
      error: (m, meta) => this.error(fmt(m, meta)),
    };
    const onCircuitChange = (c: CircuitChange): void => {
      // (lib/ai logs the opening as a warning itself.)
      if (c.state === 'open') alerts.push(circuitAlert('aiCircuitOpen', c, dec.model));
      else if (c.state === 'closed' && c.previous !== 'closed') alerts.push(circuitAlert('aiCircuitClosed', c, dec.model));
    };
    const deciderConfig = {
      baseUrl: provider?.settings.baseUrl,
      model,
      timeoutMs: provider?.settings.timeoutMs,
      maxRetries: provider?.settings.maxRetries,
      payloadCapBytes: s.payloadCapBytes,
      payloadBatchLimit: s.payloadBatchLimit,
      circuitFailures: s.circuitFailures,
      circuitCooldownMs: s.circuitCooldownS * 1000,
    };
    const apiKey = provider?.apiKey();
    /** Scrubs the key (and anything shaped like a key) from the model's reason too. */
    const redact = makeRedactor([apiKey]);
    let dec: AiDecider;
    try {
      dec = new AiDecider({ ...deciderConfig, apiKey }, { logger, onCircuitChange });
    } catch (err) {
      this.error(t('errors.provider', { error: (err as Error).message }));
      dec = new AiDecider({ ...deciderConfig, baseUrl: undefined }, { logger, onCircuitChange });
    }
    this.hasApiKey = dec.enabled;

    const rulesOnly: NodeStatus = { fill: 'grey', shape: 'ring', text: t(provider ? 'status.noApiKey' : 'status.noProvider') };
    const statusOf = (d: AiDecision): NodeStatus => {
      const reason = d.telemetry.fallbackReason;
      if (reason === undefined) return { fill: 'green', shape: 'dot', text: t('status.ai') };
      if (reason === 'no-api-key') return rulesOnly;
      const c = dec.circuit();
      if (c.state !== 'closed' && (reason === 'circuit-open' || c.state === 'open')) {
        return { fill: 'red', shape: 'ring', text: t('status.circuitOpen', { until: hhmm(c.retryAt) }) };
      }
      return { fill: 'yellow', shape: 'ring', text: t('status.fallback', { reason }) };
    };
    this.status(dec.enabled ? { fill: 'grey', shape: 'ring', text: t('status.idle') } : rulesOnly);

    let closed = false;
    const chains = new Map<string, Promise<void>>();
    /** Decisions of one zone run one after the other, so their setpoints leave in order. */
    const enqueue = (zone: string, task: () => Promise<void>): Promise<void> => {
      const run = (chains.get(zone) ?? Promise.resolve()).then(() => (closed ? undefined : task()));
      const tail = run.catch(() => undefined);
      chains.set(zone, tail);
      void tail.then(() => chains.get(zone) === tail && chains.delete(zone));
      return run;
    };

    const decideZone = async (ws: DecisionWindow[], hints: Hints | undefined, msg: Msg, send: Send): Promise<void> => {
      const newest = ws[ws.length - 1];
      const zone = newest.zone;
      const before = rules.getState(zone);
      // The rules decide every window (their occupancy hold stays current); their setpoint is the fallback.
      const rd = rules.decide(newest, { hints: hints?.control ?? null });
      saved.changed();
      const ctx: ClampContext = {
        zone,
        // In doubt (no presence reading), occupied: the floor applies, as the rules never switch off then.
        occupied: rd.occupancy === 'occupied' || rd.occupancy === 'hold' || newest.presence === null,
        previous: before ? { intensity: before.intensity, cct: before.cct } : null,
        hints: hints?.control ?? null,
        limits: rules.config.clamps,
      };
      // The zone's accepted schedule now: a hint in the payload (within the cap), and applied to the model's answer before the clamps.
      const total = newest.minuteOfDay + Math.max(0, newest.windowEnd - newest.windowStart) / 60_000;
      const sched = scheduleAt(rules.schedule(), zone, total % 1440, (newest.weekday + Math.floor(total / 1440)) % 7);
      const { schedule: _ignored, ...profileAi } = (hints?.ai ?? {}) as Record<string, unknown>;
      const scheduleHint = aiScheduleHint(sched);
      const aiHints = scheduleHint ? { ...profileAi, schedule: scheduleHint } : hints?.ai;
      const slot = ctx.occupied ? sched.slot : null;
      const withSchedule = (p: Setpoint): Setpoint => {
        if (p.source !== 'ai' || !slot) return p;
        const a = applySlot(p.intensity, p.cct, slot);
        return { ...p, intensity: a.intensity, cct: a.cct, reason: `${p.reason}; ${slotNote(slot)}` };
      };
      const ts = Date.now();
      if (dec.enabled && dec.circuitState !== 'open') this.status({ fill: 'yellow', shape: 'dot', text: t('status.deciding') });
      const d = await dec.decide(ws, {
        hints: aiHints,
        fallback: () => rd.setpoint,
        clamp: (p) => applyClamps(shedSetpoint(withSchedule(p), rules.demandResponse, Date.now()), ctx),
      });
      if (closed) return;
      const sp = { ...d.setpoint, reason: redact(d.setpoint.reason) };
      if (sp.source === 'ai') {
        rules.noteOutput(zone, sp.intensity, newest.windowEnd, sp.fadeMs ?? 0, sp.cct);
        saved.changed();
      }
      msg.payload = sp;
      this.status(statusOf(d));
      send([msg, [{ topic: 'telemetry', payload: telemetryOf(d, ts, zone, msg._msgid) }, ...alerts.splice(0)]]);
    };

    this.on('input', (msg: Msg, send: Send, done: (err?: Error) => void) => {
      if (msg.topic === DEMAND_RESPONSE_TOPIC) {
        try {
          const event = demand.handle(msg.payload, shedPct);
          this.status(demandResponseStatus(event, t));
          done();
        } catch (err) {
          this.status({ fill: 'red', shape: 'ring', text: t('status.invalidInput') });
          done(new Error(t('errors.invalidDemandResponse', { detail: toError(err).message })));
        }
        return;
      }
      if (msg.topic === SCHEDULE_RULES_TOPIC) {
        // The accepted schedule rules (lighting-insights): the full set replaces the previous one.
        try {
          const list = parseScheduleRules(msg.payload);
          rules.setSchedule(list);
          this.status({ fill: 'green', shape: 'ring', text: t('status.schedule', { n: list.length }) });
          done();
        } catch (err) {
          this.status({ fill: 'red', shape: 'ring', text: t('status.invalidInput') });
          done(toError(err));
        }
        return;
      }
      let windows: DecisionWindow[];
      let hints: Hints | undefined;
      try {
        windows = readWindows(msg.payload);
        for (const w of windows) if (!rules.allows(w.zone)) throw new Error(t('errors.unknownZone', { zone: w.zone.slice(0, 64) }));
        hints = readHints(msg.profile, profiles);
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: t('status.invalidInput') });
        done(toError(err));
        return;
      }
      delete msg.profile;
      const byZone = new Map<string, DecisionWindow[]>();
      for (const w of [...windows].sort((a, b) => a.windowEnd - b.windowEnd)) byZone.set(w.zone, hot.add(w));
      const runs = [...byZone.values()].map((ws, i) => {
        const out = i === 0 ? msg : (RED.util.cloneMessage(msg) as Msg);
        return enqueue(ws[ws.length - 1].zone, () => decideZone(ws, hints, out, send));
      });
      Promise.all(runs).then(
        () => done(),
        (err: unknown) => done(toError(err)),
      );
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closed = true;
      dec
        .close()
        .then(() => Promise.allSettled([...chains.values()]))
        .finally(() => {
          saved.close(removed);
          demand.close(removed);
        })
        .then(
          () => done(),
          () => done(),
        );
    });
  }

  RED.nodes.registerType('ai-decide', AiDecide);
};
