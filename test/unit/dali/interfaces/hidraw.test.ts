import assert from 'node:assert/strict';
import type { ForwardFrame } from '../../../../lib/dali/types';
import {
  TRIDONIC_REPORT_LENGTH,
  TridonicBusStatus,
  TridonicOrigin,
  TridonicReply,
  TridonicReportParser,
  HidrawInterface,
  decodeTridonicIn,
  decodeTridonicOut,
  encodeTridonicIn,
  encodeTridonicSend,
} from '../../../../lib/dali/interfaces/hidraw';
import { TridonicDeviceEmulator } from '../../../../lib/dali/interfaces/tridonic-emulator';
import { MemoryTransport } from '../../../helpers/memory-transport';
import { daliError, emulatorRig, until } from './emulator-rig';
import { mulberry32, pick, randBytes, randInt } from '../../../helpers/prng';

function rig() {
  return emulatorRig(
    'mem-hidraw',
    (bus, write) => new TridonicDeviceEmulator({ bus, write, wireTiming: false, firmwareVersion: [2, 7] }),
    (transport) => new HidrawInterface({ transport, answerTimeoutMs: 50, firstSeq: 254 }),
  );
}

describe('Tridonic DALI USB (hidraw) protocol', () => {
  describe('report codec', () => {
    it('builds a 64-byte send report: 0x12, seq, flags, type 3, frame right-aligned in bytes 4..7', () => {
      const r = encodeTridonicSend(0x42, { bits: 16, value: 0x0ac8 });
      assert.equal(r.length, 64);
      assert.deepEqual([...r.subarray(0, 9)], [0x12, 0x42, 0x00, 0x03, 0x00, 0x00, 0x0a, 0xc8, 0x00]);
      assert.ok(r.subarray(9).every((b) => b === 0));
    });

    it('sets flag 0x20 for send twice and type 6 for 24-bit frames', () => {
      const r = encodeTridonicSend(1, { bits: 24, value: 0x01fe30, sendTwice: true });
      assert.deepEqual([...r.subarray(0, 8)], [0x12, 0x01, 0x20, 0x06, 0x00, 0x01, 0xfe, 0x30]);
    });

    it('round-trips random send reports through the device-side decoder (seeded)', () => {
      const rng = mulberry32(0x17b5);
      for (let i = 0; i < 300; i++) {
        const bits = pick(rng, [16, 24] as const);
        const value = randInt(rng, 0, bits === 16 ? 0xffff : 0xffffff);
        const frame: ForwardFrame = rng() < 0.5 ? { bits, value, sendTwice: true } : { bits, value };
        const seq = randInt(rng, 1, 255);
        assert.deepEqual(decodeTridonicOut(encodeTridonicSend(seq, frame)), { type: 'send', seq, frame });
      }
    });

    it('reads the backward frame from byte 5 and the sequence number from byte 8', () => {
      const raw = Buffer.alloc(64);
      raw[0] = 0x12;
      raw[1] = 0x72;
      raw[5] = 0xfe;
      raw[8] = 0x33;
      const r = decodeTridonicIn(raw);
      assert.equal(r.origin, TridonicOrigin.RESPONSE);
      assert.equal(r.type, TridonicReply.BACKWARD_FRAME);
      assert.equal(r.frame24 & 0xff, 0xfe);
      assert.equal(r.seq, 0x33);
    });
  });

  describe('report stream parser', () => {
    const reports = [
      encodeTridonicIn(0x12, 0x73, 0x0ac8, 5),
      encodeTridonicIn(0x12, 0x72, 0x12, 5),
      encodeTridonicIn(0x11, 0x76, 0x000c0b, 0),
      encodeTridonicIn(0x11, 0x77, 3, 0),
    ];

    it('splits a byte stream into 64-byte reports at any chunking', () => {
      const rng = mulberry32(64);
      const stream = Buffer.concat(reports);
      for (let round = 0; round < 50; round++) {
        const p = new TridonicReportParser('in');
        const got: Buffer[] = [];
        for (let off = 0; off < stream.length; ) {
          const n = randInt(rng, 1, 100);
          got.push(...p.push(stream.subarray(off, off + n)));
          off += n;
        }
        assert.deepEqual(got, reports);
      }
    });

    it('skips garbage before a report and never throws on random bytes', () => {
      const got = new TridonicReportParser('in').push(Buffer.concat([Buffer.from([0x00, 0x12, 0x00, 0x99]), reports[1]!]));
      assert.deepEqual(got, [reports[1]]);
      const rng = mulberry32(5);
      const p = new TridonicReportParser('in');
      for (let i = 0; i < 1000; i++) {
        assert.doesNotThrow(() => p.push(randBytes(rng, randInt(rng, 0, 80))).map(decodeTridonicIn));
      }
    });
  });

  describe('HidrawInterface', () => {
    it('reads the firmware version on connect', async () => {
      const r = rig();
      await r.iface.open();
      await until(() => r.iface.firmwareVersion !== undefined, 'the firmware version');
      assert.equal(r.iface.firmwareVersion, '2.7');
      await r.iface.close();
    });

    it('matches replies by sequence number across the 255 -> 1 wrap', async () => {
      const r = rig();
      for (let a = 0; a < 5; a++) r.bus.answers.set((a << 9) | 0x1a0, { kind: 'answer', value: 100 + a });
      await r.iface.open();
      for (let a = 0; a < 5; a++) {
        assert.deepEqual(await r.iface.transmit({ bits: 16, value: (a << 9) | 0x1a0, expectAnswer: true }, 3), {
          kind: 'answer',
          value: 100 + a,
        });
      }
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), { kind: 'none' });
      await r.iface.close();
    });

    it('reports a framing error for colliding answers and a bus fault when shorted', async () => {
      const r = rig();
      r.bus.answers.set(0xff91, { kind: 'framingError' });
      await r.iface.open();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0xff91, expectAnswer: true }, 3), { kind: 'framingError' });
      r.transport.toDevice = (d) => {
        const req = decodeTridonicOut(d);
        if (req?.type === 'send') r.transport.fromDevice(encodeTridonicIn(0x12, 0x77, TridonicBusStatus.SHORTED, req.seq));
      };
      await assert.rejects(r.iface.transmit({ bits: 16, value: 0xfe00 }, 2), daliError('busFault'));
      assert.ok(r.states.some((s) => s.state === 'connected' && /shorted/.test(s.detail ?? '')));
      await r.iface.close();
    });

    it('waits for both echoes of a send-twice frame', async () => {
      const r = rig();
      await r.iface.open();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0xff20, sendTwice: true }, 2), { kind: 'none' });
      assert.deepEqual(r.bus.frames, [{ bits: 16, value: 0xff20, sendTwice: true }]);
      await r.iface.close();
    });

    it('reports frames of other masters (0x11) and stale-sequence echoes as frame events', async () => {
      const r = rig();
      await r.iface.open();
      r.emulator.busFrame(16, 0xfe00);
      r.emulator.busFrame(24, 0x000c0b);
      r.emulator.busFrame(8, 0, true);
      r.transport.fromDevice(encodeTridonicIn(0x12, 0x73, 0x0ac8, 17)); // firmware quirk: stale seq
      await until(() => r.frames.length >= 4, 'four frame events');
      assert.deepEqual(
        r.frames.map((f) => [f.bits, f.value, f.framingError === true]),
        [
          [16, 0xfe00, false],
          [24, 0x000c0b, false],
          [8, 0, true],
          [16, 0x0ac8, false],
        ],
      );
      await r.iface.close();
    });

    it('rejects pending transmits on disconnect and on close', async () => {
      const r = rig();
      await r.iface.open();
      r.transport.toDevice = () => undefined;
      const p1 = r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2);
      r.transport.drop();
      await assert.rejects(p1, daliError('notConnected'));
      r.transport.restore();
      const p2 = r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2);
      await r.iface.close();
      await assert.rejects(p2, daliError('closed'));
    });

    it('emits 64-byte reports only', async () => {
      const written: Buffer[] = [];
      const transport = new MemoryTransport();
      transport.toDevice = (d) => written.push(d);
      const iface = new HidrawInterface({ transport, replyTimeoutMs: 20 });
      await iface.open();
      await assert.rejects(iface.transmit({ bits: 16, value: 1 }, 2));
      await iface.close();
      assert.ok(written.length >= 2);
      assert.ok(written.every((w) => w.length === TRIDONIC_REPORT_LENGTH));
    });
  });
});
