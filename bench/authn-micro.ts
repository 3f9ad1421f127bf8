/**
 * Micro-benchmark of authentication + RBAC on the hot path: builds the bench rows' routes
 * ('plain', 'api-key', 'jwt', 'rbac-owner') with the real route builder, a SQLite credential store
 * and keyring, then runs each route's access stages on a runner-like request context.
 * Prints CPU µs per request for each route and the extra over 'plain'. Asserts the outcome of
 * every request (200-equivalent: no throw), so a broken shortcut cannot look fast.
 * Run: `nice -n 10 node --import tsx bench/authn-micro.ts [iterations] [api-key,jwt,...]`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchJwtAuthn, benchKek, es256Tokens } from './lib/fixtures.js';
import { loadConfigFile } from '../src/config/load.js';
import { openCredentialAdmin } from '../src/authn/credential-admin-open.js';
import { createLogger } from '../src/observe/logger.js';
import { Metrics } from '../src/observe/metrics.js';
import { buildRouteTable } from '../src/pipeline/route-table.js';
import type { RequestContext } from '../src/pipeline/context.js';
import type { CompiledRoute } from '../src/pipeline/route.js';
import type { Identity } from '../src/pipeline/identity.js';

const iterations = Number(process.argv[2] ?? 200_000);
/** Optional: measure only these cases (comma-separated labels), e.g. for --cpu-prof. */
const only = process.argv[3]?.split(',');
const dir = mkdtempSync(join(tmpdir(), 'authn-micro-'));
process.env.AUTHN_MICRO_KEK = benchKek();

const credentialSections = {
  store: { type: 'sqlite', path: join(dir, 'credentials.db') },
  secrets: { kek: { provider: 'env', env: 'AUTHN_MICRO_KEK' } },
};
const base = {
  version: 1,
  listeners: [{ port: 0 }],
  upstreams: { up: { targets: [{ url: 'http://127.0.0.1:9' }] } },
  ...credentialSections,
};
const grantAll = { roles: { user: { permissions: ['*'] } } };

// Fixtures: one consumer with one key (as bench/lib/fixtures.ts), 300 ES256 tokens.
const setupFile = join(dir, 'setup.json');
writeFileSync(setupFile, JSON.stringify({ ...base, routes: [] }));
const { admin, close } = await openCredentialAdmin(await loadConfigFile(setupFile));
const consumer = await admin.createConsumer({ name: 'bench-user', roles: ['user'] });
const { key } = await admin.createKey('bench-user');
await close();

const { publicJwk, tokens } = await es256Tokens(300);

const config = {
  ...base,
  authn: benchJwtAuthn(publicJwk),
  routes: [
    { name: 'plain', match: { pathPrefix: '/plain' }, upstream: 'up', public: true },
    {
      name: 'api-key',
      match: { pathPrefix: '/items' },
      upstream: 'up',
      authentication: { anyOf: ['api_key'] },
      authorization: grantAll,
    },
    {
      name: 'jwt',
      match: { pathPrefix: '/jwt' },
      upstream: 'up',
      authentication: { anyOf: ['jwt:bench'] },
      authorization: grantAll,
    },
    {
      name: 'rbac-owner',
      match: { path: '/accounts/{accountId}', methods: ['GET'] },
      upstream: 'up',
      authentication: { anyOf: ['api_key'] },
      authorization: {
        roles: { user: { permissions: ['GET /accounts/{accountId}'] } },
        ownership: [
          { operation: 'GET /accounts/{accountId}', param: 'path.accountId', equals: 'identity.consumerId' },
        ],
      },
    },
  ],
};
const configFile = join(dir, 'gateway.json');
writeFileSync(configFile, JSON.stringify(config));

const closers: (() => unknown)[] = [];
const services = {
  logger: createLogger({ level: 'silent' }),
  metrics: new Metrics({ defaultMetrics: false }),
  shared: new Map<string, unknown>(),
  onClose(fn: () => unknown) {
    closers.push(fn);
  },
};
const table = await buildRouteTable(await loadConfigFile(configFile), services);
const routeNamed = (name: string): CompiledRoute => {
  const route = table.routes.find((r) => r.name === name);
  if (route === undefined) throw new Error(`no route ${name}`);
  return route;
};

/** The runner's request context, reduced to what access stages touch (lazy maps, as the runner). */
class Context implements RequestContext {
  method = 'GET';
  query = '';
  params: Record<string, string> = {};
  identity: Identity | undefined = undefined;
  operation: RequestContext['operation'] = undefined;
  readonly upstreamHeaders: Record<string, string> = {};
  private drop: Set<string> | undefined;
  get dropHeaders(): Set<string> {
    return (this.drop ??= new Set());
  }
  readonly responseHeaders: Record<string, string> = {};
  private scratch: Map<string, unknown> | undefined;
  get state(): Map<string, unknown> {
    return (this.scratch ??= new Map());
  }
  readonly logFields: Record<string, unknown> = {};
  readonly id = 'req-1';
  readonly startNs = 0n;
  readonly host = 'bench.local';
  readonly clientIp = '127.0.0.1';
  readonly protocol = 'http' as const;
  readonly tlsSocket = undefined;
  readonly body = {} as RequestContext['body'];

