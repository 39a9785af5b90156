/**
 * Drift: when people's preference moves after a suggestion was accepted, the
 * pattern mined again from the evidence newer than the acceptance is a
 * revision of the rule in force. This file says, in one place, when such a
 * mined change is a *material* revision and what the revised rule is.
 *
 * The evidence after an acceptance was gathered with the rule in force: the
 * automatic decisions the overrides are compared with already carry it. So a
 * mined change says what people still correct, and the revision keeps of the
 * rule in force whatever they no longer correct:
 *
 * - `slot`: the mined output band (cap or floor) replaces the rule's band; a
 *   slot mined without a band keeps the rule's band. The mined colour
 *   replaces the rule's colour; mined without a colour, the rule's stays.
 *   Material: the band changes kind (cap, floor, both), or a bound moves by
 *   at least `slotIntensityPct` points, or the colour is set, dropped or
 *   moves by at least `slotKelvinK`.
 * - `target-lux`: mined against the rule's target (the miner only proposes a
 *   higher one). Material: the target moves by at least `targetLuxShare` of
 *   the rule's target.
 * - `hold`: mined against the rule's hold (the miner only proposes a shorter
 *   one). Material: the hold moves by at least `holdMinutes`, or what follows
 *   it (`then`) changes.
 *
 * A change of another kind than the rule's is never a revision.
 */
import type { HoldChange, ScheduleChange, SlotChange, TargetLuxChange } from './types';

/** How far a mined change must be from the rule in force to be a revision (README "Learning from overrides"). */
export interface DriftThresholds {
  /** A slot's cap or floor moved by at least this, percent points. */
  slotIntensityPct: number;
  /** A slot's colour moved by at least this, kelvin. */
  slotKelvinK: number;
  /** A target moved by at least this share of the rule's target (0.1 = 10 %). */
  targetLuxShare: number;
  /** A hold moved by at least this, minutes. */
  holdMinutes: number;
}

export const DRIFT_THRESHOLDS: Readonly<DriftThresholds> = Object.freeze({
  slotIntensityPct: 10,
  slotKelvinK: 300,
  targetLuxShare: 0.1,
  holdMinutes: 2,
});

/** A material revision: the rule that would replace the one in force, and what differs (for the summary). */
export interface Revision {
  change: ScheduleChange;
  /** e.g. "cap 44 % -> floor 60 %", "3000 K -> 2700 K". */
  differs: string[];
}

const band = (c: SlotChange): string => {
  const parts: string[] = [];
  if (c.minIntensityPct !== undefined) parts.push(`floor ${Math.round(c.minIntensityPct)} %`);
  if (c.maxIntensityPct !== undefined) parts.push(`cap ${Math.round(c.maxIntensityPct)} %`);
  return parts.length > 0 ? parts.join(' ') : 'no band';
};

function reviseSlot(inForce: SlotChange, mined: SlotChange, t: DriftThresholds): Revision | null {
  const minedBand = mined.minIntensityPct !== undefined || mined.maxIntensityPct !== undefined;
  const from = minedBand ? mined : inForce;
  const change: SlotChange = {
    kind: 'slot',
    days: inForce.days,
    startMinute: inForce.startMinute,
    endMinute: inForce.endMinute,
  };
  if (from.minIntensityPct !== undefined) change.minIntensityPct = from.minIntensityPct;
  if (from.maxIntensityPct !== undefined) change.maxIntensityPct = from.maxIntensityPct;
  const kelvin = mined.kelvin ?? inForce.kelvin;
  if (kelvin !== undefined) change.kelvin = kelvin;
  const differs: string[] = [];
  const moved = (a: number | undefined, b: number | undefined, step: number): boolean =>
    (a === undefined) !== (b === undefined) || (a !== undefined && b !== undefined && Math.abs(a - b) >= step);
  if (
    moved(inForce.minIntensityPct, change.minIntensityPct, t.slotIntensityPct) ||
    moved(inForce.maxIntensityPct, change.maxIntensityPct, t.slotIntensityPct)
  )
    differs.push(`${band(inForce)} -> ${band(change)}`);
  if (moved(inForce.kelvin, change.kelvin, t.slotKelvinK))
    differs.push(
      `${inForce.kelvin === undefined ? 'automatic colour' : `${Math.round(inForce.kelvin)} K`} -> ${change.kelvin === undefined ? 'automatic colour' : `${Math.round(change.kelvin)} K`}`,
    );
  return differs.length > 0 ? { change, differs } : null;
}

function reviseTarget(inForce: TargetLuxChange, mined: TargetLuxChange, t: DriftThresholds): Revision | null {
  if (Math.abs(mined.targetLux - inForce.targetLux) < inForce.targetLux * t.targetLuxShare) return null;
  return {
    change: { ...mined, fromLux: inForce.targetLux },
    differs: [`target ${Math.round(inForce.targetLux)} lx -> ${Math.round(mined.targetLux)} lx`],
  };
}

function reviseHold(inForce: HoldChange, mined: HoldChange, t: DriftThresholds): Revision | null {
  const differs: string[] = [];
  if (Math.abs(mined.holdMinutes - inForce.holdMinutes) >= t.holdMinutes)
    differs.push(`hold ${inForce.holdMinutes} min -> ${mined.holdMinutes} min`);
  if (mined.then !== inForce.then) differs.push(`then ${inForce.then ?? 'absence level'} -> ${mined.then ?? 'absence level'}`);
  return differs.length > 0 ? { change: { ...mined, fromMinutes: inForce.holdMinutes }, differs } : null;
}

/**
 * The revision of the rule in force that a change mined from the evidence
 * newer than its acceptance implies, or null when the preference has not
 * moved materially (or the kinds differ).
 */
export function reviseRule(inForce: ScheduleChange, mined: ScheduleChange, t: DriftThresholds = DRIFT_THRESHOLDS): Revision | null {
  if (inForce.kind === 'slot' && mined.kind === 'slot') return reviseSlot(inForce, mined, t);
  if (inForce.kind === 'target-lux' && mined.kind === 'target-lux') return reviseTarget(inForce, mined, t);
  if (inForce.kind === 'hold' && mined.kind === 'hold') return reviseHold(inForce, mined, t);
  return null;
}

/** "meeting-1, weekdays 14:00-16:00: ...; revises suggestion:3 (cap 44 % -> cap 62 %)". */
export function revisionSummary(minedSummary: string, inForceId: number, r: Revision): string {
  return `${minedSummary}; revises suggestion:${inForceId} in force (${r.differs.join(', ')})`;
}
