/**
 * Circuit breaker for the AI calls.
 *
 * closed   → calls go out; `failureThreshold` consecutive failures open it.
 * open     → no call goes out until `cooldownMs` has passed (by the injected
 *            clock); the first acquire after that moves to halfOpen.
 * halfOpen → exactly one probe call goes out (other callers are refused while
 *            it is in flight); its success closes the circuit, its failure
 *            opens it again for a fresh cool-down. A probe that is abandoned
 *            (decider closed) lets the next caller probe.
 *
 * Outcomes of calls that started before the last state change (stale
 * permits) are ignored: a late failure cannot extend a cool-down, a late
 * success cannot close a circuit a probe is deciding about.
 */

export type CircuitState = 'closed' | 'open' | 'halfOpen';

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** Clock time the circuit opened (open/halfOpen). */
  openedAt?: number;
  /** Clock time a probe becomes allowed (open). */
  retryAt?: number;
}

export interface CircuitChange extends CircuitSnapshot {
  previous: CircuitState;
  /** The failure code that opened the circuit (open only). */
  reason?: string;
}

export interface CircuitOptions {
  /** Consecutive failures that open the circuit (>= 1). */
  failureThreshold: number;
  /** Cool-down before a probe, ms of `now`. */
  cooldownMs: number;
  /** Clock, ms. Default Date.now. */
  now?: () => number;
}

export interface CircuitPermit {
  readonly probe: boolean;
  readonly generation: number;
}

export type CircuitAcquire =
  | { allowed: true; permit: CircuitPermit }
  | { allowed: false; state: CircuitState; retryAt: number | undefined; probeInFlight: boolean };

export type CircuitListener = (change: CircuitChange) => void;

export class CircuitBreaker {
  private stateValue: CircuitState = 'closed';
  private failures = 0;
  private openedAt: number | undefined;
  private generation = 0;
  private probeInFlight = false;
  private readonly listeners = new Set<CircuitListener>();
  private readonly threshold: number;
  private readonly cooldownMs: number;
  private readonly now: () => number;

  constructor(options: CircuitOptions) {
    this.threshold = Math.max(1, Math.floor(options.failureThreshold));
    this.cooldownMs = Math.max(0, options.cooldownMs);
    this.now = options.now ?? Date.now;
  }

  get state(): CircuitState {
    return this.stateValue;
  }

  snapshot(): CircuitSnapshot {
    const s: CircuitSnapshot = { state: this.stateValue, consecutiveFailures: this.failures };
    if (this.openedAt !== undefined && this.stateValue !== 'closed') s.openedAt = this.openedAt;
    if (this.stateValue === 'open' && this.openedAt !== undefined) s.retryAt = this.openedAt + this.cooldownMs;
    return s;
  }

  /** Listen to state changes; returns the unsubscribe function. A throwing listener is ignored. */
  onChange(listener: CircuitListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  acquire(): CircuitAcquire {
    if (this.stateValue === 'open' && this.openedAt !== undefined && this.now() >= this.openedAt + this.cooldownMs) {
      this.transition('halfOpen');
    }
    if (this.stateValue === 'closed') return { allowed: true, permit: { probe: false, generation: this.generation } };
    if (this.stateValue === 'halfOpen' && !this.probeInFlight) {
      this.probeInFlight = true;
      return { allowed: true, permit: { probe: true, generation: this.generation } };
    }
    return {
      allowed: false,
      state: this.stateValue,
      retryAt: this.stateValue === 'open' && this.openedAt !== undefined ? this.openedAt + this.cooldownMs : undefined,
      probeInFlight: this.probeInFlight,
    };
  }

  success(permit: CircuitPermit): void {
    if (permit.probe) this.probeInFlight = false;
    if (permit.generation !== this.generation) return;
    this.failures = 0;
    if (this.stateValue !== 'closed') {
      this.openedAt = undefined;
      this.transition('closed');
    }
  }

  failure(permit: CircuitPermit, reason: string): void {
    if (permit.probe) this.probeInFlight = false;
    if (permit.generation !== this.generation) return;
    this.failures++;
    if (this.stateValue === 'halfOpen' || (this.stateValue === 'closed' && this.failures >= this.threshold)) {
      this.openedAt = this.now();
      this.transition('open', reason);
    }
  }

  /** Give a permit back without an outcome (the call was abandoned). */
  release(permit: CircuitPermit): void {
    if (permit.probe) this.probeInFlight = false;
  }

  private transition(to: CircuitState, reason?: string): void {
    const previous = this.stateValue;
    this.stateValue = to;
    this.generation++;
    if (to !== 'halfOpen') this.probeInFlight = false;
    const change: CircuitChange = { ...this.snapshot(), previous };
    if (reason !== undefined) change.reason = reason;
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // a listener must not break the breaker
      }
    }
  }
}
