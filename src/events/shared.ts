import type { CountersConfig } from '../counters/config.js';
import { createRedisClient } from '../counters/redis-client.js';
import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService, type Services } from '../pipeline/services.js';
import { InProcessEventChannel } from './in-process-channel.js';
import { RedisEventChannel } from './redis-channel.js';
import type { EventChannel } from './types.js';

/**
 * The node's event channel: over Redis when `counters:` is Redis (same server, its own
 * connections), otherwise in-process. Created once and kept across reloads.
 */
export function eventChannel(build: BuildContext): EventChannel {
  return eventChannelFor(build.services, build.config.counters as CountersConfig | undefined);
}

export function eventChannelFor(services: Services, counters: CountersConfig | undefined): EventChannel {
  const redis = counters !== undefined && counters.type === 'redis' ? counters : undefined;
  const key = redis === undefined ? 'events.channel' : `events.channel:${JSON.stringify(redis)}`;
  return sharedService(services, key, () => {
    const onError = (context: string, error: unknown): void => {
      services.logger.warn(
        {
          event: 'event_channel_error',
          context,
          cause: error instanceof Error ? error.message : String(error),
        },
        'event channel error',
      );
    };
    let channel: EventChannel;
    if (redis === undefined) {
      channel = new InProcessEventChannel(onError);
    } else {
      const publisher = createRedisClient(redis);
      publisher.on('error', () => undefined); // reported by the subscriber and the failing publish
      const subscriber = createRedisClient(redis, 'subscriber');
      channel = new RedisEventChannel(publisher, subscriber, {
        keyPrefix: redis.keyPrefix ?? 'portcullis:',
        onError,
      });
    }
    services.onClose(() => channel.close());
    return channel;
  });
}
