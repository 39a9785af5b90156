/**
 * What is wrong with the storage under a lighting store, in words an operator
 * can act on, and the error that tells a client to come back later.
 *
 * Faults, most serious first:
 * - file-gone:     the database file was deleted (the connection still
 *                  writes into the unlinked inode): writes refused;
 * - file-replaced: another file now sits at the path (dev+ino differ from
 *                  the open file's): writes refused;
 * - read-only:     the file (or its filesystem) cannot be written by this
 *                  process: writes refused;
 * - write-failed:  the last transaction failed for a storage reason (disk
 *                  full, I/O error, locked): writes still tried, so they
 *                  resume when the cause goes;
 * - low-space:     free space on the file's filesystem below the threshold:
 *                  writes go on, health says so before the disk is full.
 *
 * checkFile() and freeSpace() are the probes (fs.stat, fs.access W_OK,
 * fs.statfs); the store's monitor runs them every few seconds.
 */
import * as fs from 'fs';
import * as path from 'path';

export type StorageFaultKind = 'file-gone' | 'file-replaced' | 'read-only' | 'write-failed' | 'low-space';

export interface StorageFault {
  kind: StorageFaultKind;
  /** One line for status, health and logs (no class names, secrets masked by the caller when a path is involved). */
  message: string;
  /** Epoch ms when the fault began. */
  since: number;
  /** SQLite or errno code behind it, when there is one. */
  code?: string;
}

/** Order of seriousness: the first present is the one reported. */
export const FAULT_ORDER: readonly StorageFaultKind[] = ['file-gone', 'file-replaced', 'read-only', 'write-failed', 'low-space'];

/** Faults under which writes are refused up front (a write would be lost or fail for sure). */
export function refusesWrites(kind: StorageFaultKind | undefined): boolean {
  return kind === 'file-gone' || kind === 'file-replaced' || kind === 'read-only';
}

/** Seconds a client should wait before retrying a refused write. */
export const RETRY_AFTER_S = 5;

/** Code of StorageUnavailableError (Node-RED copies it to msg.error.code for Catch nodes: the flow answers 503). */
export const STORAGE_UNAVAILABLE = 'STORAGE_UNAVAILABLE';

/**
 * A write that cannot be done now because of the storage, not the data:
 * answer 503 with Retry-After. The message is short and says why, without
 * SQLite's internals.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  readonly code = STORAGE_UNAVAILABLE;
  readonly retryAfterS = RETRY_AFTER_S;
  /** The fault or SQLite code behind it. */
  readonly reason: string;
  constructor(message: string, reason: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.reason = reason;
  }
}

/** SQLite result codes that say the storage failed (not the row). */
const STORAGE_CODES: Record<string, string> = {
  SQLITE_FULL: 'the disk is full',
  SQLITE_READONLY: 'the database file is read-only',
  SQLITE_IOERR: 'the disk reported an I/O error',
  SQLITE_CANTOPEN: 'the database file cannot be opened',
  SQLITE_PERM: 'permission denied on the database file',
  SQLITE_BUSY: 'the database is locked by another process',
  SQLITE_LOCKED: 'the database is locked',
  SQLITE_CORRUPT: 'the database file is corrupt',
  SQLITE_NOTADB: 'the file is not a database',
  SQLITE_NOLFS: 'the filesystem cannot hold a file this large',
  SQLITE_PROTOCOL: 'the database lock protocol failed',
};

/** The operator's words for a storage SQLite code, or null when the code is about the data (constraint, mismatch). */
export function storageProblem(code: string | undefined): string | null {
  if (code === undefined) return null;
  return STORAGE_CODES[code] ?? null;
}

export interface FileIdentity {
  dev: number;
  ino: number;
}

