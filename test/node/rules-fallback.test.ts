/**
 * rules-fallback in the Node-RED runtime (node-red-node-test-helper): feature
 * windows in, setpoints out with every fired rule named and msg.energy; bad
 * input ends in done(err) with nothing sent; hints and encrypted profiles
 * change the decision without the plaintext ever leaving the node; the timer
 * takes a zone to absence and off without new windows; feedback (topic
 * "applied") moves the daylight model. Expected setpoints come from
 * lib/control's RulesController fed the same inputs.
 */
import type { Setpoint } from '../../lib/contracts';
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FlowNodeDef } from 'node-red-node-test-helper';
import type { Node, NodeMessage } from 'node-red';
import rulesFallback from '../../nodes/rules-fallback/rules-fallback';
import lightingZones from '../../nodes/lighting-zones/lighting-zones';
import { RulesController } from '../../lib/control';
import { Fernet } from '../../lib/crypto';
import { asNodeSet, helper, latestStatus, message, MessageQueue, nodeById, redeploy, registerCatalogues, ROOT } from './helpers';

const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'fernet', 'reference-personal.json');
const REFERENCE_KEY = '3hWrYIogeMKAoBFoQVoM23bzb1bqGTGSQhZWWSWxMgI=';
/** Plaintext values inside the reference profile: none may appear in any output, error or log. */
const PLAINTEXT = ['low_vision', 'female', 'intermediate', 'Monday', '"age"', 'visual_impairment', 'chronotype'];

/** The node as Node-RED's registry loads it: `_` bound to the node set's catalogue. */
const node = asNodeSet('rules-fallback', rulesFallback);

function catalogue(key: string): string {
  return message('rules-fallback', key);
}

type Out = NodeMessage & {
  payload: Setpoint;
  energy: { energySavingEstimate: number; estimatedWatts?: number };
  decision: { trigger: string; occupancy: string; changed: boolean; nextCheckAt: number | null };
  hints?: Record<string, unknown>;
  profile?: unknown;
};
type Caught = NodeMessage & { error: { message: string; source: { id: string } } };

/** The error text a Catch node sees, without Node-RED's "Error: " prefix. */
async function nextError(): Promise<{ text: string; caught: Caught }> {
  const caught = (await errors.next()) as Caught;
  assert.match(caught.error.message, /^Error: /);
  return { text: caught.error.message.replace(/^Error: /, ''), caught };
}

const BASE_CONFIG = { name: '', circadian: 'clock', latitude: '', longitude: '', ratedW: '40', standbyW: '0.5', fixtureCount: '4' };

function flow(config: Record<string, unknown> = {}): FlowNodeDef[] {
  return [
    { id: 'f1', type: 'tab', label: 'test' },
    { id: 'n1', type: 'rules-fallback', z: 'f1', ...BASE_CONFIG, ...config, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1', wires: [] },
    { id: 'c1', type: 'catch', z: 'f1', scope: ['n1'], uncaught: false, wires: [['err']] },
    { id: 'err', type: 'helper', z: 'f1', wires: [] },
  ];
}

/** The controller the node should behave like: the same settings as numbers. */
function oracle(config: Record<string, unknown> = {}): RulesController {
  const all: Record<string, unknown> = { ...BASE_CONFIG, ...config };
  const settings: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) {
    if (v === '' || k === 'name') continue;
    settings[k] = typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v;
  }
  return new RulesController(settings);
}

function windowAt(
  end: number,
  opts: { zone?: string; lux?: number | null; presence?: { ratio: number; transitions: number; last: boolean | null } | null } = {},
): Record<string, unknown> {
  const lux = opts.lux === undefined ? 320 : opts.lux;
  return {
    zone: opts.zone ?? 'office-1',
    windowStart: end - 60_000,
    windowEnd: end,
    count: 60,
    lux: lux === null ? null : { mean: lux, min: lux - 10, max: lux + 10, std: 5, last: lux },
    presence: opts.presence === undefined ? { ratio: 1, transitions: 0, last: true } : opts.presence,
    minuteOfDay: 600,
    weekday: 2,
  };
}

