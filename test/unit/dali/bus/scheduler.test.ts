import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { dapc, dt8Command, dtr0, enableDeviceType, gearCommand } from '../../../../lib/dali/codec';
import { BusScheduler, retryKind, type JobContext, type QueueEvent } from '../../../../lib/dali/bus/scheduler';
import { Dt8Command, GearCommand } from '../../../../lib/dali/opcodes';
import {
  DaliInterfaceError,
  type BackwardResult,
  type DaliInterface,
  type ForwardFrame,
  type InterfaceState,
  type Priority,
} from '../../../../lib/dali/types';

/** A scripted interface: records frames, answers with `respond`, can hold transmits until released. */
class FakeInterface extends EventEmitter implements DaliInterface {
  readonly kind = 'simulator' as const;
  state: InterfaceState = 'connected';
  readonly sent: { frame: ForwardFrame; priority: Priority }[] = [];
  respond: (frame: ForwardFrame, index: number) => BackwardResult | Error = () => ({ kind: 'none' });
  private held: (() => void)[] = [];
  holding = false;

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  async transmit(frame: ForwardFrame, priority: Priority): Promise<BackwardResult> {
    if (this.holding) await new Promise<void>((r) => this.held.push(r));
    const index = this.sent.length;
    this.sent.push({ frame, priority });
    const r = this.respond(frame, index);
    if (r instanceof Error) throw r;
    return r;
  }

  release(): void {
    this.holding = false;
    for (const r of this.held.splice(0)) r();
  }

  values(): number[] {
    return this.sent.map((s) => s.frame.value);
  }
}

const s = (address: number) => ({ kind: 'short', address }) as const;
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A job sending the given frames. */
const frames =
  (...list: ForwardFrame[]) =>
  async (ctx: JobContext): Promise<BackwardResult[]> => {
    const out: BackwardResult[] = [];
    for (const f of list) out.push(await ctx.transmit(f));
    return out;
  };

