import { keySlot } from '../redis/key-slot';
import { deliveryQueueName, shardOf } from './delivery-queues';

describe('shardOf', () => {
  it('maps an endpoint to the same shard every time, and spreads endpoints over all shards', () => {
    expect(shardOf('ep_01ABC', 8)).toBe(shardOf('ep_01ABC', 8));
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(shardOf(`ep_${i}`, 8));
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('names queues with a Redis Cluster hash tag', () => {
    expect(deliveryQueueName(3)).toBe('{deliveries.3}');
    expect(deliveryQueueName(3, 'live')).toBe('{deliveries.3}');
    expect(deliveryQueueName(3, 'bulk')).toBe('{deliveries.3}.bulk');
  });

  it("keeps both lanes of a shard in its slot, Bull's keys included", () => {
    for (let shard = 0; shard < 16; shard++) {
      const slot = keySlot(deliveryQueueName(shard));
      expect(keySlot(`herald:${deliveryQueueName(shard, 'bulk')}:wait`)).toBe(slot);
      expect(keySlot(`herald:${deliveryQueueName(shard, 'bulk')}:dlv_1:1:lock`)).toBe(slot);
      expect(keySlot(`herald:${deliveryQueueName(shard, 'live')}:delayed`)).toBe(slot);
    }
  });
});
