import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { countersService } from '../../traffic/counters-service.js';
import { durationSchema } from '../../traffic/duration.js';
import { keyPartSchema } from '../../traffic/limit-key.js';
import { Throttle, type ThrottleConfig } from '../../traffic/throttle.js';

export default defineStage<ThrottleConfig>({
  name: 'traffic.throttle',
  phase: 'access',
  order: ORDER.access.throttle,
  routeKey: 'throttle',
  routeSchema: {
    type: 'object',
    description:
      'Leaky-bucket smoothing: requests above the rate wait their turn (like nginx limit_req burst/delay).',
    additionalProperties: false,
    required: ['rate', 'per'],
    properties: {
      rate: { type: 'integer', minimum: 1, description: 'Requests forwarded per `per`.' },
      per: { ...durationSchema, description: 'Period: `1s`, `1m`, ...' },
      burst: {
        type: 'integer',
        minimum: 0,
        description: 'Requests that may wait beyond the rate (default 0); past it, 429.',
      },
      delay: {
        type: 'integer',
        minimum: 0,
        description:
          'How many of the burst are forwarded without waiting (default 0: every excess request waits).',
      },
      key: {
        type: 'array',
        minItems: 1,
        uniqueItems: true,
        items: keyPartSchema,
        description: 'Default [consumer].',
      },
      maxWaiting: {
        type: 'integer',
        minimum: 1,
        description: 'Most requests waiting in this process (default 1000).',
      },
      onStoreError: { enum: ['fail-open', 'fail-closed'], description: 'When Redis cannot answer.' },
      ipv6Prefix: { type: 'integer', minimum: 1, maximum: 128 },
      ipv4Prefix: { type: 'integer', minimum: 1, maximum: 32 },
    },
  },
  build(config, build) {
    if (config === undefined) return undefined;
    if ((config.delay ?? 0) > (config.burst ?? 0))
      build.warn('throttle.delay is larger than burst; it is capped at burst');
    const throttle = new Throttle(config, countersService(build), build.route.name);
    return { name: 'traffic.throttle', run: (ctx) => throttle.run(ctx) };
  },
});
