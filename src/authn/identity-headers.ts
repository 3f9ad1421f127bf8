import type { Identity } from '../pipeline/identity.js';

/** Identity fields that can be forwarded; `attributes.<name>` forwards one attribute. */
export const IDENTITY_FIELDS = [
  'consumerId',
  'subject',
  'method',
  'credentialId',
  'roles',
  'scopes',
  'tenant',
  'issuer',
] as const;
export const IDENTITY_FIELD_PATTERN = `^(${IDENTITY_FIELDS.join('|')}|attributes\\.[A-Za-z0-9_.:-]{1,64})$`;

export const DEFAULT_FORWARD_HEADERS: Readonly<Record<string, string>> = {
  'x-consumer-id': 'consumerId',
  'x-consumer-subject': 'subject',
};

export interface IdentityHeaderWriter {
  /** Header names (lower case) whose incoming copies are never forwarded. */
  readonly names: readonly string[];
  /** Returns the headers to send upstream for this identity (absent fields are omitted). */
  headersFor(identity: Identity): Record<string, string>;
  /**
   * The value of each header of `names` for this identity, in the same order (undefined when the
   * field is absent). Computed once per frozen identity: cached API keys and verified tokens
   * hand out the same frozen object on every request.
   */
  valuesFor(identity: Identity): readonly (string | undefined)[];
}

type Getter = (identity: Identity) => unknown;

export function compileIdentityHeaders(map: Readonly<Record<string, string>>): IdentityHeaderWriter {
  const entries: [string, Getter][] = Object.entries(map).map(([name, field]) => [
    name.toLowerCase(),
    getter(field),
  ]);
  const computed = new WeakMap<Identity, readonly (string | undefined)[]>();
  return {
    names: entries.map(([name]) => name),
    headersFor(identity) {
      const out: Record<string, string> = {};
      for (const [name, get] of entries) {
        const value = headerValue(get(identity));
        if (value !== undefined) out[name] = value;
      }
      return out;
    },
    valuesFor(identity) {
      let values = computed.get(identity);
      if (values === undefined) {
        values = Object.freeze(entries.map(([, get]) => headerValue(get(identity))));
        // Only a frozen identity (with frozen lists and attributes) cannot change under the cached values.
        if (
          Object.isFrozen(identity) &&
          Object.isFrozen(identity.attributes) &&
          Object.isFrozen(identity.roles) &&
          Object.isFrozen(identity.scopes)
        )
          computed.set(identity, values);
      }
      return values;
    },
  };
}

function getter(field: string): Getter {
  if (field.startsWith('attributes.')) {
    const name = field.slice('attributes.'.length);
    return (identity) => (Object.hasOwn(identity.attributes, name) ? identity.attributes[name] : undefined);
  }
  if (!(IDENTITY_FIELDS as readonly string[]).includes(field))
    throw new TypeError(`unknown identity field: ${field}`);
  const key = field as (typeof IDENTITY_FIELDS)[number];
  return (identity) => identity[key];
}

/** Lists become comma-separated; anything outside visible ASCII is percent-encoded (no header injection). */
function headerValue(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const text = Array.isArray(value)
    ? value.map((item) => String(item)).join(',')
    : typeof value === 'object'
      ? JSON.stringify(value)
      : String(value);
  if (text === '') return undefined;
  return text.replace(/[^\x20-\x7e]|%/gu, (ch) =>
    [...Buffer.from(ch, 'utf8')]
      .map((byte) => '%' + byte.toString(16).toUpperCase().padStart(2, '0'))
      .join(''),
  );
}
