import { Logger } from '@nestjs/common';
import Redis, { Cluster, ClusterOptions, RedisOptions } from 'ioredis';
import type { RedisTarget } from '../config/config';

/** What every Redis user in Herald holds: one server or a Redis Cluster, with the same command API. */
export type RedisConnection = Redis | Cluster;

/**
 * client: commands that fail fast when Redis is gone, so the API keeps answering from PostgreSQL alone.
 * subscriber, bclient: Bull's pub/sub and blocking connections, which must retry forever (Bull refuses
 * them otherwise) and skip the ready check.
 */
export type ConnectionRole = 'client' | 'subscriber' | 'bclient';

function nodeOptions(role: ConnectionRole): RedisOptions {
  return {
    maxRetriesPerRequest: role === 'client' ? 2 : null,
    enableReadyCheck: role === 'client',
    enableOfflineQueue: true,
    connectionName: `herald-${role}`,
  };
}

/**
 * A cluster client. A killed master's slots move to its replica after cluster-node-timeout: commands
 * that meet a closed connection, CLUSTERDOWN or TRYAGAIN meanwhile are retried on the refreshed slot
 * map instead of failing, and the map is also refreshed every few seconds, so a promotion is seen
 * even by a connection that sent nothing to the failed node.
 */
export function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, role: ConnectionRole): ClusterOptions {
  return {
    redisOptions: {
      ...nodeOptions(role),
      username: target.username,
      password: target.password,
      tls: target.tls ? {} : undefined,
    },
    enableReadyCheck: role === 'client',
    enableOfflineQueue: true,
    scaleReads: 'master',
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    maxRedirections: 16,
    slotsRefreshTimeout: 2000,
    slotsRefreshInterval: 5000,
    clusterRetryStrategy: (times) => Math.min(times * 200, 2000),
  };
}

const logger = new Logger('Redis');
/** Connection errors repeat while Redis (or a cluster node) is down: one line per role every 10 s. */
const ERROR_LOG_EVERY_MS = 10_000;

/** The one place Herald opens a Redis connection: REDIS_URL names a server or a cluster. */
export function connectRedis(target: RedisTarget, role: ConnectionRole): RedisConnection {
  const connection =
    target.kind === 'cluster'
      ? new Cluster(target.nodes, clusterOptions(target, role))
      : new Redis(target.url, { ...nodeOptions(role), retryStrategy: (times) => Math.min(times * 200, 2000) });
  // Without a listener ioredis prints every error itself ("Unhandled error event"), e.g. while a
  // cluster refreshes its slots after a node died; commands are retried, so a warning is enough.
  let lastLogged = 0;
  connection.on('error', (error: Error) => {
    if (Date.now() - lastLogged < ERROR_LOG_EVERY_MS) return;
    lastLogged = Date.now();
    logger.warn(`${role} connection: ${error.message}`);
  });
  return connection;
}
