import type { Probe } from './lib/gateway.js';
import { benchJwtAuthn } from './lib/fixtures.js';
import type { BenchRedis } from './lib/redis.js';
import { injectionOrderBody, invalidOrderBody, orderBody } from './lib/payloads.js';

/** What wrk sends to a row (turned into a wrk Lua script by bench/lib/load-script.ts). */
export interface Load {
  readonly path: string;
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Rotate this header through these values, one per request. */
  readonly rotate?: { readonly header: string; readonly values: readonly string[] };
  /** Status every measured response should have (the flood row expects 401). */
  readonly expectStatus: number;
}

/** Fixtures created once per run and shared by the rows that need them. */
export interface Fixtures {
  readonly dir: string;
  readonly upstreamUrl: string;
  readonly specFile: string;
  /** An API key in the run's SQLite store; `config` holds the `store` and `secrets` sections. */
  apiKey(): Promise<{ key: string; consumerId: string; config: Record<string, unknown> }>;
  jwt(): Promise<{ publicJwk: Record<string, unknown>; tokens: readonly string[] }>;
  redis(): Promise<BenchRedis>;
}

export interface GatewaySetup {
  /** Route and global sections added to the base config. */
  readonly config: Record<string, unknown>;
  readonly load: Load;
  /**
   * A second request and the status it must get, proving the feature is really on (usually an
   * attack that must be refused). A row whose check fails is skipped, not measured.
   */
  readonly check?: Probe;
  /** Uses the run's Redis: count its commands per request. */
  readonly redis?: boolean;
  /** Extra node flags for the gateway process (diagnostic rows). */
  readonly nodeArgs?: readonly string[];
}

export interface GatewayRow {
  readonly kind: 'gateway';
  readonly id: string;
  readonly label: string;
  /** The row this one is compared with ("the same without the feature"). */
  readonly compareTo?: string;
  /** Targets from the issues: minimum ratio to `compareTo`. */
  readonly target?: number;
  /** A diagnostic row, measured only when named with --only or with --all. */
  readonly extra?: boolean;
  /** Run the gateway build given with --alt-main (A/B a change against dist/). */
  readonly altMain?: boolean;
  readonly setup: (fx: Fixtures) => Promise<GatewaySetup>;
}

export interface FixedRow {
  readonly kind: 'direct' | 'nginx' | 'bare';
  readonly id: string;
  readonly label: string;
  readonly extra?: boolean;
}

export type Row = GatewayRow | FixedRow;

const route = (extra: Record<string, unknown>) => ({
  name: 'bench',
  match: { pathPrefix: '/' },
  upstream: 'up',
  ...extra,
});

const publicRoute = (extra: Record<string, unknown> = {}) => ({
  routes: [route({ public: true, ...extra })],
});

const grantAll = { roles: { user: { permissions: ['*'] } } };

/** The plain rows' request: a small GET answered 200 by the bench upstream. */
const getItem: Load = { path: '/items/42', expectStatus: 200 };

const postOrder: Load = {
  path: '/orders',
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: orderBody(),
  expectStatus: 200,
};

const jsonPost = (body: string): Omit<Probe, 'expectStatus'> => ({
  path: '/orders',
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body,
});

/** A limit so high it never refuses: measures the limiter's cost, not its refusals. */
const neverLimits = [{ name: 'bench', rate: 100_000_000, per: '1s', key: ['ip'] }];

