import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { ConfigError } from '../../../src/config/config-error.js';
import type { GatewayConfig, RouteConfig } from '../../../src/config/types.js';
import type { BuildContext } from '../../../src/pipeline/build-context.js';
import type { Services } from '../../../src/pipeline/services.js';
import type { AccessStage, AccessStageDefinition } from '../../../src/pipeline/stage.js';
import { Metrics } from '../../../src/observe/metrics.js';
import definition from '../../../src/stages/authn/authenticate.js';
import { credentialServices } from '../../../src/authn/credential-services.js';
import { CredentialAdmin } from '../../../src/authn/credential-admin.js';

/** Writes a fresh 32-byte KEK file (mode 0600) and returns the `secrets:` section using it. */
export async function kekSection(dir: string): Promise<{ kek: { provider: 'file'; path: string } }> {
  const path = join(dir, 'kek.key');
  await writeFile(path, randomBytes(32).toString('base64'), { mode: 0o600 });
  return { kek: { provider: 'file', path } };
}

export interface StageHarness {
  readonly dir: string;
  readonly services: Services;
  readonly logLines: Record<string, unknown>[];
  readonly metrics: Metrics;
  readonly admin: CredentialAdmin;
  build(route: Partial<RouteConfig>, authn?: Record<string, unknown>): Promise<AccessStage | undefined>;
  close(): Promise<void>;
}

/** A BuildContext around a real SQLite store and keyring in a temp dir. */
export async function stageHarness(): Promise<StageHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'pcs-authn-'));
  const logLines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logLines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  const closers: (() => Promise<void> | void)[] = [];
  const metrics = new Metrics({ defaultMetrics: false });
  const services: Services = {
    logger: pino({ level: 'info' }, sink),
    metrics,
    shared: new Map(),
    onClose: (fn) => void closers.push(fn),
  };
  const base: GatewayConfig = {
    version: 1,
    listeners: [],
    upstreams: {},
    routes: [],
    store: { type: 'sqlite', path: join(dir, 'store.db') },
    secrets: await kekSection(dir),
  };
  const { store, hash } = await credentialServices(services, base, dir);
  const admin = new CredentialAdmin(store, { hash, prefix: 'pcs' });
  return {
    dir,
    services,
    logLines,
    metrics,
    admin,
    async build(partial, authn) {
      const route = {
        name: 'orders',
        match: { pathPrefix: '/orders' },
        upstream: 'u',
        ...partial,
      } as RouteConfig;
      const config: GatewayConfig = { ...base, routes: [route], ...(authn === undefined ? {} : { authn }) };
      const pointer = '/routes/0/authentication';
      const build: BuildContext = {
        file: join(dir, 'portcullis.yaml'),
        configDir: dir,
        config,
        route,
        routeIndex: 0,
        pointer,
        services,
        memo: new Map(),
        resolvePath: (p) => join(dir, p),
        fail(message, subPointer = '') {
          throw new ConfigError(join(dir, 'portcullis.yaml'), [{ pointer: pointer + subPointer, message }]);
        },
        warn() {},
      };
      const stageDefinition = definition as AccessStageDefinition<unknown>;
      return stageDefinition.build(route.authentication, build);
    },
    async close() {
      for (const fn of closers) await fn();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
