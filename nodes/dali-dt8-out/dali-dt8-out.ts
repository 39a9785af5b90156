/**
 * dali-dt8-out: drives DT8 tunable-white gear (a short address, a group or
 * broadcast) from setpoints { zone, intensity, cct, reason, source, fadeMs? }
 * (lib/dali/dt8-output): DAPC for intensity, SET TEMPORARY COLOUR
 * TEMPERATURE + ACTIVATE for colour, SET FADE TIME when the fade changes.
 * One output message per input message; msg.topic "diagnostics" asks the
 * gear for a report instead.
 *
 * With a zone map (`zones`, a lighting-zones config node) the setpoint's
 * zone chooses the gear (lib/zones/route): a zone outside the map, or whose
 * group holds gear of another zone, is refused with nothing sent. When the
 * map uses groups, the bus's group membership is learned from the gear
 * (lib/dali/group-membership, shared by every node on the bus) and a zone's
 * group send waits for it (lib/zones/zone-sender: held, newest per zone);
 * the status says so. Without a map, the configured address is used
 * (single-zone flows).
 */
import { ACCEPTED_KELVIN_MAX, ACCEPTED_KELVIN_MIN, COMMAND_KELVIN_MAX, COMMAND_KELVIN_MIN } from '../../lib/contracts';
import type { Node, NodeAPI, NodeMessage, NodeStatus } from 'node-red';
import { parseGearAddress } from '../../lib/dali/address-spec';
import type { DaliBusFrameEvent } from '../../lib/dali/bus/dali-bus';
import { Dt8Output, validateSetpoint } from '../../lib/dali/dt8-output';
import { DaliInputError } from '../../lib/dali/input-error';
import { DaliInterfaceError, type GearAddress } from '../../lib/dali/types';
import { findOwner, type DaliBusNode } from '../shared/owners';
import { idleStatus, StatusView, type OwnerStatusListener } from '../shared/status';
import { SettingsReader, type NodeConfig } from '../shared/settings';
import { findZones } from '../shared/zones';
import { diagnoseZones, silentListedGear, zoneAddresses, ZoneRoutingError } from '../../lib/zones/route';
import { ZoneMapError } from '../../lib/zones/zone-map';
import { ZoneSender, type ZoneSendResult } from '../../lib/zones/zone-sender';
import { groupMembershipOf, type MembershipState } from '../../lib/dali/group-membership';

type DimmingCurve = 'logarithmic' | 'linear';
type TcLimitsFrom = 'config' | 'gear';

interface DaliDt8OutSettings {
  /** Address as typed ("5", "A5", "G0", "BC", "broadcast") or the msg/flow/global/env property holding it. */
  address: string;
  addressType: string;
  fadeMs: number;
  curve: DimmingCurve;
  warmestKelvin: number;
  coolestKelvin: number;
  tcLimitsFrom: TcLimitsFrom;
  verify: boolean;
}

interface DaliDt8OutNode extends Node, OwnerStatusListener {
  settings: DaliDt8OutSettings;
  bus: DaliBusNode | null;
}

/**
 * A routine automatic change queues behind people's (lib/dali/dt8-output
 * ApplyOptions): everything but a manual setpoint or a decision of the
 * presence or daylight fast path (msg.decision.trigger of rules-fallback).
 */
function isRoutine(setpoint: { source: string }, msg: NodeMessage): boolean {
  if (setpoint.source === 'manual') return false;
  const trigger = (msg as { decision?: { trigger?: unknown } }).decision?.trigger;
  return trigger !== 'presence' && trigger !== 'daylight';
}

