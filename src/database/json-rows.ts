/**
 * Rows as one JSON text, for a statement that reads them with `json_to_recordset`: one parameter instead of an
 * array per column, which node-postgres would escape element by element in JavaScript (JSON.stringify is native).
 *
 * JSON.stringify writes half a UTF-16 surrogate pair (an error message cut at 200 characters, a key sent as
 * "\ud800") as a `\udXXX` escape, which PostgreSQL refuses, failing every row of the statement. That is rare, so only
 * a text holding such an escape is made again with every string well formed: the half pair becomes U+FFFD, as it
 * did when each value was a bound parameter.
 */
export function jsonRows(rows: readonly object[]): string {
  const text = JSON.stringify(rows);
  return text.includes('\\ud') ? JSON.stringify(rows, (_key, value: unknown) => (typeof value === 'string' ? wellFormed(value) : value)) : text;
}

function wellFormed(text: string): string {
  // String.prototype.toWellFormed is in Node 20, not yet in TypeScript's ES2022 library.
  return (text as unknown as { toWellFormed(): string }).toWellFormed();
}
