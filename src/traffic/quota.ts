import type { StoreErrorPolicy } from '../counters/config.js';
import {
  CounterStoreUnavailable,
  type CounterStore,
  type Maybe,
  type QuotaCount,
} from '../counters/types.js';
import type { CredentialStore } from '../store/types.js';
import { createCalendar, type Calendar, type CalendarUnit } from './calendar.js';

export interface QuotaConfig {
  readonly name?: string;
  readonly limit: number;
  readonly period: CalendarUnit;
  readonly timeZone?: string;
  /** Who shares one counter: each consumer (default) or every consumer on a plan. */
  readonly per?: 'consumer' | 'plan';
  /** Limits by plan (`attributes.plan` of the consumer); `limit` applies to other plans. */
  readonly plans?: Readonly<Record<string, number>>;
  /** Where counts persist (default: `counters` when Redis, else `credential-store`). */
  readonly store?: 'counters' | 'credential-store';
  readonly cost?: number;
  readonly onStoreError?: StoreErrorPolicy;
  readonly headers?: boolean;
}

/** Persists quota counts: the counters store or the credential store. */
export interface QuotaBackend {
  readonly kind: 'counters' | 'credential-store';
  increment(key: string, periodId: string, cost: number, limit: number, ttlMs: number): Maybe<QuotaCount>;
  count(key: string, periodId: string): Maybe<number>;
  /** Forgets the count of every period. */
  reset(key: string, periodId: string): Promise<void>;
}

export function countersBackend(store: CounterStore): QuotaBackend {
  return {
    kind: 'counters',
    increment: (key, periodId, cost, limit, ttlMs) =>
      store.increment(`q:${key}:${periodId}`, cost, limit, ttlMs),
    count: (key, periodId) => store.count(`q:${key}:${periodId}`),
    reset: async (key, periodId) => {
      await store.delete(`q:${key}:${periodId}`);
    },
  };
}

/** Any store failure is a CounterStoreUnavailable, so the quota's `onStoreError` decides. */
export function credentialStoreBackend(
  store: () => CredentialStore | Promise<CredentialStore>,
): QuotaBackend {
  const pruned = new Set<string>();
  const wrap = async <T>(fn: (s: CredentialStore) => Promise<T>): Promise<T> => {
    try {
      return await fn(await store());
    } catch (error) {
      throw new CounterStoreUnavailable('credential store quota failed', { cause: error });
    }
  };
  return {
    kind: 'credential-store',
    increment: (key, periodId, cost, limit) =>
      wrap(async (s) => {
        const after = await s.incrementQuota(key, periodId, cost, limit);
        if (after === cost && !pruned.has(key)) {
          // first count of a new period: drop the old periods' rows once
          pruned.add(key);
          if (pruned.size > 10_000) pruned.clear();
          s.pruneQuotas(key, periodId).catch(() => undefined);
        }
        return after > limit ? { allowed: false, count: after - cost } : { allowed: true, count: after };
      }),
    count: (key, periodId) => wrap((s) => s.getQuota(key, periodId)),
    reset: (key) =>
      wrap(async (s) => {
        await s.pruneQuotas(key, '');
      }),
  };
}

export interface CompiledQuota {
  readonly name: string;
  readonly calendar: Calendar;
  readonly per: 'consumer' | 'plan';
  readonly cost: number;
  /** Stable counter key for a consumer id or plan name. */
  key(subject: string): string;
  /** The limit for a consumer's attributes. */
  limitFor(attributes: Readonly<Record<string, unknown>> | undefined): number;
  /** The subject of a caller: consumer id (or `ip:…` when anonymous) or plan name. */
  subjectOf(
    consumerId: string | undefined,
    attributes: Readonly<Record<string, unknown>> | undefined,
  ): string;
}

export function quotaName(config: QuotaConfig): string {
  return config.name ?? `${config.period}ly`.replace('dayly', 'daily');
}

/** Compiles one quota section (throws RangeError for an unknown time zone). */
export function compileQuota(config: QuotaConfig): CompiledQuota {
  const name = quotaName(config);
  const per = config.per ?? 'consumer';
  const plans = config.plans ?? {};
  return {
    name,
    calendar: createCalendar(config.period, config.timeZone ?? 'UTC'),
    per,
    cost: config.cost ?? 1,
    key: (subject) => `${name}:${per === 'plan' ? 'plan:' : ''}${subject}`,
    limitFor(attributes) {
      const override = (attributes?.quotas as Record<string, unknown> | undefined)?.[name];
      if (typeof override === 'number' && Number.isInteger(override) && override >= 0) return override;
      const plan = attributes?.plan;
      if (typeof plan === 'string' && Object.hasOwn(plans, plan)) return plans[plan] as number;
      return config.limit;
    },
    subjectOf(consumerId, attributes) {
      if (per === 'plan') {
        const plan = attributes?.plan;
        return typeof plan === 'string' ? plan : 'default';
      }
      return consumerId ?? 'anonymous';
    },
  };
}
