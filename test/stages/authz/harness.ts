import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CREDENTIAL_SERVICES_KEY, credentialServices } from '../../../src/authn/credential-services.js';
import { CredentialAdmin } from '../../../src/authn/credential-admin.js';
import type { GatewayConfig } from '../../../src/config/types.js';
import { Metrics } from '../../../src/observe/metrics.js';
import type { Services } from '../../../src/pipeline/services.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream, type UpstreamHandler } from '../../helpers/upstream.js';

export interface ConsumerSpec {
  readonly name: string;
  readonly roles?: readonly string[];
  readonly tenant?: string;
  readonly attributes?: Record<string, unknown>;
  readonly scopes?: readonly string[];
}

export interface AuthzGateway {
  readonly gw: TestGateway;
  readonly upstream: TestUpstream;
  /** API key of each consumer, by name. */
  readonly keys: Record<string, string>;
  /** fetch through the gateway as `consumer` (or anonymously when undefined). */
  call(consumer: string | undefined, path: string, init?: RequestInit): Promise<Response>;
  /** Reloads with other routes (and shared roles), same upstream, store and consumers. */
  reload(routes: readonly Record<string, unknown>[], roles?: Record<string, unknown>): Promise<void>;
  /** Audit lines of the authorization stages. */
  audits(): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * A real gateway in front of a real loopback upstream, with API-key consumers in a fresh SQLite
 * store. Every route gets `authentication: { anyOf: [api_key] }` unless it is public or sets its own.
 */
export async function authzGateway(options: {
  readonly routes: readonly Record<string, unknown>[];
  readonly consumers: readonly ConsumerSpec[];
  readonly roles?: Record<string, unknown>;
  readonly files?: Record<string, string>;
  readonly upstream?: UpstreamHandler;
  readonly extra?: Record<string, unknown>;
}): Promise<AuthzGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'pcs-authz-'));
  const kekPath = join(dir, 'kek.key');
  await writeFile(kekPath, randomBytes(32).toString('base64'), { mode: 0o600 });
  const store = { type: 'sqlite', path: join(dir, 'store.db') };
  const secrets = { kek: { provider: 'file', path: kekPath } };
  const keys: Record<string, string> = {};
  const closers: (() => Promise<void> | void)[] = [];
  const shared = new Map<string, unknown>();
  {
    const services: Services = {
      logger: pino({ level: 'silent' }),
      metrics: new Metrics({ defaultMetrics: false }),
      shared: new Map(),
      onClose: (fn) => void closers.push(fn),
    };
    const base = {
      version: 1,
      listeners: [],
      upstreams: {},
      routes: [],
      store,
      secrets,
    } as unknown as GatewayConfig;
    const credentials = credentialServices(services, base, dir);
    shared.set(CREDENTIAL_SERVICES_KEY, credentials);
    const { store: credentialStore, hash } = await credentials;
    const admin = new CredentialAdmin(credentialStore, { hash, prefix: 'pcs' });
    for (const consumer of options.consumers) {
      await admin.createConsumer({
        name: consumer.name,
        roles: consumer.roles ?? [],
        ...(consumer.tenant === undefined ? {} : { tenant: consumer.tenant }),
        attributes: consumer.attributes ?? {},
      });
      keys[consumer.name] = (
        await admin.createKey(consumer.name, { scopes: [...(consumer.scopes ?? [])] })
      ).key;
    }
  }
  const closeStore = async () => {
    for (const fn of closers.reverse()) await fn();
  };
  const upstream = await startUpstream(options.upstream);
  const configFor = (
    routeList: readonly Record<string, unknown>[],
    roles: Record<string, unknown> | undefined,
  ) => ({
    upstreams: { app: { targets: [{ url: upstream.url }] } },
    ...(roles === undefined ? {} : { roles }),
    routes: routeList.map((route) =>
      route.public === true || route.authentication !== undefined
        ? { upstream: 'app', ...route }
        : { upstream: 'app', authentication: { anyOf: ['api_key'] }, ...route },
    ),
    ...options.extra,
  });
  let gw: TestGateway;
  try {
    gw = await startGateway(configFor(options.routes, options.roles), {
      dir,
      shared,
      ...(options.files === undefined ? {} : { files: options.files }),
    });
  } catch (error) {
    await upstream.close();
    await closeStore();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    gw,
    upstream,
    keys,
    call(consumer, path, init = {}) {
      const headers = new Headers(init.headers);
      if (consumer !== undefined) headers.set('x-api-key', keys[consumer] as string);
      return fetch(gw.url + path, { ...init, headers });
    },
    reload: (routeList, roles) => gw.reload(configFor(routeList, roles)),
    audits: () => gw.logs.filter((line) => line.audit === true && line.component === 'authz'),
    async close() {
      await gw.close();
      await upstream.close();
      await closeStore();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
