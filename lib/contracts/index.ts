/**
 * The message contracts every layer shares (see docs/architecture.md): the
 * shapes, one validator each, the shared limits and the small value helpers.
 * This folder imports nothing from the other lib folders.
 */
export * from './values';
export * from './limits';
export * from './readings';
export * from './feature-window';
export * from './setpoint';
export * from './alerts';
export * from './alert-input';
export * from './feedback';
export * from './telemetry';
