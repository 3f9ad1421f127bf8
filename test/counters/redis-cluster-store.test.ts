import { after, before, describe } from 'node:test';
import { Cluster } from 'ioredis';
import { createRedisClient } from '../../src/counters/redis-client.js';
import { RedisCounterStore } from '../../src/counters/redis-store.js';
import { startRedisCluster, type RedisCluster } from '../helpers/redis.js';
import { counterStoreContract } from './contract.js';

let cluster: RedisCluster;
let store: RedisCounterStore;

before(async () => {
  cluster = await startRedisCluster();
  const client = createRedisClient({ type: 'redis', cluster: cluster.nodes, commandTimeoutMs: 5000 });
  if (!(client instanceof Cluster)) throw new Error('expected a Cluster client');
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  store = new RedisCounterStore(client, 'cl:');
});

after(async () => {
  await store.close();
  await cluster.stop();
});

// keys land on different masters; each decision touches one key (one slot), so the scripts run
describe('redis cluster counter store contract', () => {
  counterStoreContract('redis-cluster', () => store);
});
