/** Alert input messages shared by the contracts and store alert tests. */
import { interpretAlertMessage, type AlertAction } from '../../../lib/contracts';

export const interpret = (msg: { topic?: unknown; payload?: unknown }, zone: string | null = null): AlertAction =>
  interpretAlertMessage(msg, { zone });

/** A diagnostics answer of dali-dt8-out (only the fields the alerts look at, plus a few others). */
export function gear(
  address: string,
  over: { present?: boolean; lampFailure?: boolean | null; controlGearFailure?: boolean } = {},
): Record<string, unknown> {
  const present = over.present ?? true;
  return {
    address,
    present,
    status: present
      ? { raw: 0, controlGearFailure: over.controlGearFailure ?? false, lampFailure: over.lampFailure === true, lampOn: true }
      : null,
    lampFailure: present ? (over.lampFailure ?? false) : null,
    dt8: true,
  };
}
export const diagnostics = (gearList: unknown[], extra: Record<string, unknown> = {}): { topic: string; payload: unknown } => ({
  topic: 'diagnostics',
  payload: { kind: 'diagnostics', address: 'BC', ts: 5000, gear: gearList, ...extra },
});
