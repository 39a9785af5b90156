/**
 * WAL checkpoints on a second SQLite connection, off the writer's path.
 *
 * SQLite's automatic checkpoint runs on the connection that committed, right
 * after the commit, before the binding answers: every few dozen small commits
 * one of them also copied the WAL's pages back into the database file and
 * fsynced it (ms on that request), and a backlog's transactions waited for
 * the copying in turn. Here a second connection to the same file runs
 * `PRAGMA wal_checkpoint(PASSIVE)` after commits (at most one at a time, at
 * most one per `minIntervalMs`). It runs on another thread of the binding's
 * pool while the writer goes on: a PASSIVE checkpoint takes no writer lock,
 * copies the frames committed before it started and never waits. When it has
 * copied everything, the writer's next transaction starts the WAL file from
 * its beginning again, so the file stays small.
 *
 * The writer keeps SQLite's automatic checkpoint as a backstop with a larger
 * threshold (BACKSTOP_PAGES): under a load that keeps the WAL from ever being
 * caught up, the writer checkpoints itself once the WAL reaches it (the
 * frames the background connection already copied are not copied again).
 * That automatic checkpoint is PASSIVE and gives up while a background one
 * holds the checkpoint lock, and meanwhile commits keep adding frames: on
 * slow storage (each run fsyncs twice) the WAL went far past the backstop
 * (60 MiB with 80 ms fsyncs). So the writer also checks the WAL file before a
 * batch and, once it is BACKSTOP_BYTES or more, checkpoints through pause():
 * it waits for the running background checkpoint, starts none meanwhile, and
 * copies everything itself before writing on, so the WAL starts over at the
 * next transaction.
 *
 * Durability is unchanged: a commit is acknowledged when its frames are in the
 * WAL, as before; a checkpoint only moves committed pages into the main file.
 * Errors (busy, read-only, disk full) are kept for the counters and the next
 * checkpoint tries again; the writer's own faults are what health reports.
 */
import { Db } from './sqlite';

/** The writer's automatic-checkpoint threshold (pages) while this connection checkpoints. */
export const BACKSTOP_PAGES = 1024;
/** The writer's threshold without a background connection (a 1 MiB WAL at 4 KiB pages). */
export const WRITER_CHECKPOINT_PAGES = 256;
/** WAL file size at which the writer checkpoints before its next batch (BACKSTOP_PAGES of 4 KiB). */
export const BACKSTOP_BYTES = BACKSTOP_PAGES * 4096;

export interface CheckpointStats {
  /** Checkpoints run by the background connection. */
  runs: number;
  /** Of those, the ones that copied every frame in the WAL (the writer can start the WAL over). */
  complete: number;
  lastError: string | null;
}

export class WalCheckpointer {
  readonly stats: CheckpointStats = { runs: 0, complete: 0, lastError: null };
  readonly #db: Db;
  readonly #minIntervalMs: number;
  #running: Promise<void> | null = null;
  #lastAt = 0;
  #dirty = false;
  #closed = false;
  /** pause() calls in progress: no checkpoint starts here meanwhile. */
  #paused = 0;

  private constructor(db: Db, minIntervalMs: number) {
    this.#db = db;
    this.#minIntervalMs = minIntervalMs;
  }

  /**
   * Opens the second connection to an existing file in WAL mode (never creates
   * one), or null when it cannot: the writer then checkpoints by itself.
   */
  static async open(file: string, options: { synchronous: 'NORMAL' | 'FULL'; minIntervalMs?: number }): Promise<WalCheckpointer | null> {
    let db: Db;
    try {
      db = await Db.open(file, { mustExist: true });
    } catch {
      return null;
    }
    try {
      // Validated enum, never input. NORMAL: the WAL is synced before a checkpoint, the file after it.
      await db.run(`PRAGMA synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
      const mode = await db.get<{ journal_mode: string }>('PRAGMA journal_mode');
      if (mode?.journal_mode !== 'wal') throw new Error('not in WAL mode');
      // This connection never commits, so its own automatic checkpoint never fires; off all the same.
      await db.run('PRAGMA wal_autocheckpoint = 0');
    } catch {
      await db.close().catch(() => undefined);
      return null;
    }
    return new WalCheckpointer(db, options.minIntervalMs ?? 50);
  }

  /**
   * After a commit: starts a checkpoint now, or once the running one has
   * finished (it did not see this commit's frames), at most one per
   * minIntervalMs (a later nudge within it starts none: the next commit's will).
   */
  nudge(): void {
    if (this.#closed) return;
    if (this.#running !== null || this.#paused > 0) {
      this.#dirty = true;
      return;
    }
    const now = Date.now();
    if (now - this.#lastAt < this.#minIntervalMs) return;
    this.#lastAt = now;
    this.#dirty = false;
    this.#running = this.run().finally(() => {
      this.#running = null;
      if (this.#dirty) this.nudge();
    });
  }

  /** One PASSIVE checkpoint now (waits for one already running first). Never rejects. */
  async run(): Promise<void> {
    if (this.#running !== null) await this.#running;
    if (this.#closed) return;
    try {
      const r = await this.#db.get<{ busy: number; log: number; checkpointed: number }>('PRAGMA wal_checkpoint(PASSIVE)');
      this.stats.runs += 1;
      if (r !== undefined && r.busy === 0 && r.log === r.checkpointed) this.stats.complete += 1;
      this.stats.lastError = null;
    } catch (err) {
      this.stats.lastError = (err as Error).message;
    }
  }

  /**
   * Runs `fn` (the writer's own checkpoint) once a running background
   * checkpoint has finished, starting none until it has settled.
   */
  async pause<T>(fn: () => Promise<T>): Promise<T> {
    this.#paused += 1;
    try {
      while (this.#running !== null) await this.#running;
      return await fn();
    } finally {
      this.#paused -= 1;
    }
  }

  /** Waits for a running checkpoint and closes the connection. Never rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#running;
    await this.#db.close().catch(() => undefined);
  }
}
