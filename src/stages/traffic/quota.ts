import type { CountersConfig } from '../../counters/config.js';
import { CounterStoreUnavailable, type QuotaCount } from '../../counters/types.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../pipeline/context.js';
import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import { sharedService } from '../../pipeline/services.js';
import { countersService } from '../../traffic/counters-service.js';
import { ipGroup } from '../../traffic/ip-prefix.js';
import {
  compileQuota,
  countersBackend,
  credentialStoreBackend,
  type QuotaBackend,
  type QuotaConfig,
} from '../../traffic/quota.js';
import { quotaRegistry } from '../../traffic/quota-registry.js';
import { quotaStore } from '../../traffic/quota-store.js';
import { policyItem, retryAfterSeconds, sfString, stateItem } from '../../traffic/rate-limit-headers.js';

function appendHeader(ctx: RequestContext, name: string, item: string): void {
  const current = ctx.responseHeaders[name];
  ctx.responseHeaders[name] = current === undefined || current === '' ? item : `${current}, ${item}`;
}

export default defineStage<QuotaConfig>({
  name: 'traffic.quota',
  phase: 'access',
  order: ORDER.access.quota,
  routeKey: 'quota',
  routeSchema: {
    type: 'object',
    description:
      'A calendar quota (per day or month, in a time zone) per consumer or plan, persisted across restarts.',
    additionalProperties: false,
    required: ['limit', 'period'],
    properties: {
      name: {
        type: 'string',
        pattern: '^[A-Za-z0-9_.-]{1,64}$',
        description: 'Quota name (default daily/monthly); routes with the same name share the count.',
      },
      limit: {
        type: 'integer',
        minimum: 0,
        description: 'Requests per period (for plans not listed in `plans`).',
      },
      period: { enum: ['day', 'month'] },
      timeZone: { type: 'string', description: 'IANA time zone the period follows (default UTC).' },
      per: { enum: ['consumer', 'plan'], description: 'One count per consumer (default) or per plan.' },
      plans: {
        type: 'object',
        description: 'Limits by plan (the consumer attribute `plan`).',
        additionalProperties: { type: 'integer', minimum: 0 },
      },
      store: {
        enum: ['counters', 'credential-store'],
        description: 'Where counts persist (default: counters when it is Redis, else the credential store).',
      },
      cost: { type: 'integer', minimum: 1 },
      onStoreError: {
        enum: ['fail-open', 'fail-closed'],
        description: 'When the store cannot answer: admit (fail-open) or 503 (fail-closed, the default).',
      },
      headers: {
        type: 'boolean',
        description: 'Add the quota to RateLimit / RateLimit-Policy (default true).',
      },
    },
  },
  build(config, build) {
    if (config === undefined) return undefined;
    let quota: ReturnType<typeof compileQuota>;
    try {
      quota = compileQuota(config);
    } catch (error) {
      if (error instanceof RangeError) build.fail(`unknown time zone "${config.timeZone}"`, '/timeZone');
      throw error;
    }
    const counters = build.config.counters as CountersConfig | undefined;
    const kind = config.store ?? (counters?.type === 'redis' ? 'counters' : 'credential-store');
    let backend: QuotaBackend;
    if (kind === 'counters') {
      if (counters?.type !== 'redis') {
        build.warn(
          'quota store "counters" is in memory: counts reset on restart (use Redis or credential-store)',
        );
      }
      backend = countersBackend(countersService(build).store);
    } else {
      const { services, config: gatewayConfig, configDir } = build;
      backend = sharedService(services, 'traffic.quota.credential-store', () =>
        credentialStoreBackend(() => quotaStore(services, gatewayConfig, configDir)),
      );
    }
    const registry = quotaRegistry(build.services);
    const previous = build.memo.get(`traffic.quota:${quota.name}`) as string | undefined;
    const signature = JSON.stringify({ ...config, name: quota.name });
    if (previous !== undefined && previous !== signature) {
      build.fail(`quota "${quota.name}" is declared differently on another route`, '/name');
    }
    build.memo.set(`traffic.quota:${quota.name}`, signature);
    registry.set(quota.name, { quota, backend });
    const policy = config.onStoreError ?? 'fail-closed';
    const headers = config.headers !== false;
    const quotedName = sfString(quota.name);
    const { storeFailed } = countersService(build);

    const decide = (
      ctx: RequestContext,
      r: QuotaCount,
      limit: number,
      now: number,
      endMs: number,
      startMs: number,
    ) => {
      if (headers) {
        appendHeader(ctx, 'ratelimit-policy', policyItem(quota.name, limit, endMs - startMs));
        appendHeader(ctx, 'ratelimit', stateItem(quotedName, limit - r.count, endMs - now));
      }
      if (r.allowed) return;
      ctx.logFields.quota = quota.name;
      throw new GatewayError('quota_exceeded', {
        headers: { 'retry-after': retryAfterSeconds(endMs - now) },
        reason: `quota:${quota.name}`,
      });
    };

    return {
      name: 'traffic.quota',
      run(ctx) {
        const now = Date.now();
        const period = quota.calendar.period(now);
        const identity = ctx.identity;
        const consumerId = identity?.consumerId ?? identity?.subject ?? `ip:${ipGroup(ctx.clientIp)}`;
        const subject = quota.subjectOf(consumerId, identity?.attributes);
        const limit = quota.limitFor(identity?.attributes);
        const ttlMs = period.endMs - now + 86_400_000;
        const r = backend.increment(quota.key(subject), period.id, quota.cost, limit, ttlMs);
        if (!(r instanceof Promise)) return decide(ctx, r, limit, now, period.endMs, period.startMs);
        return r.then(
          (counted) => decide(ctx, counted, limit, now, period.endMs, period.startMs),
          (error: unknown) => {
            if (!(error instanceof CounterStoreUnavailable)) throw error;
            storeFailed(error, quota.name, policy);
            ctx.logFields.counterStore = policy;
            if (policy === 'fail-open') return;
            throw new GatewayError('store_unavailable', {
              headers: { 'retry-after': '1' },
              reason: 'quota_store_unavailable',
            });
          },
        );
      },
    };
  },
});
