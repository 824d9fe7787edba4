import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Providers that timestamp their signatures allow this much clock skew either way (replay window). */
export const TOLERANCE_SECONDS = 5 * 60;

export function hmac(algorithm: 'sha1' | 'sha256' | 'sha512', key: string | Buffer, ...parts: (string | Buffer)[]): Buffer {
  const mac = createHmac(algorithm, key);
  for (const part of parts) mac.update(part);
  return mac.digest();
}

/**
 * Constant-time equality of byte strings of any length. Comparing SHA-256 digests of both sides
 * means neither the content nor the length of the expected value leaks through timing.
 */
export function bytesEqual(a: Buffer, b: Buffer): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}

/** Strict decoders: Buffer.from silently skips bad characters, which would hide malformed headers. */
export function decodeHex(value: string): Buffer | undefined {
  return /^(?:[0-9a-fA-F]{2})+$/.test(value) ? Buffer.from(value, 'hex') : undefined;
}

export function decodeBase64(value: string): Buffer | undefined {
  const canonical = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
  return value !== '' && canonical.test(value) ? Buffer.from(value, 'base64') : undefined;
}

/** Unix seconds as sent in timestamp headers, or undefined when not a plain integer. */
export function parseUnixSeconds(value: string): number | undefined {
  return /^\d{1,12}$/.test(value) ? Number(value) : undefined;
}

export function withinTolerance(unixSeconds: number, now: Date): boolean {
  return Math.abs(now.getTime() / 1000 - unixSeconds) <= TOLERANCE_SECONDS;
}
