import { Cluster, Redis, type ClusterNode } from 'ioredis';
import type { CountersConfig, RedisNodeAddress } from './config.js';

export type RedisConfig = Exclude<CountersConfig, { type: 'memory' }>;
export type RedisClient = Redis | Cluster;

/** Reconnect with back-off: 50 ms doubling up to 2 s, forever. */
export function reconnectDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times, 6), 2000);
}

/**
 * Creates the ioredis client for standalone, Cluster or Sentinel. Commands: no offline queue and a short
 * command timeout: when Redis is away a decision fails at once and the limit's policy applies,
 * instead of requests piling up behind a reconnect. `counters`: the same, but the counter store
 * enforces `commandTimeoutMs` itself (one timer per event-loop turn, not one per command).
 */
export function createRedisClient(
  config: RedisConfig,
  role: 'commands' | 'counters' | 'subscriber' = 'commands',
): RedisClient {
  // a subscriber queues its SUBSCRIBE until connected and resubscribes after each reconnect
  const queue = role === 'subscriber';
  const options = {
    enableOfflineQueue: queue,
    maxRetriesPerRequest: queue ? null : 0,
    ...(role === 'counters' ? {} : { commandTimeout: config.commandTimeoutMs ?? 250 }),
    connectTimeout: config.connectTimeoutMs ?? 2000,
    retryStrategy: reconnectDelay,
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.tls === true ? { tls: {} } : {}),
  };
  if ('url' in config) return new Redis(config.url, options);
  if ('sentinel' in config) {
    return new Redis({
      ...options,
      name: config.sentinel.name,
      sentinels: config.sentinel.sentinels.map((n) => ({ host: n.host, port: n.port })),
      sentinelRetryStrategy: reconnectDelay,
      ...(config.sentinel.password === undefined ? {} : { sentinelPassword: config.sentinel.password }),
    });
  }
  const { retryStrategy: _retry, enableOfflineQueue: _queue, ...redisOptions } = options;
  return new Cluster(config.cluster.map(toClusterNode), {
    enableOfflineQueue: queue,
    clusterRetryStrategy: reconnectDelay,
    redisOptions,
  });
}

function toClusterNode(node: string | RedisNodeAddress): ClusterNode {
  if (typeof node !== 'string') return { host: node.host, port: node.port };
  const at = node.lastIndexOf(':');
  return at > 0 ? { host: node.slice(0, at), port: Number(node.slice(at + 1)) } : { host: node, port: 6379 };
}
