import assert from 'node:assert/strict';
import type { ForwardFrame } from '../../../../lib/dali/types';
import {
  SCI2_MONITOR_FLAG,
  Sci2Control,
  Sci2ErrorCode,
  Sci2Interface,
  Sci2Parser,
  Sci2Status,
  decodeSci2Reply,
  decodeSci2Request,
  encodeSci2Packet,
  encodeSci2Reply,
  encodeSci2Send,
  type Sci2Reply,
} from '../../../../lib/dali/interfaces/sci2';
import { Sci2DeviceEmulator } from '../../../../lib/dali/interfaces/sci2-emulator';
import { MemoryTransport } from '../../../helpers/memory-transport';
import { daliError, emulatorRig, until } from './emulator-rig';
import { mulberry32, pick, randBytes, randInt } from '../../../helpers/prng';

function rig() {
  return emulatorRig(
    'mem-sci2',
    (bus, write) => new Sci2DeviceEmulator({ bus, write, wireTiming: false }),
    (transport) => new Sci2Interface({ transport, answerTimeoutMs: 30 }),
  );
}

describe('SCI2 protocol', () => {
  describe('frame codec', () => {
    it('puts a 16-bit frame in MI/LO with control 0x83 (monitor + 16 bit) and an XOR check byte', () => {
      const p = encodeSci2Send({ bits: 16, value: 0x0ac8 });
      assert.deepEqual([...p], [0x83, 0x00, 0x0a, 0xc8, 0x83 ^ 0x0a ^ 0xc8]);
    });

    it('sets mode 8 for 24-bit frames and bit 4 for send twice', () => {
      const p = encodeSci2Send({ bits: 24, value: 0x01fe30, sendTwice: true });
      assert.equal(p[0], Sci2Control.MONITOR | Sci2Control.SEND_TWICE | Sci2Control.MODE_24BIT);
      assert.deepEqual([...p.subarray(1, 4)], [0x01, 0xfe, 0x30]);
      assert.equal(p[0]! ^ p[1]! ^ p[2]! ^ p[3]!, p[4]);
    });

    it('round-trips random requests through the device-side decoder (seeded)', () => {
      const rng = mulberry32(0x5c12);
      for (let i = 0; i < 300; i++) {
        const bits = pick(rng, [16, 24] as const);
        const value = randInt(rng, 0, bits === 16 ? 0xffff : 0xffffff);
        const frame: ForwardFrame = rng() < 0.5 ? { bits, value, sendTwice: true } : { bits, value };
        const [p] = new Sci2Parser('request').push(encodeSci2Send(frame));
        assert.deepEqual(decodeSci2Request(p!), { frame, monitor: true, echo: false });
      }
    });

    it('decodes every reply status of the manual', () => {
      const pkt = (head: number, hi: number, mi: number, lo: number) =>
        new Sci2Parser('reply').push(encodeSci2Packet({ head, hi, mi, lo }))[0]!;
      assert.deepEqual(decodeSci2Reply(pkt(Sci2Status.OK, 0, 0, 0)), { type: 'ok', monitor: false });
      assert.deepEqual(decodeSci2Reply(pkt(Sci2Status.NO_ANSWER, 0, 0, 0)), { type: 'noAnswer', monitor: false });
      assert.deepEqual(decodeSci2Reply(pkt(Sci2Status.BACKWARD_FRAME, 0, 0, 0xfe)), { type: 'backward', value: 0xfe, monitor: false });
      assert.deepEqual(decodeSci2Reply(pkt(SCI2_MONITOR_FLAG | Sci2Status.FRAME_16BIT, 0, 0xff, 0x00)), {
        type: 'frame',
        bits: 16,
        value: 0xff00,
        monitor: true,
      });
      assert.deepEqual(decodeSci2Reply(pkt(SCI2_MONITOR_FLAG | Sci2Status.FRAME_24BIT, 0x00, 0x0c, 0x0b)), {
        type: 'frame',
        bits: 24,
        value: 0x000c0b,
        monitor: true,
      });
      assert.deepEqual(decodeSci2Reply(pkt(Sci2Status.ERROR, 0, 0, 2)), { type: 'error', code: 2, monitor: false });
    });
  });

  describe('streaming parser', () => {
    const replies: Sci2Reply[] = [
      { type: 'backward', value: 0x83, monitor: false },
      { type: 'frame', bits: 16, value: 0x8383, monitor: true },
      { type: 'noAnswer', monitor: false },
      { type: 'frame', bits: 24, value: 0x030201, monitor: true },
      { type: 'error', code: 1, monitor: false },
    ];
    const encoded = replies.map(encodeSci2Reply);

    it('reassembles replies split at every byte boundary', () => {
      const stream = Buffer.concat(encoded);
      for (let cut = 0; cut <= stream.length; cut++) {
        const p = new Sci2Parser('reply');
        const got = [...p.push(stream.subarray(0, cut)), ...p.push(stream.subarray(cut))].map(decodeSci2Reply);
        assert.deepEqual(got, replies, `cut at ${cut}`);
      }
    });

    it('drops a reply with a bad XOR and realigns on the following ones', () => {
      const bad = Buffer.from(encoded[0]!);
      bad[4] ^= 0xff;
      const got = new Sci2Parser('reply').push(Buffer.concat([bad, ...encoded.slice(1)])).map(decodeSci2Reply);
      assert.deepEqual(got, replies.slice(1));
    });

    it('recovers every real reply, in order, after random garbage (seeded)', () => {
      for (const seed of [11, 12, 13, 0xc0ffee]) {
        const rng = mulberry32(seed);
        const sent: Sci2Reply[] = [];
        const parts: Buffer[] = [];
        for (let i = 0; i < 50; i++) {
          parts.push(randBytes(rng, randInt(rng, 0, 9)));
          const k = randInt(rng, 0, replies.length - 1);
          sent.push(replies[k]!);
          parts.push(encoded[k]!);
        }
        const stream = Buffer.concat(parts);
        const p = new Sci2Parser('reply');
        const got: (Sci2Reply | undefined)[] = [];
        for (let off = 0; off < stream.length; ) {
          const n = randInt(rng, 1, 11);
          got.push(...p.push(stream.subarray(off, off + n)).map(decodeSci2Reply));
          off += n;
        }
        // No start marker: garbage can form a valid-looking frame (1 in ~400), but every real reply must be there in order.
        let j = 0;
        for (const g of got) if (j < sent.length && JSON.stringify(g) === JSON.stringify(sent[j])) j++;
        assert.equal(j, sent.length, `seed ${seed}`);
      }
    });

    it('never throws on garbage', () => {
      const rng = mulberry32(99);
      const p = new Sci2Parser('reply');
      for (let i = 0; i < 2000; i++) assert.doesNotThrow(() => p.push(randBytes(rng, randInt(rng, 0, 30))).map(decodeSci2Reply));
    });
  });

  describe('Sci2Interface', () => {
    it('answers queries, commands and collisions through the emulated device', async () => {
      const r = rig();
      r.bus.answers.set(0x0ba0, { kind: 'answer', value: 128 });
      r.bus.answers.set(0xffa0, { kind: 'framingError' });
      await r.iface.open();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ba0, expectAnswer: true }, 3), { kind: 'answer', value: 128 });
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0da0, expectAnswer: true }, 3), { kind: 'none' });
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0xffa0, expectAnswer: true }, 3), { kind: 'framingError' });
      assert.deepEqual(await r.iface.transmit({ bits: 24, value: 0x01fe00, sendTwice: true }, 2), { kind: 'none' });
      assert.deepEqual(r.bus.frames.at(-1), { bits: 24, value: 0x01fe00, sendTwice: true });
      await r.iface.close();
    });

    it('reports monitored frames of other masters as frame events', async () => {
      const r = rig();
      await r.iface.open();
      r.emulator.busFrame(16, 0x8000);
      r.emulator.busFrame(24, 0x000c0b);
      r.emulator.busFrame(8, 0x10);
      await until(() => r.frames.length >= 3, 'three frame events');
      assert.deepEqual(
        r.frames.map((f) => [f.bits, f.value]),
        [
          [16, 0x8000],
          [24, 0x000c0b],
          [8, 0x10],
        ],
      );
      await r.iface.close();
    });

    it('rejects with busFault on a bus failure and with timeout on silence', async () => {
      const transport = new MemoryTransport();
      let mode: 'fault' | 'silent' = 'fault';
      transport.toDevice = () => {
        if (mode === 'fault') transport.fromDevice(encodeSci2Reply({ type: 'error', code: Sci2ErrorCode.BUS_FAILURE, monitor: false }));
      };
      const iface = new Sci2Interface({ transport, replyTimeoutMs: 40 });
      await iface.open();
      await assert.rejects(iface.transmit({ bits: 16, value: 0xfe00 }, 2), daliError('busFault'));
      mode = 'silent';
      await assert.rejects(iface.transmit({ bits: 16, value: 0xfe00 }, 2), daliError('timeout'));
      await iface.close();
    });

    it('treats OK as the end of a command, and waits briefly for a late answer after OK to a query', async () => {
      const transport = new MemoryTransport();
      const late: { reply?: Buffer } = {};
      transport.toDevice = () => {
        transport.fromDevice(encodeSci2Reply({ type: 'ok', monitor: false }));
        if (late.reply) transport.fromDevice(late.reply);
      };
      const iface = new Sci2Interface({ transport, answerTimeoutMs: 30 });
      await iface.open();
      assert.deepEqual(await iface.transmit({ bits: 16, value: 0x0ac8 }, 2), { kind: 'none' });
      assert.deepEqual(await iface.transmit({ bits: 16, value: 0x0ba0, expectAnswer: true }, 3), { kind: 'none' });
      late.reply = encodeSci2Reply({ type: 'backward', value: 99, monitor: false });
      assert.deepEqual(await iface.transmit({ bits: 16, value: 0x0ba0, expectAnswer: true }, 3), { kind: 'answer', value: 99 });
      await iface.close();
    });

    it('rejects the pending transmit when the device disappears and recovers after it returns', async () => {
      const r = rig();
      await r.iface.open();
      r.transport.toDevice = () => undefined;
      const pending = r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2);
      r.transport.drop();
      await assert.rejects(pending, daliError('notConnected'));
      r.transport.toDevice = (d) => r.emulator.receive(d);
      r.transport.restore();
      assert.deepEqual(await r.iface.transmit({ bits: 16, value: 0x0ac8 }, 2), { kind: 'none' });
      await r.iface.close();
      assert.equal(r.iface.state, 'closed');
    });
  });
});
