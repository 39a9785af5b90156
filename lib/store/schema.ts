/**
 * Schema of the lighting store and its numbered migrations.
 *
 * - Table and column names are snake_case; every time column is epoch ms
 *   INTEGER. Each time-series table has an index on its time column and on
 *   (zone, time).
 * - Migration 1 creates everything; later migrations only add. Each runs in
 *   its own transaction (BEGIN IMMEDIATE: two processes opening a new file at
 *   once cannot both migrate) and records itself in schema_migrations.
 * - auto_vacuum=INCREMENTAL only takes effect before the first table exists,
 *   so LightingStore sets it before running migration 1.
 */
import { Db } from './sqlite';

/** Tables a caller may name (insert, export, counts). Identifiers in SQL come only from here. */
export const TABLES = [
  'raw_sensor_events',
  'weather_events',
  'feature_windows',
  'decisions',
  'telemetry',
  'manual_overrides',
  'personal_profiles',
] as const;
export type TableName = (typeof TABLES)[number];

export function isTableName(v: unknown): v is TableName {
  return typeof v === 'string' && (TABLES as readonly string[]).includes(v);
}

/** Per table: its time column (for retention, export --since/--until) and its JSON text columns. */
export const TABLE_INFO: Readonly<Record<TableName, { timeColumn: string; jsonColumns: readonly string[] }>> = {
  raw_sensor_events: { timeColumn: 'ts', jsonColumns: [] },
  weather_events: { timeColumn: 'ts', jsonColumns: ['raw'] },
  feature_windows: { timeColumn: 'window_start', jsonColumns: ['weather'] },
  decisions: { timeColumn: 'ts', jsonColumns: [] },
  telemetry: { timeColumn: 'ts', jsonColumns: ['data'] },
  manual_overrides: { timeColumn: 'started_at', jsonColumns: ['setpoint'] },
  personal_profiles: { timeColumn: 'updated_at', jsonColumns: [] },
};

export interface Migration {
  version: number;
  name: string;
  /** DDL statements, run in order inside one transaction. */
  statements: readonly string[];
}

// Alert kinds and severities (lib/contracts/alerts) are validated in code (rows.ts), not by a SQL CHECK,
// so a later kind needs no table rebuild.

const BOOL = (col: string): string => `${col} INTEGER CHECK (${col} IN (0, 1))`;

/** Tables with a `gateway` column (migration 4): the Node-RED instance / DALI bus that wrote the row ('' = not set). */
export const GATEWAY_TABLES: readonly string[] = [
  'raw_sensor_events',
  'weather_events',
  'feature_windows',
  'decisions',
  'telemetry',
  'manual_overrides',
  'alerts',
];

const FEATURE_COLUMNS_V3 = [
  'id',
  'zone',
  'window_start',
  'window_end',
  'count',
  'lux_mean',
  'lux_min',
  'lux_max',
  'lux_std',
  'lux_last',
  'presence_ratio',
  'presence_transitions',
  'presence_last',
  'presence_last_ts',
  'weather',
  'minute_of_day',
  'weekday',
  'partial',
].join(', ');

