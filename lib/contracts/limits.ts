/**
 * Limits shared by more than one layer. Each is defined here once; a layer
 * that needs a narrower bound of its own names it after what it bounds.
 */

/**
 * Colour temperature this package commands: the default fixture range, what
 * the HTTP API (`POST /control`) and the AI's tool accept, kelvin.
 */
export const COMMAND_KELVIN_MIN = 1800;
export const COMMAND_KELVIN_MAX = 6500;

/**
 * Widest colour temperature any layer accepts before clamping it to the
 * fixture's own limits, kelvin: about what DT8 colour temperature (Tc, in
 * mirek) can express for real gear. A setpoint outside it is refused; one
 * inside it but outside the fixture's limits is clamped.
 */
export const ACCEPTED_KELVIN_MIN = 1000;
export const ACCEPTED_KELVIN_MAX = 20000;

/** Longest fade accepted, ms: DALI-2 extended fade time tops out at 16 min. */
export const MAX_FADE_MS = 16 * 60 * 1000;

/**
 * Longest manual override one request may ask for, minutes: a day, as the
 * HTTP API (`override_minutes` of `POST /control`) and `api-guard` document.
 */
export const MAX_OVERRIDE_REQUEST_MINUTES = 24 * 60;

/**
 * Longest override the `override-gate` holds, minutes: a week. It bounds
 * the gate's own setting, overrides started from manual changes on the bus,
 * and an override stored "until cleared".
 */
export const MAX_OVERRIDE_HOLD_MINUTES = 7 * 24 * 60;

/** Largest illuminance accepted, lux (direct sunlight is about 100 000 lx). */
export const MAX_LUX = 1_000_000;

/** Longest zone / sensorId / source accepted (they become index keys). */
export const MAX_ID_LENGTH = 200;

/** Largest epoch ms accepted (year 2255); anything above is a unit error (µs, ns). */
export const MAX_TS = 9_000_000_000_000;
