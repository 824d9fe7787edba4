import { Cluster } from 'ioredis';
import { keySlot } from './key-slot';
import type { RedisConnection } from './redis-connection';

export interface ShardPlacement {
  queue: string;
  /** The slot of every key of this queue (they share the queue name's hash tag). */
  slot: number;
  /** host:port of the master serving that slot now (the only server, outside a cluster). */
  node: string;
}

type SlotRange = [number, number, [string, number, ...unknown[]], ...unknown[]];

/** Where each queue's keys live: its slot and the master holding it (asked of the cluster, not guessed). */
export async function shardPlacement(connection: RedisConnection, queueNames: string[]): Promise<ShardPlacement[]> {
  if (!(connection instanceof Cluster)) {
    const { host, port } = connection.options;
    return queueNames.map((queue) => ({ queue, slot: keySlot(queue), node: `${host}:${port}` }));
  }
  const ranges = (await connection.cluster('SLOTS')) as unknown as SlotRange[];
  return queueNames.map((queue) => {
    const slot = keySlot(queue);
    const range = ranges.find(([from, to]) => slot >= from && slot <= to);
    return { queue, slot, node: range ? `${range[2][0]}:${range[2][1]}` : 'unassigned' };
  });
}
