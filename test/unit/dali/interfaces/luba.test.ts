import assert from 'node:assert/strict';
import type { ForwardFrame } from '../../../../lib/dali/types';
import {
  LUBA_START,
  LubaCommand,
  LubaInterface,
  LubaParser,
  decodeLubaEvent,
  decodeLubaSend,
  encodeLubaFramingErrorEvent,
  encodeLubaPacket,
  encodeLubaReceivedEvent,
  encodeLubaSend,
  encodeLubaSendRefused,
  encodeLubaSentEvent,
  lubaChecksum,
} from '../../../../lib/dali/interfaces/luba';
import { LubaDeviceEmulator } from '../../../../lib/dali/interfaces/luba-emulator';
import { MemoryTransport } from '../../../helpers/memory-transport';
import { StubBus, daliError, emulatorRig, until } from './emulator-rig';
import { mulberry32, randBytes, randInt, pick } from '../../../helpers/prng';

function hex(b: Uint8Array): string {
  return Buffer.from(b)
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?=.)/g, '$1 ');
}

function rig(opts: { answerTimeoutMs?: number; confirmTimeoutMs?: number } = {}) {
  return emulatorRig(
    'mem-luba',
    (bus, write) => new LubaDeviceEmulator({ bus, write, wireTiming: false }),
    (transport) =>
      new LubaInterface({ transport, answerTimeoutMs: opts.answerTimeoutMs ?? 30, confirmTimeoutMs: opts.confirmTimeoutMs ?? 500 }),
  );
}

