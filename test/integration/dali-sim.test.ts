import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { dapc } from '../../lib/dali/codec';
import { createInterface } from '../../lib/dali/interfaces';
import type { BusFrameEvent } from '../../lib/dali/types';
import { parseNumberList, parseSimArgs, startSimulatorServer } from '../../bin/dali-sim';
import { killAll, skipWithoutSocat, startPtyPair, track } from '../helpers/socat';

const SIM = path.resolve(__dirname, '..', '..', 'bin', 'dali-sim.js');

describe('dali-sim', function () {
  this.timeout(20_000);

  describe('arguments', () => {
    it('parses address lists and rejects out-of-range ones', () => {
      assert.deepEqual(parseNumberList('0-3,8,2', 63), [0, 1, 2, 3, 8]);
      assert.equal(parseNumberList('60-64', 63), undefined);
      assert.equal(parseNumberList('3-1', 63), undefined);
      assert.equal(parseNumberList('x', 63), undefined);
    });

    it('reads the documented options and refuses bad ones', () => {
      const ok = parseSimArgs([
        '--protocol',
        'sci2',
        '--port',
        '/tmp/x',
        '--gear',
        '0-1',
        '--groups',
        '2',
        '--sensor',
        'none',
        '--scenario',
        'office',
        '--speed',
        '120',
        '--fast',
      ]);
      assert.ok('options' in ok);
      assert.deepEqual(ok.options, {
        protocol: 'sci2',
        port: '/tmp/x',
        gear: [0, 1],
        groups: [2],
        sensor: null,
        scenario: 'office',
        speed: 120,
        wireTiming: false,
      });
      for (const bad of [
        [],
        ['--protocol', 'dmx', '--port', 'x'],
        ['--protocol', 'luba'],
        ['--protocol', 'luba', '--port', 'x', '--gear', '70'],
        ['--protocol', 'luba', '--port', 'x', '--bogus'],
      ]) {
        const r = parseSimArgs(bad);
        assert.ok('error' in r, `accepted ${bad.join(' ')}`);
      }
    });

    it('the CLI exits 2 with usage on bad arguments and 1 when the port cannot be opened', () => {
      const bad = spawnSync(process.execPath, [SIM, '--protocol', 'x'], { encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /usage: dali-sim/);
      const missing = spawnSync(process.execPath, [SIM, '--protocol', 'luba', '--port', path.join(os.tmpdir(), 'no-such-pty')], {
        encoding: 'utf8',
      });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /cannot open/);
      assert.doesNotMatch(missing.stderr, /\n\s+at .+:\d+:\d+/);
    });
  });

  describe('server', () => {
    let dir = '';
    before(function () {
      skipWithoutSocat(this);
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-sim-'));
    });
    after(async () => {
      await killAll();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it('runs in-process: a DAPC from the client reaches the virtual gear, sensor events reach the client', async () => {
      const pair = await startPtyPair(dir, { dev: 'ip-dev', app: 'ip-app' });
      const server = await startSimulatorServer({ protocol: 'luba', port: pair.dev, gear: [4], sensor: 12, wireTiming: false });
      const iface = createInterface({ type: 'luba', path: pair.app, answerTimeoutMs: 100 });
      const frames: BusFrameEvent[] = [];
      iface.on('frame', (ev) => frames.push(ev));
      try {
        await iface.open();
        await iface.transmit(dapc({ kind: 'short', address: 4 }, 150), 2);
        assert.equal(server.bus.gearAt(4)?.snapshot().actualLevel, 150);
        assert.match(server.command('occupied'), /occupied/);
        const deadline = Date.now() + 3000;
        while (Date.now() < deadline && !frames.some((f) => f.bits === 24)) await new Promise((r) => setTimeout(r, 10));
        assert.ok(
          frames.some((f) => f.bits === 24 && ((f.value >> 17) & 0x3f) === 12),
          JSON.stringify(frames),
        );
        assert.match(server.command('state 4'), /gear 4: level 150/);
        assert.match(server.command('inject zz'), /usage/);
      } finally {
        await iface.close();
        await server.close();
        await server.close();
        await pair.stop();
      }
    });

    it('shuts down cleanly on SIGTERM and on SIGINT', async () => {
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        const pair = await startPtyPair(dir, { dev: `sig-dev-${signal}`, app: `sig-app-${signal}` });
        const child = track(
          spawn(process.execPath, [SIM, '--protocol', 'hidraw', '--port', pair.dev, '--quiet'], { stdio: ['pipe', 'pipe', 'pipe'] }),
        );
        let out = '';
        child.stdout?.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const deadline = Date.now() + 15000; // a child node process can take seconds to start on a loaded 2-core box
        while (!/ready/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        assert.match(out, /ready/);
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        child.kill(signal);
        assert.equal(await exited, 0);
        assert.match(out, new RegExp(`${signal}, closing`));
        await pair.stop();
      }
    });
  });
});
