import assert from 'node:assert/strict';
import { decodeFrame, type DecodedEvent } from '../../../../lib/dali/codec';
import { OfficeDayScenario, ScenarioDriver, type ScenarioSample } from '../../../../lib/dali/sim/scenario';
import { VirtualBus, VirtualClock } from '../../../../lib/dali/sim/virtual-bus';
import { EventScheme } from '../../../../lib/dali/types';

describe('sim/scenario: office day', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = new OfficeDayScenario({ seed: 7 });
    const b = new OfficeDayScenario({ seed: 7 });
    const c = new OfficeDayScenario({ seed: 8 });
    const minutes = Array.from({ length: 96 }, (_, i) => i * 15);
    assert.deepEqual(
      minutes.map((m) => a.sample(m)),
      minutes.map((m) => b.sample(m)),
    );
    assert.notDeepEqual(
      minutes.map((m) => c.daylightLux(m)),
      minutes.map((m) => a.daylightLux(m)),
    );
  });

  it('daylight: dark at night, brightest around noon, never above the clear sky', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = new OfficeDayScenario({ seed, sunriseHour: 6, sunsetHour: 20, peakLux: 1000 });
      assert.equal(s.daylightLux(3 * 60), 0, `seed ${seed}`);
      assert.equal(s.daylightLux(22 * 60), 0, `seed ${seed}`);
      assert.ok(s.clearSkyLux(13 * 60) > s.clearSkyLux(8 * 60), `seed ${seed}`);
      for (let m = 0; m < 1440; m += 7) {
        const lux = s.daylightLux(m);
        assert.ok(lux >= 0 && lux <= s.clearSkyLux(m) + 1e-9, `seed ${seed} minute ${m}: ${lux}`);
        const cover = s.cloudCover(m);
        assert.ok(cover >= 0 && cover <= 1);
      }
    }
  });

  it('occupancy: a working day with arrival, breaks and departure', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = new OfficeDayScenario({ seed, arrivalHour: 8, departureHour: 17, breaks: 2 });
      const iv = s.occupancyIntervals();
      assert.ok(iv.length >= 2, `seed ${seed}: lunch splits the day`);
      const first = iv[0];
      const last = iv[iv.length - 1];
      assert.ok(first && first.startMin > 7 * 60 && first.startMin < 9 * 60, `seed ${seed}: arrival ${first?.startMin}`);
      assert.ok(last && last.endMin > 16 * 60 && last.endMin < 18 * 60, `seed ${seed}: departure ${last?.endMin}`);
      assert.equal(s.isOccupied(3 * 60), false);
      assert.equal(s.isOccupied(23 * 60), false);
      for (let i = 1; i < iv.length; i++) {
        assert.ok((iv[i] as { startMin: number }).startMin > (iv[i - 1] as { endMin: number }).endMin, 'intervals separate');
      }
      assert.equal(s.movement(3 * 60), false, 'no movement in an empty office');
    }
  });

  it('the driver plays the day on a sensor, time-accelerated, and stops cleanly', () => {
    const clock = new VirtualClock({ startMs: 0 });
    const bus = new VirtualBus({ clock });
    const sensor = bus.addSensor({ shortAddress: 4, instancesEnabled: true, eventScheme: EventScheme.DeviceInstance });
    const scenario = new OfficeDayScenario({ seed: 11 });
    const driver = new ScenarioDriver(scenario, sensor, { clock, timeAcceleration: 600, tickMs: 1000 });
    const ticks: ScenarioSample[] = [];
    const events: DecodedEvent[] = [];
    driver.on('tick', (s: ScenarioSample) => ticks.push(s));
    const instanceTypeOf = (_short: number, instance: number): number => (instance === 0 ? 3 : 4);
    bus.on('frame', (ev: { bits: number; value: number }) => events.push(decodeFrame(24, ev.value, { instanceTypeOf }) as DecodedEvent));
    let ended = false;
    driver.on('end', () => (ended = true));
    driver.start();
    clock.advance((24 * 60 * 60 * 1000) / 600 + 2000); // one day at 600x
    assert.ok(ended, 'the day ended');
    assert.equal(driver.isRunning, false);
    assert.equal(clock.pending, 0, 'no timer left');
    assert.equal(ticks.length, 24 * 6 + 1, 'one tick per 10 simulated minutes');
    const noon = ticks.find((t) => t.minuteOfDay === 13 * 60);
    assert.ok(noon && noon.lux > 0);
    assert.equal(sensor.illuminanceRaw, sensor.luxToRaw(ticks[ticks.length - 1]?.lux ?? -1));
    assert.ok(
      events.some((e) => e.occupancy?.occupied === true),
      'occupied events',
    );
    assert.ok(
      events.some((e) => e.occupancy?.occupied === false),
      'vacant events',
    );
    assert.ok(
      events.some((e) => (e.illuminanceRaw ?? 0) > 0),
      'light events',
    );
    assert.ok(events.every((e) => e.kind === 'event' && e.shortAddress === 4));
  });
});
