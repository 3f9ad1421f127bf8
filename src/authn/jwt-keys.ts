import {
  createPublicKey,
  createSecretKey,
  X509Certificate,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';
import { createLocalJWKSet, errors, type JWK, type JWTVerifyGetKey } from 'jose';
import { Counter } from 'prom-client';
import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService } from '../pipeline/services.js';
import { JwksCache } from './jwks-cache.js';
import {
  HMAC_ALGORITHMS,
  JWT_DEFAULTS,
  type JwtIssuerConfig,
  type JwtStaticKeyConfig,
} from './jwt-config.js';

/** Where an issuer's verification keys come from; jose selects and verifies. */
export interface KeySource {
  readonly getKey: JWTVerifyGetKey | KeyObject;
  /** Current key-set generation (changes when keys rotate). */
  generation(): number;
  /** Whether a verification done with `kid` at `generation` may still be trusted. */
  stillTrusted(kid: string | undefined, generation: number): boolean;
}

/** Supplies the built-in authorization server's public keys to `local: true` issuers. */
export interface LocalKeyProvider {
  readonly issuer: string;
  keys(): readonly JWK[];
  generation(): number;
  /** Reloads the keys (rate-limited by the provider); used once on an unknown `kid`. */
  refresh?(): Promise<void>;
}

function jwksFetches(build: BuildContext): Counter<'jwks' | 'outcome'> {
  return build.services.metrics.metric(
    'portcullis_jwks_fetches_total',
    (registry) =>
      new Counter({
        name: 'portcullis_jwks_fetches_total',
        help: 'JWKS fetches (scheduled, unknown-kid and first use), by JWKS URL and outcome',
        labelNames: ['jwks', 'outcome'],
        registers: [registry],
      }),
  );
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];
const isHmac = (alg: string): boolean => (HMAC_ALGORITHMS as readonly string[]).includes(alg);

function staticJwk(key: JwtStaticKeyConfig, index: number, build: BuildContext, at: string): JWK {
  if ('pem' in key && typeof key.pem === 'string') {
    if (/PRIVATE KEY/.test(key.pem))
      build.fail(
        'a static key must be a public key or certificate, not a private key',
        `${at}/keys/${index}`,
      );
    let publicKey: KeyObject;
    try {
      publicKey = key.pem.includes('BEGIN CERTIFICATE')
        ? new X509Certificate(key.pem).publicKey
        : createPublicKey(key.pem);
    } catch {
      build.fail('cannot read this PEM public key or certificate', `${at}/keys/${index}/pem`);
    }
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    return {
      ...jwk,
      ...(key.kid === undefined ? {} : { kid: key.kid }),
      ...(key.alg === undefined ? {} : { alg: key.alg }),
    };
  }
  const jwk = key as JWK;
  if (jwk.kty === 'oct') build.fail('symmetric keys belong in `secret`, not `keys`', `${at}/keys/${index}`);
  if (PRIVATE_MEMBERS.some((member) => member in jwk))
    build.fail('a static JWK must be public (no private members)', `${at}/keys/${index}`);
  try {
    createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    build.fail('not a valid public JWK', `${at}/keys/${index}`);
  }
  return jwk;
}

/**
 * Compiles an issuer's key source at build time. HMAC is possible only with `secret` and then
 * ONLY HMAC: an asymmetric key can never be used as an HMAC secret (key confusion).
 */
export function buildKeySource(
  config: JwtIssuerConfig,
  build: BuildContext,
  at: string,
  provider?: LocalKeyProvider,
): KeySource {
  const sources = [
    config.secret,
    config.keys,
    config.jwksUri,
    config.local === true ? true : undefined,
  ].filter((s) => s !== undefined);
  if (sources.length !== 1)
    build.fail('configure exactly one of `secret`, `keys`, `jwksUri` or `local: true`', at);
  if ((config.algorithms as readonly string[]).includes('none'))
    build.fail('`none` is never an accepted algorithm', `${at}/algorithms`);
  const hmac = config.algorithms.filter(isHmac);
  if (config.secret !== undefined) {
    if (hmac.length !== config.algorithms.length)
      build.fail('an issuer with `secret` accepts only HS256/HS384/HS512', `${at}/algorithms`);
    if (Buffer.byteLength(config.secret) < 32)
      build.fail('the HMAC secret must be at least 32 bytes', `${at}/secret`);
    const key = createSecretKey(Buffer.from(config.secret, 'utf8'));
    return { getKey: key, generation: () => 0, stillTrusted: () => true };
  }
  if (hmac.length > 0)
    build.fail(
      'HS* algorithms need a shared `secret`; they are never verified with public keys',
      `${at}/algorithms`,
    );

  if (config.keys !== undefined) {
    const keys = config.keys.map((key, index) => staticJwk(key, index, build, at));
    const resolve = createLocalJWKSet({ keys });
    return { getKey: resolve, generation: () => 0, stillTrusted: () => true };
  }

  if (config.jwksUri !== undefined) {
    const options = {
      uri: config.jwksUri,
      ttlMs: (config.jwks?.ttlSec ?? JWT_DEFAULTS.jwksTtlSec) * 1000,
      cooldownMs: (config.jwks?.cooldownSec ?? JWT_DEFAULTS.jwksCooldownSec) * 1000,
      maxStaleMs: (config.jwks?.maxStaleSec ?? JWT_DEFAULTS.jwksMaxStaleSec) * 1000,
      timeoutMs: config.jwks?.timeoutMs ?? JWT_DEFAULTS.jwksTimeoutMs,
      maxKeys: config.jwks?.maxKeys ?? JWT_DEFAULTS.jwksMaxKeys,
      maxBytes: config.jwks?.maxBytes ?? JWT_DEFAULTS.jwksMaxBytes,
      onFetch: (outcome: 'ok' | 'error') =>
        jwksFetches(build).inc({ jwks: config.jwksUri as string, outcome }),
      onError: (error: Error) =>
        build.services.logger.warn({ jwksUri: config.jwksUri, err: error.message }, 'jwks refresh failed'),
    };
    const cache = sharedService(build.services, `authn.jwks:${config.jwksUri}`, () => {
      const created = new JwksCache(options);
      build.services.onClose(() => created.close());
      return created;
    });
    cache.configure(options);
    cache.start();
    return {
      getKey: cache.getKey,
      generation: () => cache.generation,
      stillTrusted: (kid, generation) =>
        generation === cache.generation || (kid !== undefined && cache.hasKid(kid)),
    };
  }

  if (provider === undefined)
    build.fail('`local: true` needs the built-in authorization server (`oauthServer`) configured', at);
  let generation = -1;
  let resolve: JWTVerifyGetKey | undefined;
  const current = (): JWTVerifyGetKey => {
    if (resolve === undefined || generation !== provider.generation()) {
      generation = provider.generation();
      resolve = createLocalJWKSet({ keys: [...provider.keys()] });
    }
    return resolve;
  };
  return {
    getKey: async (header, token) => {
      try {
        return await current()(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || provider.refresh === undefined) throw error;
        await provider.refresh();
        return current()(header, token);
      }
    },
    generation: () => provider.generation(),
    stillTrusted: (kid, gen) =>
      gen === provider.generation() || (kid !== undefined && provider.keys().some((key) => key.kid === kid)),
  };
}
