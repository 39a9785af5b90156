/**
 * What the lights were set to by someone else: `lsd-sensor-in` (output 2)
 * reports the commands another DALI master sent to the zone's gear, and
 * `override-gate` starts a manual override from it.
 */

/** Another master changed the zone's gear (msg.topic / payload.kind `manualChange`). */
export interface ManualChange {
  readonly kind: 'manualChange';
  readonly zone: string;
  /** Address the other master used: `A2`, `G1` or `BC`. */
  readonly address: string;
  /** Epoch ms of the first frame. */
  readonly ts: number;
  /** Command names in the order seen, e.g. ["SET TEMPORARY COLOUR TEMPERATURE", "ACTIVATE", "DAPC"]. */
  readonly commands: string[];
  /** Arc power level, when the commands set a known one. */
  readonly level?: number;
  /** That level in percent. */
  readonly intensity?: number;
  readonly mirek?: number;
  /** Colour temperature in kelvin, when known. */
  readonly cct?: number;
}
