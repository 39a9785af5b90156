/**
 * Environment settings of the shipped main flow (nodes/shared/env-settings):
 * every `${VAR}` in flows/smart-lighting.json is a listed variable of that
 * node type and property (and every listed one is used), blank means the
 * node's default, and SettingsReader names the variable in its warning when
 * an unusable value came from it.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node, NodeAPI } from 'node-red';
import { ENV_SETTINGS, envVariableOf } from '../../nodes/shared/env-settings';
import { SettingsReader } from '../../nodes/shared/settings';
import { ROOT } from './helpers';

function reader(type: string, config: Record<string, unknown>): { read: SettingsReader; warnings: string[] } {
  const warnings: string[] = [];
  const RED = { _: (key: string, subs: Record<string, unknown>) => `${key} ${JSON.stringify(subs)}` } as unknown as NodeAPI;
  const node = { type, warn: (m: string) => warnings.push(m) } as unknown as Node;
  return { read: new SettingsReader(RED, node, config), warnings };
}

describe('environment settings (${VAR} in the main flow)', function () {
  const saved = { ...process.env };
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('every ${VAR} of flows/smart-lighting.json is listed for its node and property, and every listed one is used', () => {
    const flows = JSON.parse(fs.readFileSync(path.join(ROOT, 'flows', 'smart-lighting.json'), 'utf8')) as Array<Record<string, unknown>>;
    const used = new Set<string>();
    for (const n of flows) {
      for (const [prop, v] of Object.entries(n)) {
        if (typeof v !== 'string' || !/^\$\{\w+\}$/.test(v)) continue;
        const name = v.slice(2, -1);
        const listed = ENV_SETTINGS.find((s) => s.name === name && s.node === n.type && s.property === prop);
        assert.ok(listed, `${String(n.id)}.${prop} = ${v} is not listed in ENV_SETTINGS`);
        used.add(`${name} ${String(n.type)} ${prop}`);
      }
    }
    for (const s of ENV_SETTINGS)
      assert.ok(used.has(`${s.name} ${s.node} ${s.property}`), `${s.name} (${s.node}.${s.property}) is not used by the main flow`);
  });

  it('blank (an unset variable) is the default, without a warning', () => {
    const { read, warnings } = reader('api-guard', { rateLimit: '', overrideMinutes: '' });
    assert.equal(read.number('rateLimit', 60, 0, 100000, true), 60);
    assert.equal(read.number('overrideMinutes', 30, 1, 1440, true), 30);
    assert.deepEqual(warnings, []);
  });

  it('a ${VAR} Node-RED left in place (variable not set) is the default too, without a warning', () => {
    const { read, warnings } = reader('retention-prune', { rawDays: '${RAW_RETENTION_DAYS}', vacuum: '${X}' });
    assert.equal(read.number('rawDays', 30, 1, 36500), 30);
    assert.equal(read.bool('vacuum', false), false);
    assert.deepEqual(warnings, []);
  });

  it('an invalid value from the variable: the warning names the property, the variable and the default', () => {
    process.env.RATE_LIMIT_PER_MINUTE = 'abc';
    const { read, warnings } = reader('api-guard', { rateLimit: 'abc' });
    assert.equal(read.number('rateLimit', 60, 0, 100000, true), 60);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /"name":"rateLimit \(environment variable RATE_LIMIT_PER_MINUTE\)","value":"abc","fallback":"60"/);
  });

  it('a value typed into the node (not from the variable) is named as before', () => {
    process.env.RATE_LIMIT_PER_MINUTE = '30';
    const { read, warnings } = reader('api-guard', { rateLimit: 'lots' });
    assert.equal(read.number('rateLimit', 60, 0, 100000, true), 60);
    assert.match(warnings[0] ?? '', /"name":"rateLimit","value":"lots"/);
    assert.equal(envVariableOf('feature-window', 'rateLimit', '30'), null);
  });
});
