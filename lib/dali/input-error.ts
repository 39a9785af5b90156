import { describeValue } from '../contracts/values';

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

/** A value for a DALI error text: describeValue, with a missing value read as "nothing" (the catalogue's word). */
export function describeInput(value: unknown): string {
  return value === undefined ? 'nothing' : describeValue(value);
}
