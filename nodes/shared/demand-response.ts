/**
 * The demand response event of a deciding node (rules-fallback, ai-decide):
 * set by a message with topic "demand-response" (lib/control/demand-response
 * parses it), kept in the node context (ContextState) so a redeploy or a
 * restart with a persistent context store goes on capping until the event's
 * `until`, and ended by itself at `until` by a timer.
 *
 *   const dr = new DemandResponseHolder(node, (event) => controller.setDemandResponse(event), warn);
 *   dr.load();                                    // restores a running event (onChange called)
 *   if (msg.topic === DEMAND_RESPONSE_TOPIC) event = dr.handle(msg.payload, shedPct);   // throws ControlInputError
 *   dr.close(removed);                            // in 'close'
 */
import type { Node, NodeStatus } from 'node-red';
import { type DemandResponseEvent, isDemandResponseEnd, parseDemandResponse, restoreEvent } from '../../lib/control/demand-response';
import { ContextState } from './context-state';
import { hhmm } from './status';

/** The status dot of a deciding node after a demand response message (texts from its catalogue: status.demandResponse, status.demandResponseEnd). */
export function demandResponseStatus(
  event: DemandResponseEvent | null,
  t: (key: string, subs?: Record<string, string | number>) => string,
): NodeStatus {
  return event
    ? { fill: 'yellow', shape: 'dot', text: t('status.demandResponse', { pct: event.reductionPct, until: hhmm(event.until) }) }
    : { fill: 'green', shape: 'ring', text: t('status.demandResponseEnd') };
}

/** setTimeout's longest delay; a later end is re-armed from there. */
const MAX_TIMER_MS = 2_147_483_647;

export class DemandResponseHolder {
  #event: DemandResponseEvent | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #saved: ContextState;

  /**
   * @param onChange called with the event when one starts (or is restored) and with null when it ends
   *   (level 0, or its `until` passed); `why` says which.
   */
  constructor(
    node: Node,
    private readonly onChange: (event: DemandResponseEvent | null, why: 'start' | 'restored' | 'end' | 'expired') => void,
    onError: (err: Error) => void,
  ) {
    this.#saved = new ContextState(node, 'demandResponse', () => this.#event, onError);
  }

  get event(): DemandResponseEvent | null {
    return this.#event;
  }

  /** Restores a saved event that is still running. */
  load(now: number = Date.now()): void {
    this.#saved.load((raw) => {
      const ev = restoreEvent(raw, now);
      if (ev !== null) this.#set(ev, 'restored');
    });
  }

  /** Starts (or replaces) or ends the event from a message payload. @throws ControlInputError */
  handle(payload: unknown, defaultShedPct: number, now: number = Date.now()): DemandResponseEvent | null {
    const r = parseDemandResponse(payload, now, defaultShedPct);
    if (isDemandResponseEnd(r)) {
      if (this.#event !== null) this.#set(null, 'end');
      return null;
    }
    this.#set(r, 'start');
    return r;
  }

  #set(event: DemandResponseEvent | null, why: 'start' | 'restored' | 'end' | 'expired'): void {
    this.#event = event;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    if (event !== null) this.#arm(event);
    this.#saved.changed();
    this.onChange(event, why);
  }

  #arm(event: DemandResponseEvent): void {
    const wait = Math.max(0, event.until - Date.now());
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        if (this.#event !== event) return;
        if (Date.now() < event.until) this.#arm(event);
        else this.#set(null, 'expired');
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    this.#timer.unref?.();
  }

  close(removed: boolean): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#saved.close(removed);
  }
}