describe('LUBA protocol', () => {
  describe('packet codec', () => {
    it('encodes DAPC short 5 level 200 as the reference packet 59 32 07 00 10 02 0A C8 00 00 E5', () => {
      assert.equal(hex(encodeLubaSend({ bits: 16, value: 0x0ac8 }, 2)), '59 32 07 00 10 02 0A C8 00 00 E5');
    });

    it('left-aligns a 24-bit frame, sets bit count 24, the send-twice bit and the priority', () => {
      const p = encodeLubaSend({ bits: 24, value: 0x0b1e67, sendTwice: true }, 5);
      assert.equal(p[0], LUBA_START);
      assert.equal(p[1], LubaCommand.ADD_DALI_FRAME_TO_TX);
      assert.equal(p[2], 7);
      assert.deepEqual([...p.subarray(3, 10)], [0x00, 24, 0x85, 0x0b, 0x1e, 0x67, 0x00]);
      assert.equal(lubaChecksum(p, 1, p.length - 1), p[p.length - 1]);
    });

    it('round-trips random send requests through the device-side decoder', () => {
      const rng = mulberry32(0x1ba1);
      for (let i = 0; i < 300; i++) {
        const bits = pick(rng, [16, 24] as const);
        const value = randInt(rng, 0, bits === 16 ? 0xffff : 0xffffff);
        const sendTwice = rng() < 0.5;
        const priority = randInt(rng, 1, 5) as 1 | 2 | 3 | 4 | 5;
        const frame: ForwardFrame = sendTwice ? { bits, value, sendTwice } : { bits, value };
        const packets = new LubaParser().push(encodeLubaSend(frame, priority));
        assert.equal(packets.length, 1);
        const req = decodeLubaSend(packets[0]!.payload);
        assert.deepEqual(req, { line: 0, frame, priority }, `seed 0x1ba1 #${i}`);
      }
    });

    it('decodes the event layout [tick, line, status, data] of the LUBA document', () => {
      // Frame received, 16 bits (status 0b10_010000), broadcast OFF 0xFF00, tick 0x1234.
      assert.deepEqual(decodeLubaEvent([0x12, 0x34, 0x00, 0x90, 0xff, 0x00]), {
        type: 'received',
        tick: 0x1234,
        line: 0,
        bits: 16,
        value: 0xff00,
      });
      // Backward frame 0xFE (8 bits).
      assert.deepEqual(decodeLubaEvent([0x00, 0x01, 0x00, 0x88, 0xfe]), { type: 'received', tick: 1, line: 0, bits: 8, value: 0xfe });
      // Frame sent with transmit id 7.
      assert.deepEqual(decodeLubaEvent([0x00, 0x02, 0x00, 0x10, 0x07, 0x0a, 0xc8]), {
        type: 'sent',
        tick: 2,
        line: 0,
        txId: 7,
        bits: 16,
        value: 0x0ac8,
      });
      // Framing error (info 63) and start/stop only (62).
      assert.equal(decodeLubaEvent([0, 0, 0, 0xbf])?.type, 'framingError');
      assert.equal(decodeLubaEvent([0, 0, 0, 0xbe])?.type, 'framingError');
      assert.equal(decodeLubaEvent([0, 0, 0]), undefined);
    });

    it('encodes events that decode back to the same frame', () => {
      const rng = mulberry32(77);
      for (let i = 0; i < 200; i++) {
        const bits = pick(rng, [8, 16, 24] as const);
        const value = randInt(rng, 0, 2 ** bits - 1);
        const tick = randInt(rng, 0, 0xffff);
        const [rx] = new LubaParser().push(encodeLubaReceivedEvent(tick, bits, value));
        assert.deepEqual(decodeLubaEvent(rx!.payload), { type: 'received', tick, line: 0, bits, value });
        const txId = randInt(rng, 0, 255);
        const [tx] = new LubaParser().push(encodeLubaSentEvent(tick, txId, bits, value));
        assert.deepEqual(decodeLubaEvent(tx!.payload), { type: 'sent', tick, line: 0, txId, bits, value });
      }
      const [fe] = new LubaParser().push(encodeLubaFramingErrorEvent(5));
      assert.equal(decodeLubaEvent(fe!.payload)?.type, 'framingError');
    });
  });

  describe('streaming parser', () => {
    const samples = [
      encodeLubaSend({ bits: 16, value: 0x0ac8 }, 2),
      encodeLubaSentEvent(100, 3, 16, 0xa3ff),
      encodeLubaReceivedEvent(101, 8, 0x59),
      encodeLubaPacket(LubaCommand.ADD_DALI_FRAME_TO_TX_RESPONSE, [0x59, 0x59]),
      encodeLubaFramingErrorEvent(0x5959),
    ];

    it('reassembles packets split at every possible byte boundary', () => {
      const stream = Buffer.concat(samples);
      for (let cut = 0; cut <= stream.length; cut++) {
        const p = new LubaParser();
        const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))];
        assert.equal(got.length, samples.length, `cut at ${cut}`);
        got.forEach((pkt, i) => assert.deepEqual(encodeLubaPacket(pkt.cmd, pkt.payload), samples[i]));
      }
    });

    it('skips a packet with a bad checksum and keeps the next one', () => {
      const bad = Buffer.from(samples[1]!);
      bad[bad.length - 1] ^= 0x01;
      const got = new LubaParser().push(Buffer.concat([bad, samples[2]!]));
      assert.equal(got.length, 1);
      assert.deepEqual(decodeLubaEvent(got[0]!.payload), { type: 'received', tick: 101, line: 0, bits: 8, value: 0x59 });
    });

    it('resynchronises when a stray start byte or an impossible length precedes a packet', () => {
      const stray = Buffer.from([0x59, 0x59, 0x31, 0xff, 0x00, 0x59, 0x31]);
      const got = new LubaParser().push(Buffer.concat([stray, samples[0]!]));
      assert.equal(got.length, 1);
      assert.deepEqual(encodeLubaPacket(got[0]!.cmd, got[0]!.payload), samples[0]);
    });

    it('recovers every real packet, in order, from random garbage in random chunks (seeded)', () => {
      for (const seed of [1, 2, 3, 0xdead, 0xbeef]) {
        const rng = mulberry32(seed);
        const sent: Buffer[] = [];
        const parts: Buffer[] = [];
        for (let i = 0; i < 60; i++) {
          parts.push(randBytes(rng, randInt(rng, 0, 12)));
          const pkt = pick(rng, samples);
          sent.push(pkt);
          parts.push(pkt);
        }
        const stream = Buffer.concat(parts);
        const p = new LubaParser();
        const got: Buffer[] = [];
        for (let off = 0; off < stream.length; ) {
          const n = randInt(rng, 1, 17);
          for (const pkt of p.push(stream.subarray(off, off + n))) got.push(encodeLubaPacket(pkt.cmd, pkt.payload));
          off += n;
        }
        // Every real packet appears, in order (garbage may, very rarely, add a valid-looking packet).
        let j = 0;
        for (const g of got) if (j < sent.length && g.equals(sent[j]!)) j++;
        assert.equal(j, sent.length, `seed ${seed}: recovered ${j} of ${sent.length}`);
      }
    });

    it('never throws on pure garbage and still decodes the next real packet', () => {
      const rng = mulberry32(4242);
      const p = new LubaParser();
      for (let i = 0; i < 2000; i++) {
        assert.doesNotThrow(() => p.push(randBytes(rng, randInt(rng, 0, 40))));
        if (i % 100 === 99) {
          const got = p.push(samples[0]!);
          assert.ok(
            got.some((pkt) => encodeLubaPacket(pkt.cmd, pkt.payload).equals(samples[0]!)),
            `round ${i}`,
          );
        }
      }
    });
  });

  describe('LubaInterface', () => {
    it('answers a query with the backward frame and a command with none', async () => {
      const r = rig();
      r.bus.answers.set(0x0ba0, { kind: 'answer', value: 200 });
      await r.iface.open();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ba0, expectAnswer: true }, 3), { kind: 'answer', value: 200 });
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), { kind: 'none' });
      assert.deepEqual(
        r.bus.frames.map((f) => f.value),
        [0x0ba0, 0x0ac8],
      );
      await r.iface.close();
    });

    it('configures the device on connect (settings 0x2A)', async () => {
      const r = rig();
      await r.iface.open();
      await until(() => r.iface.deviceSettings != null, 'the settings answer');
      assert.equal(r.toDevice[0]?.[1], LubaCommand.READ_WRITE_SETTINGS);
      assert.deepEqual(r.iface.deviceSettings, { mode: 0, eventFilter: 0x12 });
      await r.iface.close();
    });

    it('reads silence after a query as NO and a collision as a framing error', async () => {
      const r = rig({ answerTimeoutMs: 20 });
      r.bus.answers.set(0x0b91, { kind: 'framingError' });
      await r.iface.open();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0d91, expectAnswer: true }, 3), { kind: 'none' });
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0b91, expectAnswer: true }, 3), { kind: 'framingError' });
      await r.iface.close();
    });

    it('keeps send-twice frames one transaction and passes the flag to the bus', async () => {
      const r = rig();
      await r.iface.open();
      const res = await r.iface.transmit({ bits: 16, value: 0x0b2a, sendTwice: true }, 2);
      assert.deepEqual(res, { kind: 'none' });
      assert.equal(r.bus.frames.length, 1);
      assert.equal(r.bus.frames[0]?.sendTwice, true);
      await r.iface.close();
    });

    it('reports frames of other masters and lone backward frames as frame events', async () => {
      const r = rig();
      await r.iface.open();
      r.emulator.busFrame(16, 0xfe00);
      r.emulator.busFrame(24, 0x000c0b);
      r.emulator.busFrame(8, 0x42);
      r.emulator.busFrame(8, 0, true);
      await until(() => r.frames.length >= 4, 'four frame events');
      assert.deepEqual(
        r.frames.map((f) => [f.bits, f.value, f.framingError === true]),
        [
          [16, 0xfe00, false],
          [24, 0x000c0b, false],
          [8, 0x42, false],
          [8, 0, true],
        ],
      );
      await r.iface.close();
    });

    it('rejects with protocol when the interface refuses a frame', async () => {
      const transport = new MemoryTransport();
      transport.toDevice = (d) => {
        if (d[1] === LubaCommand.ADD_DALI_FRAME_TO_TX) transport.fromDevice(encodeLubaSendRefused(4));
      };
      const iface = new LubaInterface({ transport, configureOnConnect: false });
      await iface.open();
      await assert.rejects(iface.transmit({ bits: 16, value: 0x0ac8 }, 2), daliError('protocol'));
      await iface.close();
    });

    it('rejects with timeout when the device never confirms', async () => {
      const transport = new MemoryTransport();
      const iface = new LubaInterface({ transport, configureOnConnect: false, confirmTimeoutMs: 30 });
      await iface.open();
      await assert.rejects(iface.transmit({ bits: 16, value: 0x0ac8 }, 2), daliError('timeout'));
      await iface.close();
    });

    it('rejects invalid frames and transmits before open without touching the device', async () => {
      const r = rig();
      await assert.rejects(r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), daliError('notConnected'));
      await r.iface.open();
      await assert.rejects(r.iface.transmit({ bits: 16, value: 0x1ffff }, 2), daliError('protocol'));
      await assert.rejects(r.iface.transmit({ bits: 8 as 16, value: 1 }, 2), daliError('protocol'));
      assert.equal(r.bus.frames.length, 0);
      await r.iface.close();
    });

    it('fails the pending transmit with notConnected when the device disappears, and works again after it returns', async () => {
      const r = rig({ confirmTimeoutMs: 2000 });
      await r.iface.open();
      // Swallow the frame so the transaction stays pending.
      r.transport.toDevice = () => undefined;
      const pending = r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2);
      r.transport.drop('unplugged');
      await assert.rejects(pending, daliError('notConnected'));
      assert.equal(r.iface.state, 'disconnected');
      await assert.rejects(r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), daliError('notConnected'));
      r.transport.toDevice = (d) => r.emulator.receive(d);
      r.transport.restore();
      assert.equal(r.iface.state, 'connected');
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), { kind: 'none' });
      assert.deepEqual(
        r.states.map((s) => s.state),
        ['connected', 'disconnected', 'connecting', 'connected'],
      );
      await r.iface.close();
    });

    it('close() rejects the pending transmit, is idempotent and ends in state closed', async () => {
      const r = rig({ confirmTimeoutMs: 2000 });
      await r.iface.open();
      r.transport.toDevice = () => undefined;
      const pending = r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2);
      await Promise.all([r.iface.close(), r.iface.close()]);
      await assert.rejects(pending, daliError('closed'));
      assert.equal(r.iface.state, 'closed');
      await assert.rejects(r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), daliError('closed'));
    });

    it('serialises concurrent transmits in call order', async () => {
      const r = rig();
      for (let a = 0; a < 8; a++) r.bus.answers.set((a << 9) | 0x1a0, { kind: 'answer', value: a * 10 });
      await r.iface.open();
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, a) => r.iface.transmit({ bits: 16, value: (a << 9) | 0x1a0, expectAnswer: true }, 3)),
      );
      assert.deepEqual(
        results,
        Array.from({ length: 8 }, (_, a) => ({ kind: 'answer', value: a * 10 })),
      );
      await r.iface.close();
    });

    it('works with the emulated device running at real wire timing', async () => {
      const bus = new StubBus();
      bus.answers.set(0x0ba0, { kind: 'answer', value: 7 });
      const transport = new MemoryTransport();
      const emulator = new LubaDeviceEmulator({ bus, write: (d) => transport.fromDevice(d) });
      transport.toDevice = (d) => emulator.receive(d);
      const iface = new LubaInterface({ transport, answerTimeoutMs: 200 });
      await iface.open();
      assert.deepEqual(await iface.transmit({ bits: 16, value: 0x0ba0, expectAnswer: true }, 3), { kind: 'answer', value: 7 });
      await iface.close();
    });
  });
});
