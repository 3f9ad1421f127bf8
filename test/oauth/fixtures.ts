import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import serverStage from '../../src/stages/oauth/server.js';
import { oauthRuntime, type OAuthRuntime } from '../../src/oauth/runtime.js';
import type { OAuthServerConfig } from '../../src/oauth/config.js';
import type { AccessStage, LocalReply } from '../../src/pipeline/stage.js';
import type { RequestContext } from '../../src/pipeline/context.js';
import type { GatewayConfig } from '../../src/config/types.js';
import { testBuild, testServices } from '../authn/jwt-fixtures.js';

export const ISSUER = 'https://gw.test';

export interface OAuthHarness {
  readonly dir: string;
  readonly config: Partial<GatewayConfig>;
  readonly stage: AccessStage;
  readonly runtime: OAuthRuntime;
  readonly services: ReturnType<typeof testServices>;
  /** Creates a consumer and a client with a secret and/or public keys. */
  client(input: {
    id: string;
    secret?: string;
    jwks?: Record<string, unknown>;
    scopes?: string[];
  }): Promise<void>;
  close(): Promise<void>;
}

export async function startOAuth(
  overrides: Partial<OAuthServerConfig> = {},
  bruteForce: Record<string, unknown> = { maxFailures: 1000 },
): Promise<OAuthHarness> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-oauth-'));
  const kek = join(dir, 'kek.key');
  await writeFile(kek, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  const config: Partial<GatewayConfig> = {
    store: { type: 'sqlite', path: join(dir, 'store.db') },
    secrets: { kek: { provider: 'file', path: kek } },
    oauthServer: { issuer: ISSUER, tokenTtlSec: 300, ...overrides },
    authn: { bruteForce },
  };
  const services = testServices();
  const build = {
    ...testBuild(config, { oauthServer: {} }, services),
    configDir: dir,
    pointer: '/routes/0/oauthServer',
  };
  const stage = (await serverStage.build({}, build)) as AccessStage;
  const runtime = await oauthRuntime(build, config.oauthServer as OAuthServerConfig);
  return {
    dir,
    config,
    stage,
    runtime,
    services,
    async client({ id, secret, jwks, scopes }) {
      const consumer = await runtime.store.createConsumer({ name: `consumer-of-${id}` });
      await runtime.store.createClient({
        clientId: id,
        consumerId: consumer.id,
        secretHash: secret === undefined ? null : runtime.hash(secret),
        jwks: jwks ?? null,
        allowedScopes: scopes ?? ['orders:read', 'orders:write'],
      });
    },
    async close() {
      await services.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface FakeRequest {
  readonly method?: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly form?: Record<string, string> | string;
  readonly contentType?: string;
  readonly tlsSocket?: Partial<TLSSocket>;
}

export function requestContext(request: FakeRequest): RequestContext {
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const raw =
    request.form === undefined
      ? Buffer.alloc(0)
      : Buffer.from(
          typeof request.form === 'string' ? request.form : new URLSearchParams(request.form).toString(),
        );
  return {
    id: 'req',
    method: request.method ?? 'POST',
    path: request.path,
    query: '',
    host: 'gw.test',
    clientIp: '127.0.0.1',
    protocol: 'https',
    tlsSocket: request.tlsSocket as TLSSocket | undefined,
    params: {},
    identity: undefined,
    upstreamHeaders: {},
    dropHeaders: new Set(),
    responseHeaders: {},
    state: new Map(),
    logFields: {},
    header: (name: string) => headers[name.toLowerCase()],
    body: {
      present: raw.length > 0,
      declaredLength: raw.length,
      mediaType:
        request.contentType ?? (request.form === undefined ? undefined : 'application/x-www-form-urlencoded'),
      buffered: false,
      parsed: new Map(),
      read: async () => raw,
      replace: () => {},
    },
  } as unknown as RequestContext;
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[]>;
  readonly json: Record<string, unknown>;
}

export async function send(stage: AccessStage, request: FakeRequest): Promise<Reply> {
  const reply = (await stage.run(requestContext(request))) as LocalReply;
  const text = reply.body === undefined ? '' : reply.body.toString();
  return {
    status: reply.status,
    headers: reply.headers ?? {},
    json: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

export function basic(id: string, secret: string): Record<string, string> {
  const enc = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return { authorization: `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}` };
}
