/**
 * Which bus owns which device, process-wide: a serial port or hidraw file can
 * be opened by one `dali-bus` only. Two config nodes pointing at the same
 * device (also through different names: /dev/serial/by-id/... and
 * /dev/ttyACM0 resolve to the same file) would fight over it; the second one
 * is told who holds it and waits until it is released.
 *
 * Events: 'released' (key: string) when a claim is released.
 */
import { EventEmitter } from 'node:events';
import { realpathSync } from 'node:fs';
import * as path from 'node:path';

export type ClaimResult =
  | { readonly ok: true; readonly key: string }
  | { readonly ok: false; readonly key: string; readonly holder: string };

export class PortRegistry extends EventEmitter {
  private readonly holders = new Map<string, { owner: string; label: string }>();

  /** The identity of a device path: its real path when it exists, else the absolute path. */
  static key(devicePath: string): string {
    const absolute = path.resolve(devicePath);
    try {
      return realpathSync(absolute);
    } catch {
      return absolute;
    }
  }

  /** Claims `devicePath` for `owner`; a claim by the same owner succeeds again. */
  claim(devicePath: string, owner: string, label: string): ClaimResult {
    const key = PortRegistry.key(devicePath);
    const held = this.holders.get(key);
    if (held && held.owner !== owner) return { ok: false, key, holder: held.label };
    this.holders.set(key, { owner, label });
    return { ok: true, key };
  }

  /** Releases every claim of `owner` on `key` (as returned by claim). */
  release(key: string, owner: string): void {
    const held = this.holders.get(key);
    if (!held || held.owner !== owner) return;
    this.holders.delete(key);
    this.emit('released', key);
  }

  /** Label of the owner holding `devicePath`, if any. */
  holder(devicePath: string): string | undefined {
    return this.holders.get(PortRegistry.key(devicePath))?.label;
  }
}

/** The registry shared by every bus in this process. */
export const portRegistry = new PortRegistry();
portRegistry.setMaxListeners(0);
