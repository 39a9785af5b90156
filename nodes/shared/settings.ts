/**
 * Reads a node's editor configuration into typed settings. The editor
 * validates every field, but flows can be hand-edited or imported: a value the
 * runtime cannot use falls back to its default and the node says so with a
 * warning (catalogue key `<type>.errors.invalidSetting`), never silently.
 * A value that came from an environment variable of the shipped flows
 * (`${VAR}`, ./env-settings) is named with its variable in that warning; a
 * `${VAR}` left in place (the variable is not set) counts as blank.
 */
import { maskSecrets } from '../../lib/store/mask';
import { envVariableOf } from './env-settings';
import type { Node, NodeAPI, NodeDef } from 'node-red';

/** `${VAR}` still in a setting at runtime: the variable was not set. */
const UNSET_VARIABLE = /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/;

/** A node's configuration as Node-RED passes it to the constructor. */
export type NodeConfig = NodeDef & Record<string, unknown>;

export class SettingsReader {
  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly config: Record<string, unknown>,
  ) {}

  /** Trimmed text; missing or null gives `fallback`. */
  text(name: string, fallback = ''): string {
    const raw = this.config[name];
    if (raw == null) return fallback;
    return (typeof raw === 'string' ? raw : String(raw)).trim();
  }

  /** A checkbox: true only for `true` or "true". */
  bool(name: string, fallback = false): boolean {
    const raw = this.setting(name);
    if (raw == null || raw === '') return fallback;
    return raw === true || raw === 'true';
  }

  /** A number within [min, max]; missing or blank gives `fallback`, anything else invalid warns and gives `fallback`. */
  number(name: string, fallback: number, min: number, max: number, integer = false): number {
    const raw = this.setting(name);
    if (raw == null || raw === '') return fallback;
    const value = this.parse(raw, min, max, integer);
    if (value === null) {
      this.invalid(name, raw, fallback);
      return fallback;
    }
    return value;
  }

  /** Like `number`, but blank means "none" (null); a setting missing altogether (an older flow) gives `whenMissing`. */
  optionalNumber(name: string, min: number, max: number, integer = false, whenMissing: number | null = null): number | null {
    const raw = this.setting(name);
    if (raw == null) return whenMissing;
    if (raw === '') return null;
    const value = this.parse(raw, min, max, integer);
    if (value === null) {
      this.invalid(name, raw, '');
      return null;
    }
    return value;
  }

  /** One of a fixed set of choices (a select in the editor). */
  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const raw = this.setting(name);
    if (raw == null || raw === '') return fallback;
    const found = choices.find((c) => c === raw);
    if (found === undefined) {
      this.invalid(name, raw, fallback);
      return fallback;
    }
    return found;
  }

  /**
   * The configured value; a `${VAR}` Node-RED left as it was (the variable is not set: Node-RED 4
   * only substitutes variables that exist) is blank, so the node uses its default.
   */
  private setting(name: string): unknown {
    const raw = this.config[name];
    return typeof raw === 'string' && UNSET_VARIABLE.test(raw.trim()) ? '' : raw;
  }

  private parse(raw: unknown, min: number, max: number, integer: boolean): number | null {
    const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (!Number.isFinite(value) || value < min || value > max) return null;
    if (integer && !Number.isInteger(value)) return null;
    return value;
  }

  private invalid(name: string, raw: unknown, fallback: unknown): void {
    const variable = envVariableOf(this.node.type, name, raw);
    this.node.warn(
      this.RED._(`${this.node.type}.errors.invalidSetting`, {
        name: variable === null ? name : `${name} (environment variable ${variable})`,
        value: maskSecrets(String(raw)).slice(0, 200),
        fallback: fallback === '' ? '-' : String(fallback),
      }),
    );
  }
}
