import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { killAll, skipWithoutSocat, startPtyPair, track } from '../helpers/socat';

const BIN = path.resolve(__dirname, '..', '..', 'bin');
const FRAME = path.join(BIN, 'dali-frame.js');
const SIM = path.join(BIN, 'dali-sim.js');

function tool(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [FRAME, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function lines(child: ChildProcess, stream: 'stdout' | 'stderr'): { all: string[]; waitFor(re: RegExp, ms?: number): Promise<string> } {
  const all: string[] = [];
  let buf = '';
  const waiters: Array<{ re: RegExp; resolve: (l: string) => void }> = [];
  child[stream]?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      all.push(line);
      for (const w of [...waiters]) {
        if (!w.re.test(line)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    all,
    waitFor(re, ms = 8000) {
      const hit = all.find((l) => re.test(l));
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no ${stream} line matching ${re}; got:\n${all.join('\n')}`)), ms);
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
        });
      });
    },
  };
}

describe('dali-frame (installer tool)', function () {
  this.timeout(60_000);

  describe('decode / encode', () => {
    it('decodes the reference DAPC frame, as text and as one JSON object', () => {
      const text = tool('decode', '0AC8');
      assert.equal(text.code, 0);
      assert.match(text.out, /DAPC short 5 level 200/);
      const json = tool('decode', '0x0ac8', '--json');
      assert.equal(json.code, 0);
      const obj = JSON.parse(json.out) as Record<string, unknown>;
      assert.equal(obj.name, 'DAPC');
      assert.equal(obj.level, 200);
      assert.equal(obj.address, 'short 5');
      assert.equal(obj.bits, 16);
    });

    it('decodes a 24-bit occupancy event from the hex length', () => {
      const r = tool('decode', '000C0B', '--json');
      const obj = JSON.parse(r.out) as { kind: string; bits: number; shortAddress: number; occupancy: { occupied: boolean } };
      assert.equal(obj.kind, 'event');
      assert.equal(obj.bits, 24);
      assert.equal(obj.shortAddress, 0);
      assert.equal(obj.occupancy.occupied, true);
    });

    it('encodes level + Tc as the reference frame sequence (short 5 at 2700 K = A372 C301 C108 0BE7 C108 0BE2)', () => {
      const r = tool('encode', 'dt8-tc', 'short', '5', '2700K', '--json');
      assert.equal(r.code, 0, r.err);
      const { frames } = JSON.parse(r.out) as { frames: Array<{ hex: string }> };
      assert.deepEqual(
        frames.map((f) => f.hex),
        ['A372', 'C301', 'C108', '0BE7', 'C108', '0BE2'],
      );
      assert.match(tool('encode', 'dapc', 'short', '5', 'level', '200').out, /^0AC8 /);
      assert.match(tool('encode', 'query actual level', 'short', '5').out, /^0BA0 .*QUERY ACTUAL LEVEL/);
    });

    it('exits 2 with a message, not a stack trace, on bad input', () => {
      for (const args of [
        [],
        ['decode', 'zz'],
        ['decode', '12345'],
        ['encode', 'dapc', 'short', '64', 'level', '1'],
        ['encode', 'fly', 'short', '1'],
        ['frobnicate'],
        ['scan', '--interface', 'modem'],
        ['monitor', '--interface', 'luba'],
      ]) {
        const r = tool(...args);
        assert.equal(r.code, 2, `${args.join(' ')}: exit ${String(r.code)}`);
        assert.match(r.err, /dali-frame|usage/);
        assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/, `stack trace for ${args.join(' ')}`);
      }
    });

    it('exits 1 with a message when the interface cannot be opened', () => {
      const r = tool('scan', '--interface', 'luba', '--port', path.join(os.tmpdir(), 'no-such-dali-port'));
      assert.equal(r.code, 1);
      assert.match(r.err, /No such file|does not exist|cannot open/i);
      assert.doesNotMatch(r.err, /\n\s+at .+:\d+:\d+/);
    });
  });

  describe('scan and monitor over a pty against dali-sim', () => {
    let dir = '';
    before(function () {
      skipWithoutSocat(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-frame-'));
    });
    after(async () => {
      await killAll();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('scan lists the gear with device type 8, its groups and the colour temperature limits', async () => {
      const pair = await startPtyPair(dir, { dev: 'scan-dev', app: 'scan-app' });
      const sim = track(
        spawn(
          process.execPath,
          [SIM, '--protocol', 'luba', '--port', pair.dev, '--gear', '2,5', '--groups', '0:2; 3:2,5; 15:5', '--sensor', 'none', '--quiet'],
          {
            stdio: ['pipe', 'pipe', 'pipe'],
          },
        ),
      );
      await lines(sim, 'stdout').waitFor(/ready$/);
      const scan = track(
        spawn(
          process.execPath,
          [FRAME, 'scan', '--interface', 'luba', '--port', pair.app, '--json', '--no-devices', '--answer-timeout', '120'],
          { stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      );
      const out = lines(scan, 'stdout');
      const code = await new Promise<number | null>((resolve) => scan.once('exit', resolve));
      assert.equal(code, 0);
      const result = JSON.parse(out.all.join('\n')) as {
        gear: Array<{
          shortAddress: number;
          deviceTypes: number[];
          groups?: number[];
          dt8?: { coolestKelvin?: number; warmestKelvin?: number; tcCapable?: boolean };
        }>;
      };
      assert.deepEqual(
        result.gear.map((g) => g.shortAddress),
        [2, 5],
      );
      assert.deepEqual(
        result.gear.map((g) => g.groups),
        [
          [0, 3],
          [3, 15],
        ],
        'the groups each gear answered (QUERY GROUPS 0-7 and 8-15)',
      );
      for (const g of result.gear) {
        assert.deepEqual(g.deviceTypes, [8]);
        assert.equal(g.dt8?.tcCapable, true);
        assert.ok((g.dt8?.coolestKelvin ?? 0) > (g.dt8?.warmestKelvin ?? Infinity), JSON.stringify(g.dt8));
      }
      sim.kill('SIGKILL');
      await pair.stop();
    });

    it('monitor prints wall-panel frames and sensor events with timestamps, and stops on SIGINT', async () => {
      const pair = await startPtyPair(dir, { dev: 'mon-dev', app: 'mon-app' });
      const sim = track(
        spawn(process.execPath, [SIM, '--protocol', 'sci2', '--port', pair.dev, '--sensor', '10', '--quiet'], {
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      );
      const simOut = lines(sim, 'stdout');
      await simOut.waitFor(/ready$/);
      const mon = track(
        spawn(process.execPath, [FRAME, 'monitor', '--interface', 'sci2', '--port', pair.app], { stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      const monErr = lines(mon, 'stderr');
      const monOut = lines(mon, 'stdout');
      await monErr.waitFor(/interface connected/);
      sim.stdin?.write('inject FE00\noccupied\n');
      const dapcLine = await monOut.waitFor(/FE00\s+DAPC broadcast level 0/);
      assert.match(dapcLine, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
      // Device/instance scheme: the passive monitor names the sensor and instance; info 0x00B = occupied + movement.
      await monOut.waitFor(/EVENT \(device\/instance scheme\) device short 10 instance 0 info 0x00B/);
      const exited = new Promise<number | null>((resolve) => mon.once('exit', resolve));
      mon.kill('SIGINT');
      assert.equal(await exited, 0);
      sim.kill('SIGKILL');
      await pair.stop();
    });
  });
});
