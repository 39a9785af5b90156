import assert from 'node:assert/strict';
import { VirtualGear } from '../../../../lib/dali/sim/gear';
import { VirtualClock } from '../../../../lib/dali/sim/virtual-bus';
import type { ForwardFrame } from '../../../../lib/dali/types';
import { mulberry32, randInt } from '../../../helpers/prng';

const f16 = (value: number): ForwardFrame => ({ bits: 16, value });

/** Sends raw 16-bit frames (hex as on the wire); returns the answers. */
function send(gear: VirtualGear, ...values: number[]): (number | null)[] {
  return values.map((v) => gear.handleFrame(f16(v)));
}

/** A send-twice command: the same frame twice, back to back. */
function twice(gear: VirtualGear, value: number): void {
  send(gear, value, value);
}

function setup(options: ConstructorParameters<typeof VirtualGear>[0] = {}): { gear: VirtualGear; clock: VirtualClock } {
  const clock = new VirtualClock({ startMs: 1_000_000 });
  const gear = new VirtualGear({ shortAddress: 5, clock, ...options });
  return { gear, clock };
}

describe('sim/gear: virtual DT8 control gear', () => {
  describe('reference vectors', () => {
    it('A372 C301 C108 0BE7 C108 0BE2 leaves short 5 at 370 mirek (2700 K)', () => {
      const { gear } = setup({ initialMirek: 250 });
      send(gear, 0xa372, 0xc301, 0xc108, 0x0be7, 0xc108, 0x0be2);
      assert.equal(gear.actualMirek, 370);
    });

    it('QUERY COLOUR VALUE (DTR0 = 2) answers the MSB and leaves the LSB in DTR0', () => {
      const { gear } = setup({ initialMirek: 370 });
      const [, , msb, lsb] = send(gear, 0xa302, 0xc108, 0x0bfa, 0x0b98);
      assert.equal(msb, 0x01);
      assert.equal(lsb, 0x72);
      assert.equal(((msb as number) << 8) | (lsb as number), 370);
    });

    it('DAPC 0x0AC8 reaches level 200 after the fade, moving in between', () => {
      const { gear, clock } = setup({ initialLevel: 100 });
      // FADE TIME 4 = 0.5 * sqrt(16) = 2 s: DTR0 4, SET FADE TIME (0x2E) twice.
      send(gear, 0xa304);
      twice(gear, 0x0b2e);
      send(gear, 0x0ac8);
      assert.equal(gear.actualLevel, 100);
      clock.advance(1000);
      const mid = gear.actualLevel;
      assert.ok(mid > 100 && mid < 200, `mid-fade level ${mid}`);
      const [status] = send(gear, 0x0b90);
      assert.ok(((status as number) & 0x10) !== 0, 'fade running bit set during the fade');
      clock.advance(1000);
      assert.equal(send(gear, 0x0ba0)[0], 200);
      assert.equal((send(gear, 0x0b90)[0] as number) & 0x10, 0, 'fade running cleared after the fade');
    });
  });

  describe('addressing', () => {
    it('answers only frames addressed to it: short, its groups, broadcast', () => {
      const { gear } = setup({ groups: [3], initialLevel: 77 });
      assert.equal(send(gear, 0x0ba0)[0], 77, 'short 5');
      assert.equal(send(gear, 0x0da0)[0], null, 'short 6');
      assert.equal(send(gear, 0x87a0)[0], 77, 'group 3');
      assert.equal(send(gear, 0x89a0)[0], null, 'group 4');
      assert.equal(send(gear, 0xffa0)[0], 77, 'broadcast');
      assert.equal(send(gear, 0xfda0)[0], null, 'broadcast unaddressed: gear has a short address');
    });

    it('ADD TO GROUP / REMOVE FROM GROUP change QUERY GROUPS', () => {
      const { gear } = setup();
      twice(gear, 0x0b62); // ADD TO GROUP 2
      twice(gear, 0x0b6a); // ADD TO GROUP 10
      assert.deepEqual(send(gear, 0x0bc0, 0x0bc1), [0x04, 0x04]);
      twice(gear, 0x0b72); // REMOVE FROM GROUP 2
      assert.deepEqual(gear.groups, [10]);
    });

    it('SET SHORT ADDRESS via DTR0 (a << 1 | 1), MASK removes it', () => {
      const { gear } = setup();
      send(gear, 0xa300 | ((9 << 1) | 1));
      twice(gear, 0x0b80);
      assert.equal(gear.shortAddress, 9);
      assert.equal(send(gear, 0x13a0)[0] !== null, true, 'answers on short 9');
      send(gear, 0xa3ff);
      twice(gear, 0x1380);
      assert.equal(gear.shortAddress, null);
      assert.equal(send(gear, 0xff96)[0], 0xff, 'QUERY MISSING SHORT ADDRESS = YES');
    });
  });

  describe('send-twice configuration commands', () => {
    it('act only when received twice within 100 ms with nothing in between', () => {
      const { gear, clock } = setup();
      send(gear, 0xa307);
      send(gear, 0x0b2e); // once
      assert.equal(send(gear, 0x0ba5)[0], 0x07, 'fade time unchanged after one frame');
      send(gear, 0x0b2e);
      clock.advance(150);
      send(gear, 0x0b2e); // too late
      assert.equal(send(gear, 0x0ba5)[0], 0x07);
      send(gear, 0x0b2e, 0x0ba0, 0x0b2e); // something in between
      assert.equal(send(gear, 0x0ba5)[0], 0x07);
      send(gear, 0x0b2e);
      clock.advance(60);
      send(gear, 0x0b2e);
      assert.equal(send(gear, 0x0ba5)[0], 0x77, 'fade time 7, rate 7');
    });
  });

  describe('arc power', () => {
    it('OFF, RECALL MAX/MIN, and DAPC clamped to min/max with limit error', () => {
      const { gear } = setup({ physicalMinLevel: 10, initialLevel: 100 });
      send(gear, 0x0b00);
      assert.equal(gear.actualLevel, 0);
      assert.equal((send(gear, 0x0b90)[0] as number) & 0x04, 0, 'lamp off');
      send(gear, 0xa3c8);
      twice(gear, 0x0b2a); // SET MAX LEVEL 200
      send(gear, 0xa332);
      twice(gear, 0x0b2b); // SET MIN LEVEL 50
      send(gear, 0x0b05);
      assert.equal(gear.actualLevel, 200);
      send(gear, 0x0b06);
      assert.equal(gear.actualLevel, 50);
      send(gear, 0x0afe); // DAPC 254 -> clamped to 200
      assert.equal(gear.actualLevel, 200);
      assert.ok(((send(gear, 0x0b90)[0] as number) & 0x08) !== 0, 'limit error');
      send(gear, 0x0a14); // DAPC 20 -> clamped to 50
      assert.equal(gear.actualLevel, 50);
      send(gear, 0x0a64); // DAPC 100 inside the limits
      assert.equal((send(gear, 0x0b90)[0] as number) & 0x08, 0, 'limit error cleared');
    });

    it('DAPC MASK stops a running fade where it is', () => {
      const { gear, clock } = setup({ initialLevel: 0 });
      send(gear, 0xa306);
      twice(gear, 0x0b2e); // 4 s
      send(gear, 0x0afe);
      clock.advance(2000);
      send(gear, 0x0aff);
      const stopped = gear.actualLevel;
      clock.advance(5000);
      assert.equal(gear.actualLevel, stopped);
      assert.ok(stopped > 1 && stopped < 254);
    });

    it('scenes: SET SCENE from DTR0, GO TO SCENE, QUERY SCENE LEVEL', () => {
      const { gear } = setup({ initialLevel: 10 });
      send(gear, 0xa396);
      twice(gear, 0x0b43); // SET SCENE 3 = 150
      assert.equal(send(gear, 0x0bb3)[0], 150);
      send(gear, 0x0b13);
      assert.equal(gear.actualLevel, 150);
      send(gear, 0x0b14); // scene 4 is MASK: nothing happens
      assert.equal(gear.actualLevel, 150);
    });
  });

  describe('DT8 colour temperature', () => {
    it('ENABLE DEVICE TYPE covers only the next frame', () => {
      const { gear } = setup({ initialMirek: 250 });
      send(gear, 0xa372, 0xc301, 0xc108, 0x0be7); // temporary = 370
      send(gear, 0xc108, 0xa300, 0x0be2); // DTR0 write in between: ACTIVATE ignored
      assert.equal(gear.actualMirek, 250);
      send(gear, 0x0be2); // without ENABLE DEVICE TYPE: ignored
      assert.equal(gear.actualMirek, 250);
      send(gear, 0xc106, 0x0be2); // device type 6 enabled: not a DT8 command
      assert.equal(gear.actualMirek, 250);
      send(gear, 0xc108, 0x0be2);
      assert.equal(gear.actualMirek, 370);
    });

    it('automatic activation: the next DAPC applies the temporary colour', () => {
      const { gear } = setup({ initialMirek: 250 });
      send(gear, 0xc108);
      assert.equal(send(gear, 0x0bf7)[0], 0x00, 'gear features: automatic activation off');
      // Without automatic activation a DAPC leaves the colour alone.
      send(gear, 0xa372, 0xc301, 0xc108, 0x0be7, 0x0a80);
      assert.equal(gear.actualLevel, 128);
      assert.equal(gear.actualMirek, 250);
      // STORE GEAR FEATURES/STATUS with DTR0 bit 0 set (send twice after one ENABLE DEVICE TYPE).
      send(gear, 0xa301, 0xc108, 0x0bf3, 0x0bf3);
      send(gear, 0xc108);
      assert.equal(send(gear, 0x0bf7)[0], 0x01);
      send(gear, 0xa372, 0xc301, 0xc108, 0x0be7, 0x0a90);
      assert.equal(gear.actualLevel, 144);
      assert.equal(gear.actualMirek, 370);
    });

    it('Tc limits: STORE Tc LIMIT coolest, ACTIVATE clamps and flags out of range', () => {
      const { gear } = setup({ initialMirek: 300 });
      // coolest = 200 mirek: DTR0 0xC8, DTR1 0, DTR2 0, EDT 8, STORE Tc LIMIT twice.
      send(gear, 0xa3c8, 0xc300, 0xc500, 0xc108, 0x0bf2, 0x0bf2);
      assert.equal(gear.snapshot().coolestMirek, 200);
      send(gear, 0xa399, 0xc300, 0xc108, 0x0be7, 0xc108, 0x0be2); // 153 requested
      assert.equal(gear.actualMirek, 200);
      send(gear, 0xc108);
      assert.ok(((send(gear, 0x0bf8)[0] as number) & 0x02) !== 0, 'colour status: Tc out of range');
      // Reading the limit back: selector 128 = coolest.
      const [, , msb, lsb] = send(gear, 0xa380, 0xc108, 0x0bfa, 0x0b98);
      assert.equal(((msb as number) << 8) | (lsb as number), 200);
      send(gear, 0xa381, 0xc108);
      const [pmsb] = send(gear, 0x0bfa);
      const [plsb] = send(gear, 0x0b98);
      assert.equal(((pmsb as number) << 8) | (plsb as number), 153, 'physical coolest unchanged');
    });

    it('answers the DT8 queries: colour type features (Tc capable), device type 8', () => {
      const { gear } = setup();
      send(gear, 0xc108);
      assert.equal(send(gear, 0x0bf9)[0], 0x02);
      assert.equal(send(gear, 0x0b99)[0], 8);
    });

    it('several device types: 255, then QUERY NEXT DEVICE TYPE until 254', () => {
      const { gear } = setup({ deviceTypes: [8, 6] });
      assert.deepEqual(send(gear, 0x0b99, 0x0ba7, 0x0ba7, 0x0ba7), [255, 6, 8, 254]);
    });

    it('a gear without DT8 ignores DT8 commands', () => {
      const { gear } = setup({ deviceTypes: [6], initialMirek: 250 });
      send(gear, 0xa372, 0xc301, 0xc108, 0x0be7, 0xc108, 0x0be2);
      assert.equal(gear.actualMirek, 250);
      assert.equal(send(gear, 0xc108, 0x0bf9)[1], null);
    });
  });

  describe('status and failures', () => {
    it('QUERY STATUS bits: lamp on, power cycle seen, lamp failure injection', () => {
      const { gear } = setup({ initialLevel: 254 });
      let s = send(gear, 0x0b90)[0] as number;
      assert.ok(s & 0x04, 'lamp on');
      assert.ok(s & 0x80, 'power cycle seen until the first arc power command');
      send(gear, 0x0afe);
      s = send(gear, 0x0b90)[0] as number;
      assert.equal(s & 0x80, 0);
      gear.setLampFailure(true);
      s = send(gear, 0x0b90)[0] as number;
      assert.ok(s & 0x02, 'lamp failure');
      assert.equal(s & 0x04, 0, 'lamp not on');
      assert.equal(send(gear, 0x0b92)[0], 0xff, 'QUERY LAMP FAILURE = YES');
      gear.setLampFailure(false);
      assert.equal(send(gear, 0x0b92)[0], null);
    });

    it('CONTENT DTR0/1/2 read back what was written', () => {
      const { gear } = setup();
      assert.deepEqual(send(gear, 0xa311, 0xc322, 0xc533, 0x0b98, 0x0b9c, 0x0b9d).slice(3), [0x11, 0x22, 0x33]);
    });
  });

  it('never throws and stays within its limits on random frames (seeded)', () => {
    const seed = 0x5eed01;
    const rng = mulberry32(seed);
    const { gear, clock } = setup({ groups: [0] });
    for (let i = 0; i < 5000; i++) {
      const value = rng() < 0.5 ? randInt(rng, 0, 0xffff) : (pickAddress(rng) << 8) | randInt(rng, 0, 255);
      assert.doesNotThrow(() => gear.handleFrame(f16(value)), `seed ${seed} frame ${value.toString(16)}`);
      if (i % 50 === 0) clock.advance(randInt(rng, 0, 3000));
      const s = gear.snapshot();
      assert.ok(s.actualLevel >= 0 && s.actualLevel <= 254, `seed ${seed}: level ${s.actualLevel}`);
      assert.ok(s.mirek >= s.coolestMirek && s.mirek <= s.warmestMirek, `seed ${seed}: mirek ${s.mirek} outside limits`);
    }
    assert.equal(gear.handleFrame({ bits: 16, value: Number.NaN }), null);
    assert.equal(gear.handleFrame({ bits: 24, value: 0x0bffff }), null);
  });
});

function pickAddress(rng: () => number): number {
  const choices = [0x0b, 0x0a, 0x81, 0x80, 0xff, 0xfe, 0xa3, 0xc3, 0xc5, 0xc1];
  return choices[Math.floor(rng() * choices.length)] as number;
}
