/**
 * What is kept of a receiver's answer: the first 4 KiB of the body and the headers, in a form PostgreSQL
 * stores whatever the receiver sent. Text is kept as text only when it is valid UTF-8 without NUL (a `text`
 * or `jsonb` column refuses \u0000); anything else (binary, gzip, broken UTF-8) is kept as base64 and says so.
 */

export type BodyEncoding = 'utf8' | 'base64';

export interface KeptBody {
  body: string;
  encoding: BodyEncoding;
}

export interface KeptHeaders {
  headers: Record<string, string>;
  /** Names of the headers whose values are kept as base64, because they were not storable text. */
  base64: string[];
}

/** Stored header values at most, in all: a receiver may answer with far more. */
export const MAX_KEPT_HEADER_BYTES = 8192;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes are valid UTF-8 and hold no NUL. A body cut at 4 KiB may end inside a character: that is allowed. */
export function isStorableText(bytes: Uint8Array, cutShort = false): boolean {
  if (bytes.includes(0)) return false;
  try {
    UTF8.decode(bytes, { stream: cutShort });
    return true;
  } catch {
    return false;
  }
}

/** The body as stored: text when it is storable text, else base64. `cutShort` says the bytes are a prefix of a longer body. */
export function keepBody(bytes: Buffer, cutShort = false): KeptBody {
  if (isStorableText(bytes, cutShort)) {
    // A character split by the 4 KiB cut is dropped rather than stored as U+FFFD.
    const text = cutShort ? new TextDecoder('utf-8').decode(bytes, { stream: true }) : bytes.toString('utf8');
    return { body: text, encoding: 'utf8' };
  }
  return { body: bytes.toString('base64'), encoding: 'base64' };
}

/** A control character (C0 or DEL), the tab allowed in values; checked by code point to keep them out of regular expressions. */
function hasControlCharacter(text: string, tabAllowed: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && !(tabAllowed && c === 0x09)) || c === 0x7f) return true;
  }
  return false;
}

/**
 * Header values arrive as latin1-decoded strings. A value with a control character (NUL above all) is kept
 * as base64 of its bytes; the whole map stops growing at MAX_KEPT_HEADER_BYTES (later headers are left out).
 */
export function keepHeaders(headers: Record<string, string>): KeptHeaders {
  const kept: Record<string, string> = {};
  const base64: string[] = [];
  let size = 0;
  for (const [name, value] of Object.entries(headers)) {
    const odd = hasControlCharacter(value, true) || hasControlCharacter(name, false) || /[^\u0020-\u007e]/.test(name);
    const storedName = odd && /[^\u0020-\u007e]/.test(name) ? Buffer.from(name, 'latin1').toString('base64') : name;
    const storedValue = odd ? Buffer.from(value, 'latin1').toString('base64') : value;
    size += storedName.length + storedValue.length;
    if (size > MAX_KEPT_HEADER_BYTES) break;
    kept[storedName] = storedValue;
    if (odd) base64.push(storedName);
  }
  return { headers: kept, base64 };
}
