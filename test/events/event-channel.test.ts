import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedisClient } from '../../src/counters/redis-client.js';
import { InProcessEventChannel } from '../../src/events/in-process-channel.js';
import { RESYNC_EVENT, RedisEventChannel } from '../../src/events/redis-channel.js';
import type { EventChannel, EventPayload } from '../../src/events/types.js';
import { startRedis, type RedisServer } from '../helpers/redis.js';

function next(channel: EventChannel, type: string): Promise<{ payload: EventPayload; origin: string }> {
  return new Promise((resolve) => {
    const off = channel.subscribe(type, (payload, meta) => {
      off();
      resolve({ payload, origin: meta.origin });
    });
  });
}

describe('in-process channel', () => {
  test('delivers a copy to every subscriber of the type; a throwing handler harms no one', async () => {
    const errors: string[] = [];
    const channel = new InProcessEventChannel((type) => errors.push(type));
    channel.subscribe('credential.revoked', () => {
      throw new Error('boom');
    });
    const got = next(channel, 'credential.revoked');
    const other = { called: false };
    channel.subscribe('config.reloaded', () => (other.called = true));
    const payload = { id: 'key-1' };
    await channel.publish('credential.revoked', payload);
    const event = await got;
    assert.deepEqual(event.payload, { id: 'key-1' });
    assert.notEqual(event.payload, payload);
    assert.equal(event.origin, channel.nodeId);
    assert.deepEqual(errors, ['credential.revoked']);
    assert.equal(other.called, false);
  });
});

describe('redis channel', () => {
  let redis: RedisServer;
  const channels: RedisEventChannel[] = [];
  const open = async (prefix = 'ev:'): Promise<RedisEventChannel> => {
    const config = { type: 'redis' as const, url: redis.url, keyPrefix: prefix, commandTimeoutMs: 5000 };
    const publisher = createRedisClient(config);
    publisher.on('error', () => undefined);
    await new Promise((resolve) => publisher.once('ready', resolve));
    const channel = new RedisEventChannel(publisher, createRedisClient(config, 'subscriber'), {
      keyPrefix: prefix,
    });
    await channel.ready();
    channels.push(channel);
    return channel;
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const c of channels) {
      await c.close();
    }
    await redis.stop();
  });

  test('an event published on one node reaches every node, with its origin', async () => {
    const a = await open();
    const b = await open();
    const atA = next(a, 'credential.revoked');
    const atB = next(b, 'credential.revoked');
    await a.publish('credential.revoked', { kind: 'api_key', id: 'k1' });
    const [ea, eb] = await Promise.all([atA, atB]);
    assert.deepEqual(eb.payload, { kind: 'api_key', id: 'k1' });
    assert.equal(eb.origin, a.nodeId);
    assert.equal(ea.origin, a.nodeId);
  });

  test('another key prefix is another channel; forged messages are ignored', async () => {
    const a = await open('one:');
    const b = await open('two:');
    let leaked = false;
    b.subscribe('cache.invalidate', () => (leaked = true));
    const got = next(b, 'cache.invalidate');
    await a.publish('cache.invalidate', { key: 'x' });
    await redis.cli('publish', 'two:events', 'not json');
    await redis.cli('publish', 'two:events', '{"type":"cache.invalidate","origin":"n","payload":"str"}');
    await redis.cli(
      'publish',
      'two:events',
      '{"type":"cache.invalidate","origin":"n","payload":{"key":"y"}}',
    );
    assert.deepEqual((await got).payload, { key: 'y' });
    assert.equal(leaked, true); // only the well-formed one
  });

  test('after Redis restarts the subscriber resubscribes and announces a resync', async () => {
    const a = await open('re:');
    const resync = next(a, RESYNC_EVENT);
    await redis.kill();
    await assert.rejects(a.publish('config.reloaded', {}));
    await redis.restart();
    await resync;
    const got = next(a, 'config.reloaded');
    for (;;) {
      try {
        await a.publish('config.reloaded', { version: 2 });
        break;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    assert.deepEqual((await got).payload, { version: 2 });
  });
});