describe('bus/scheduler: BusScheduler', () => {
  it('runs one transaction at a time: frames of two jobs never interleave', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    const a = [dapc(s(1), 1), dapc(s(1), 2), dapc(s(1), 3)];
    const b = [dapc(s(2), 1), dapc(s(2), 2), dapc(s(2), 3)];
    await Promise.all([sched.submit(frames(...a)), sched.submit(frames(...b))]);
    assert.deepEqual(
      iface.values(),
      [...a, ...b].map((f) => f.value),
    );
  });

  it('the first frame goes at the job priority, the inner frames at priority 1', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    await sched.submit(frames(dtr0(1), dtr0(2), dtr0(3)), { priority: 4 });
    assert.deepEqual(
      iface.sent.map((x) => x.priority),
      [4, 1, 1],
    );
  });

  it('priorities: commands before queries before background; FIFO within a priority', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    iface.holding = true;
    const first = sched.submit(frames(dapc(s(0), 0)), { priority: 2 });
    await tick(); // the first job is on the bus, held
    const order: string[] = [];
    const job = (name: string, priority: Priority) =>
      sched.submit(
        async (ctx) => {
          order.push(name);
          await ctx.transmit(dapc(s(1), 1));
        },
        { priority },
      );
    const all = [job('poll1', 5), job('query1', 3), job('cmd1', 2), job('poll2', 5), job('cmd2', 2), job('query2', 3)];
    iface.release();
    await Promise.all([first, ...all]);
    assert.deepEqual(order, ['cmd1', 'cmd2', 'query1', 'query2', 'poll1', 'poll2']);
  });

  describe('latest-wins coalescing', () => {
    it('a newer job with the same key replaces the waiting one, which resolves superseded', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface);
      iface.holding = true;
      const running = sched.submit(frames(dapc(s(5), 10)), { key: 's5' });
      await tick();
      const waiting = sched.submit(frames(dapc(s(5), 20)), { key: 's5' });
      const other = sched.submit(frames(dapc(s(6), 30)), { key: 's6' });
      const newest = sched.submit(frames(dapc(s(5), 40)), { key: 's5' });
      assert.equal(sched.queueLength, 2);
      iface.release();
      assert.equal((await running).superseded, false, 'a started job is never superseded');
      assert.deepEqual(await waiting, { superseded: true });
      assert.equal((await other).superseded, false);
      assert.equal((await newest).superseded, false);
      assert.deepEqual(iface.values(), [0x0a0a, 0x0c1e, 0x0a28], 'the newest runs after the jobs queued before it');
    });

    it('a less urgent job that replaces a more urgent waiting one keeps its place (a routine change never demotes an arrival)', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface);
      iface.holding = true;
      const running = sched.submit(frames(dtr0(0)), { priority: 2 });
      await tick();
      const arrival = sched.submit(frames(dapc(s(5), 10)), { key: 's5', priority: 2 });
      const other = sched.submit(frames(dapc(s(6), 30)), { key: 's6', priority: 2 });
      const routineOther = sched.submit(frames(dapc(s(7), 40)), { key: 's7', priority: 3 });
      const routineSame = sched.submit(frames(dapc(s(5), 20)), { key: 's5', priority: 3 });
      iface.release();
      await Promise.all([running, other, routineOther, routineSame]);
      assert.deepEqual(await arrival, { superseded: true });
      assert.deepEqual(
        iface.values().slice(1),
        [0x0a14, 0x0c1e, 0x0e28],
        'the replacement runs where the arrival waited, before the routine job for A7',
      );
    });

    it('supersedes: listed keys are replaced too; after: overlapping jobs are moved up before the new one', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface);
      iface.holding = true;
      const blocker = sched.submit(frames(dtr0(0)), { priority: 1 });
      await tick();
      const g0 = sched.submit(frames(dapc({ kind: 'group', group: 0 }, 50)), { key: 'g0', priority: 5 });
      const s7 = sched.submit(frames(dapc(s(7), 60)), { key: 's7', priority: 5 });
      const s8 = sched.submit(frames(dapc(s(8), 70)), { key: 's8', priority: 2, after: ['g0'] });
      const bc = sched.submit(frames(dapc({ kind: 'broadcast' }, 80)), { key: 'b', priority: 5, supersedes: ['s7'] });
      iface.release();
      await Promise.all([blocker, g0, s8, bc]);
      assert.deepEqual(await s7, { superseded: true });
      assert.deepEqual(iface.values().slice(1), [0x8032, 0x1046, 0xfe50], 'g0 moved up before s8; s7 replaced');
    });
  });

  it('claim: a running job takes the jobs with its tag that directly follow it', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    iface.holding = true;
    const blocker = sched.submit(frames(dtr0(0)));
    await tick();
    let claimed: number[] = [];
    const leader = sched.submit(
      async (ctx) => {
        const mine = ctx.claim<number>('batch', 10);
        claimed = mine.map((c) => c.payload);
        for (const c of mine) c.resolve(`done ${c.payload}`);
        return 'leader';
      },
      { tag: 'batch', payload: 1 },
    );
    const p2 = sched.submit(async () => 'own 2', { tag: 'batch', payload: 2 });
    const p3 = sched.submit(async () => 'own 3', { tag: 'batch', payload: 3 });
    const other = sched.submit(async () => 'other');
    const p4 = sched.submit(async () => 'own 4', { tag: 'batch', payload: 4 });
    iface.release();
    await blocker;
    assert.deepEqual(await leader, { superseded: false, value: 'leader' });
    assert.deepEqual(claimed, [2, 3], 'stops at the first job without the tag');
    assert.deepEqual(await p2, { superseded: false, value: 'done 2' });
    assert.deepEqual(await p3, { superseded: false, value: 'done 3' });
    assert.deepEqual(await other, { superseded: false, value: 'other' });
    assert.deepEqual(await p4, { superseded: false, value: 'own 4' });
  });

  describe('retries on framing errors', () => {
    it('repeats an idempotent command up to `retries` times', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface, { retries: 2 });
      iface.respond = (_f, i) => (i < 2 ? { kind: 'framingError' } : { kind: 'none' });
      const r = await sched.submit(frames(dapc(s(1), 100)));
      assert.deepEqual(r, { superseded: false, value: [{ kind: 'none' }] });
      assert.equal(iface.sent.length, 3);
      iface.sent.length = 0;
      iface.respond = () => ({ kind: 'framingError' });
      await sched.submit(frames(dapc(s(1), 100)));
      assert.equal(iface.sent.length, 3, 'gives up after 1 + 2 attempts');
    });

    it('does not repeat relative commands, state-changing queries or group queries', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface, { retries: 3 });
      iface.respond = () => ({ kind: 'framingError' });
      await sched.submit(frames(gearCommand(s(1), GearCommand.STEP_UP)));
      await sched.submit(frames(gearCommand({ kind: 'group', group: 1 }, GearCommand.QUERY_ACTUAL_LEVEL)));
      await sched.submit(frames(gearCommand(s(1), GearCommand.QUERY_NEXT_DEVICE_TYPE)));
      await sched.submit(frames(enableDeviceType(8), dt8Command(s(1), Dt8Command.QUERY_COLOUR_VALUE)));
      // enableDeviceType (retried 3x, it is safe) + QUERY COLOUR VALUE once
      assert.equal(iface.sent.length, 1 + 1 + 1 + 4 + 1);
    });

    it('repeats a DT8 command together with its ENABLE DEVICE TYPE 8', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface, { retries: 2 });
      const activate = dt8Command(s(1), Dt8Command.ACTIVATE);
      let failures = 1;
      iface.respond = (f) => (f.value === activate.value && failures-- > 0 ? { kind: 'framingError' } : { kind: 'none' });
      await sched.submit(frames(enableDeviceType(8), activate));
      assert.deepEqual(iface.values(), [0xc108, 0x03e2, 0xc108, 0x03e2]);
    });

    it('a backward-frame timeout of the interface reads as no answer', async () => {
      const iface = new FakeInterface();
      const sched = new BusScheduler(iface);
      iface.respond = () => new DaliInterfaceError('no answer in time', 'timeout');
      const r = await sched.submit(frames(gearCommand(s(1), GearCommand.QUERY_ACTUAL_LEVEL)));
      assert.deepEqual(r, { superseded: false, value: [{ kind: 'none' }] });
      await assert.rejects(sched.submit(frames(dapc(s(1), 1))), /no answer in time/, 'not for a command');
    });

    it('retryKind classifies frames', () => {
      assert.equal(retryKind(dtr0(5), undefined), 'frame');
      assert.equal(retryKind(gearCommand(s(3), GearCommand.SET_FADE_TIME), undefined), 'frame');
      assert.equal(retryKind(gearCommand(s(3), GearCommand.UP), undefined), 'none');
      assert.equal(retryKind(dt8Command(s(3), Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE), enableDeviceType(8)), 'withEnable');
      assert.equal(retryKind(dt8Command(s(3), Dt8Command.SET_TEMPORARY_COLOUR_TEMPERATURE), dtr0(1)), 'none');
      assert.equal(retryKind(dt8Command(s(3), Dt8Command.COLOUR_TEMPERATURE_STEP_COOLER), enableDeviceType(8)), 'none');
    });
  });

  it('a failing job rejects with its error and the next job still runs', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    iface.respond = (f) => (f.value === 0x0101 ? new DaliInterfaceError('bus power down', 'busFault') : { kind: 'none' });
    const bad = sched.submit(frames({ bits: 16, value: 0x0101 }));
    const good = sched.submit(frames(dapc(s(2), 2)));
    await assert.rejects(bad, /bus power down/);
    assert.equal((await good).superseded, false);
  });

  it('close: queued work rejects with a clear error, the running transaction is finished', async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface);
    iface.holding = true;
    const running = sched.submit(frames(dapc(s(1), 1), dapc(s(1), 2)), { label: 'running' });
    await tick();
    const queued = assert.rejects(
      sched.submit(frames(dapc(s(2), 1)), { label: 'queued setpoint' }),
      (e: unknown) => e instanceof DaliInterfaceError && e.code === 'closed' && /queued setpoint/.test(e.message),
    );
    let closed = false;
    const closing = sched.close().then(() => (closed = true));
    await tick();
    assert.equal(closed, false, 'close waits for the running transaction');
    iface.release();
    await closing;
    await queued;
    assert.equal((await running).superseded, false);
    assert.deepEqual(iface.values(), [0x0201, 0x0202], 'both frames of the running transaction, nothing of the queued one');
    await assert.rejects(sched.submit(frames(dapc(s(3), 1))), /closed/);
    await sched.close(); // idempotent
  });

  it("emits 'queue' events with the queue length and busy flag; refuses jobs beyond maxQueueLength", async () => {
    const iface = new FakeInterface();
    const sched = new BusScheduler(iface, { maxQueueLength: 2 });
    const events: QueueEvent[] = [];
    sched.on('queue', (e: QueueEvent) => events.push(e));
    iface.holding = true;
    const jobs = [sched.submit(frames(dtr0(1))), sched.submit(frames(dtr0(2)))];
    await assert.rejects(sched.submit(frames(dtr0(3))), /queue full/);
    jobs.push(sched.submit(frames(dtr0(4)), { key: 'keyed jobs are always accepted' }));
    await tick();
    iface.release();
    await Promise.all(jobs);
    assert.deepEqual(events[0], { length: 1, busy: false });
    assert.ok(events.some((e) => e.busy && e.length === 2));
    assert.deepEqual(events[events.length - 1], { length: 0, busy: false });
  });
});
