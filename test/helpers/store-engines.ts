/**
 * Runs a store suite on both engines: SQLite (a file in a temporary
 * directory) and PostgreSQL (a real server: one throwaway cluster per test
 * process, see ./postgres, and a fresh database per target).
 *
 *   for (const engine of STORE_ENGINES) describe(`... [${engine}]`, function () {
 *     const target = storeTargets(engine, this);   // registers before/after hooks
 *     ... LightingStore.open({ path: target.next() }) ...
 *   });
 *
 * STORE_ENGINES=sqlite (or postgres) limits the runs. Without PostgreSQL
 * installed, the postgres suites are skipped loudly.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findPgBin, startPostgres, type PgCluster } from './postgres';

export type StoreEngine = 'sqlite' | 'postgres';

export const STORE_ENGINES: StoreEngine[] = (process.env.STORE_ENGINES ?? 'sqlite,postgres')
  .split(',')
  .map((e) => e.trim())
  .filter((e): e is StoreEngine => e === 'sqlite' || e === 'postgres');

let shared: Promise<PgCluster> | null = null;

/** The test process's PostgreSQL cluster (started on first use, removed when the process exits). */
export function sharedPostgres(): Promise<PgCluster> {
  if (shared === null) shared = startPostgres();
  return shared;
}

export interface StoreTargets {
  engine: StoreEngine;
  /** A fresh, empty database: a file path or a postgresql:// URL. */
  next(name?: string): string;
  /** The cluster (postgres only; after the before hook). */
  cluster(): PgCluster;
  /** A temporary directory of the suite (both engines). */
  dir(): string;
}

let dbCounter = 0;

export function storeTargets(engine: StoreEngine, suite: Mocha.Suite): StoreTargets {
  let dir = '';
  let pg: PgCluster | null = null;
  suite.beforeAll(async function () {
    this.timeout(60_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `store-${engine}-`));
    if (engine === 'postgres') {
      if (!findPgBin()) {
        process.stderr.write('\n!!! POSTGRESQL NOT INSTALLED: SKIPPING THE POSTGRESQL STORE TESTS (apt-get install postgresql) !!!\n\n');
        this.skip();
      }
      pg = await sharedPostgres();
    }
  });
  suite.afterAll(() => {
    if (dir !== '') fs.rmSync(dir, { recursive: true, force: true });
  });
  return {
    engine,
    next(name?: string): string {
      dbCounter += 1;
      if (engine === 'sqlite') return path.join(dir, `${name ?? 'db'}-${dbCounter}.sqlite`);
      if (pg === null) throw new Error('no PostgreSQL cluster (before hook did not run)');
      return pg.database2(`t${process.pid}_${dbCounter}`);
    },
    cluster(): PgCluster {
      if (pg === null) throw new Error('no PostgreSQL cluster');
      return pg;
    },
    dir: () => dir,
  };
}