const SUGGESTION_COLUMNS_V5 = [
  'id',
  'created_at',
  'updated_at',
  'zone',
  'kind',
  'pattern_key',
  'summary',
  'status',
  'support_days',
  'confidence',
  'evidence',
  'change_json',
  'decided_at',
  'decided_by',
  'gateway',
].join(', ');

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    statements: [
      `CREATE TABLE raw_sensor_events (
        id INTEGER PRIMARY KEY,
        sensor_id TEXT NOT NULL,
        zone TEXT NOT NULL,
        ts INTEGER NOT NULL,
        lux REAL CHECK (lux IS NULL OR lux >= 0),
        ${BOOL('presence')},
        source TEXT NOT NULL,
        late INTEGER NOT NULL DEFAULT 0 CHECK (late IN (0, 1))
      )`,
      'CREATE INDEX raw_sensor_events_ts ON raw_sensor_events (ts)',
      'CREATE INDEX raw_sensor_events_zone_ts ON raw_sensor_events (zone, ts)',

      `CREATE TABLE weather_events (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        zone TEXT,
        temperature_c REAL,
        cloud_cover_pct REAL,
        solar_radiation_wm2 REAL,
        source TEXT NOT NULL,
        raw TEXT CHECK (raw IS NULL OR json_valid(raw))
      )`,
      'CREATE INDEX weather_events_ts ON weather_events (ts)',
      'CREATE INDEX weather_events_zone_ts ON weather_events (zone, ts)',

      `CREATE TABLE feature_windows (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        count INTEGER NOT NULL,
        lux_mean REAL,
        lux_min REAL,
        lux_max REAL,
        lux_std REAL,
        lux_last REAL,
        presence_ratio REAL,
        presence_transitions INTEGER NOT NULL DEFAULT 0,
        ${BOOL('presence_last')},
        presence_last_ts INTEGER,
        weather TEXT CHECK (weather IS NULL OR json_valid(weather)),
        minute_of_day INTEGER NOT NULL,
        weekday INTEGER NOT NULL,
        partial INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),
        UNIQUE (zone, window_start)
      )`,
      'CREATE INDEX feature_windows_window_start ON feature_windows (window_start)',

      `CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        zone TEXT NOT NULL,
        source TEXT NOT NULL,
        intensity REAL NOT NULL,
        cct REAL,
        reason TEXT NOT NULL DEFAULT '',
        applied INTEGER NOT NULL CHECK (applied IN (0, 1)),
        blocked_by TEXT,
        energy_saving_estimate REAL,
        estimated_watts REAL,
        msg_id TEXT
      )`,
      'CREATE INDEX decisions_ts ON decisions (ts)',
      'CREATE INDEX decisions_zone_ts ON decisions (zone, ts)',

      `CREATE TABLE telemetry (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        zone TEXT,
        kind TEXT NOT NULL,
        latency_ms REAL,
        payload_bytes INTEGER,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        fallback_reason TEXT,
        data TEXT CHECK (data IS NULL OR json_valid(data))
      )`,
      'CREATE INDEX telemetry_ts ON telemetry (ts)',
      'CREATE INDEX telemetry_zone_ts ON telemetry (zone, ts)',

      `CREATE TABLE manual_overrides (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        expires_at INTEGER,
        cleared_at INTEGER,
        source TEXT NOT NULL,
        setpoint TEXT CHECK (setpoint IS NULL OR json_valid(setpoint))
      )`,
      'CREATE INDEX manual_overrides_started_at ON manual_overrides (started_at)',
      'CREATE INDEX manual_overrides_zone_started_at ON manual_overrides (zone, started_at)',

      `CREATE TABLE personal_profiles (
        profile_id TEXT PRIMARY KEY,
        encrypted_payload TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      )`,
    ],
  },
  {
    version: 2,
    name: 'lookup indexes: decisions by msg_id, telemetry by kind, open overrides',
    statements: [
      'CREATE INDEX decisions_msg_id ON decisions (msg_id) WHERE msg_id IS NOT NULL',
      'CREATE INDEX telemetry_kind_ts ON telemetry (kind, ts)',
      'CREATE INDEX manual_overrides_open ON manual_overrides (zone, expires_at) WHERE cleared_at IS NULL',
    ],
  },
  {
    version: 3,
    name: 'alerts (lamp failure, stale sensor, bus disconnected, AI circuit open)',
    statements: [
      `CREATE TABLE alerts (
        id INTEGER PRIMARY KEY,
        ts INTEGER NOT NULL,
        zone TEXT,
        kind TEXT NOT NULL,
        severity TEXT NOT NULL,
        message TEXT NOT NULL,
        data TEXT CHECK (data IS NULL OR json_valid(data)),
        resolved_at INTEGER,
        resolved_by TEXT
      )`,
      'CREATE INDEX alerts_ts ON alerts (ts)',
      'CREATE INDEX alerts_zone_ts ON alerts (zone, ts)',
      // At most one active alert per kind and zone (zone NULL = site-wide counts as one zone).
      "CREATE UNIQUE INDEX alerts_active_kind_zone ON alerts (kind, IFNULL(zone, '')) WHERE resolved_at IS NULL",
    ],
  },
  {
    version: 4,
    name: 'gateway: which Node-RED (DALI bus) wrote each row, for sites sharing one database',
    statements: [
      ...GATEWAY_TABLES.filter((t) => t !== 'feature_windows').map((t) => `ALTER TABLE ${t} ADD COLUMN gateway TEXT NOT NULL DEFAULT ''`),
      'CREATE INDEX raw_sensor_events_gateway_ts ON raw_sensor_events (gateway, ts)',
      'CREATE INDEX decisions_gateway_ts ON decisions (gateway, ts)',
      'CREATE INDEX telemetry_gateway_ts ON telemetry (gateway, ts)',
      'CREATE INDEX alerts_gateway_ts ON alerts (gateway, ts)',
      'CREATE INDEX manual_overrides_gateway_open ON manual_overrides (gateway, zone, expires_at) WHERE cleared_at IS NULL',
      // One active alert per gateway, kind and zone.
      'DROP INDEX alerts_active_kind_zone',
      "CREATE UNIQUE INDEX alerts_active_kind_zone ON alerts (gateway, kind, IFNULL(zone, '')) WHERE resolved_at IS NULL",
      // Windows are unique per gateway, zone and start: SQLite cannot change a UNIQUE constraint in place, so the table is rebuilt.
      `CREATE TABLE feature_windows_v4 (
        id INTEGER PRIMARY KEY,
        zone TEXT NOT NULL,
        window_start INTEGER NOT NULL,
        window_end INTEGER NOT NULL,
        count INTEGER NOT NULL,
        lux_mean REAL,
        lux_min REAL,
        lux_max REAL,
        lux_std REAL,
        lux_last REAL,
        presence_ratio REAL,
        presence_transitions INTEGER NOT NULL DEFAULT 0,
        ${BOOL('presence_last')},
        presence_last_ts INTEGER,
        weather TEXT CHECK (weather IS NULL OR json_valid(weather)),
        minute_of_day INTEGER NOT NULL,
        weekday INTEGER NOT NULL,
        partial INTEGER NOT NULL DEFAULT 0 CHECK (partial IN (0, 1)),
        gateway TEXT NOT NULL DEFAULT '',
        UNIQUE (gateway, zone, window_start)
      )`,
      `INSERT INTO feature_windows_v4 (${FEATURE_COLUMNS_V3}) SELECT ${FEATURE_COLUMNS_V3} FROM feature_windows`,
      'DROP TABLE feature_windows',
      'ALTER TABLE feature_windows_v4 RENAME TO feature_windows',
      'CREATE INDEX feature_windows_window_start ON feature_windows (window_start)',
      // PostgreSQL only: the identity goes on after the copied ids.
      "/* postgres */ SELECT setval(pg_get_serial_sequence('feature_windows', 'id'), COALESCE((SELECT MAX(id) FROM feature_windows), 0) + 1, false)",
    ],
  },
  {
    version: 5,
    name: 'suggestions: override patterns proposed as schedule rules (lib/learning)',
    statements: [
      `CREATE TABLE suggestions (
        id INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        zone TEXT NOT NULL,
        kind TEXT NOT NULL,
        pattern_key TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
        support_days INTEGER NOT NULL,
        confidence REAL NOT NULL,
        evidence TEXT NOT NULL CHECK (json_valid(evidence)),
        change_json TEXT NOT NULL CHECK (json_valid(change_json)),
        decided_at INTEGER,
        decided_by TEXT,
        gateway TEXT NOT NULL DEFAULT ''
      )`,
      'CREATE INDEX suggestions_gateway_status ON suggestions (gateway, status, zone)',
      'CREATE INDEX suggestions_gateway_key ON suggestions (gateway, pattern_key)',
    ],
  },
  {
    version: 6,
    name: 'suggestions: revisions of accepted ones (supersedes, status superseded) and the time of the newest evidence',
    statements: [
      // The status CHECK gains 'superseded': SQLite cannot change a CHECK in place, so the table is rebuilt (as in migration 4).
      `CREATE TABLE suggestions_v6 (
        id INTEGER PRIMARY KEY,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        zone TEXT NOT NULL,
        kind TEXT NOT NULL,
        pattern_key TEXT NOT NULL,
        summary TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'superseded')),
        support_days INTEGER NOT NULL,
        confidence REAL NOT NULL,
        evidence TEXT NOT NULL CHECK (json_valid(evidence)),
        change_json TEXT NOT NULL CHECK (json_valid(change_json)),
        decided_at INTEGER,
        decided_by TEXT,
        gateway TEXT NOT NULL DEFAULT '',
        supersedes INTEGER,
        evidence_ts INTEGER
      )`,
      // evidence_ts: the newest evidence row's time (retention of pending suggestions); NULL reads as updated_at.
      `/* sqlite */ INSERT INTO suggestions_v6 (${SUGGESTION_COLUMNS_V5}, evidence_ts)
        SELECT ${SUGGESTION_COLUMNS_V5}, (SELECT MAX(json_extract(e.value, '$.ts')) FROM json_each(suggestions.evidence) AS e)
        FROM suggestions`,
      `/* postgres */ INSERT INTO suggestions_v6 (${SUGGESTION_COLUMNS_V5}, evidence_ts)
        SELECT ${SUGGESTION_COLUMNS_V5}, (SELECT MAX((e.value ->> 'ts')::double precision)::bigint FROM json_array_elements(suggestions.evidence::json) AS e)
        FROM suggestions`,
      'DROP TABLE suggestions',
      'ALTER TABLE suggestions_v6 RENAME TO suggestions',
      'CREATE INDEX suggestions_gateway_status ON suggestions (gateway, status, zone)',
      'CREATE INDEX suggestions_gateway_key ON suggestions (gateway, pattern_key)',
      'CREATE INDEX suggestions_gateway_supersedes ON suggestions (gateway, supersedes) WHERE supersedes IS NOT NULL',
      "/* postgres */ SELECT setval(pg_get_serial_sequence('suggestions', 'id'), COALESCE((SELECT MAX(id) FROM suggestions), 0) + 1, false)",
    ],
  },
];

