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
 * A deleted node's state is dropped. A store error is reported once through
 * onError and never thrown into the node.
 */
import type { Node } from 'node-red';
import { toError } from './errors';

interface ContextLike {
  get(key: string): unknown;
  get(key: string, cb: (err: Error | undefined, value: unknown) => void): void;
  set(key: string, value: unknown, cb?: (err?: Error) => void): void;
}

/** State handed from a closed node to its next instance (same id), by `${id}:${key}`. */
const handover = new Map<string, unknown>();

export class ContextState {
  private timer: NodeJS.Timeout | null = null;
  private reported = false;
  private closed = false;

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

  /** The state changed: write it once within delayMs. */
  changed(): void {
    if (this.closed || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, this.delayMs);
    this.timer.unref?.();
  }

  /** Writes now (pending or not). */
  write(): void {
    try {
      this.ctx().set(this.key, this.snapshot(), (err?: Error) => {
        if (err) this.fail(err);
      });
    } catch (err) {
      this.fail(err);
    }
  }

  /**
   * Writes a pending change and stops. `removed` (the node was deleted or
   * disabled): nothing is handed over; else the state waits in memory for
   * the node's next instance.
   */
  close(removed: boolean): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.write();
    }
    if (removed) handover.delete(this.slot);
    else {
      try {
        handover.set(this.slot, this.snapshot());
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