export async function fileIdentity(file: string): Promise<FileIdentity | null> {
  try {
    const st = await fs.promises.stat(file);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

/** The files SQLite keeps beside a database in WAL mode: the log and the shared-memory index. */
const SIDECARS = ['-wal', '-shm'] as const;

/**
 * SQLite creates a database's `-wal` and `-shm` with the database file's mode:
 * opened while the file was read-only (0444), they stay read-only after the
 * file is made writable again, and every write then fails as "read-only"
 * although the file is not. This gives such a sidecar the database file's mode,
 * as SQLite gives a new one, when the database file and its folder are
 * writable and this process's user owns the sidecar (it created it). Returns
 * the sidecars changed. Never throws.
 */
export async function adoptSidecarModes(file: string): Promise<string[]> {
  const changed: string[] = [];
  try {
    await fs.promises.access(file, fs.constants.W_OK);
    await fs.promises.access(path.dirname(file), fs.constants.W_OK);
    const mode = (await fs.promises.stat(file)).mode & 0o777;
    const uid = process.getuid?.();
    for (const suffix of SIDECARS) {
      const sidecar = `${file}${suffix}`;
      const st = await fs.promises.stat(sidecar).catch(() => null);
      if (st === null || st.uid !== uid || (st.mode & 0o777) === mode) continue;
      const writable = await fs.promises.access(sidecar, fs.constants.W_OK).then(
        () => true,
        () => false,
      );
      if (writable) continue;
      await fs.promises.chmod(sidecar, mode);
      changed.push(path.basename(sidecar));
    }
  } catch {
    // not writable, or changed meanwhile: the next round looks again
  }
  return changed;
}

/**
 * The file fault at `file` for a connection opened on `identity`: gone,
 * replaced, read-only, or null when the path is the open, writable file.
 */
export async function checkFile(file: string, identity: FileIdentity | null, now = Date.now()): Promise<StorageFault | null> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return {
        kind: 'file-gone',
        message: `the database file ${path.basename(file)} was deleted: writes refused until it is back`,
        since: now,
        code,
      };
    }
    return {
      kind: 'read-only',
      message: `the database file cannot be checked (${code ?? 'error'})`,
      since: now,
      ...(code ? { code } : {}),
    };
  }
  if (identity !== null && (st.dev !== identity.dev || st.ino !== identity.ino)) {
    return {
      kind: 'file-replaced',
      message: `the database file ${path.basename(file)} was replaced by another file: writes refused until it is reopened`,
      since: now,
    };
  }
  try {
    await fs.promises.access(file, fs.constants.W_OK);
    await fs.promises.access(path.dirname(file), fs.constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
    return {
      kind: 'read-only',
      message: `the database file ${path.basename(file)} or its folder is read-only for this process (${code}): check owner, mode and mount`,
      since: now,
      code,
    };
  }
  for (const suffix of SIDECARS) {
    try {
      await fs.promises.access(`${file}${suffix}`, fs.constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
      if (code === 'ENOENT') continue;
      return {
        kind: 'read-only',
        message: `${path.basename(file)}${suffix}, SQLite's file beside the database, is read-only for this process (${code}): give it the database file's owner and mode`,
        since: now,
        code,
      };
    }
  }
  return null;
}

export interface SpaceReport {
  freeBytes: number;
  totalBytes: number;
  /** Below this, health is degraded. */
  thresholdBytes: number;
}

/**
 * Free space on the filesystem holding `dir`. The threshold is the smaller of
 * `minFreeBytes` and 10 % of the filesystem (a small volume is not always "low").
 * null when statfs is unavailable.
 */
export async function freeSpace(dir: string, minFreeBytes: number): Promise<SpaceReport | null> {
  try {
    const s = await fs.promises.statfs(dir);
    const freeBytes = Number(s.bavail) * Number(s.bsize);
    const totalBytes = Number(s.blocks) * Number(s.bsize);
    return { freeBytes, totalBytes, thresholdBytes: Math.min(minFreeBytes, Math.floor(totalBytes * 0.1)) };
  } catch {
    return null;
  }
}

/** "12.3 MB" */
export function formatBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(0)} kB`;
  return `${n} B`;
}
