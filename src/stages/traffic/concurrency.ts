import { GatewayError } from '../../errors/gateway-error.js';
import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { sharedService } from '../../pipeline/services.js';
import { ConcurrencyLimiter } from '../../traffic/concurrency-limiter.js';
import { holdSlot } from '../../traffic/concurrency-slot.js';

interface ConcurrencyConfig {
  readonly max: number;
  readonly queue?: number;
  readonly queueTimeoutMs?: number;
  readonly scope?: 'upstream' | 'route';
}

function refused(reason: string): GatewayError {
  return new GatewayError('concurrency_limited', { headers: { 'retry-after': '1' }, reason });
}

export default defineStage<ConcurrencyConfig>({
  name: 'traffic.concurrency',
  phase: 'access',
  order: ORDER.access.concurrency,
  routeKey: 'concurrency',
  routeSchema: {
    type: 'object',
    description:
      "Most requests in flight to this route's upstream (shared by every route using it), with a bounded wait queue.",
    additionalProperties: false,
    required: ['max'],
    properties: {
      max: { type: 'integer', minimum: 1, description: 'Requests in flight at once.' },
      queue: {
        type: 'integer',
        minimum: 0,
        description: 'Requests that may wait for a slot (default 0); past it, 503.',
      },
      queueTimeoutMs: {
        type: 'integer',
        minimum: 1,
        description: 'Longest wait for a slot (default 1000); then 503.',
      },
      scope: { enum: ['upstream', 'route'], description: 'Count per upstream (default) or per route.' },
    },
  },
  build(config, build) {
    if (config === undefined) return undefined;
    const scope = config.scope ?? 'upstream';
    const name = scope === 'upstream' ? build.route.upstream : build.route.name;
    const id = `traffic.concurrency:${scope}:${name}`;
    const settings = [config.max, config.queue ?? 0, config.queueTimeoutMs ?? 1000] as const;
    const previous = build.memo.get(id) as string | undefined;
    const signature = settings.join('/');
    if (previous !== undefined && previous !== signature) {
      build.fail(
        `every route on upstream "${name}" must declare the same concurrency limits (${previous} vs ${signature})`,
      );
    }
    build.memo.set(id, signature);
    const limiter = sharedService(build.services, id, () => new ConcurrencyLimiter(...settings));
    limiter.update(...settings);
    return {
      name: 'traffic.concurrency',
      run(ctx) {
        const granted = limiter.acquire();
        if (granted === true) return holdSlot(ctx, limiter);
        if (granted === false) throw refused('concurrency_queue_full');
        return granted.then((ok) => {
          if (!ok) throw refused('concurrency_wait_timeout');
          holdSlot(ctx, limiter);
        });
      },
    };
  },
});
