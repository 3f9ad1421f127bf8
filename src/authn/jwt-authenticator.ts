import { decodeJwt } from 'jose';
import type { BuildContext } from '../pipeline/build-context.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure, type Authenticator, type AuthenticatorFactory } from './authenticator.js';
import { looksLikeJwt, readBearerToken } from './jwt-bearer.js';
import { compileClaimMapping } from './jwt-claims.js';
import { JWT_DEFAULTS, jwtSectionSchema, type JwtIssuerConfig } from './jwt-config.js';
import { buildKeySource } from './jwt-keys.js';
import { localIssuerRuntime } from '../oauth/local-issuer.js';
import type { TokenHolders } from '../oauth/token-holders.js';
import { VerifiedTokenCache } from './jwt-token-cache.js';
import { JwtVerifier } from './jwt-verifier.js';

export interface JwtAuthenticatorOptions {
  readonly method: string;
  readonly realm: string;
  readonly issuer: string;
  readonly maxTokenBytes: number;
  /**
   * Another bearer method on the route may own this token: return undefined (not a failure)
   * for opaque tokens and for JWTs naming another issuer.
   */
  readonly shareBearer: boolean;
  readonly verifier: JwtVerifier;
  /**
   * The built-in issuer's token holders: a token whose consumer was disabled or deleted, or whose
   * client was revoked or deleted, after issuance is refused on every node within about a second.
   */
  readonly holders?: TokenHolders;
}

export function createJwtAuthenticator(options: JwtAuthenticatorOptions): Authenticator {
  const { verifier, maxTokenBytes, shareBearer, issuer, holders } = options;
  const checked = (identity: Identity | Promise<Identity>): Identity | Promise<Identity> =>
    holders === undefined
      ? identity
      : identity instanceof Promise
        ? identity.then((i) => holders.check(i))
        : holders.check(identity);
  return {
    method: options.method,
    challenge: `Bearer realm="${options.realm}"`,
    credentialHeaders: ['authorization'],
    authenticate(ctx: RequestContext): Identity | Promise<Identity> | undefined {
      // A token verified before is served from the verifier's cache without the shape checks
      // below: equal to a verified token, it passed them then.
      const header = ctx.header('authorization');
      if (header !== undefined && header.length <= maxTokenBytes + 7 && header.startsWith('Bearer ')) {
        const remembered = verifier.cached(header.slice(7), ctx);
        if (remembered !== undefined) return checked(remembered);
      }
      const token = readBearerToken(ctx, maxTokenBytes);
      if (token === undefined) return undefined;
      if (token.length > maxTokenBytes) throw new AuthenticationFailure('jwt_too_large');
      if (!looksLikeJwt(token)) {
        if (shareBearer) return undefined;
        throw new AuthenticationFailure('jwt_malformed');
      }
      if (shareBearer && !claimsIssuer(token, issuer)) return undefined;
      return checked(verifier.verify(token, ctx));
    },
  };
}

/** Unverified peek at `iss`, only to pick which issuer's verifier owns the token. */
function claimsIssuer(token: string, issuer: string): boolean {
  try {
    return decodeJwt(token).iss === issuer;
  } catch {
    return false;
  }
}

const BEARER_KINDS = /^(jwt|introspection):/;

function routeBearerMethods(build: BuildContext): number {
  const section = build.route.authentication as
    { anyOf?: readonly string[]; allOf?: readonly string[] } | undefined;
  return (section?.anyOf ?? []).filter((method) => BEARER_KINDS.test(method)).length;
}

function issuerConfig(build: BuildContext, name: string): JwtIssuerConfig {
  const authn = build.config.authn as { jwt?: { issuers?: Record<string, JwtIssuerConfig> } } | undefined;
  const config = authn?.jwt?.issuers?.[name];
  if (config === undefined || !Object.hasOwn(authn?.jwt?.issuers ?? {}, name)) {
    build.fail(`unknown JWT issuer "${name}": define it under authn.jwt.issuers`);
  }
  return config;
}

/** Builds (once per config load) the verifier of issuer `name`, shared by all routes naming it. */
interface BuiltIssuer {
  readonly verifier: JwtVerifier;
  readonly config: JwtIssuerConfig;
  readonly issuer: string;
  readonly holders: TokenHolders | undefined;
}

function issuerVerifier(build: BuildContext, name: string): Promise<BuiltIssuer> {
  const memoKey = `authn.jwt:${name}`;
  let built = build.memo.get(memoKey) as Promise<BuiltIssuer> | undefined;
  if (built === undefined) {
    built = buildIssuer(build, name);
    build.memo.set(memoKey, built);
  }
  return built;
}

async function buildIssuer(build: BuildContext, name: string): Promise<BuiltIssuer> {
  const config = issuerConfig(build, name);
  const at = `/authn/jwt/issuers/${name}`;
  const local = config.local === true ? await localIssuerRuntime(build, at) : undefined;
  const keys = buildKeySource(config, build, at, local?.keys);
  const issuer = config.issuer ?? local?.issuer;
  if (issuer === undefined) build.fail('`issuer` is required', at);
  const maxEntries = config.cache?.maxEntries ?? JWT_DEFAULTS.cacheMaxEntries;
  const maxTtlMs = (config.cache?.maxTtlSec ?? JWT_DEFAULTS.cacheMaxTtlSec) * 1000;
  const defaults =
    local === undefined
      ? {}
      : {
          consumerId: 'consumer_id',
          roles: 'roles',
          tenant: 'tenant',
          attributes: { clientId: 'client_id' },
        };
  const verifier = new JwtVerifier({
    issuer,
    ...(config.audience === undefined ? {} : { audience: config.audience }),
    algorithms: config.algorithms,
    keys,
    clockSkewSec: config.clockSkewSec ?? JWT_DEFAULTS.clockSkewSec,
    ...(config.maxAgeSec === undefined ? {} : { maxAgeSec: config.maxAgeSec }),
    requiredClaims: config.requiredClaims ?? [],
    // the built-in server's tokens are always `at+jwt` (RFC 9068): insist on it
    ...(config.typ !== undefined ? { typ: config.typ } : local !== undefined ? { typ: 'at+jwt' } : {}),
    requireCertificateBinding: config.requireCertificateBinding === true,
    claims: compileClaimMapping(config.claims, defaults),
    cache: maxEntries > 0 ? new VerifiedTokenCache(maxEntries, maxTtlMs) : undefined,
    revocation: local?.revocation,
  });
  return { verifier, config, issuer, holders: local?.holders };
}

export const jwtFactory: AuthenticatorFactory = {
  kind: 'jwt',
  globalKey: 'jwt',
  globalSchema: jwtSectionSchema,
  async create(instance, build) {
    if (instance === undefined) return build.fail('name the issuer: `jwt:<issuer>` (see authn.jwt.issuers)');
    const { verifier, config, issuer, holders } = await issuerVerifier(build, instance);
    const realm = (build.config.authn as { realm?: string } | undefined)?.realm ?? 'portcullis';
    return createJwtAuthenticator({
      method: `jwt:${instance}`,
      realm,
      issuer,
      maxTokenBytes: config.maxTokenBytes ?? JWT_DEFAULTS.maxTokenBytes,
      shareBearer: routeBearerMethods(build) > 1,
      verifier,
      ...(holders === undefined ? {} : { holders }),
    });
  },
};
