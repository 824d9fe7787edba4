import { Logger } from '@nestjs/common';
import type { Queue } from 'bull';
import { settledWithin } from '../common/settled-within';

/** How long a stop waits for one queue to close before it drops the queue's connections itself. */
export const QUEUE_CLOSE_WAIT_MS = 5000;

const logger = new Logger('Queues');
const closing = new WeakMap<Queue, Promise<void>>();

/**
 * Closes a queue without waiting for its running jobs (the worker drained them already), within a bound.
 * Bull's close() pauses the queue once more, which disconnects and reconnects its blocking connection, and
 * then quits it: under load that reconnect can leave close() waiting for ever (seen in the SIGTERM chaos test,
 * about 1 run in 5 on a busy box), and every shutdown hook after it with it: the stop then hit its deadline
 * and exited 1. Past the bound, the queue's connections are dropped: nothing is lost, since Bull holds no
 * state of ours in them, and the sweeper offers again whatever a dropped command did not add.
 * Idempotent: the worker's own shutdown and Nest's hook for the queue share one close.
 */
export function closeQueue(queue: Queue, waitMs = QUEUE_CLOSE_WAIT_MS): Promise<void> {
  let closed = closing.get(queue);
  if (!closed) {
    closed = boundedClose(queue, waitMs);
    closing.set(queue, closed);
  }
  return closed;
}

async function boundedClose(queue: Queue, waitMs: number): Promise<void> {
  if (await settledWithin(queue.close(true), waitMs)) return;
  logger.warn(`queue ${queue.name} did not close within ${waitMs} ms; dropping its connections`);
  for (const client of queue.clients) client.disconnect();
}