let inbox: MessageQueue;
let errors: MessageQueue;

async function start(config: Record<string, unknown> = {}, credentials?: Record<string, string>): Promise<Node> {
  await helper.load(node, flow(config), credentials ? { n1: credentials } : {});
  inbox = new MessageQueue('out');
  errors = new MessageQueue('err');
  const n1 = helper.getNode('n1');
  assert.ok(n1);
  return n1;
}

/** Everything Node-RED logged, as text. */
function logText(): string {
  return helper
    .log()
    .args.map(([e]) => `${String(e.msg)}`)
    .join('\n');
}

describe('rules-fallback node', function () {
  const savedKey = process.env.FERNET_KEY;

  before(async () => {
    await registerCatalogues(['rules-fallback']);
  });

  beforeEach(() => {
    delete process.env.FERNET_KEY;
  });

  afterEach(async () => {
    await helper.unload();
    if (savedKey === undefined) delete process.env.FERNET_KEY;
    else process.env.FERNET_KEY = savedKey;
  });

  it('answers a feature window with the rules setpoint, every fired rule in its reason, and msg.energy', async () => {
    const n1 = await start();
    const w = windowAt(Date.now());
    n1.receive({ payload: w });
    const out = (await inbox.next()) as Out;
    const expected = oracle().decide(w).setpoint;
    assert.deepEqual(out.payload, expected);
    assert.equal(out.payload.source, 'rules');
    assert.equal(out.topic, 'office-1');
    for (const rule of ['circadian:day', 'daylight:arrival', 'occupancy:occupied'])
      assert.ok(out.payload.reason.includes(rule), out.payload.reason);
    assert.equal(out.energy.energySavingEstimate, Math.round((100 - expected.intensity) * 1000) / 100000);
    const watts = 4 * (0.5 + (40 - 0.5) * (expected.intensity / 100));
    assert.ok(Math.abs((out.energy.estimatedWatts as number) - watts) < 0.01, `${out.energy.estimatedWatts} ~ ${watts}`);
    assert.equal(out.decision.trigger, 'window');
    assert.equal(out.decision.occupancy, 'occupied');
    assert.equal(latestStatus(n1).fill, 'green');
    assert.ok(String(latestStatus(n1).text).includes('office-1'));
  });

  it('names absence for a vacant zone and leaves out watts without a rated power', async () => {
    const n1 = await start({ ratedW: '' });
    const w = windowAt(Date.now(), { lux: 900, presence: { ratio: 0, transitions: 0, last: false } });
    n1.receive({ payload: w });
    const out = (await inbox.next()) as Out;
    assert.deepEqual(out.payload, oracle({ ratedW: '' }).decide(w).setpoint);
    assert.ok(out.payload.reason.includes('occupancy:absence'), out.payload.reason);
    assert.equal(out.energy.estimatedWatts, undefined);
    assert.equal(out.decision.occupancy, 'absence');
  });

  it('ends every kind of bad window with done(err) naming the field, a red status and no output', async () => {
    const n1 = await start();
    const good = windowAt(Date.now());
    const bad: Array<[unknown, string]> = [
      ['not a window', 'window'],
      [{ ...good, zone: '' }, 'zone'],
      [{ ...good, windowEnd: (good.windowStart as number) - 1 }, 'windowEnd'],
      [{ ...good, lux: { mean: -5, min: 0, max: 1, std: 0, last: 1 } }, 'lux.mean'],
      [{ ...good, presence: { ratio: 0.5, transitions: 0, last: 'yes' } }, 'presence.last'],
      [{ ...good, minuteOfDay: 1440 }, 'minuteOfDay'],
      [{ ...good, weekday: 9 }, 'weekday'],
      [{ ...good, count: Number.NaN }, 'count'],
    ];
    for (const [payload, field] of bad) {
      n1.receive({ payload });
      const { text: message, caught } = await nextError();
      assert.ok(message.startsWith(catalogue('errors.invalidWindow').replace('__detail__', '')), message);
      assert.ok(message.includes(field), `${message} names ${field}`);
      assert.equal(caught.error.source.id, 'n1');
      assert.deepEqual(latestStatus(n1), { fill: 'red', shape: 'ring', text: catalogue('status.invalid') });
    }
    n1.receive({ payload: good, marker: 'good' } as NodeMessage);
    const first = (await inbox.next()) as Out & { marker?: string };
    assert.equal(first.marker, 'good', 'the first output is the good window: the bad ones sent nothing');
  });

  it('applies plain hints from msg.profile and reports them in msg.hints, removing msg.profile', async () => {
    const n1 = await start();
    const w = windowAt(Date.now(), { lux: 900 });
    const hints = { minIntensityPct: 40, cctBias: 'warm' as const };
    n1.receive({ payload: w, profile: hints } as NodeMessage);
    const out = (await inbox.next()) as Out;
    const plain = oracle().decide(w).setpoint;
    assert.deepEqual(out.payload, oracle().decide(w, { hints }).setpoint);
    assert.equal(out.payload.intensity, 40);
    assert.ok(plain.intensity < 40, 'without hints the output is lower');
    assert.ok(out.payload.cct < plain.cct, 'warm bias lowers the colour temperature');
    assert.ok(out.payload.reason.includes('clamp:profile-min') && out.payload.reason.includes('profile:warm'), out.payload.reason);
    assert.deepEqual(out.hints, hints);
    assert.equal(out.profile, undefined);
  });

  it('refuses hints it does not know, naming the key but not the value', async () => {
    const n1 = await start();
    n1.receive({ payload: windowAt(Date.now()), profile: { age: 71 } } as NodeMessage);
    const { text: message } = await nextError();
    assert.ok(message.startsWith('msg.profile cannot be used'), message);
    assert.ok(message.includes('"age"'));
    assert.ok(!message.includes('71'));
    assert.equal(latestStatus(n1).text, catalogue('status.profileError'));
    assert.equal(inbox.pending, 0);
  });

  describe('encrypted profiles', () => {
    const blob = JSON.parse(fs.readFileSync(FIXTURE, 'utf8')) as { profile_id: string; encrypted_payload: string };

    async function decideWith(credentials?: Record<string, string>): Promise<{ plain: Out; withProfile: Out }> {
      const n1 = await start({}, credentials);
      const now = Date.now();
      n1.receive({ payload: windowAt(now, { lux: 900, zone: 'a' }) });
      const plain = (await inbox.next()) as Out;
      n1.receive({ payload: windowAt(now, { lux: 900, zone: 'b' }), profile: blob } as NodeMessage);
      const withProfile = (await inbox.next()) as Out;
      return { plain, withProfile };
    }

    function assertNoPlaintext(where: string, text: string): void {
      for (const p of PLAINTEXT) assert.ok(!text.includes(p), `${where} contains "${p}"`);
    }

    it('decrypts the reference profile with FERNET_KEY and decides by its hints only', async () => {
      process.env.FERNET_KEY = REFERENCE_KEY;
      const { plain, withProfile } = await decideWith();
      // The reference person has a visual impairment: floor 30 %, slower dimming (profileHints).
      assert.deepEqual(withProfile.hints, { minIntensityPct: 30, maxStepPct: 10, cctBias: 'neutral', slowerDimDown: true });
      assert.equal(withProfile.payload.intensity, 30);
      assert.ok(plain.payload.intensity < 30, `${plain.payload.intensity} without the profile`);
      assert.ok(withProfile.payload.reason.includes('clamp:profile-min'));
      assert.equal(withProfile.profile, undefined, 'msg.profile does not travel on');
      assertNoPlaintext('the output message', JSON.stringify(withProfile));
      assertNoPlaintext('the log', logText());
    });

    it('uses the Fernet key credential when it is set', async () => {
      process.env.FERNET_KEY = Fernet.generateKey();
      const { withProfile } = await decideWith({ fernetKey: REFERENCE_KEY });
      assert.equal(withProfile.payload.intensity, 30);
    });

    for (const [label, setup, expected] of [
      ['a wrong key', () => ({ fernetKey: Fernet.generateKey() }), 'cannot decrypt personal profile'],
      ['no key at all', () => undefined, 'no Fernet key is set'],
    ] as const) {
      it(`refuses the profile with ${label}: clear error, no output, nothing personal logged`, async () => {
        const n1 = await start({}, setup());
        n1.receive({ payload: windowAt(Date.now(), { lux: 900 }), profile: blob } as NodeMessage);
        const { text: message } = await nextError();
        assert.ok(message.startsWith('msg.profile cannot be used'), message);
        assert.ok(message.includes(expected), message);
        assertNoPlaintext('the error', message);
        assert.ok(!message.includes(blob.encrypted_payload.slice(10, 40)), 'the token is not echoed');
        assertNoPlaintext('the log', logText());
        assert.equal(inbox.pending, 0);
      });
    }

    it('refuses a tampered token with the right key', async () => {
      process.env.FERNET_KEY = REFERENCE_KEY;
      const n1 = await start();
      const token = blob.encrypted_payload;
      const i = Math.floor(token.length / 2);
      const tampered = { ...blob, encrypted_payload: token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1) };
      n1.receive({ payload: windowAt(Date.now()), profile: tampered } as NodeMessage);
      const { text: message } = await nextError();
      assert.ok(message.includes('cannot decrypt personal profile'), message);
      assert.equal(inbox.pending, 0);
    });

    it('warns at start when the key credential is not a key, without echoing it', async () => {
      const n1 = await start({}, { fernetKey: 'not-a-key-12345' });
      const spy = n1.warn as unknown as { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
      const warnings = spy
        .getCalls()
        .filter((c) => c.thisValue === n1)
        .map((c) => String(c.args[0]));
      assert.equal(warnings.length, 1);
      assert.ok(warnings[0].startsWith('The Fernet key cannot be used'), warnings[0]);
      assert.ok(!warnings[0].includes('not-a-key-12345'));
    });
  });

  it('goes to the absence level and then off by its own timer, without new windows', async () => {
    // Hold 0.15 s, off after 0.3 s: the timer, not a window, must bring both changes.
    const n1 = await start({ holdMinutes: '0.0025', vacancyOffMinutes: '0.005' });
    n1.receive({ payload: windowAt(Date.now(), { presence: { ratio: 0.5, transitions: 1, last: false } }) });
    const occupied = (await inbox.next()) as Out;
    assert.equal(occupied.decision.occupancy, 'occupied');
    assert.ok(occupied.decision.nextCheckAt !== null);
    const absence = (await inbox.next()) as Out;
    assert.equal(absence.decision.trigger, 'timer');
    assert.equal(absence.decision.occupancy, 'absence');
    assert.equal(absence.payload.intensity, 10);
    assert.ok(absence.payload.reason.includes('occupancy:absence 10%'), absence.payload.reason);
    assert.equal(absence.topic, 'office-1');
    const off = (await inbox.next()) as Out;
    assert.equal(off.decision.trigger, 'timer');
    assert.equal(off.decision.occupancy, 'off');
    assert.equal(off.payload.intensity, 0);
    assert.ok(off.payload.reason.includes('occupancy:off'), off.payload.reason);
    assert.equal(off.energy.energySavingEstimate, 1);
  });

  describe('state through a redeploy (node context)', () => {
    const vacantWindow = (end: number): Record<string, unknown> => windowAt(end, { presence: { ratio: 0, transitions: 0, last: false } });

    it('keeps an occupied room lit: the first window after a redeploy continues the hold instead of dimming to absence', async () => {
      const n1 = await start();
      const t0 = Date.now() - 3 * 60_000;
      const first = windowAt(t0);
      n1.receive({ payload: first });
      const lit = (await inbox.next()) as Out;
      assert.equal(lit.decision.occupancy, 'occupied');
      // Deploy "modified nodes" after an edit: a new node object, the same id.
      await redeploy(flow({ name: 'edited' }));
      const again = nodeById('n1');
      assert.notEqual(again, n1, 'the node was recreated');
      const still = vacantWindow(t0 + 60_000);
      again.receive({ payload: still });
      const out = (await inbox.next()) as Out;
      assert.equal(out.decision.occupancy, 'hold', 'someone sitting still one minute later is still held');
      const uninterrupted = oracle();
      uninterrupted.decide(first);
      assert.deepEqual(out.payload, uninterrupted.decide(still).setpoint, 'as if no redeploy had happened');
      assert.ok(out.payload.intensity >= lit.payload.intensity);
      assert.equal(oracle().decide(still).setpoint.intensity, 10, 'without the saved state the room would drop to the absence level');
    });

    it('re-checks restored zones at once: a hold that runs out after the redeploy ends by the timer', async () => {
      const n1 = await start({ holdMinutes: '0.01', vacancyOffMinutes: '0.5' });
      n1.receive({ payload: windowAt(Date.now(), { presence: { ratio: 0.5, transitions: 1, last: false } }) });
      const occupied = (await inbox.next()) as Out;
      assert.equal(occupied.decision.occupancy, 'occupied');
      await redeploy(flow({ name: 'edited', holdMinutes: '0.01', vacancyOffMinutes: '0.5' }));
      const absence = (await inbox.next()) as Out;
      assert.equal(absence.decision.trigger, 'timer');
      assert.equal(absence.decision.occupancy, 'absence');
      assert.equal(absence.payload.intensity, 10);
    });

    it('keeps the saved state through a deploy with an unusable zone map, and resumes it when the map is mended', async () => {
      const zonesNode = asNodeSet('lighting-zones', lightingZones);
      const withZones = (zones: unknown[]): FlowNodeDef[] => [
        ...flow({ zones: 'zones1' }),
        { id: 'zones1', type: 'lighting-zones', name: 'zones', source: 'table', zones },
      ];
      const good = [
        { zone: 'office-1', gear: 'G0' },
        { zone: 'hall', gear: 'G1' },
      ];
      await helper.load([node, zonesNode], withZones(good));
      inbox = new MessageQueue('out');
      errors = new MessageQueue('err');
      const t0 = Date.now() - 3 * 60_000;
      nodeById('n1').receive({ payload: windowAt(t0) });
      assert.equal(((await inbox.next()) as Out).decision.occupancy, 'occupied');
      // An edit that makes the map unusable (two zones on one group): every zone is refused...
      await redeploy(
        withZones([
          { zone: 'office-1', gear: 'G0' },
          { zone: 'hall', gear: 'G0' },
        ]),
        'full',
      );
      inbox = new MessageQueue('out');
      errors = new MessageQueue('err');
      nodeById('n1').receive({ payload: vacantWindow(t0 + 30_000) });
      assert.match((await nextError()).text, /zone map|not in the zone map|unknown zone/);
      // ...and mending it finds the occupied room's hold where it was.
      await redeploy(withZones(good), 'full');
      inbox = new MessageQueue('out');
      nodeById('n1').receive({ payload: vacantWindow(t0 + 60_000) });
      const out = (await inbox.next()) as Out;
      assert.equal(out.decision.occupancy, 'hold', 'without the kept state the room would drop to the absence level');
    });

    it('forgets the state when the node is deleted and added again under a new id', async () => {
      const n1 = await start();
      n1.receive({ payload: windowAt(Date.now() - 60_000) });
      await inbox.next();
      const next = flow().map((n) => (n.id === 'n1' ? { ...n, id: 'n2' } : n.id === 'c1' ? { ...n, scope: ['n2'] } : n));
      await redeploy(next);
      const fresh = nodeById('n2');
      fresh.receive({ payload: vacantWindow(Date.now()) });
      const out = (await inbox.next()) as Out;
      assert.equal(out.decision.occupancy, 'absence');
    });
  });

  it('takes feedback (topic "applied") into its daylight model, sending nothing for it', async () => {
    const n1 = await start();
    const ctl = oracle();
    const t0 = Date.now() - 10 * 60_000;
    const first = windowAt(t0);
    n1.receive({ payload: first });
    await inbox.next();
    ctl.decide(first);
    // The gate let only 20 % through: the light is darker than the rules think.
    const applied = { zone: 'office-1', intensity: 20, cct: 5000, ts: t0 + 1000 };
    n1.receive({ topic: 'applied', payload: applied });
    ctl.noteOutput('office-1', 20, t0 + 1000, 0, 5000);
    const second = windowAt(t0 + 5 * 60_000, { lux: 250 });
    n1.receive({ payload: second });
    const out = (await inbox.next()) as Out;
    assert.deepEqual(out.payload, ctl.decide(second).setpoint);
    const blind = oracle();
    blind.decide(first);
    assert.notDeepEqual(out.payload, blind.decide(second).setpoint, 'the feedback changed the decision');
    assert.equal(latestStatus(n1).fill, 'green');
  });

  it('refuses bad feedback with done(err)', async () => {
    const n1 = await start();
    for (const payload of [
      { zone: 'office-1', intensity: 150 },
      { intensity: 20 },
      'office-1',
      { zone: 'office-1', intensity: 20, cct: 90000 },
    ]) {
      n1.receive({ topic: 'applied', payload });
      const { text: message } = await nextError();
      assert.ok(message.startsWith('feedback (topic "applied") needs'), message);
    }
    assert.equal(inbox.pending, 0);
  });

  it('answers every message with an error when colour by sun has no position', async () => {
    const n1 = await start({ circadian: 'sun' });
    assert.deepEqual(latestStatus(n1), { fill: 'grey', shape: 'ring', text: catalogue('status.notConfigured') });
    n1.receive({ payload: windowAt(Date.now()) });
    const { text: message } = await nextError();
    assert.ok(message.startsWith('rules-fallback is not configured'), message);
    assert.ok(message.includes(catalogue('errors.sunNeedsPosition')));
  });

  it('is not configured by a keyframe with a bad field, and says which', async () => {
    const n1 = await start({ keyframes: '[{"minute": 0, "kelvin": 50, "maxIntensityPct": 10}]' });
    assert.deepEqual(latestStatus(n1), { fill: 'grey', shape: 'ring', text: catalogue('status.notConfigured') });
    n1.receive({ payload: windowAt(Date.now()) });
    const { text: message } = await nextError();
    assert.ok(message.startsWith('rules-fallback is not configured') && message.includes('keyframes[0].kelvin'), message);
    assert.equal(inbox.pending, 0);
  });

  it('decides by the sun when given a position, and honours custom keyframes', async () => {
    const n1 = await start({ circadian: 'sun', latitude: '52.52', longitude: '13.4' });
    const w = windowAt(Date.UTC(2026, 5, 21, 11, 0));
    n1.receive({ payload: w });
    const out = (await inbox.next()) as Out;
    assert.deepEqual(out.payload, oracle({ circadian: 'sun', latitude: '52.52', longitude: '13.4' }).decide(w).setpoint);
    assert.ok(out.payload.reason.includes('circadian:sun-day'), out.payload.reason);
    await helper.unload();
    const keyframes = JSON.stringify([
      { minute: 0, kelvin: 3000, maxIntensityPct: 100, label: 'all-day' },
      { minute: 720, kelvin: 3000, maxIntensityPct: 100, label: 'all-day' },
    ]);
    const n2 = await start({ keyframes });
    n2.receive({ payload: windowAt(Date.now()) });
    const custom = (await inbox.next()) as Out;
    assert.equal(custom.payload.cct, 3000);
    assert.ok(custom.payload.reason.includes('circadian:all-day 3000K'), custom.payload.reason);
  });

  describe('sensor readings (presence fast path)', () => {
    function reading(ts: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
      return { sensorId: 'pir-1', zone: 'office-1', ts, source: 'dali', ...extra };
    }

    it('lights a vacant zone at once on a reading with presence, without a new window', async () => {
      const n1 = await start();
      const ctl = oracle();
      const t0 = Date.now() - 60_000;
      const vacant = windowAt(t0, { lux: 300, presence: { ratio: 0, transitions: 0, last: false } });
      n1.receive({ payload: vacant });
      const first = (await inbox.next()) as Out;
      assert.equal(first.decision.occupancy, 'absence');
      ctl.decide(vacant);
      const r = reading(t0 + 30_000, { presence: true });
      n1.receive({ payload: r, marker: 'pir' } as NodeMessage);
      const out = (await inbox.next()) as Out & { marker?: string };
      const expected = ctl.onPresence('office-1', t0 + 30_000, true);
      assert.ok(expected);
      assert.deepEqual(out.payload, expected.setpoint);
      assert.ok(out.payload.intensity > first.payload.intensity, `${out.payload.intensity} > ${first.payload.intensity}`);
      assert.equal(out.decision.trigger, 'presence');
      assert.equal(out.decision.occupancy, 'occupied');
      assert.equal(out.marker, 'pir');
      assert.ok(out.payload.reason.startsWith('presence:fast-path'), out.payload.reason);
    });

    it('ignores absence, lux in the hold band, and presence in an occupied zone, without error or output', async () => {
      const n1 = await start();
      const t0 = Date.now() - 60_000;
      n1.receive({ payload: windowAt(t0) });
      await inbox.next(); // occupied
      n1.receive({ payload: reading(t0 + 10_000, { presence: true }) }); // already occupied: hold restarts only
      n1.receive({ payload: reading(t0 + 20_000, { presence: false }) });
      n1.receive({ payload: reading(t0 + 45_000, { lux: 570 }) }); // at the daylight aim: nothing to do
      n1.receive({ payload: windowAt(t0 + 60_000), marker: 'next' } as NodeMessage);
      const next = (await inbox.next()) as Out & { marker?: string };
      assert.equal(next.marker, 'next', 'the readings sent nothing');
      assert.equal(errors.pending, 0);
    });

    it('raises an occupied zone at once when a lux reading falls under the aim (lux fast path)', async () => {
      const n1 = await start();
      const ctl = oracle();
      const t0 = Date.now() - 120_000;
      const w = windowAt(t0, { lux: 300 });
      n1.receive({ payload: w });
      const first = (await inbox.next()) as Out;
      assert.equal(first.decision.occupancy, 'occupied');
      ctl.decide(w);
      // A cloud, 45 s after the window's decision (past the 30 s hold-off for rises).
      const cloud = reading(t0 + 45_000, { lux: 150 });
      n1.receive({ payload: cloud, marker: 'cloud' } as NodeMessage);
      const out = (await inbox.next()) as Out & { marker?: string };
      const expected = ctl.onLux('office-1', t0 + 45_000, 150);
      assert.ok(expected, 'the oracle rises too');
      assert.deepEqual(out.payload, expected.setpoint);
      assert.ok(out.payload.intensity > first.payload.intensity, `${out.payload.intensity} > ${first.payload.intensity}`);
      assert.equal(out.decision.trigger, 'daylight');
      assert.equal(out.marker, 'cloud');
      assert.ok(out.payload.reason.startsWith('daylight:fast-path'), out.payload.reason);
      assert.equal(errors.pending, 0);
    });

    it('ends an invalid reading with done(err) naming the field and sends nothing', async () => {
      const n1 = await start();
      const t0 = Date.now();
      n1.receive({ payload: windowAt(t0, { presence: { ratio: 0, transitions: 0, last: false } }) });
      await inbox.next();
      const bad: Array<[unknown, string]> = [
        [reading(t0, { presence: 'yes' }), 'presence'],
        [reading(t0, { lux: -1, presence: true }), 'lux'],
        [reading(Number.NaN, { presence: true }), 'ts'],
        [{ zone: 'office-1', ts: t0, source: 'dali', presence: true }, 'sensorId'],
        [reading(t0), 'lux'],
      ];
      for (const [payload, field] of bad) {
        n1.receive({ payload } as NodeMessage);
        const { text, caught } = await nextError();
        assert.ok(text.includes(field), `${text} names ${field}`);
        assert.equal(caught.error.source.id, 'n1');
        assert.deepEqual(latestStatus(n1), { fill: 'red', shape: 'ring', text: catalogue('status.invalid') });
      }
      assert.equal(inbox.pending, 0);
    });
  });
});
