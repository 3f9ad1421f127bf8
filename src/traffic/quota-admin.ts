import type { AdminModuleContext, AdminRouter } from '../admin/router.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { CredentialStore } from '../store/types.js';
import { quotaRegistry, quotaUsage, resetQuotas } from './quota-registry.js';
import { quotaStore } from './quota-store.js';

/** Who a quota request is about: a consumer (id or name, resolved for its plan) or a plan. */
export async function resolveQuotaSubject(
  store: () => CredentialStore | Promise<CredentialStore>,
  consumer: string | undefined,
  plan: string | undefined,
): Promise<
  { consumerId?: string; attributes?: Readonly<Record<string, unknown>>; plan?: string } | undefined
> {
  if (consumer === undefined) return plan === undefined ? undefined : { plan };
  const s = await store();
  const found = (await s.getConsumer(consumer)) ?? (await s.getConsumerByName(consumer));
  if (found === null) return undefined;
  return { consumerId: found.id, attributes: found.attributes, ...(plan === undefined ? {} : { plan }) };
}

/**
 * `GET /admin/quotas?consumer=<id|name>` or `?plan=<plan>`: current usage of every quota.
 * `POST /admin/quotas/reset` `{ consumer | plan, quotas?: [names] }`: forgets the counts.
 */
export function registerQuotaRoutes(router: AdminRouter, context: AdminModuleContext): void {
  const audit = context.services.logger.child({ audit: true, component: 'admin.quotas' });
  const store = (): Promise<CredentialStore> =>
    quotaStore(context.services, context.currentConfig(), context.configDir);
  const subject = async (consumer: unknown, plan: unknown) => {
    if (
      (consumer !== undefined && typeof consumer !== 'string') ||
      (plan !== undefined && typeof plan !== 'string')
    ) {
      throw new GatewayError('admin_bad_request', { detail: 'consumer and plan are strings' });
    }
    if (consumer === undefined && plan === undefined) {
      throw new GatewayError('admin_bad_request', { detail: 'name a consumer or a plan' });
    }
    const who = await resolveQuotaSubject(store, consumer, plan);
    if (who === undefined) throw new GatewayError('admin_not_found', { detail: 'no such consumer' });
    return who;
  };
  router.route('GET', '/admin/quotas', async (req) => {
    const who = await subject(req.query.get('consumer') ?? undefined, req.query.get('plan') ?? undefined);
    return { status: 200, body: await quotaUsage(quotaRegistry(context.services).values(), who) };
  });
  router.route('POST', '/admin/quotas/reset', async (req) => {
    const body = (await req.json()) as Record<string, unknown>;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new GatewayError('admin_bad_request', { detail: 'expected a JSON object' });
    }
    const unknown = Object.keys(body).filter((k) => !['consumer', 'plan', 'quotas'].includes(k));
    if (unknown.length > 0)
      throw new GatewayError('admin_bad_request', { detail: `unknown member ${unknown[0]}` });
    const names = body.quotas ?? [];
    if (!Array.isArray(names) || !names.every((n) => typeof n === 'string')) {
      throw new GatewayError('admin_bad_request', { detail: 'quotas is a list of names' });
    }
    const who = await subject(body.consumer, body.plan);
    const reset = await resetQuotas(quotaRegistry(context.services).values(), who, names as string[]);
    audit.info(
      { event: 'quota_reset', consumerId: who.consumerId, plan: who.plan, quotas: reset },
      'quotas reset',
    );
    return { status: 200, body: { reset } };
  });
}