export = function (RED: NodeAPI): void {
  function DaliDt8Out(this: DaliDt8OutNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const warmestKelvin = read.number('warmestKelvin', COMMAND_KELVIN_MIN, ACCEPTED_KELVIN_MIN, ACCEPTED_KELVIN_MAX);
    this.settings = {
      address: read.text('address', 'BC'),
      addressType: read.choice('addressType', ['str', 'msg', 'flow', 'global', 'env'], 'str'),
      fadeMs: read.number('fadeMs', 0, 0, 960000, true),
      curve: read.choice('curve', ['logarithmic', 'linear'], 'logarithmic'),
      warmestKelvin,
      coolestKelvin: read.number('coolestKelvin', COMMAND_KELVIN_MAX, warmestKelvin, ACCEPTED_KELVIN_MAX),
      tcLimitsFrom: read.choice('tcLimitsFrom', ['config', 'gear'], 'config'),
      verify: read.bool('verify'),
    };
    const s = this.settings;
    const owner = findOwner<DaliBusNode>(RED, config.bus, 'dali-bus');
    this.bus = owner;
    const zones = findZones(RED, config.zones);
    const view = new StatusView(this);
    this.ownerStatus = (status: NodeStatus) => view.owner(status);
    const output = owner ? new Dt8Output(() => owner.session.bus, { ...s }) : null;
    const onFrame = (ev: DaliBusFrameEvent): void => output?.handleFrame(ev);
    const onConnected = (ev: { reconnect: boolean }): void => {
      if (ev.reconnect) output?.reset();
    };
    owner?.session.on('frame', onFrame);
    owner?.session.on('connected', onConnected);
    if (owner) owner.register(this);
    else this.status(idleStatus(RED, this, false));
    const aborter = new AbortController();
    let closing = false;

    // A zone map with groups: learn the bus's group membership before any group send (lib/zones/zone-sender).
    let mapUsesGroups = false;
    /** Short addresses the map lists: the scan asks them again when silent (one lost answer is not "no gear"). */
    let mapShorts: number[] = [];
    /** Equal for equal maps: two dt8-out nodes on one bus must route with the same map. */
    let mapKey = '';
    try {
      const routing = zones?.map().routing();
      mapUsesGroups = routing?.usesGroups ?? false;
      mapShorts = routing?.listedShorts ?? [];
      mapKey = routing?.key ?? '';
    } catch {
      mapUsesGroups = false; // an unusable map refuses every zone anyway
    }
    const membership = owner && zones && mapUsesGroups ? groupMembershipOf(owner.session) : null;
    const sender = zones && output ? new ZoneSender(zones.map, output, membership, () => showMembership()) : null;
    /** The membership wait as this node's own status (sticky), or back to the owner's once known. */
    let showingMembership = false;
    const showMembership = (): void => {
      if (!membership || closing) return;
      if (membership.zoneMaps > 1) {
        showingMembership = true;
        view.show({ fill: 'red', shape: 'ring', text: RED._('dali-dt8-out.status.zoneMaps', { maps: membership.zoneMaps }) }, true);
        return;
      }
      const st = membership.state;
      const held = sender?.heldCount ?? 0;
      // While the interface is away its own status (red: disconnected, port in use...) says why.
      if (st.kind === 'known' || st.kind === 'idle' || st.kind === 'waiting') {
        if (showingMembership) view.clear();
        showingMembership = false;
        return;
      }
      showingMembership = true;
      if (st.kind === 'failed') {
        view.show(
          {
            fill: 'red',
            shape: 'ring',
            text: RED._('dali-dt8-out.status.groupsFailed', { held, seconds: Math.round(st.retryInMs / 1000) }),
          },
          true,
        );
      } else {
        view.show({ fill: 'yellow', shape: 'ring', text: RED._('dali-dt8-out.status.groupsLearning', { held }) }, true);
      }
    };
    /** One warning per zone and set of gear left out (lib/zones/route): the commissioning fault stays visible in the log. */
    const warned = new Map<string, string>();
    const warnExcluded = (r: ZoneSendResult): ZoneSendResult => {
      if ('held' in r) return r;
      const excluded = 'excluded' in r ? r.excluded : undefined;
      const key = excluded?.map((e) => `${e.address}@${e.group}`).join(',') ?? '';
      if (warned.get(r.zone) === key) return r;
      warned.set(r.zone, key);
      if (excluded && excluded.length > 0)
        this.warn(
          RED._('dali-dt8-out.errors.excluded', {
            zone: r.zone,
            gear: excluded.map((e) => `${e.address} (${e.group}, ${e.zones.join(', ')})`).join('; '),
          }),
        );
      return r;
    };
    /**
     * Gear the zone map lists that did not answer the last complete scan (missing, unpowered or broken):
     * nobody knows its groups, so the other zones' groups go by short address (lib/zones/route). One
     * warning per set of silent gear, and a log line once all of it answers again.
     */
    let silentGear = '';
    const checkSilentGear = (): void => {
      const answered = membership?.answered();
      if (!answered || !zones) return;
      let silent: string[];
      try {
        silent = silentListedGear(zones.map(), answered).map((g) => `A${g.short} (${g.zone})`);
      } catch {
        return; // an unusable map refuses every zone anyway
      }
      const key = silent.join(', ');
      if (key === silentGear) return;
      if (key !== '') this.warn(RED._('dali-dt8-out.errors.silentGear', { gear: key }));
      else this.log(RED._('dali-dt8-out.log.silentGearBack', { gear: silentGear }));
      silentGear = key;
    };
    let lastMembership: MembershipState['kind'] = 'idle';
    const onMembership = (st: MembershipState): void => {
      if (st.kind === 'failed' && lastMembership !== 'failed') this.warn(RED._('dali-dt8-out.errors.groupScan', { message: st.error }));
      else if (st.kind === 'known' && lastMembership === 'failed') this.log(RED._('dali-dt8-out.log.groupsKnown', { gear: st.gear }));
      if (st.kind === 'known') checkSilentGear();
      lastMembership = st.kind;
      showMembership();
    };
    let warnedMaps = false;
    const onMaps = (n: number): void => {
      if (n > 1 && !warnedMaps) this.warn(RED._('dali-dt8-out.errors.zoneMaps', { maps: n }));
      warnedMaps = n > 1;
      showMembership();
    };
    membership?.on('state', onMembership);
    membership?.on('maps', onMaps);
    const releaseMembership = membership?.use({ refresh: true, expected: mapShorts, mapKey });
    if (membership) onMaps(membership.zoneMaps);
    showMembership();

    /** The catalogue message for an error of ours, the bus's, or anything else. */
    const describe = (err: unknown): string => {
      if (err instanceof DaliInputError) return RED._(`dali-dt8-out.errors.${err.code}`, { ...err.params });
      if (err instanceof ZoneRoutingError || err instanceof ZoneMapError)
        return RED._('dali-dt8-out.errors.zone', { message: err.message });
      if (err instanceof DaliInterfaceError && err.code === 'notConnected')
        return RED._('dali-dt8-out.errors.notConnected', { message: err.message });
      return RED._('dali-dt8-out.errors.bus', { message: err instanceof Error ? err.message : String(err) });
    };

    const resolveAddress = (msg: NodeMessage, cb: (err: unknown, address?: GearAddress) => void): void => {
      if (s.addressType === 'str') return cb(null, parseGearAddress(s.address));
      RED.util.evaluateNodeProperty(s.address, s.addressType, this, msg, (err: Error | null, value: unknown) => {
        if (err) return cb(err);
        try {
          cb(null, parseGearAddress(value));
        } catch (e) {
          cb(e);
        }
      });
    };

    this.on('input', (msg: NodeMessage, send: (m: NodeMessage) => void, done: (err?: Error) => void) => {
      const fail = (err: unknown, status: 'invalid' | 'busError'): void => {
        if (closing) return done();
        showingMembership = false;
        view.show({ fill: 'red', shape: 'ring', text: RED._(`dali-dt8-out.status.${status}`) });
        done(new Error(describe(err)));
      };
      if (!output) return fail(new DaliInputError('noBus', {}, 'no DALI bus selected'), 'invalid');
      /** The result of the bus work as the output message. */
      const answer = (work: Promise<unknown>): void => {
        work.then(
          (result) => {
            view.clear();
            showingMembership = false;
            showMembership();
            msg.payload = result;
            send(msg);
            done();
          },
          (e: unknown) => fail(e, 'busError'),
        );
      };
      try {
        const diagnostics = msg.topic === 'diagnostics';
        const setpoint = diagnostics ? null : validateSetpoint(msg.payload);
        if (zones && diagnostics) {
          const map = zones.map();
          const asked = (msg.payload as { zone?: unknown } | null)?.zone;
          const list = typeof asked === 'string' && asked !== '' ? [asked] : map.zones();
          const bus = owner?.session.bus;
          // Only membership known for sure (learned, not out of date); an unknown group is diagnosed as a group address.
          const members = membership
            ? (g: number) => membership.members(g)
            : bus
              ? (g: number) => bus.members({ kind: 'group', group: g })
              : undefined;
          // Diagnostics only ask each gear by short address: they need not wait for the groups.
          const plans = list.map((zone) => ({ zone, addresses: zoneAddresses(map, zone, members, { requireKnown: false }) }));
          diagnoseZones(output, plans, aborter.signal).then(
            (reports) => {
              view.clear();
              send([reports.map((payload) => ({ ...msg, payload }))] as unknown as NodeMessage);
              done();
            },
            (e: unknown) => fail(e, 'busError'),
          );
          return;
        }
        const options = { routine: setpoint !== null && isRoutine(setpoint, msg) };
        if (sender && setpoint) {
          answer(sender.send(setpoint, aborter.signal, options).then(warnExcluded));
          return;
        }
        resolveAddress(msg, (err, address) => {
          if (err || !address) return fail(err, 'invalid');
          answer(setpoint ? output.apply(setpoint, address, aborter.signal, options) : output.diagnose(address, aborter.signal));
        });
      } catch (err) {
        fail(err, 'invalid');
      }
    });

    this.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      aborter.abort();
      sender?.close();
      membership?.off('state', onMembership);
      membership?.off('maps', onMaps);
      releaseMembership?.();
      owner?.session.off('frame', onFrame);
      owner?.session.off('connected', onConnected);
      if (owner) owner.deregister(this, done, removed);
      else done();
    });
  }

  RED.nodes.registerType('dali-dt8-out', DaliDt8Out);
};
