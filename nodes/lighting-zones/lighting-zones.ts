/**
 * lighting-zones: the zone map of a building (or of one bus) as a config
 * node: for each zone its gear, sensors, lux target, colour and fixtures
 * (lib/zones/zone-map). Nodes that route by zone (dali-dt8-out,
 * lsd-sensor-in, api-guard, feature-window, rules-fallback, ai-decide,
 * override-gate) select it; a zone outside the map is then an error.
 *
 * Source: the editor table, an environment variable holding the JSON map
 * (default `ZONES`, as the MQTT gateway reads it), or a JSON file (relative
 * to the Node-RED user directory). An environment variable or file that is
 * unset or blank falls back to the table, so a templated site can ship the
 * table as its default. The map is read at deploy; a map that cannot be used
 * logs one error and refuses every zone (fail closed) until it is fixed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NodeAPI } from 'node-red';
import { ZoneMap, ZoneMapError } from '../../lib/zones/zone-map';
import type { LightingZonesNode } from '../shared/zones';
import { SettingsReader, type NodeConfig } from '../shared/settings';

type ZoneSource = 'table' | 'env' | 'file';

/** Largest zone map file read, bytes. */
const MAX_FILE_BYTES = 1024 * 1024;

export = function (RED: NodeAPI): void {
  function LightingZones(this: LightingZonesNode, config: NodeConfig): void {
    RED.nodes.createNode(this, config);
    const read = new SettingsReader(RED, this, config);
    const source = read.choice<ZoneSource>('source', ['table', 'env', 'file'], 'table');
    const envVar = read.text('envVar', 'ZONES') || 'ZONES';
    const file = read.text('file');
    const table = Array.isArray(config.zones) ? config.zones : [];

    let map: ZoneMap | null = null;
    let problem: ZoneMapError | null = null;
    let from = 'table';
    try {
      let raw: unknown = table;
      if (source === 'env') {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(envVar))
          throw new ZoneMapError(`environment variable name "${envVar.slice(0, 64)}" is not valid`);
        const value = RED.util.evaluateNodeProperty(envVar, 'env', this, {}) as unknown;
        if (typeof value === 'string' && value.trim() !== '') {
          raw = value;
          from = `env ${envVar}`;
        } else if (value !== undefined && value !== null && typeof value === 'object') {
          raw = value;
          from = `env ${envVar}`;
        }
      } else if (source === 'file' && file !== '') {
        const userDir = (RED.settings as { userDir?: string }).userDir ?? process.cwd();
        const full = path.resolve(userDir, file);
        let text: string;
        try {
          const st = fs.statSync(full);
          if (st.size > MAX_FILE_BYTES) throw new ZoneMapError(`zone map file ${file} is larger than ${MAX_FILE_BYTES} bytes`);
          text = fs.readFileSync(full, 'utf8');
        } catch (err) {
          if (err instanceof ZoneMapError) throw err;
          throw new ZoneMapError(`zone map file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
        if (text.trim() !== '') {
          raw = text;
          from = `file ${file}`;
        }
      }
      map = ZoneMap.parse(raw);
    } catch (err) {
      problem = err instanceof ZoneMapError ? err : new ZoneMapError(err instanceof Error ? err.message : String(err));
      this.error(
        RED._('lighting-zones.errors.unusable', {
          source: from === 'table' && source !== 'table' ? source : from,
          message: problem.message,
        }),
      );
    }
    this.zoneSource = from;
    this.zoneMap = (): ZoneMap => {
      if (map) return map;
      throw problem ?? new ZoneMapError('zone map unavailable');
    };
    if (map && map.size === 0) this.warn(RED._('lighting-zones.errors.empty', { source: from }));
  }

  RED.nodes.registerType('lighting-zones', LightingZones);
};
