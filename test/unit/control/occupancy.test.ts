import { strict as assert } from 'node:assert';
import {
  initialOccupancyState,
  type OccupancyConfig,
  type OccupancyState,
  occupancyStep,
  presenceSeen,
  resolveOccupancyConfig,
} from '../../../lib/control/occupancy';
import { ControlInputError } from '../../../lib/control/types';

const MIN = 60_000;
const T = 1_700_000_000_000;

/** Run minute-by-minute decisions; presence(m) for minute m. Returns modes by minute. */
function run(
  config: OccupancyConfig,
  minutes: number,
  presence: (m: number) => boolean | null,
  state: OccupancyState = initialOccupancyState(),
) {
  const out: { mode: string; level: number | null; fadeMs?: number; reason: string }[] = [];
  let s = state;
  for (let m = 0; m < minutes; m++) {
    const d = occupancyStep(s, presence(m), T + m * MIN, config);
    s = d.state;
    out.push({ mode: d.mode, level: d.levelPct, ...(d.fadeMs !== undefined ? { fadeMs: d.fadeMs } : {}), reason: d.reason });
  }
  return out;
}

describe('control/occupancy: hold, absence level, vacancy off', () => {
  const c = resolveOccupancyConfig({ holdMinutes: 15, vacancyOffMinutes: 20, absenceLevelPct: 10 });

  it('holds for holdMinutes after the last presence, then absence level with a fade, then off at the vacancy delay', () => {
    const modes = run(c, 40, (m) => m === 0);
    assert.equal(modes[0]?.mode, 'occupied');
    for (let m = 1; m < 15; m++) assert.equal(modes[m]?.mode, 'hold', `minute ${m}`);
    for (let m = 15; m < 20; m++) {
      assert.equal(modes[m]?.mode, 'absence', `minute ${m}`);
      assert.equal(modes[m]?.level, 10);
      assert.equal(modes[m]?.fadeMs, 30_000);
    }
    for (let m = 20; m < 40; m++) assert.equal(modes[m]?.mode, 'off', `minute ${m}`);
    assert.equal(modes[25]?.level, 0);
    assert.match(modes[5]?.reason ?? '', /occupancy:hold 10m left/);
  });

  it('restarts the hold timer on every presence', () => {
    // presence every 10 minutes for an hour: never leaves hold
    const modes = run(c, 60, (m) => m % 10 === 0);
    assert.ok(modes.every((x) => x.mode === 'occupied' || x.mode === 'hold'));
    // the last presence at minute 50: hold until 65, absence 65..69, off from 70
    const more = run(c, 80, (m) => m % 10 === 0 && m <= 50);
    assert.equal(more[64]?.mode, 'hold');
    assert.equal(more[65]?.mode, 'absence');
    assert.equal(more[70]?.mode, 'off');
  });

  it('never switches off with neverOff', () => {
    const modes = run(resolveOccupancyConfig({ neverOff: true }), 120, (m) => m === 0);
    assert.equal(modes[119]?.mode, 'absence');
    assert.match(modes[119]?.reason ?? '', /never-off/);
  });

  it('never switches off while the presence sensor gives no data', () => {
    const modes = run(c, 60, (m) => (m === 0 ? true : null));
    assert.equal(modes[30]?.mode, 'absence');
    assert.match(modes[30]?.reason ?? '', /no-data/);
    assert.equal(modes[59]?.mode, 'absence');
  });

  it('after a restart with nobody seen: absence level, then off after the vacancy delay', () => {
    const modes = run(c, 30, () => false);
    assert.equal(modes[0]?.mode, 'absence');
    assert.equal(modes[19]?.mode, 'absence');
    assert.equal(modes[20]?.mode, 'off');
  });

  it('goes straight from hold to off when the vacancy delay is shorter than the hold', () => {
    const modes = run(resolveOccupancyConfig({ holdMinutes: 10, vacancyOffMinutes: 5 }), 15, (m) => m === 0);
    assert.equal(modes[9]?.mode, 'hold');
    assert.equal(modes[10]?.mode, 'off');
  });

  it('flags an arrival only on the transition into occupancy', () => {
    let s = initialOccupancyState();
    const d1 = occupancyStep(s, false, T, c);
    s = d1.state;
    const d2 = occupancyStep(s, true, T + MIN, c);
    const d3 = occupancyStep(d2.state, true, T + 2 * MIN, c);
    assert.equal(d1.arrival, false);
    assert.equal(d2.arrival, true);
    assert.equal(d3.arrival, false);
    assert.equal(d2.holdUntil, T + MIN + 15 * MIN);
  });

  it('reads presence from ratio, transitions or last', () => {
    assert.equal(presenceSeen(null), null);
    assert.equal(presenceSeen({ ratio: 0, transitions: 0, last: false }), false);
    assert.equal(presenceSeen({ ratio: 0.1, transitions: 0, last: false }), true);
    assert.equal(presenceSeen({ ratio: 0, transitions: 2, last: false }), true);
    assert.equal(presenceSeen({ ratio: 0, transitions: 0, last: true }), true);
  });

  it('rejects bad configuration', () => {
    assert.throws(
      () => resolveOccupancyConfig({ holdMinutes: -1 }),
      (e: unknown) => e instanceof ControlInputError && e.field === 'holdMinutes',
    );
    assert.throws(() => resolveOccupancyConfig({ absenceLevelPct: 150 }), /absenceLevelPct/);
    assert.throws(() => resolveOccupancyConfig({ neverOff: 'yes' as unknown as boolean }), /neverOff/);
  });
});