export const ROWS: readonly Row[] = [
  { kind: 'direct', id: 'direct', label: 'direct to upstream (no proxy)' },
  { kind: 'nginx', id: 'nginx', label: 'nginx 1.22, 1 worker' },
  { kind: 'bare', id: 'bare-node', label: 'bare node:http + undici Pool proxy (bench/bare-proxy.ts)' },
  {
    kind: 'bare',
    id: 'bare-dispatch',
    label: 'bare proxy on undici dispatch (bench/bare-dispatch.ts)',
  },
  {
    kind: 'gateway',
    id: 'plain',
    label: 'Portcullis plain proxy, 1 worker, access log off',
    setup: async () => ({ config: publicRoute(), load: getItem }),
  },
  {
    kind: 'gateway',
    id: 'plain-no-response-stage',
    label: 'plain proxy without the default response stage (upstreamErrors.replace5xx: false)',
    compareTo: 'plain',
    extra: true,
    setup: async () => ({
      config: publicRoute({ upstreamErrors: { replace5xx: false } }),
      load: getItem,
    }),
  },
  {
    kind: 'gateway',
    id: 'plain-alt',
    label: 'plain proxy, the build given with --alt-main',
    compareTo: 'plain',
    extra: true,
    altMain: true,
    setup: async () => ({ config: publicRoute(), load: getItem }),
  },
  {
    kind: 'gateway',
    id: 'plain-semi32',
    label: 'plain proxy with node --max-semi-space-size=32 (larger young generation)',
    compareTo: 'plain',
    extra: true,
    setup: async () => ({
      config: publicRoute(),
      load: getItem,
      nodeArgs: ['--max-semi-space-size=32'],
    }),
  },
  {
    kind: 'gateway',
    id: 'plain-stgc',
    label: 'plain proxy with node --single-threaded-gc (no GC helper threads)',
    compareTo: 'plain',
    extra: true,
    setup: async () => ({
      config: publicRoute(),
      load: getItem,
      nodeArgs: ['--single-threaded-gc'],
    }),
  },
  {
    kind: 'gateway',
    id: 'plain-log',
    label: 'Portcullis plain proxy, 1 worker, access log on (to /dev/null)',
    compareTo: 'plain',
    setup: async () => ({
      config: { ...publicRoute(), logging: { level: 'info', accessLog: true, destination: '/dev/null' } },
      load: getItem,
    }),
  },
  {
    kind: 'gateway',
    id: 'workers2',
    label: 'Portcullis plain proxy, `workers: 2`, access log off',
    compareTo: 'plain',
    setup: async () => ({
      config: { ...publicRoute(), workers: 2 },
      load: getItem,
    }),
  },
  {
    kind: 'gateway',
    id: 'api-key',
    label: 'API-key auth (+ grant-all RBAC, required by deny-by-default)',
    compareTo: 'plain',
    target: 0.9,
    setup: async (fx) => {
      const { key, config } = await fx.apiKey();
      return {
        config: {
          ...config,
          routes: [route({ authentication: { anyOf: ['api_key'] }, authorization: grantAll })],
        },
        load: { path: '/items/42', headers: { 'x-api-key': key }, expectStatus: 200 },
        check: { path: '/items/42', headers: { 'x-api-key': `${key.slice(0, -3)}abc` }, expectStatus: 401 },
      };
    },
  },
  {
    kind: 'gateway',
    id: 'jwt',
    label: 'ES256 JWT auth, 300 distinct tokens rotated (+ grant-all RBAC)',
    compareTo: 'plain',
    target: 0.8,
    setup: async (fx) => {
      const { publicJwk, tokens } = await fx.jwt();
      return {
        config: {
          authn: benchJwtAuthn(publicJwk),
          routes: [route({ authentication: { anyOf: ['jwt:bench'] }, authorization: grantAll })],
        },
        load: {
          path: '/items/42',
          rotate: { header: 'authorization', values: tokens.map((t) => `Bearer ${t}`) },
          expectStatus: 200,
        },
        check: {
          path: '/items/42',
          headers: { authorization: `Bearer ${(tokens[0] as string).slice(0, -4)}AAAA` },
          expectStatus: 401,
        },
      };
    },
  },
  {
    kind: 'gateway',
    id: 'rbac-owner',
    label: 'API key + RBAC permission + 1 ownership rule (path id = consumer)',
    compareTo: 'api-key',
    target: 0.95,
    setup: async (fx) => {
      const { key, consumerId, config } = await fx.apiKey();
      return {
        config: {
          ...config,
          routes: [
            {
              name: 'accounts',
              match: { path: '/accounts/{accountId}', methods: ['GET'] },
              upstream: 'up',
              authentication: { anyOf: ['api_key'] },
              authorization: {
                roles: { user: { permissions: ['GET /accounts/{accountId}'] } },
                ownership: [
                  {
                    operation: 'GET /accounts/{accountId}',
                    param: 'path.accountId',
                    equals: 'identity.consumerId',
                  },
                ],
              },
            },
          ],
        },
        load: { path: `/accounts/${consumerId}`, headers: { 'x-api-key': key }, expectStatus: 200 },
        check: { path: '/accounts/someone-else', headers: { 'x-api-key': key }, expectStatus: 403 },
      };
    },
  },
  {
    kind: 'gateway',
    id: 'post-plain',
    label: 'plain proxy, 2 KB JSON POST (no validation)',
    compareTo: 'plain',
    setup: async () => ({ config: publicRoute(), load: postOrder }),
  },
  {
    kind: 'gateway',
    id: 'openapi',
    label: '2 KB JSON POST validated against its OpenAPI schema (strict)',
    compareTo: 'post-plain',
    target: 0.9,
    setup: async (fx) => ({
      config: publicRoute({ openapi: { spec: fx.specFile, responses: { mode: 'off' } } }),
      load: postOrder,
      check: { ...jsonPost(invalidOrderBody()), expectStatus: 400 },
    }),
  },
  {
    kind: 'gateway',
    id: 'openapi-injection',
    label: 'the same + injection checks (block, paranoia 1)',
    compareTo: 'post-plain',
    target: 0.8,
    setup: async (fx) => ({
      config: publicRoute({
        openapi: { spec: fx.specFile, responses: { mode: 'off' } },
        injection: { mode: 'block' },
      }),
      load: postOrder,
      check: { ...jsonPost(injectionOrderBody()), expectStatus: 403 },
    }),
  },
  {
    kind: 'gateway',
    id: 'rl-memory',
    label: 'plain proxy + memory rate limiter (GCRA, never refusing)',
    compareTo: 'plain',
    target: 0.97,
    setup: async () => ({
      config: { counters: { type: 'memory' }, ...publicRoute({ rateLimits: neverLimits }) },
      load: getItem,
    }),
  },
  {
    kind: 'gateway',
    id: 'rl-memory-no-headers',
    label: 'the memory rate limiter without RateLimit headers (rateLimits.headers: false)',
    compareTo: 'plain',
    extra: true,
    setup: async () => ({
      config: {
        counters: { type: 'memory' },
        ...publicRoute({ rateLimits: { headers: false, limits: neverLimits } }),
      },
      load: getItem,
    }),
  },
  {
    kind: 'gateway',
    id: 'rl-redis',
    label: 'plain proxy + Redis rate limiter (GCRA, own redis-server)',
    compareTo: 'plain',
    target: 0.8,
    setup: async (fx) => {
      const redis = await fx.redis();
      return {
        config: { counters: { type: 'redis', url: redis.url }, ...publicRoute({ rateLimits: neverLimits }) },
        load: getItem,
        redis: true,
      };
    },
  },
  {
    kind: 'gateway',
    id: 'flood',
    label: 'flood of unauthenticated requests on the API-key route (401s)',
    compareTo: 'plain',
    setup: async (fx) => {
      const { key, config } = await fx.apiKey();
      return {
        config: {
          ...config,
          routes: [route({ authentication: { anyOf: ['api_key'] }, authorization: grantAll })],
        },
        load: { path: '/items/42', expectStatus: 401 },
        check: { path: '/items/42', headers: { 'x-api-key': key }, expectStatus: 200 },
      };
    },
  },
];
