import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import type { Fixtures } from '../rows.js';
import { writeConfig } from './gateway.js';
import { runCommand } from './process.js';
import { startRedis, type BenchRedis } from './redis.js';

export const KEK_ENV = 'PORTCULLIS_BENCH_KEK';

/** `count` distinct ES256 tokens for the bench issuer, and its public key as a JWK. */
export async function es256Tokens(
  count: number,
): Promise<{ publicJwk: Record<string, unknown>; tokens: string[] }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'ES256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const tokens: string[] = [];
  for (let i = 0; i < count; i++) {
    tokens.push(
      await new SignJWT({ roles: ['user'], scope: 'items:read' })
        .setProtectedHeader({ alg: 'ES256', kid: 'bench-1', typ: 'JWT' })
        .setIssuer('https://issuer.bench.local')
        .setAudience('bench-api')
        .setSubject(`user-${i}`)
        .setJti(randomBytes(8).toString('hex'))
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(privateKey),
    );
  }
  return { publicJwk, tokens };
}

/** The `authn` section that trusts the tokens of `es256Tokens` (roles from the `roles` claim). */
export function benchJwtAuthn(publicJwk: Record<string, unknown>): Record<string, unknown> {
  return {
    jwt: {
      issuers: {
        bench: {
          issuer: 'https://issuer.bench.local',
          audience: 'bench-api',
          algorithms: ['ES256'],
          keys: [publicJwk],
          claims: { roles: 'roles' },
        },
      },
    },
  };
}

/** Creates each fixture on first use; `close` stops what was started. */
export function createFixtures(options: {
  dir: string;
  upstreamUrl: string;
  specFile: string;
  main: string;
  env: NodeJS.ProcessEnv;
}): Fixtures & { close(): Promise<void> } {
  const { dir, main, env } = options;
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(name: string, create: () => Promise<T>): Promise<T> => {
    let value = memo.get(name) as Promise<T> | undefined;
    if (value === undefined) {
      value = create();
      memo.set(name, value);
    }
    return value;
  };
  let redis: BenchRedis | undefined;

  const credentialSections = {
    store: { type: 'sqlite', path: `${dir}/credentials.db` },
    secrets: { kek: { provider: 'env', env: KEK_ENV } },
  };

  const cli = async (...args: string[]): Promise<unknown> => {
    const file = writeConfig(dir, 'cli', {
      version: 1,
      listeners: [{ port: 0 }],
      upstreams: { up: { targets: [{ url: options.upstreamUrl }] } },
      routes: [],
      ...credentialSections,
    });
    const { stdout } = await runCommand(process.execPath, [main, ...args, '--config', file, '--json'], {
      env,
    });
    return JSON.parse(stdout) as unknown;
  };

  return {
    dir,
    upstreamUrl: options.upstreamUrl,
    specFile: options.specFile,
    apiKey: () =>
      once('apiKey', async () => {
        const consumer = (await cli('consumers', 'create', 'bench-user', '--roles', 'user')) as {
          id: string;
        };
        const created = (await cli('keys', 'create', 'bench-user')) as { key: string };
        return { key: created.key, consumerId: consumer.id, config: credentialSections };
      }),
    jwt: () =>
      once('jwt', async () => {
        return es256Tokens(300);
      }),
    redis: () =>
      once('redis', async () => {
        redis = await startRedis(dir);
        return redis;
      }),
    async close() {
      await redis?.stop();
    },
  };
}

/** A fresh random KEK for the run's private credential store. */
export function benchKek(): string {
  return randomBytes(32).toString('base64');
}
