import type { Identity } from '../pipeline/identity.js';

/** Reads one value of the caller's identity; compiled from `identity.subject`, `identity.attributes.a.b`. */
export type IdentityRef = (identity: Identity) => unknown;

const FIELDS = new Set([
  'subject',
  'consumerId',
  'tenant',
  'roles',
  'scopes',
  'method',
  'issuer',
  'credentialId',
]);

/** Compiles an `identity.*` reference; throws TypeError when it names no identity field. */
export function compileIdentityRef(text: string): IdentityRef {
  const parts = text.split('.');
  if (parts[0] !== 'identity' || parts.length < 2 || parts.some((part) => part.length === 0)) {
    throw new TypeError(
      `"${text}" must be identity.subject, identity.tenant, identity.consumerId or identity.attributes.<path>`,
    );
  }
  const field = parts[1] as string;
  if (field === 'attributes') {
    const path = parts.slice(2);
    if (path.length === 0)
      throw new TypeError(`"${text}" must name an attribute: identity.attributes.<name>`);
    return (identity) => readPath(identity.attributes, path);
  }
  if (!FIELDS.has(field) || parts.length !== 2) {
    throw new TypeError(
      `"${text}": unknown identity field "${field}" (${[...FIELDS, 'attributes.<path>'].join(', ')})`,
    );
  }
  return (identity) => (identity as unknown as Record<string, unknown>)[field];
}

/** Reads a dotted path through plain objects, never through the prototype chain. */
export function readPath(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) {
      return undefined;
    }
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** A scalar identity value as the string request values are compared with; undefined for anything else. */
export function scalarString(value: unknown): string | undefined {
  if (typeof value === 'string') return value.length > 0 ? value : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  return undefined;
}
