/**
 * Child process for the crash test (test/unit/store/crash.test.ts): writes
 * numbered raw sensor events (and a decision every 10th) through a
 * LightingStore with waitForCommit, keeping `inFlight` writes outstanding, and
 * prints each number once its write is acknowledged. The parent kills it with
 * SIGKILL mid-stream and checks the database holds every printed number.
 *
 * usage: node store-writer-child.js <db> [inFlight=64] [flushIntervalMs=5]
 */
import { LightingStore } from '../../lib/store';

async function main(): Promise<void> {
  const [file, inFlightArg, flushArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: store-writer-child <db> [inFlight] [flushIntervalMs]');
  const inFlight = Number(inFlightArg ?? 64);
  const store = await LightingStore.open({ path: file, flushIntervalMs: Number(flushArg ?? 5), flushMaxRows: 50 });
  process.stdout.write('ready\n');
  let next = 0;
  const writeOne = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const ts = 1_700_000_000_000 + i;
      if (i % 10 === 0) {
        await store.insert(
          'decisions',
          { ts, zone: 'z', source: 'rules', intensity: i % 100, cct: 4000, applied: true, msgId: `d${i}` },
          { waitForCommit: true },
        );
      } else {
        await store.insert(
          'raw_sensor_events',
          { sensorId: `e${i}`, zone: 'z', ts, lux: i, source: 'crash-test' },
          { waitForCommit: true },
        );
      }
      process.stdout.write(`${i}\n`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, () => writeOne()));
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
