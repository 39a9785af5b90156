/**
 * An input the DALI layer refuses (a payload, an address, a configuration
 * text), described by a stable `code` and the values that explain it.
 *
 * Node adapters turn `code` into a catalogue message
 * (`<node type>.errors.<code>` with `params` as substitutions), so every
 * refusal reaches the user in words from the en-US catalogue; `message`
 * is the English fallback for logs and lib callers.
 */
export class DaliInputError extends Error {
  constructor(
    readonly code: string,
    readonly params: Readonly<Record<string, string | number>>,
    message: string,
  ) {
    super(message);
    this.name = 'DaliInputError';
  }
}

/** A short human-readable rendering of any value (for error texts; never throws). */
export function describeInput(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return typeof value;
}
