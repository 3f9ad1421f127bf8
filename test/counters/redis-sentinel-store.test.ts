import { after, before, describe } from 'node:test';
import { createRedisClient } from '../../src/counters/redis-client.js';
import { RedisCounterStore } from '../../src/counters/redis-store.js';
import { startRedisSentinel, type RedisSentinelSetup } from '../helpers/redis.js';
import { counterStoreContract } from './contract.js';

let setup: RedisSentinelSetup;
let store: RedisCounterStore;

before(async () => {
  setup = await startRedisSentinel();
  const client = createRedisClient({
    type: 'redis',
    sentinel: { name: setup.name, sentinels: setup.sentinels },
    commandTimeoutMs: 5000,
  });
  await new Promise<void>((resolve) => client.once('ready', () => resolve()));
  store = new RedisCounterStore(client, 'se:');
});

after(async () => {
  await store.close();
  await setup.stop();
});

// the client asks the Sentinel for the master, then runs every decision there
describe('redis sentinel counter store contract', () => {
  counterStoreContract('redis-sentinel', () => store);
});
