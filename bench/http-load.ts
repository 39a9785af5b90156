/**
 * A small closed-loop HTTP load generator for the benchmarks: `concurrency`
 * workers share one keep-alive agent (one socket per worker) and send
 * `total` requests between them, each worker sending its next request when
 * the previous answer has been read completely. Latency is measured per
 * request from write to the end of the answer body.
 */
import * as http from 'node:http';

export interface LoadOptions {
  baseUrl: string;
  method: 'GET' | 'POST';
  /** Path of request `i` (0-based, in sending order). */
  path: (i: number) => string;
  /** JSON body of request `i` (POST only). */
  body?: (i: number) => unknown;
  concurrency: number;
  total: number;
  /** Called with each answer (status and body text), e.g. to check it. */
  onAnswer?: (status: number, text: string, i: number) => void;
}

export interface LoadResult {
  requests: number;
  durationMs: number;
  requestsPerS: number;
  latenciesMs: number[];
  /** Answers per HTTP status. */
  statuses: Record<number, number>;
  /** Requests that failed without an HTTP answer (socket errors). */
  errors: number;
  /** Answers outside 200-299, plus errors. */
  failed: number;
}

/** Nearest-rank percentile of already sorted values (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export function summarise(latenciesMs: readonly number[]): LatencySummary {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean,
  };
}

function once(agent: http.Agent, url: URL, method: string, payload: string | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { Connection: 'keep-alive' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const req = http.request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latenciesMs: number[] = [];
  const statuses: Record<number, number> = {};
  let errors = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.total) {
      const i = next++;
      const url = new URL(opts.path(i), opts.baseUrl);
      const payload = opts.body ? JSON.stringify(opts.body(i)) : undefined;
      const t0 = performance.now();
      try {
        const res = await once(agent, url, opts.method, payload);
        latenciesMs.push(performance.now() - t0);
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        opts.onAnswer?.(res.status, res.text, i);
      } catch {
        errors += 1;
      }
    }
  };
  const t0 = performance.now();
  try {
    await Promise.all(Array.from({ length: opts.concurrency }, () => worker()));
  } finally {
    agent.destroy();
  }
  const durationMs = performance.now() - t0;
  const ok = Object.entries(statuses).reduce((s, [code, n]) => (Number(code) >= 200 && Number(code) < 300 ? s + n : s), 0);
  return {
    requests: opts.total,
    durationMs,
    requestsPerS: (opts.total / durationMs) * 1000,
    latenciesMs,
    statuses,
    errors,
    failed: opts.total - ok,
  };
}
