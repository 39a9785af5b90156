/**
 * rules-fallback and override-gate in a real Node-RED runtime (4.1 on Node 20
 * or 5 on Node 22, see scripts/e2e-matrix.js): an HTTP endpoint takes a
 * feature window, rules-fallback decides, override-gate passes or blocks, and
 * the HTTP response carries the setpoint or the blocked report. A manual
 * setpoint posted to a second endpoint then blocks the automatic one; an
 * encrypted profile (FERNET_KEY in the runtime's environment) changes the
 * decision; errors come back through a catch node as 400.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { NodeRedRuntime, NPM_START_SETTINGS, PROJECT_ROOT, runtimeDescription } from './harness';

const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday'];

const TAB = 'ctl-tab';
const FLOW = [
  { id: TAB, type: 'tab', label: 'control e2e' },
  { id: 'in-window', type: 'http in', z: TAB, url: '/control/window', method: 'post', wires: [['rules']] },
  { id: 'in-profiled', type: 'http in', z: TAB, url: '/control/profiled', method: 'post', wires: [['unwrap']] },
  {
    id: 'unwrap',
    type: 'function',
    z: TAB,
    func: 'msg.profile = msg.payload.profile;\nmsg.payload = msg.payload.window;\nreturn msg;',
    outputs: 1,
    wires: [['rules']],
  },
  { id: 'in-setpoint', type: 'http in', z: TAB, url: '/control/setpoint', method: 'post', wires: [['gate']] },
  {
    id: 'rules',
    type: 'rules-fallback',
    z: TAB,
    name: '',
    targetLux: 500,
    circadian: 'clock',
    latitude: '',
    longitude: '',
    ratedW: 40,
    standbyW: 0.5,
    fixtureCount: 1,
    wires: [['gate']],
  },
  {
    id: 'gate',
    type: 'override-gate',
    z: TAB,
    name: '',
    store: '',
    overrideMinutes: 30,
    minIntervalS: 60,
    deadbandPct: 5,
    maxStepPct: 20,
    wires: [['res'], ['res']],
  },
  { id: 'ctl-catch', type: 'catch', z: TAB, scope: ['rules', 'gate'], uncaught: false, wires: [['to400']] },
  {
    id: 'to400',
    type: 'change',
    z: TAB,
    rules: [
      { t: 'set', p: 'statusCode', pt: 'msg', to: '400', tot: 'num' },
      { t: 'set', p: 'payload', pt: 'msg', to: 'error.message', tot: 'msg' },
    ],
    wires: [['res']],
  },
  { id: 'res', type: 'http response', z: TAB, statusCode: '', headers: {}, wires: [] },
  // A second gate with a 1 s interval: every setpoint it passes is logged (also those it sends on by itself).
  { id: 'in-deferred', type: 'http in', z: TAB, url: '/control/deferred', method: 'post', wires: [['gate-1s']] },
  {
    id: 'gate-1s',
    type: 'override-gate',
    z: TAB,
    name: '',
    store: '',
    overrideMinutes: 30,
    minIntervalS: 1,
    minIntervalUpS: 1,
    deadbandPct: 5,
    maxStepPct: 20,
    wires: [['log-passed'], ['res']],
  },
  {
    id: 'log-passed',
    type: 'function',
    z: TAB,
    func: "const log = flow.get('passed') || [];\nlog.push({ zone: msg.payload.zone, intensity: msg.payload.intensity, reason: msg.gate.reason, at: Date.now() });\nflow.set('passed', log);\nreturn msg.res ? msg : null;",
    outputs: 1,
    wires: [['res']],
  },
  { id: 'in-passed', type: 'http in', z: TAB, url: '/control/passed', method: 'get', wires: [['read-passed']] },
  {
    id: 'read-passed',
    type: 'function',
    z: TAB,
    func: "msg.payload = flow.get('passed') || [];\nreturn msg;",
    outputs: 1,
    wires: [['res']],
  },
];

function window(zone: string, lux: number, presence = true): Record<string, unknown> {
  const end = Date.now();
  return {
    zone,
    windowStart: end - 60_000,
    windowEnd: end,
    count: 60,
    lux: { mean: lux, min: lux - 10, max: lux + 10, std: 4, last: lux },
    presence: { ratio: presence ? 1 : 0, transitions: 0, last: presence },
    minuteOfDay: 600,
    weekday: 3,
  };
}

interface SetpointJson {
  zone: string;
  intensity: number;
  cct: number;
  reason: string;
  source: string;
}

describe(`rules-fallback -> override-gate over HTTP (${path.basename(path.dirname(runtimeDescription().nodeRedDir))}/node-red)`, function () {
  let rt: NodeRedRuntime;

  before(async function () {
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start({
      env: { FERNET_KEY: REFERENCE_KEY },
      ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {}),
    });
    await rt.deploy(FLOW);
  });

  after(async () => {
    if (rt) {
      await rt.stopAndClean();
    }
  });

  it('answers a posted feature window with the rules setpoint the gate passed', async () => {
    const res = await rt.request('POST', '/control/window', window('office-1', 320));
    assert.equal(res.status, 200, res.text);
    const sp = res.json as SetpointJson;
    assert.equal(sp.zone, 'office-1');
    assert.equal(sp.source, 'rules');
    assert.ok(sp.intensity >= 10 && sp.intensity <= 100, `intensity ${sp.intensity}`);
    assert.ok(sp.cct >= 1800 && sp.cct <= 6500);
    for (const rule of ['circadian:', 'daylight:', 'occupancy:occupied']) assert.ok(sp.reason.includes(rule), sp.reason);
  });

  it('lets a manual setpoint through, then reports the automatic one as blocked by the override', async () => {
    const manual = await rt.request('POST', '/control/setpoint', {
      zone: 'office-1',
      intensity: 35,
      cct: 3000,
      reason: 'wall panel',
      source: 'manual',
    });
    assert.equal(manual.status, 200, manual.text);
    assert.equal((manual.json as SetpointJson).source, 'manual');
    assert.equal((manual.json as SetpointJson).intensity, 35);

    const res = await rt.request('POST', '/control/window', window('office-1', 200));
    assert.equal(res.status, 200, res.text);
    const report = res.json as { kind: string; zone: string; blockedBy: string; overrideUntil: number; setpoint: SetpointJson };
    assert.equal(report.kind, 'blocked');
    assert.equal(report.zone, 'office-1');
    assert.equal(report.blockedBy, 'override');
    assert.equal(report.setpoint.source, 'rules');
    assert.ok(report.overrideUntil > Date.now() + 25 * 60_000, 'held for about 30 min');

    const other = await rt.request('POST', '/control/window', window('office-2', 320));
    assert.equal((other.json as SetpointJson).source, 'rules', 'another zone is not held');
  });

  it('decides by the hints of an encrypted profile, decrypted with FERNET_KEY inside the node', async () => {
    const blob = JSON.parse(
      fs.readFileSync(path.join(PROJECT_ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json'), 'utf8'),
    ) as unknown;
    const plain = await rt.request('POST', '/control/profiled', { window: window('office-3', 900) });
    const withProfile = await rt.request('POST', '/control/profiled', { window: window('office-4', 900), profile: blob });
    assert.equal(withProfile.status, 200, withProfile.text);
    assert.ok((plain.json as SetpointJson).intensity < 30, plain.text);
    assert.equal((withProfile.json as SetpointJson).intensity, 30, withProfile.text);
    for (const p of PLAINTEXT) {
      assert.ok(!withProfile.text.includes(p), `response contains ${p}`);
      assert.ok(!rt.logLines.some((l) => l.includes(p)), `log contains ${p}`);
    }
  });

  it('answers a bad window and a bad setpoint with 400 and the node’s error', async () => {
    const bad = await rt.request('POST', '/control/window', { zone: 'office-1', lux: 300 });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /msg\.payload is not a feature window: windowStart/);
    const badSetpoint = await rt.request('POST', '/control/setpoint', { zone: 'office-1', intensity: 140, cct: 3000, source: 'manual' });
    assert.equal(badSetpoint.status, 400);
    assert.match(badSetpoint.text, /msg\.payload is not a setpoint: intensity/);
  });

  it('sends a held-back dim-down on by itself when the interval runs out, one step at a time, zone by zone', async () => {
    const post = async (zone: string, intensity: number): Promise<void> => {
      const res = await rt.request('POST', '/control/deferred', { zone, intensity, cct: 4000, reason: 'rules', source: 'rules' });
      assert.equal(res.status, 200, res.text);
    };
    await post('room-a', 90);
    await post('room-b', 50);
    await post('room-a', 20); // 90 -> 20: goes as 70, then one 20-point step per second
    await post('room-b', 40); // within the 1 s interval: held back, not dropped
    type Logged = { zone: string; intensity: number; reason: string };
    let log: Logged[] = [];
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      log = (await rt.request('GET', '/control/passed')).json as Logged[];
      if (log.filter((e) => e.zone === 'room-a').length >= 5 && log.some((e) => e.zone === 'room-b' && e.intensity === 40)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const levels = (zone: string): number[] => log.filter((e) => e.zone === zone).map((e) => e.intensity);
    assert.deepEqual(levels('room-a'), [90, 70, 50, 30, 20], JSON.stringify(log));
    assert.deepEqual(levels('room-b'), [50, 40], JSON.stringify(log));
    const released = log
      .filter((e) => /^gate:deferred /.test(e.reason))
      .map((e) => `${e.zone} ${e.intensity}`)
      .sort();
    // 90 -> 20 may itself come within room-a's interval (then 70 is sent on by the gate too).
    assert.deepEqual(
      released.filter((e) => e !== 'room-a 70'),
      ['room-a 20', 'room-a 30', 'room-a 50', 'room-b 40'],
      'sent on by the gate, not by a request',
    );
  });

  it('logs no warning or error of its own', () => {
    const ours = rt.ourProblems();
    assert.deepEqual(ours, []);
  });
});

describe(`rules-fallback state through a Node-RED restart (localfilesystem context, as npm start configures)`, function () {
  const RESTART_TAB = 'restart-tab';
  const RESTART_FLOW = [
    { id: RESTART_TAB, type: 'tab', label: 'restart e2e' },
    { id: 'rs-in', type: 'http in', z: RESTART_TAB, url: '/restart/window', method: 'post', wires: [['rs-rules']] },
    {
      id: 'rs-rules',
      type: 'rules-fallback',
      z: RESTART_TAB,
      name: '',
      targetLux: 500,
      circadian: 'clock',
      latitude: '',
      longitude: '',
      wires: [['rs-res']],
    },
    { id: 'rs-res', type: 'http response', z: RESTART_TAB, statusCode: '', headers: {}, wires: [] },
  ];
  const settings = NPM_START_SETTINGS;
  let rt: NodeRedRuntime | undefined;

  after(async () => {
    if (rt) await rt.stopAndClean(true);
  });

  it('an occupied zone stays in its hold after a restart instead of dropping to the absence level', async () => {
    const installDir = process.env.E2E_INSTALL_DIR;
    rt = await NodeRedRuntime.start({ settings, ...(installDir ? { userDir: fs.mkdtempSync(path.join(installDir, '..', 'ud-')) } : {}) });
    await rt.deploy(RESTART_FLOW);
    const lit = await rt.request('POST', '/restart/window', window('meeting-1', 200));
    assert.equal(lit.status, 200, lit.text);
    assert.match((lit.json as SetpointJson).reason, /occupancy:occupied/);

    assert.equal(await rt.stop(), 0, 'Node-RED stopped cleanly');
    assert.ok(fs.existsSync(path.join(rt.userDir, 'context')), 'the context store wrote its files');
    rt = await NodeRedRuntime.start({ userDir: rt.userDir, settings });
    const still = await rt.request('POST', '/restart/window', window('meeting-1', 200, false));
    assert.equal(still.status, 200, still.text);
    const sp = still.json as SetpointJson;
    assert.match(sp.reason, /occupancy:hold/, 'the hold started before the restart goes on');
    assert.ok(
      sp.intensity >= (lit.json as SetpointJson).intensity,
      `${sp.intensity} % after, ${(lit.json as SetpointJson).intensity} % before`,
    );

    const fresh = await rt.request('POST', '/restart/window', window('meeting-2', 200, false));
    assert.match((fresh.json as SetpointJson).reason, /occupancy:absence/, 'a zone never seen is decided as vacant');
    assert.deepEqual(rt.ourProblems(), []);
  });
});
