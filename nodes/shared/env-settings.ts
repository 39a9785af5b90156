/**
 * The environment variables the shipped flows put into node settings as
 * `${VAR}` (Node-RED substitutes them at deploy; an unset variable becomes ""
 * and the node uses its default). Names and defaults are the Python
 * service's. SettingsReader names the variable in its warning when a setting
 * it cannot use holds that variable's value.
 */

export interface EnvSetting {
  /** Environment variable. */
  name: string;
  /** The node's default (used when unset, blank or invalid); null: none (blank means "not set", e.g. no weather position). */
  fallback: number | null;
  /** Node type and property it sets. */
  node: string;
  property: string;
}

export const ENV_SETTINGS: readonly EnvSetting[] = [
  { name: 'PAYLOAD_CAP_BYTES', fallback: 2048, node: 'ai-decide', property: 'payloadCapBytes' },
  { name: 'PAYLOAD_BATCH_LIMIT', fallback: 3, node: 'ai-decide', property: 'payloadBatchLimit' },
  { name: 'FEATURE_WINDOW_MINUTES', fallback: 5, node: 'feature-window', property: 'windowMinutes' },
  { name: 'OVERRIDE_MINUTES', fallback: 30, node: 'override-gate', property: 'overrideMinutes' },
  { name: 'OVERRIDE_MINUTES', fallback: 30, node: 'api-guard', property: 'overrideMinutes' },
  { name: 'RATE_LIMIT_PER_MINUTE', fallback: 60, node: 'api-guard', property: 'rateLimit' },
  { name: 'RAW_RETENTION_DAYS', fallback: 30, node: 'retention-prune', property: 'rawDays' },
  { name: 'WEATHER_RETENTION_DAYS', fallback: 30, node: 'retention-prune', property: 'weatherDays' },
  { name: 'FEATURE_RETENTION_DAYS', fallback: 90, node: 'retention-prune', property: 'featureDays' },
  { name: 'DECISION_RETENTION_DAYS', fallback: 180, node: 'retention-prune', property: 'decisionDays' },
  { name: 'TELEMETRY_RETENTION_DAYS', fallback: 180, node: 'retention-prune', property: 'telemetryDays' },
  { name: 'OVERRIDE_RETENTION_DAYS', fallback: 30, node: 'retention-prune', property: 'overrideDays' },
  { name: 'ALERT_RETENTION_DAYS', fallback: 180, node: 'retention-prune', property: 'alertDays' },
  { name: 'WEATHER_LATITUDE', fallback: null, node: 'lighting-weather', property: 'latitude' },
  { name: 'WEATHER_LONGITUDE', fallback: null, node: 'lighting-weather', property: 'longitude' },
  { name: 'WEATHER_BASE_URL', fallback: null, node: 'lighting-weather', property: 'baseUrl' },
  { name: 'WEATHER_INTERVAL_MINUTES', fallback: 15, node: 'lighting-weather', property: 'intervalMinutes' },
];

/**
 * The variable whose value a node setting holds: the one listed for the
 * node type and property when it is set to `raw` in `env`, else null.
 */
export function envVariableOf(type: string, property: string, raw: unknown, env: NodeJS.ProcessEnv = process.env): string | null {
  for (const s of ENV_SETTINGS) {
    if (s.node !== type || s.property !== property) continue;
    const v = env[s.name];
    if (v !== undefined && String(v).trim() === String(raw).trim()) return s.name;
  }
  return null;
}
