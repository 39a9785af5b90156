import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gearCommand } from '../../../../lib/dali/codec';
import { GearCommand } from '../../../../lib/dali/opcodes';
import { InterfaceConfigError, createInterface, listHidrawDevices, listSerialPorts } from '../../../../lib/dali/interfaces';
import type { InterfaceKind } from '../../../../lib/dali/types';

describe('interface factory', () => {
  it('builds each interface kind without opening anything', async () => {
    for (const [type, p] of [
      ['luba', '/dev/ttyACM0'],
      ['sci2', '/dev/ttyUSB0'],
      ['hidraw', '/dev/hidraw0'],
    ] as const) {
      const iface = createInterface({ type, path: p });
      assert.equal(iface.kind, type);
      assert.equal(iface.state, 'disconnected');
      await iface.close();
      assert.equal(iface.state, 'closed');
    }
  });

  it('rejects configurations that can never work with a readable error', () => {
    assert.throws(
      () => createInterface({ type: 'luba' }),
      (e: unknown) => e instanceof InterfaceConfigError && /device path/.test(e.message),
    );
    assert.throws(() => createInterface({ type: 'hidraw', path: '   ' }), InterfaceConfigError);
    assert.throws(
      () => createInterface({ type: 'modem' as InterfaceKind, path: '/dev/x' }),
      (e: unknown) => e instanceof InterfaceConfigError && /unknown interface type/.test(e.message),
    );
    assert.throws(() => createInterface({ type: 'sci2', path: '/dev/ttyUSB0', baudRate: -1 }), InterfaceConfigError);
  });

  it('serves a default simulated bus (DT8 gear 0..3) for type simulator', async () => {
    const iface = createInterface({ type: 'simulator', simulator: { timeScale: 0 } });
    assert.equal(iface.kind, 'simulator');
    await iface.open();
    assert.deepEqual(await iface.transmit(gearCommand({ kind: 'short', address: 3 }, GearCommand.QUERY_ACTUAL_LEVEL), 3), {
      kind: 'answer',
      value: 254,
    });
    assert.deepEqual(await iface.transmit(gearCommand({ kind: 'short', address: 4 }, GearCommand.QUERY_ACTUAL_LEVEL), 3), { kind: 'none' });
    await iface.close();
  });
});

describe('listSerialPorts', () => {
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dali-list-'));
    const dev = path.join(dir, 'dev');
    fs.mkdirSync(dev);
    for (const n of ['ttyACM0', 'ttyUSB1', 'ttyS0', 'tty1', 'hidraw0', 'null']) fs.writeFileSync(path.join(dev, n), '');
    const sys = path.join(dir, 'sys');
    fs.mkdirSync(path.join(sys, 'hidraw0', 'device'), { recursive: true });
    fs.writeFileSync(
      path.join(sys, 'hidraw0', 'device', 'uevent'),
      'DRIVER=hid-generic\nHID_ID=0003:000017B5:00000020\nHID_NAME=Tridonic DALI USB\n',
    );
    fs.mkdirSync(path.join(sys, 'hidraw1', 'device'), { recursive: true });
    fs.writeFileSync(path.join(sys, 'hidraw1', 'device', 'uevent'), 'HID_ID=0003:0000046D:0000C52B\nHID_NAME=Logitech Receiver\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('falls back to /dev nodes and says why when the port listing fails (no udev)', async () => {
    const r = await listSerialPorts({
      list: () => Promise.reject(new Error('spawn udevadm ENOENT')),
      devDir: path.join(dir, 'dev'),
      sysHidrawDir: path.join(dir, 'sys'),
    });
    assert.match(r.reason ?? '', /udevadm ENOENT/);
    const serial = r.ports.filter((p) => p.kind === 'serial').map((p) => path.basename(p.path));
    assert.deepEqual(serial, ['ttyACM0', 'ttyUSB1']);
  });

  it('marks the Tridonic DALI USB (17b5:0020) among the hidraw devices', async () => {
    const hid = await listHidrawDevices(path.join(dir, 'sys'), '/dev');
    assert.deepEqual(
      hid.map((h) => [h.path, h.vendorId, h.productId, h.suggested]),
      [
        ['/dev/hidraw0', '17b5', '0020', 'hidraw'],
        ['/dev/hidraw1', '046d', 'c52b', undefined],
      ],
    );
  });

  it('returns the listing without a reason when it works, and gives up on a listing that hangs', async () => {
    const ok = await listSerialPorts({
      list: () => Promise.resolve([{ path: '/dev/ttyACM3', manufacturer: 'Lunatone' }]),
      sysHidrawDir: path.join(dir, 'none'),
    });
    assert.equal(ok.reason, undefined);
    assert.deepEqual(ok.ports, [{ path: '/dev/ttyACM3', kind: 'serial', manufacturer: 'Lunatone' }]);
    const hung = await listSerialPorts({
      list: () => new Promise(() => undefined),
      timeoutMs: 30,
      devDir: path.join(dir, 'none'),
      sysHidrawDir: path.join(dir, 'none'),
    });
    assert.match(hung.reason ?? '', /longer than 30 ms/);
    assert.deepEqual(hung.ports, []);
  });

  it('never throws on this machine', async () => {
    const r = await listSerialPorts({ timeoutMs: 3000 });
    assert.ok(Array.isArray(r.ports));
  });
});
