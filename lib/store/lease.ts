/**
 * StoreLease: the one store handle a `lighting-store` config node holds for
 * the nodes that use it.
 *
 * - acquire() opens the store on first use (so a config node nobody uses
 *   opens no file) and then hands every caller the same handle;
 * - a failed open is reported (state "error") and retried by the next
 *   acquire(); a configuration error given to the constructor is final;
 * - release() closes the handle (flushing queued rows) when the last user
 *   left; a later acquire() opens a fresh one;
 * - close() releases for good: acquire() rejects from then on.
 *
 * State changes go to `onState` (the node fans them out as status). Never
 * throws from a callback; every promise it hands out settles.
 */

/** What the lease needs of a store (LightingStore fits). */
export interface LeasedStore {
  readonly path: string;
  close(): Promise<void>;
}

export type LeaseState =
  | { state: 'idle' }
  | { state: 'opening' }
  | { state: 'connected'; path: string }
  | { state: 'error'; message: string }
  | { state: 'closed' };

export class StoreLeaseClosedError extends Error {
  override readonly name = 'StoreLeaseClosedError';
}

export class StoreLease<T extends LeasedStore> {
  readonly #open: () => Promise<T>;
  readonly #onState: (s: LeaseState) => void;
  readonly #fatal: Error | null;
  #pending: Promise<T> | null = null;
  #closing: Promise<void> = Promise.resolve();
  #closed = false;
  #state: LeaseState = { state: 'idle' };

  /** `configError`: the store can never be opened (e.g. an unsupported URL); every acquire() rejects with it. */
  constructor(open: () => Promise<T>, onState: (s: LeaseState) => void = () => undefined, configError: Error | null = null) {
    this.#open = open;
    this.#onState = onState;
    this.#fatal = configError;
    if (configError !== null) this.#state = { state: 'error', message: configError.message };
  }

  get state(): LeaseState {
    return this.#state;
  }

  /** The open store, opening it if needed. Rejects with the reason it cannot be opened. */
  acquire(): Promise<T> {
    if (this.#closed) return Promise.reject(new StoreLeaseClosedError('the lighting store node is closed'));
    if (this.#fatal !== null) return Promise.reject(this.#fatal);
    if (this.#pending === null) {
      this.#set({ state: 'opening' });
      const closing = this.#closing;
      const p = closing.then(() => this.#open());
      this.#pending = p;
      p.then(
        (store) => {
          if (this.#pending === p) this.#set({ state: 'connected', path: store.path });
        },
        (err: unknown) => {
          if (this.#pending === p) {
            this.#pending = null;
            this.#set({ state: 'error', message: err instanceof Error ? err.message : String(err) });
          }
        },
      );
    }
    return this.#pending;
  }

  /** true while a handle is open or opening. */
  get held(): boolean {
    return this.#pending !== null;
  }

  /** Closes the current handle (flushing its rows); resolves when closed. The next acquire() reopens. */
  release(): Promise<void> {
    const p = this.#pending;
    this.#pending = null;
    if (p === null) return this.#closing;
    const done = p.then(
      (store) => store.close().catch(() => undefined),
      () => undefined,
    );
    this.#closing = this.#closing.then(() => done);
    return this.#closing.then(() => {
      if (this.#pending === null && !this.#closed && this.#fatal === null) this.#set({ state: 'idle' });
    });
  }

  /** Releases for good. */
  async close(): Promise<void> {
    const released = this.release();
    this.#closed = true;
    await released;
    this.#set({ state: 'closed' });
  }

  #set(s: LeaseState): void {
    this.#state = s;
    try {
      this.#onState(s);
    } catch {
      // a status callback never breaks the lease
    }
  }
}
