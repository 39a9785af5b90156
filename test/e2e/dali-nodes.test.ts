/**
 * The DALI nodes in a real Node-RED runtime, talking LUBA over a socat
 * pseudo-terminal to the bus simulator program (dist/bin/dali-sim.js, a
 * child process), driven over HTTP:
 * - a setpoint through an `http in` endpoint -> dali-dt8-out (Read back on)
 *   -> `http response` carries the gear's readback;
 * - unplug (socat and the simulator killed: the pty vanishes) -> the node's
 *   status turns red (seen by a `status` node writing flow context, served
 *   over HTTP); replug (a fresh simulator whose gear is at power-on level)
 *   -> green again, and the last setpoint was re-applied (diagnostics read
 *   it back);
 * - 100 full redeploys leave the port reopenable (a final setpoint works),
 *   no file descriptors leaked and memory bounded (numbers printed).
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { percentToArcLevel } from '../../lib/dali/curve';
import { NodeRedRuntime, runtimeDescription } from './harness';
import { killAll, skipWithoutSocat, startPtyPair, track, type PtyPair } from '../helpers/socat';

const SIM_BIN = path.resolve(__dirname, '..', '..', 'bin', 'dali-sim.js');
const REDEPLOYS = Number(process.env.E2E_DALI_REDEPLOYS ?? 100);

interface Status {
  fill?: string;
  shape?: string;
  text?: string;
}

async function startSim(port: string): Promise<ChildProcess> {
  const child = track(
    spawn(
      process.execPath,
      [SIM_BIN, '--protocol', 'luba', '--port', port, '--gear', '0-3', '--groups', '0', '--sensor', '10', '--quiet'],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    ),
  );
  child.stdin?.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => reject(new Error(`dali-sim did not start: ${err}`)), 8000);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/ready/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`dali-sim exited with ${String(code)}: ${err}`)));
  });
  return child;
}

function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

function flows(port: string): object[] {
  const z = 'dali-e2e';
  return [
    { id: z, type: 'tab', label: 'DALI e2e' },
    {
      id: 'e2e-bus',
      type: 'dali-bus',
      name: 'e2e bus',
      interfaceType: 'luba',
      port,
      reconnectMinMs: 100,
      reconnectMaxMs: 400,
      simGear: '0-3',
      simGroups: '0:0-3',
      simSensor: 10,
      simScenario: 'office',
      simSpeed: 1,
    },
    { id: 'e2e-inSet', type: 'http in', z, url: '/dali/setpoint', method: 'post', upload: false, swaggerDoc: '', wires: [['e2e-out']] },
    {
      id: 'e2e-inDiag',
      type: 'http in',
      z,
      url: '/dali/diagnostics',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      wires: [['e2e-toDiag']],
    },
    {
      id: 'e2e-toDiag',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'topic', pt: 'msg', to: 'diagnostics', tot: 'str' }],
      wires: [['e2e-out']],
    },
    {
      id: 'e2e-out',
      type: 'dali-dt8-out',
      z,
      name: '',
      bus: 'e2e-bus',
      address: 'A1',
      addressType: 'str',
      fadeMs: 0,
      curve: 'logarithmic',
      warmestKelvin: 1800,
      coolestKelvin: 6500,
      tcLimitsFrom: 'config',
      verify: true,
      wires: [['e2e-resp']],
    },
    { id: 'e2e-catch', type: 'catch', z, scope: ['e2e-out'], uncaught: false, wires: [['e2e-toError']] },
    {
      id: 'e2e-toError',
      type: 'change',
      z,
      rules: [
        { t: 'set', p: 'statusCode', pt: 'msg', to: '500', tot: 'num' },
        { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
      ],
      wires: [['e2e-resp']],
    },
    { id: 'e2e-resp', type: 'http response', z, statusCode: '', headers: {}, wires: [] },
    { id: 'e2e-watch', type: 'status', z, scope: ['e2e-out'], wires: [['e2e-keep']] },
    { id: 'e2e-keep', type: 'change', z, rules: [{ t: 'set', p: 'daliStatus', pt: 'flow', to: 'status', tot: 'msg' }], wires: [[]] },
    {
      id: 'e2e-inStatus',
      type: 'http in',
      z,
      url: '/dali/status',
      method: 'get',
      upload: false,
      swaggerDoc: '',
      wires: [['e2e-readStatus']],
    },
    {
      id: 'e2e-readStatus',
      type: 'change',
      z,
      rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'daliStatus', tot: 'flow' }],
      wires: [['e2e-resp']],
    },
  ];
}

function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

describe(`DALI nodes in a real Node-RED runtime over a LUBA pty (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  this.timeout(180_000);
  let rt: NodeRedRuntime | undefined;
  let dir = '';
  let pair: PtyPair | undefined;
  let sim: ChildProcess | undefined;

  /**
   * Plugs the interface in: a new pty pair with the simulator behind it, and
   * only then the device path the bus opens (as a USB interface appears with
   * its firmware running). The pair is made under staging names and its
   * application end renamed into place.
   */
  async function plugIn(): Promise<void> {
    pair = await startPtyPair(dir, { dev: `dev-${++plugs}`, app: `staging-${plugs}` });
    sim = await startSim(pair.dev);
    fs.renameSync(pair.app, appPath());
  }

  const appPath = (): string => path.join(dir, 'app');
  let plugs = 0;

  /** Unplugs it: the simulator and the pty pair die, and the device path vanishes (as /dev/ttyACM0 does). */
  async function unplug(): Promise<void> {
    await stopProcess(sim);
    await pair?.stop();
    fs.rmSync(appPath(), { force: true });
  }

  async function status(): Promise<Status> {
    const r = await (rt as NodeRedRuntime).request('GET', '/dali/status');
    return (r.json ?? {}) as Status;
  }

  async function waitForStatus(want: (s: Status) => boolean, what: string, timeoutMs = 15000): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    let last: Status = {};
    while (Date.now() < deadline) {
      last = await status();
      if (want(last)) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`status never became ${what}; last ${JSON.stringify(last)}`);
  }

  async function setpoint(intensity: number, cct: number): Promise<{ status: number; body: Record<string, unknown> }> {
    const r = await (rt as NodeRedRuntime).request('POST', '/dali/setpoint', {
      zone: 'office-1',
      intensity,
      cct,
      reason: 'e2e',
      source: 'manual',
    });
    return { status: r.status, body: (r.json ?? { text: r.text }) as Record<string, unknown> };
  }

  before(async function () {
    skipWithoutSocat(this);
    assert.ok(fs.existsSync(SIM_BIN), `${SIM_BIN} missing: build first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-e2e-'));
    await plugIn();
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-dali-')) } : {});
    await rt.deploy(flows(appPath()));
    await waitForStatus((s) => s.fill === 'green', 'green (connected)');
  });

  after(async () => {
    if (rt) {
      await rt.stopAndClean();
    }
    await killAll();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a setpoint over HTTP comes back with the gear readback', async () => {
    const r = await setpoint(40, 2700);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.address, 'A1');
    assert.equal(r.body.mirek, 370);
    assert.equal(r.body.verified, true);
    const readback = r.body.readback as Array<Record<string, unknown>>;
    assert.equal(readback.length, 1);
    assert.equal(readback[0]?.level, r.body.level);
    assert.equal(readback[0]?.mirek, 370);
    const bad = await (rt as NodeRedRuntime).request('POST', '/dali/setpoint', {
      zone: 'office-1',
      intensity: 'bright',
      cct: 2700,
      reason: '',
      source: 'manual',
    });
    assert.equal(bad.status, 500);
    assert.match(bad.text, /payload\.intensity must be a number from 0 to 100/);
  });

  it('unplugged: the status turns red; plugged in again: green, and the last setpoint is back on the gear', async () => {
    const applied = await setpoint(60, 4000);
    assert.equal(applied.body.verified, true);
    await unplug();
    const red = await waitForStatus((s) => s.fill === 'red', 'red (disconnected)');
    assert.equal(red.shape, 'ring');
    const refused = await setpoint(70, 3000);
    assert.equal(refused.status, 500, 'no bus, no setpoint');
    await plugIn(); // a fresh simulator: its gear starts at the power-on level
    await waitForStatus((s) => s.fill === 'green', 'green again');
    const diag = await (rt as NodeRedRuntime).request('POST', '/dali/diagnostics', {});
    assert.equal(diag.status, 200, diag.text);
    const gear = (diag.json as { gear?: Array<Record<string, unknown>> }).gear ?? [];
    assert.equal(gear[0]?.address, 'A1');
    // The setpoint sent while unplugged is the last one the bus was given: that is what comes back.
    const wanted = { level: percentToArcLevel(70), mirek: 333 };
    assert.equal(gear[0]?.actualLevel, wanted.level);
    assert.deepEqual(gear[0]?.colourTemperature, { mirek: wanted.mirek, kelvin: 3003 });
  });

  it(`${REDEPLOYS} full redeploys: the port reopens, no file descriptor leaks, memory bounded`, async () => {
    const runtime = rt as NodeRedRuntime;
    const pid = runtime.proc.pid as number;
    const flow = flows(appPath());
    for (let i = 0; i < 5; i++) await runtime.deploy(flow); // warm up
    await waitForStatus((s) => s.fill === 'green', 'green');
    await new Promise((r) => setTimeout(r, 1000));
    const fdBefore = fdCount(pid);
    const rssBefore = rssMb(pid);
    const t0 = Date.now();
    for (let i = 0; i < REDEPLOYS; i++) await runtime.deploy(flow);
    const deployMs = Date.now() - t0;
    await waitForStatus((s) => s.fill === 'green', 'green after the redeploys');
    const final = await setpoint(25, 5000);
    assert.equal(final.status, 200, JSON.stringify(final.body));
    assert.equal(final.body.verified, true, 'the port was reopened and the gear answers');
    await new Promise((r) => setTimeout(r, 2000));
    const fdAfter = fdCount(pid);
    const rssAfter = rssMb(pid);
    process.stdout.write(
      `      [dali e2e] ${REDEPLOYS} redeploys in ${deployMs} ms; fds ${fdBefore} -> ${fdAfter}; RSS ${rssBefore} MB -> ${rssAfter} MB\n`,
    );
    assert.ok(fdAfter <= fdBefore + 3, `file descriptors ${fdBefore} -> ${fdAfter}`);
    assert.ok(rssAfter - rssBefore < 80, `RSS ${rssBefore} MB -> ${rssAfter} MB`);
    const problems = runtime
      .problems()
      .filter((l) => !/DALI interface not available|Encrypted credentials not found|Projects disabled/.test(l));
    assert.deepEqual(problems, [], 'no other warning or error in the log');
  });
});
