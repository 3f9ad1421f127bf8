import { countersConfigSchema } from '../../counters/config.js';
import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { countersService } from '../../traffic/counters-service.js';
import { durationSchema } from '../../traffic/duration.js';
import { keyPartSchema } from '../../traffic/limit-key.js';
import { RateLimiter, limitName, type RateLimitConfig } from '../../traffic/rate-limiter.js';

type RateLimitsSection =
  readonly RateLimitConfig[] | { readonly headers?: boolean; readonly limits: readonly RateLimitConfig[] };

const limitSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['rate', 'per'],
  properties: {
    name: {
      type: 'string',
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'Policy name (in RateLimit headers, logs and consumer overrides).',
    },
    rate: { type: 'integer', minimum: 1, description: 'Requests admitted per `per`.' },
    per: { ...durationSchema, description: 'Period: `1s`, `1m`, `1h`, `1d` (or seconds).' },
    burst: { type: 'integer', minimum: 1, description: 'Requests admitted at once (default: `rate`).' },
    algorithm: {
      enum: ['gcra', 'sliding-window'],
      description: 'gcra (default: smooth, one key) or sliding-window (weighted previous window).',
    },
    key: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: keyPartSchema,
      description: 'Default [consumer].',
    },
    cost: { type: 'integer', minimum: 1, description: 'Units one request uses (default 1).' },
    onStoreError: {
      enum: ['fail-open', 'fail-closed'],
      description:
        'When Redis cannot answer: fail-open uses a local limit sized for this node, fail-closed answers 503.',
    },
    shared: { type: 'boolean', description: 'Count across every route with a shared limit of this name.' },
    ipv6Prefix: {
      type: 'integer',
      minimum: 1,
      maximum: 128,
      description: 'IPv6 grouping for `ip` (default 64).',
    },
    ipv4Prefix: {
      type: 'integer',
      minimum: 1,
      maximum: 32,
      description: 'IPv4 grouping for `ip` (default 32).',
    },
    fallbackNodes: {
      type: 'integer',
      minimum: 1,
      description: 'Share divisor for fail-open (default counters.expectedNodes).',
    },
  },
} as const;

const limitsSchema = { type: 'array', minItems: 1, items: limitSchema } as const;

export default defineStage<RateLimitsSection>({
  name: 'traffic.rate-limit',
  phase: 'access',
  order: ORDER.access.rateLimit,
  routeKey: 'rateLimits',
  routeSchema: {
    description: 'Rate limits for this route: a list of limits (all apply), or { headers, limits }.',
    oneOf: [
      limitsSchema,
      {
        type: 'object',
        additionalProperties: false,
        required: ['limits'],
        properties: {
          headers: {
            type: 'boolean',
            description: 'Send RateLimit / RateLimit-Policy headers (default true).',
          },
          limits: limitsSchema,
        },
      },
    ],
  },
  globalKey: 'counters',
  globalSchema: countersConfigSchema,
  build(section, build) {
    if (section === undefined) return undefined;
    const limits = Array.isArray(section)
      ? section
      : (section as { limits: readonly RateLimitConfig[] }).limits;
    const headers = Array.isArray(section) ? true : (section as { headers?: boolean }).headers !== false;
    if (limits.length === 0) return undefined;
    const seen = new Set<string>();
    limits.forEach((limit, i) => {
      const name = limitName(limit, i);
      if (seen.has(name))
        build.fail(`duplicate rate limit name "${name}"`, Array.isArray(section) ? `/${i}` : `/limits/${i}`);
      seen.add(name);
      if (limit.shared === true) {
        const id = `traffic.rate-limit.shared:${name}`;
        const signature = JSON.stringify({ ...limit, name });
        const previous = build.memo.get(id);
        if (previous !== undefined && previous !== signature) {
          build.fail(
            `shared rate limit "${name}" is declared differently on another route`,
            Array.isArray(section) ? `/${i}` : `/limits/${i}`,
          );
        }
        build.memo.set(id, signature);
      }
      if (limit.burst !== undefined && limit.algorithm === 'sliding-window') {
        build.warn(`burst is ignored by the sliding-window algorithm (limit "${name}")`);
      }
    });
    const limiter = new RateLimiter(limits, countersService(build), { routeName: build.route.name, headers });
    return { name: 'traffic.rate-limit', run: (ctx) => limiter.check(ctx) };
  },
});
