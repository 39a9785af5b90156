/**
 * The node types this package ships: the one expected list for the tests
 * that check them (package.json's node-red.nodes, the runtime's registry, the
 * editor's palette). A new node is added here once.
 */
export const NODE_TYPES: readonly string[] = [
  'dali-bus',
  'lighting-store',
  'lighting-zones',
  'ai-provider',
  'dali-dt8-out',
  'lsd-sensor-in',
  'feature-window',
  'ai-decide',
  'rules-fallback',
  'override-gate',
  'retention-prune',
  'api-guard',
  'lighting-query',
  'lighting-alerts',
  'api-docs',
  'lighting-weather',
  'lighting-insights',
];

/** Config nodes: no palette entry, no example flow. */
export const CONFIG_TYPES: ReadonlySet<string> = new Set(['dali-bus', 'lighting-store', 'lighting-zones', 'ai-provider']);

/** The types that appear in the palette under the package's category. */
export const FLOW_NODE_TYPES: readonly string[] = NODE_TYPES.filter((t) => !CONFIG_TYPES.has(t));
