import { sharedService, type Services } from '../pipeline/services.js';
import type { CompiledQuota, QuotaBackend } from './quota.js';

export interface RegisteredQuota {
  readonly quota: CompiledQuota;
  readonly backend: QuotaBackend;
}

/** The quotas of the loaded config by name, for the admin API and CLI (replaced on reload). */
export function quotaRegistry(services: Services): Map<string, RegisteredQuota> {
  return sharedService(services, 'traffic.quotas', () => new Map<string, RegisteredQuota>());
}

export interface QuotaUsage {
  readonly quota: string;
  readonly per: 'consumer' | 'plan';
  readonly subject: string;
  readonly period: string;
  readonly used: number;
  readonly limit: number;
  readonly resetsAt: string;
}

/** Current usage of every quota for a consumer (id + attributes) or a plan. */
export async function quotaUsage(
  quotas: Iterable<RegisteredQuota>,
  who: {
    readonly consumerId?: string;
    readonly attributes?: Readonly<Record<string, unknown>>;
    readonly plan?: string;
  },
  now = Date.now(),
): Promise<QuotaUsage[]> {
  const out: QuotaUsage[] = [];
  for (const { quota, backend } of quotas) {
    const attributes = who.plan === undefined ? who.attributes : { ...who.attributes, plan: who.plan };
    if (quota.per === 'consumer' && who.consumerId === undefined) continue;
    const subject = quota.subjectOf(who.consumerId, attributes);
    const period = quota.calendar.period(now);
    out.push({
      quota: quota.name,
      per: quota.per,
      subject,
      period: period.id,
      used: await backend.count(quota.key(subject), period.id),
      limit: quota.limitFor(attributes),
      resetsAt: new Date(period.endMs).toISOString(),
    });
  }
  return out;
}

/** Resets the named quotas (all when `names` is empty) for a consumer or plan. */
export async function resetQuotas(
  quotas: Iterable<RegisteredQuota>,
  who: {
    readonly consumerId?: string;
    readonly attributes?: Readonly<Record<string, unknown>>;
    readonly plan?: string;
  },
  names: readonly string[] = [],
  now = Date.now(),
): Promise<string[]> {
  const done: string[] = [];
  for (const { quota, backend } of quotas) {
    if (names.length > 0 && !names.includes(quota.name)) continue;
    const attributes = who.plan === undefined ? who.attributes : { ...who.attributes, plan: who.plan };
    if (quota.per === 'consumer' && who.consumerId === undefined) continue;
    await backend.reset(
      quota.key(quota.subjectOf(who.consumerId, attributes)),
      quota.calendar.period(now).id,
    );
    done.push(quota.name);
  }
  return done;
}
