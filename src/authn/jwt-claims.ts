import type { Identity } from '../pipeline/identity.js';
import type { JSONSchemaType } from '../pipeline/json-schema.js';

/** Where the identity's parts are found in a claim set (JWT payload or introspection response). */
export interface ClaimMappingConfig {
  /** Claim path of the subject (default `sub`). */
  readonly subject?: string;
  /** Claim path of the consumer id in the credential store, when tokens carry one. */
  readonly consumerId?: string;
  /** Claim path of the roles: an array of strings or a space-separated string. */
  readonly roles?: string;
  /** Claim paths of the scopes, first present wins (default `scope` then `scp`). */
  readonly scopes?: string | readonly string[];
  /** Claim path of the tenant. */
  readonly tenant?: string;
  /** Identity attribute name → claim path. */
  readonly attributes?: Readonly<Record<string, string>>;
}

export const claimMappingSchema: JSONSchemaType = {
  type: 'object',
  description:
    'Where the identity is read from the claims. Paths are dot-separated (e.g. `realm_access.roles`).',
  additionalProperties: false,
  properties: {
    subject: { type: 'string', minLength: 1, description: 'Subject claim path (default `sub`).' },
    consumerId: {
      type: 'string',
      minLength: 1,
      description: 'Claim path holding a credential-store consumer id.',
    },
    roles: {
      type: 'string',
      minLength: 1,
      description: 'Roles claim path: array of strings or space-separated string.',
    },
    scopes: {
      description: 'Scopes claim path(s); the first present wins (default `scope`, then `scp`).',
      oneOf: [
        { type: 'string', minLength: 1 },
        { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 },
      ],
    },
    tenant: { type: 'string', minLength: 1, description: 'Tenant claim path.' },
    attributes: {
      type: 'object',
      description: 'Identity attribute name to claim path.',
      additionalProperties: { type: 'string', minLength: 1 },
    },
  },
};

type ClaimPath = readonly string[];

/** A claim mapping compiled at build time: paths split once, looked up per token. */
export interface CompiledClaimMapping {
  readonly subject: ClaimPath;
  readonly consumerId: ClaimPath | undefined;
  readonly roles: ClaimPath | undefined;
  readonly scopes: readonly ClaimPath[];
  readonly tenant: ClaimPath | undefined;
  readonly attributes: readonly (readonly [string, ClaimPath])[];
}

function splitPath(path: string): ClaimPath {
  return path.split('.');
}

export function compileClaimMapping(
  config: ClaimMappingConfig | undefined,
  defaults: ClaimMappingConfig = {},
): CompiledClaimMapping {
  const merged = { ...defaults, ...config };
  const scopes =
    merged.scopes === undefined
      ? ['scope', 'scp']
      : typeof merged.scopes === 'string'
        ? [merged.scopes]
        : merged.scopes;
  return {
    subject: splitPath(merged.subject ?? 'sub'),
    consumerId: merged.consumerId === undefined ? undefined : splitPath(merged.consumerId),
    roles: merged.roles === undefined ? undefined : splitPath(merged.roles),
    scopes: scopes.map(splitPath),
    tenant: merged.tenant === undefined ? undefined : splitPath(merged.tenant),
    attributes: Object.entries(merged.attributes ?? {}).map(
      ([name, path]) => [name, splitPath(path)] as const,
    ),
  };
}

/** Reads a claim by path; own properties only, so `__proto__` and friends never resolve. */
export function readClaim(claims: Readonly<Record<string, unknown>>, path: ClaimPath): unknown {
  let value: unknown = claims;
  for (const part of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part))
      return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** An array of strings, or a space-separated string, as a list; anything else is empty. */
export function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((item) => item.length > 0);
  if (Array.isArray(value))
    return value.filter((item): item is string => typeof item === 'string' && item.length > 0);
  return [];
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export interface IdentityBase {
  readonly method: string;
  readonly issuer?: string;
  readonly credentialId?: string;
  readonly expiresAt?: number;
}

/** Maps a verified claim set to an Identity. Returns undefined when the subject is missing. */
export function identityFromClaims(
  claims: Readonly<Record<string, unknown>>,
  mapping: CompiledClaimMapping,
  base: IdentityBase,
): Identity | undefined {
  const subject = optionalString(readClaim(claims, mapping.subject));
  if (subject === undefined) return undefined;
  let scopes: string[] = [];
  for (const path of mapping.scopes) {
    const value = readClaim(claims, path);
    if (value !== undefined) {
      scopes = stringList(value);
      break;
    }
  }
  const attributes: Record<string, unknown> = {};
  for (const [name, path] of mapping.attributes) {
    const value = readClaim(claims, path);
    if (value !== undefined) attributes[name] = value;
  }
  const consumerId =
    mapping.consumerId === undefined ? undefined : optionalString(readClaim(claims, mapping.consumerId));
  const tenant = mapping.tenant === undefined ? undefined : optionalString(readClaim(claims, mapping.tenant));
  const identity: Identity = {
    subject,
    method: base.method,
    roles: Object.freeze(mapping.roles === undefined ? [] : stringList(readClaim(claims, mapping.roles))),
    scopes: Object.freeze(scopes),
    attributes: Object.freeze(attributes),
    ...(consumerId === undefined ? {} : { consumerId }),
    ...(tenant === undefined ? {} : { tenant }),
    ...(base.issuer === undefined ? {} : { issuer: base.issuer }),
    ...(base.credentialId === undefined ? {} : { credentialId: base.credentialId }),
    ...(base.expiresAt === undefined ? {} : { expiresAt: base.expiresAt }),
  };
  return Object.freeze(identity);
}
