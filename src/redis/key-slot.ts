/**
 * Redis Cluster's key → slot mapping (CRC16/XMODEM of the key's hash tag, mod 16384), so that Herald
 * can say which slot (and so which node) holds each shard's keys, and tests can check that every key a
 * script touches lands in one slot.
 */
export const SLOTS = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/** The part of the key that is hashed: the first non-empty `{…}`, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

export function keySlot(key: string | Buffer): number {
  const text = typeof key === 'string' ? key : key.toString('latin1');
  const bytes = typeof key === 'string' ? Buffer.from(hashTag(text)) : Buffer.from(hashTag(text), 'latin1');
  return crc16(bytes) % SLOTS;
}
