/**
 * A node's working state that outlives the node object:
 * - through a redeploy (the node is closed and created again with the same
 *   id): close() hands the state to the next instance in process memory.
 *   Node context alone would not do: without a configured contextStorage
 *   Node-RED deletes a node's context when the node closes;
 * - through a restart, when the runtime has a persistent context store
 *   (settings.js `contextStorage: { default: { module: "localfilesystem" } }`,
 *   as `npm start` configures): the state is also written, under one key, to
 *   the node context of the default store.
 *
 * load() prefers the state handed over in memory, else reads the context,
 * synchronously when the store allows it, else through the callback form (an
 * async-only store). changed() schedules one context write `delayMs` later,
 * so a burst of decisions costs one write; close() writes what is pending.
 * A deleted node's state is dropped. park() instead of load() keeps the saved
 * value as it is, for a node that cannot use it now (its zone map is
 * unusable) and must not overwrite it with an empty state. A store error is reported once through
 * onError (once more after a success) and never thrown into the node; a
 * failed write (disk full) is retried with backoff (delayMs doubling, at most
 * RETRY_MAX_MS) until it succeeds, and close() writes it once more.
 */
import type { Node } from 'node-red';
import { toError } from './errors';

interface ContextLike {
  get(key: string): unknown;
  get(key: string, cb: (err: Error | undefined, value: unknown) => void): void;
  set(key: string, value: unknown, cb?: (err?: Error) => void): void;
}

/** Longest wait between retries of a failed context write, ms. */
export const RETRY_MAX_MS = 60_000;

/** State handed from a closed node to its next instance (same id), by `${id}:${key}`. */
const handover = new Map<string, unknown>();

export class ContextState {
  private timer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Consecutive failed writes. */
  private failures = 0;
  /** The last write failed: the state is not in the store yet. */
  private unsaved = false;
  private reported = false;
  private closed = false;
  /** park(): the saved value, kept as it is for the node's next instance. */
  private parked: { value: unknown } | null = null;

  /**
   * @param node the node whose context holds the state
   * @param key context key
   * @param snapshot returns the JSON-safe value to store, read when the write happens
   */
  constructor(
    private readonly node: Node,
    private readonly key: string,
    private readonly snapshot: () => unknown,
    private readonly onError: (err: Error) => void,
    private readonly delayMs = 1000,
  ) {}

  private ctx(): ContextLike {
    return this.node.context() as unknown as ContextLike;
  }

  private fail(err: unknown): void {
    if (this.reported) return;
    this.reported = true;
    this.onError(toError(err));
  }

  private get slot(): string {
    return `${this.node.id}:${this.key}`;
  }

  /** Hands the saved value (undefined when none) to `use`, at once when it is in memory or the store reads synchronously. */
  load(use: (saved: unknown) => void): void {
    if (handover.has(this.slot)) {
      const kept = handover.get(this.slot);
      handover.delete(this.slot);
      use(kept);
      return;
    }
    let value: unknown;
    try {
      value = this.ctx().get(this.key);
    } catch {
      // An async-only store: read through the callback.
      try {
        this.ctx().get(this.key, (err, v) => {
          if (err) this.fail(err);
          else if (!this.closed) use(v);
        });
      } catch (err) {
        this.fail(err);
      }
      return;
    }
    use(value);
  }

  /**
   * Reads the saved value and keeps it as it is instead of handing it to the
   * node: writes and the hand-over at close give back that value, whatever the
   * node's state becomes. For a node that cannot use its state now (an
   * unusable zone map admits no zone), so a later deploy with a usable map
   * still finds it.
   */
  park(): void {
    this.load((value) => {
      this.parked = { value };
    });
  }

  private current(): unknown {
    return this.parked ? this.parked.value : this.snapshot();
  }

  /** The state changed: write it once within delayMs. */
  changed(): void {
    if (this.closed || this.timer !== null || this.parked) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, this.delayMs);
    this.timer.unref?.();
  }

  /** Writes now (pending or not); a failure is retried later. */
  write(): void {
    const failed = (err: unknown): void => {
      this.unsaved = true;
      this.failures += 1;
      this.fail(err);
      this.scheduleRetry();
    };
    try {
      this.ctx().set(this.key, this.current(), (err?: Error) => {
        if (err) failed(err);
        else {
          this.unsaved = false;
          this.failures = 0;
          this.reported = false;
        }
      });
    } catch (err) {
      failed(err);
    }
  }

  /** The state could not be written: try again later (not after close, which makes its own last attempt). */
  private scheduleRetry(): void {
    if (this.closed || this.retryTimer !== null) return;
    const wait = Math.min(RETRY_MAX_MS, this.delayMs * 2 ** Math.min(this.failures, 16));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (this.unsaved && !this.closed) this.write();
    }, wait);
    this.retryTimer.unref?.();
  }

  /**
   * Writes a pending change and stops. `removed` (the node was deleted or
   * disabled): nothing is handed over; else the state waits in memory for
   * the node's next instance.
   */
  close(removed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== null) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    if (this.timer !== null || this.unsaved) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.write();
    }
    if (removed) handover.delete(this.slot);
    else {
      try {
        handover.set(this.slot, this.current());
      } catch (err) {
        this.fail(err);
      }
    }
  }
}

/**
 * Drops every handed-over state. For test runs, which load flows with the
 * same node ids for unrelated tests in one process.
 */
export function clearHandover(): void {
  handover.clear();
}
