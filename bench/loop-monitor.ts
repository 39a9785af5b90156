/**
 * Preloaded into a Node-RED process by bench/scale (NODE_OPTIONS=--require):
 * the event loop's delay (perf_hooks.monitorEventLoopDelay, 10 ms
 * resolution; the histogram holds the time between samples, so the 10 ms are
 * taken off) written as one JSON line every 500 ms to the file in
 * LOOP_MONITOR_FILE: {p50Ms, p99Ms, maxMs, count} since the file
 * `${LOOP_MONITOR_FILE}.reset` last appeared (the bench creates it when its
 * measuring window opens; a signal would stop Node-RED). Not part of the
 * package; nothing else reads it.
 */
import * as fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const RESOLUTION_MS = 10;
const file = process.env.LOOP_MONITOR_FILE;
if (file !== undefined && file !== '') {
  const h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const write = (): void => {
    if (fs.existsSync(`${file}.reset`)) {
      fs.rmSync(`${file}.reset`, { force: true });
      h.reset();
    }
    const ms = (ns: number): number => Math.max(0, Math.round((ns - RESOLUTION_MS * 1e6) / 1e4) / 100);
    const line = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), count: h.count };
    try {
      fs.writeFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the bench removed the file: nothing to report to
    }
  };
  setInterval(write, 500).unref();
}
