/**
 * Shared by the benchmarks that drive the real main flow over HTTP
 * (http-api, http-soak): the flow as deployed for load, the readings posted,
 * the Node-RED process's resident memory, and reading the SQLite file after
 * the runtime stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { query } from '../test/helpers/sqlite-query';

export { query };
import { PROJECT_ROOT } from '../test/e2e/harness';
import { runLoad, type LoadResult } from './http-load';

export const SENSORS = 8;
export const ZONE = 'office-1';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export function rssKb(pid: number): { rssKb: number; hwmKb: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
}

/** Where ackOnlyTab's http in listens. */
export const ACK_ONLY_ROUTE = '/bench/ingest-ack-only';

/**
 * The acknowledgement of an ingest and nothing else, as a lower bound of
 * what the main flow's POST /ingest/sensor can cost in Node-RED: the main
 * flow's own api-guard settings (request log off), a feature window on the
 * main flow's store and zones, its "answer" change node and an http response,
 * wired directly (no link nodes, no live push, no rules, no filter: only
 * HTTP requests reach this window). Its window and the main flow's both
 * write the zone's feature windows: the bench's file keeps the last written
 * (the readings, which the bench checks, are all kept).
 */
function ackOnlyTab(main: readonly FlowNode[]): FlowNode[] {
  const pick = (id: string): FlowNode => {
    const n = main.find((m) => m.id === id);
    if (n === undefined) throw new Error(`main flow without ${id}`);
    return n;
  };
  const z = 'bench-ack-tab';
  return [
    { id: z, type: 'tab', label: 'bench: acknowledgement only', disabled: false, info: '' },
    {
      id: 'bench-ack-in',
      type: 'http in',
      z,
      name: '',
      url: ACK_ONLY_ROUTE,
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 140,
      y: 60,
      wires: [['bench-ack-guard']],
    },
    {
      ...pick('sl-g-sensor'),
      id: 'bench-ack-guard',
      z,
      rateLimit: 0,
      logRequests: false,
      wires: [['bench-ack-window'], ['bench-ack-out']],
    },
    { ...pick('sl-window'), id: 'bench-ack-window', z, wires: [[], ['bench-ack-answer']] },
    { ...pick('sl-ack'), id: 'bench-ack-answer', z, wires: [['bench-ack-out']] },
    { id: 'bench-ack-out', type: 'http response', z, name: '', statusCode: '', headers: {}, x: 740, y: 60, wires: [] },
  ];
}

/** The main flow with every api-guard's rate limit off, plus a tab with the bare echo endpoint (and, with `ackOnly`, ackOnlyTab). */
export function benchFlows(opts: { ackOnly?: boolean } = {}): { flows: FlowNode[]; unlimitedGuards: number } {
  const main = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as FlowNode[];
  let unlimitedGuards = 0;
  const flows = main.map((n) => {
    if (n.type !== 'api-guard') return n;
    if (n.rateLimit !== 0) unlimitedGuards += 1;
    return { ...n, rateLimit: 0 };
  });
  flows.push(
    { id: 'bench-echo-tab', type: 'tab', label: 'bench: echo baseline', disabled: false, info: '' },
    {
      id: 'bench-echo-in',
      type: 'http in',
      z: 'bench-echo-tab',
      name: 'POST /echo',
      url: '/echo',
      method: 'post',
      upload: false,
      swaggerDoc: '',
      x: 140,
      y: 60,
      wires: [['bench-echo-out']],
    },
    { id: 'bench-echo-out', type: 'http response', z: 'bench-echo-tab', name: '', statusCode: '', headers: {}, x: 340, y: 60, wires: [] },
  );
  if (opts.ackOnly === true) flows.push(...ackOnlyTab(main));
  return { flows, unlimitedGuards };
}

export function reading(i: number): Record<string, unknown> {
  return { sensor_id: `bench-${i % SENSORS}`, zone: ZONE, lux: 300 + (i % 400), presence: i % 3 !== 0 };
}

/** What an ingest load got back: 201 answers, and the ids acknowledged as committed. */
export interface IngestTally {
  created: number;
  acked: Set<number>;
}

/**
 * POSTs `total` readings numbered from `first` to /ingest/sensor (or `route`) at
 * `concurrency`, counting 201s and the committed ids into `tally` (to check
 * against the SQLite file afterwards).
 */
export function ingestLoad(
  baseUrl: string,
  first: number,
  concurrency: number,
  total: number,
  tally: IngestTally,
  route = '/ingest/sensor',
): Promise<LoadResult> {
  return runLoad({
    baseUrl,
    method: 'POST',
    path: () => route,
    body: (i) => reading(first + i),
    concurrency,
    total,
    onAnswer: (status, text) => {
      if (status !== 201) return;
      tally.created += 1;
      const body = JSON.parse(text) as { id?: unknown; committed?: unknown };
      if (typeof body.id === 'number' && body.committed === true) tally.acked.add(body.id);
    },
  });
}
