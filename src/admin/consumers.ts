import { GatewayError } from '../errors/gateway-error.js';
import { CredentialAdmin, CredentialAdminError } from '../authn/credential-admin.js';
import { credentialServices } from '../authn/credential-services.js';
import { apiKeySettings } from '../authn/api-key-runtime.js';
import type { AdminHandler, AdminModuleContext, AdminRequest, AdminRouter } from './router.js';

/**
 * Admin API for consumers, API keys and OAuth clients. Keys and client secrets appear exactly
 * once, in the answer to the call that creates them; nothing returns hashes.
 */
export function registerConsumerRoutes(router: AdminRouter, context: AdminModuleContext): void {
  const audit = context.services.logger.child({ audit: true, component: 'admin.credentials' });
  let opening: Promise<CredentialAdmin> | undefined;
  const admin = (): Promise<CredentialAdmin> => {
    opening ??= (async () => {
      const config = context.currentConfig();
      const { store, hash } = await credentialServices(context.services, config, context.configDir);
      return new CredentialAdmin(store, { hash, prefix: apiKeySettings(config).prefix });
    })();
    opening.catch(() => (opening = undefined));
    return opening;
  };
  const handle =
    (
      fn: (admin: CredentialAdmin, req: AdminRequest) => Promise<{ status?: number; body: unknown }>,
    ): AdminHandler =>
    async (req) => {
      try {
        const result = await fn(await admin(), req);
        return { status: result.status ?? 200, body: result.body };
      } catch (error) {
        throw toAdminError(error);
      }
    };

  router.route(
    'POST',
    '/admin/consumers',
    handle(async (a, req) => {
      const body = object(await req.json(), ['name', 'roles', 'tenant', 'attributes']);
      const consumer = await a.createConsumer({
        name: string(body, 'name', true) as string,
        ...optional('roles', stringList(body, 'roles')),
        ...optional('tenant', string(body, 'tenant')),
        ...optional('attributes', attributes(body)),
      });
      audit.info(
        { event: 'consumer_created', consumerId: consumer.id, name: consumer.name },
        'consumer created',
      );
      return { status: 201, body: consumer };
    }),
  );
  router.route(
    'GET',
    '/admin/consumers',
    handle(async (a, req) => ({ body: await a.listConsumers(req.query.get('tenant') ?? undefined) })),
  );
  router.route(
    'GET',
    '/admin/consumers/{id}',
    handle(async (a, req) => ({ body: await a.showConsumer(req.params.id ?? '') })),
  );
  router.route(
    'DELETE',
    '/admin/consumers/{id}',
    handle(async (a, req) => {
      const consumer = await a.findConsumer(req.params.id ?? '');
      // listed for the audit line only; the store deletes (and announces) whatever exists at commit
      const keys = await a.store.listApiKeys({ consumerId: consumer.id });
      const clients = await a.store.listClients({ consumerId: consumer.id });
      if (!(await a.store.deleteConsumer(consumer.id)))
        throw new CredentialAdminError('not_found', `no consumer ${req.params.id ?? ''}`);
      audit.info(
        {
          event: 'consumer_deleted',
          consumerId: consumer.id,
          name: consumer.name,
          lookupIds: keys.map((k) => k.lookupId),
          clientIds: clients.map((c) => c.clientId),
        },
        'consumer deleted',
      );
      return { status: 204, body: undefined };
    }),
  );
  for (const [action, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    router.route(
      'POST',
      `/admin/consumers/{id}/${action}`,
      handle(async (a, req) => {
        const consumer = await a.setConsumerDisabled(req.params.id ?? '', disabled);
        audit.info({ event: `consumer_${action}d`, consumerId: consumer.id }, `consumer ${action}d`);
        return { body: consumer };
      }),
    );
  }
  router.route(
    'POST',
    '/admin/consumers/{id}/keys',
    handle(async (a, req) => {
      const body = object(await req.json(), ['scopes', 'allowedCidrs', 'expiresAt']);
      const expiresAt = timestamp(body, 'expiresAt');
      const created = await a.createKey(req.params.id ?? '', {
        ...optional('scopes', stringList(body, 'scopes')),
        ...optional('allowedCidrs', stringList(body, 'allowedCidrs')),
        ...optional('expiresAt', expiresAt),
      });
      audit.info(
        {
          event: 'api_key_created',
          lookupId: created.record.lookupId,
          consumerId: created.record.consumerId,
        },
        'API key created',
      );
      return { status: 201, body: created };
    }),
  );
  router.route(
    'GET',
    '/admin/keys',
    handle(async (a, req) => ({ body: await a.listKeys(req.query.get('consumer') ?? undefined) })),
  );
  router.route(
    'GET',
    '/admin/keys/{lookupId}',
    handle(async (a, req) => ({ body: a.keyView(await a.getKey(req.params.lookupId ?? '')) })),
  );
  router.route(
    'POST',
    '/admin/keys/{lookupId}/rotate',
    handle(async (a, req) => {
      const body = object(await req.json(), ['overlapSec']);
      const overlapSec = number(body, 'overlapSec');
      const rotated = await a.rotateKey(
        req.params.lookupId ?? '',
        overlapSec === undefined ? undefined : overlapSec * 1000,
      );
      audit.info(
        {
          event: 'api_key_rotated',
          lookupId: rotated.previous.lookupId,
          successor: rotated.record.lookupId,
          notAfter: rotated.previous.notAfter,
        },
        'API key rotated',
      );
      return { status: 201, body: rotated };
    }),
  );
  router.route(
    'POST',
    '/admin/keys/{lookupId}/revoke',
    handle(async (a, req) => {
      const revoked = await a.revokeKey(req.params.lookupId ?? '');
      audit.info(
        { event: 'api_key_revoked', lookupId: revoked.lookupId, consumerId: revoked.consumerId },
        'API key revoked',
      );
      return { body: revoked };
    }),
  );
  router.route(
    'POST',
    '/admin/consumers/{id}/clients',
    handle(async (a, req) => {
      const body = object(await req.json(), ['allowedScopes', 'jwks']);
      const created = await a.createClient(req.params.id ?? '', {
        ...optional('allowedScopes', stringList(body, 'allowedScopes')),
        ...(body.jwks === undefined ? {} : { jwks: body.jwks }),
      });
      audit.info(
        {
          event: 'client_created',
          clientId: created.clientId,
          consumerId: created.record.consumerId,
          authMethod: created.record.authMethod,
        },
        'OAuth client created',
      );
      return { status: 201, body: created };
    }),
  );
  router.route(
    'GET',
    '/admin/clients',
    handle(async (a, req) => ({ body: await a.listClients(req.query.get('consumer') ?? undefined) })),
  );
  router.route(
    'GET',
    '/admin/clients/{clientId}',
    handle(async (a, req) => ({ body: await a.getClient(req.params.clientId ?? '') })),
  );
  router.route(
    'POST',
    '/admin/clients/{clientId}/revoke',
    handle(async (a, req) => {
      const revoked = await a.revokeClient(req.params.clientId ?? '');
      audit.info(
        { event: 'client_revoked', clientId: revoked.clientId, consumerId: revoked.consumerId },
        'OAuth client revoked',
      );
      return { body: revoked };
    }),
  );
}

function toAdminError(error: unknown): unknown {
  if (error instanceof CredentialAdminError) {
    const code =
      error.code === 'not_found'
        ? 'admin_not_found'
        : error.code === 'conflict'
          ? 'admin_conflict'
          : 'admin_bad_request';
    return new GatewayError(code, { detail: error.message });
  }
  return error;
}

function bad(detail: string): GatewayError {
  return new GatewayError('admin_bad_request', { detail });
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The JSON body as an object with only `allowed` members (a typo such as `scope` is refused, not ignored). */
function object(value: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('body must be a JSON object');
  const unknown = Object.keys(value).filter((key) => !allowed.includes(key));
  if (unknown.length > 0)
    throw bad(`unknown member(s): ${unknown.join(', ')}; expected ${allowed.join(', ')}`);
  return value as Record<string, unknown>;
}

function string(body: Record<string, unknown>, key: string, required = false): string | undefined {
  const value = body[key];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value === '' || value.length > 256)
    throw bad(`${key} must be a non-empty string`);
  return value;
}

function stringList(body: Record<string, unknown>, key: string): string[] | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > 100 || !value.every((item) => typeof item === 'string')) {
    throw bad(`${key} must be an array of at most 100 strings`);
  }
  return value as string[];
}

function number(body: Record<string, unknown>, key: string): number | undefined {
  const value = body[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw bad(`${key} must be a number >= 0`);
  return value;
}

/** ISO 8601 string or ms since epoch; `null` means no expiry. */
function timestamp(body: Record<string, unknown>, key: string): number | null | undefined {
  const value = body[key];
  if (value === undefined || value === null) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(Date.parse(value)))
    return Date.parse(value);
  throw bad(`${key} must be an ISO 8601 date or milliseconds since the epoch`);
}

function attributes(body: Record<string, unknown>): Record<string, unknown> | undefined {
  const value = body.attributes;
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('attributes must be an object');
  if (JSON.stringify(value).length > 16_384) throw bad('attributes too large');
  return value as Record<string, unknown>;
}
