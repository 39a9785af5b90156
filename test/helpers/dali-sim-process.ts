/**
 * The bus simulator program (dist/bin/dali-sim.js) as a child process, for
 * end-to-end tests and benches: commands on its stdin, replies and
 * --frame-times JSON lines (event frame ends, forward frame starts) read from
 * its stdout. The process is tracked, so socat's killAll() ends it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { track } from './socat';

export const SIM_BIN = path.resolve(__dirname, '..', '..', 'bin', 'dali-sim.js');

/** One --frame-times line (see bin/dali-sim's file comment). */
export interface FrameTime {
  frameTime: 'event' | 'forward';
  /** process.hrtime.bigint() of dali-sim, as a decimal string. */
  hrtimeNs: string;
  bits: number;
  /** The frame as hex, e.g. "84FE" (DAPC G2 254). */
  value?: string;
  sensor?: number;
  occupied?: boolean;
  address?: string;
  target?: { kind: string; address?: number; group?: number };
}

export class SimProcess {
  readonly frames: FrameTime[] = [];
  /** Everything else it printed (replies, "ready"). */
  out = '';

  private constructor(readonly child: ChildProcess) {
    let pending = '';
    child.stdout?.on('data', (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('{')) this.frames.push(JSON.parse(line) as FrameTime);
        else this.out += `${line}\n`;
      }
    });
  }

  /** Starts dali-sim with these arguments and waits for "ready". */
  static async start(args: readonly string[]): Promise<SimProcess> {
    const child = track(spawn(process.execPath, [SIM_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    child.stdin?.on('error', () => undefined);
    const sim = new SimProcess(child);
    await sim.until(() => /ready/.test(sim.out), 'dali-sim ready', 8000);
    return sim;
  }

  async until(ok: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const start = Date.now();
    while (!ok()) {
      if (this.child.exitCode !== null) throw new Error(`dali-sim exited (${this.child.exitCode}) waiting for ${what}`);
      if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(command: string): void {
    this.child.stdin?.write(`${command}\n`);
  }

  /** Arc levels of gear 0..count-1, read with the `state` command. */
  async levels(count: number): Promise<number[]> {
    const from = this.out.length;
    this.send('state');
    await this.until(() => (this.out.slice(from).match(/^gear \d+: level/gm) ?? []).length >= count, 'the gear state');
    const levels: number[] = [];
    for (const m of this.out.slice(from).matchAll(/^gear (\d+): level (\d+)/gm)) levels[Number(m[1])] = Number(m[2]);
    return levels;
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }
}
