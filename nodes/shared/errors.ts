/** Errors caught in node code, for done(err), logs and status texts. */

/** `err` as an Error (a thrown string or object becomes an Error with its text). */
export function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The message of `err`, whatever was thrown. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
