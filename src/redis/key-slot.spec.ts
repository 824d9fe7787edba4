import { crc16, hashTag, keySlot } from './key-slot';

describe('keySlot', () => {
  it('is CRC16/XMODEM, as the Redis Cluster specification gives it', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  });

  it('matches the slots CLUSTER KEYSLOT answers', () => {
    // Values from redis-cli CLUSTER KEYSLOT on Redis 7.0.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('bar')).toBe(5061);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });

  it('hashes only the first non-empty hash tag', () => {
    expect(hashTag('herald:{deliveries.3}:wait')).toBe('deliveries.3');
    expect(hashTag('herald:{deliveries.3}:{x}')).toBe('deliveries.3');
    expect(hashTag('foo{}{bar}')).toBe('foo{}{bar}');
    expect(hashTag('foo{bar')).toBe('foo{bar');
    expect(keySlot('herald:{deliveries.3}:wait')).toBe(keySlot('other:{deliveries.3}:123:lock'));
  });
});