/** Statements marked for one engine only (`/* postgres *\/ ...`) are skipped by the other. */
export function statementFor(engine: 'sqlite' | 'postgres', sql: string): string | null {
  const m = /^\/\* (sqlite|postgres) \*\/\s*/.exec(sql);
  if (m === null) return sql;
  return m[1] === engine ? sql.slice(m[0].length) : null;
}

/** The database's schema is newer than this code knows (a downgrade): refuse to touch it. */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
  readonly databaseVersion: number;
  readonly codeVersion: number;
  constructor(file: string, databaseVersion: number, codeVersion: number) {
    super(
      `database ${file} has schema version ${databaseVersion}, newer than this package supports (${codeVersion}); ` +
        'upgrade the package or point the store at another file',
    );
    this.databaseVersion = databaseVersion;
    this.codeVersion = codeVersion;
  }
}

export interface MigrationReport {
  /** Version before / after. */
  from: number;
  to: number;
  applied: number[];
}

export function latestVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.reduce((m, x) => Math.max(m, x.version), 0);
}

/** Current schema version of an open database (0 = no schema_migrations table). */
export async function schemaVersion(db: Db): Promise<number> {
  const t = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!t || t.n === 0) return 0;
  const row = await db.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations');
  return row?.v ?? 0;
}

/**
 * Brings the schema up to date. Each pending migration runs in its own
 * transaction (a failure rolls that migration back and rejects; earlier ones
 * stay). Idempotent: a second call applies nothing.
 */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const target = latestVersion(sorted);
  await db.run(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
  );
  const from = await schemaVersion(db);
  if (from > target) throw new SchemaVersionError(db.file, from, target);
  const applied: number[] = [];
  for (const m of sorted) {
    if (m.version <= from) continue;
    await db.run('BEGIN IMMEDIATE');
    try {
      // Another process may have migrated while we waited for the write lock.
      const done = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM schema_migrations WHERE version = ?', [m.version]);
      if (done && done.n > 0) {
        await db.run('COMMIT');
        continue;
      }
      for (const sql of m.statements) {
        const stmt = statementFor('sqlite', sql);
        if (stmt !== null) await db.run(stmt);
      }
      await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
      await db.run('COMMIT');
      applied.push(m.version);
    } catch (err) {
      await db.run('ROLLBACK').catch(() => undefined);
      throw new Error(`migration ${m.version} (${m.name}) failed on ${db.file}: ${(err as Error).message}`, { cause: err });
    }
  }
  return { from, to: await schemaVersion(db), applied };
}