  constructor(
    readonly req: RequestContext['req'],
    readonly path: string,
    readonly route: CompiledRoute,
  ) {}

  header(name: string): string | undefined {
    const value = this.req.headers[name];
    if (value === undefined) return undefined;
    return Array.isArray(value) ? value.join(', ') : value;
  }
}

interface Case {
  readonly label: string;
  readonly route: CompiledRoute;
  readonly path: string;
  readonly params?: Record<string, string>;
  /** Request headers for request number i. */
  headers(i: number): Record<string, string>;
}

const baseHeaders = { host: 'bench.local', 'user-agent': 'wrk', accept: '*/*' };
const allCases: Case[] = [
  { label: 'plain', route: routeNamed('plain'), path: '/plain/42', headers: () => baseHeaders },
  {
    label: 'api-key',
    route: routeNamed('api-key'),
    path: '/items/42',
    headers: () => ({ ...baseHeaders, 'x-api-key': key }),
  },
  {
    label: 'jwt',
    route: routeNamed('jwt'),
    path: '/jwt/42',
    headers: (i) => ({ ...baseHeaders, authorization: `Bearer ${tokens[i % tokens.length]}` }),
  },
  {
    label: 'rbac-owner',
    route: routeNamed('rbac-owner'),
    path: `/accounts/${consumer.id}`,
    params: { accountId: consumer.id },
    headers: () => ({ ...baseHeaders, 'x-api-key': key }),
  },
];

const cases = allCases.filter((c) => c.label === 'plain' || only === undefined || only.includes(c.label));

/** Header objects built up front (the runner gets them from node:http), 300 per case. */
const prepared = cases.map((c) => Array.from({ length: 300 }, (_, i) => ({ headers: c.headers(i) })));

function runOnce(c: Case, req: { headers: Record<string, string> }): void | Promise<void> {
  const ctx = new Context(req as unknown as RequestContext['req'], c.path, c.route);
  if (c.params !== undefined) ctx.params = { ...c.params };
  const stages = c.route.access;
  for (let s = 0; s < stages.length; s++) {
    const result = stages[s]!.run(ctx);
    if (result instanceof Promise) {
      return result.then(async () => {
        for (let t = s + 1; t < stages.length; t++) await stages[t]!.run(ctx);
      });
    }
    if (result !== undefined) throw new Error(`${c.label}: unexpected local reply`);
  }
}

async function warm(c: Case, reqs: { headers: Record<string, string> }[]): Promise<void> {
  for (let i = 0; i < 2_000; i++) await runOnce(c, reqs[i % reqs.length]!);
}

function measure(c: Case, reqs: { headers: Record<string, string> }[]): { cpu: number; wall: number } {
  let asyncCalls = 0;
  const startCpu = process.cpuUsage();
  const startWall = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    if (runOnce(c, reqs[i % reqs.length]!) !== undefined) asyncCalls++;
  }
  const wallNs = Number(process.hrtime.bigint() - startWall);
  const used = process.cpuUsage(startCpu);
  if (asyncCalls > 0) throw new Error(`${c.label}: ${asyncCalls} requests went async (cache misses?)`);
  return { cpu: (used.user + used.system) / iterations, wall: wallNs / iterations / 1000 };
}

console.log(`${iterations} requests per round, 5 rounds, median; access stages per route:`);
for (const c of cases)
  console.log(`  ${c.label}: ${c.route.access.map((s) => s.name).join(', ') || '(none)'}`);
for (const [i, c] of cases.entries()) await warm(c, prepared[i]!);
const rounds: number[][] = cases.map(() => []);
const walls: number[][] = cases.map(() => []);
for (let r = 0; r < 5; r++) {
  // Interleave the cases so drift on the shared machine hits them all alike.
  for (const [i, c] of cases.entries()) {
    const { cpu, wall } = measure(c, prepared[i]!);
    rounds[i]!.push(cpu);
    walls[i]!.push(wall);
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const plain = median(rounds[0]!);
for (const [i, c] of cases.entries()) {
  const cpu = median(rounds[i]!);
  console.log(
    `${c.label.padEnd(11)} cpu ${cpu.toFixed(2).padStart(6)} µs/req  wall ${median(walls[i]!).toFixed(2).padStart(6)} µs/req  extra over plain ${(cpu - plain).toFixed(2).padStart(6)} µs`,
  );
}

await table.close();
for (const fn of closers) await fn();
rmSync(dir, { recursive: true, force: true });
